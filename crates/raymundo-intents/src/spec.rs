//! The `data/intents.json` file.
//!
//! Seed form, loaded as is:
//! ```json
//! { "crear_presentacion": { "examples": ["Crea una presentación sobre marketing digital"],
//!                           "parameters": ["tema", "num_diapos", "incluir_imagenes"] } }
//! ```
//! Extended form (every key optional except `examples`): a parameter may be an object
//! `{"name", "type": "text"|"integer"|"boolean"|"date"|"one_of", "min", "max", "values",
//! "required", "question", "default"}`; an intent may add `"action"` (`responder`,
//! `crear_presentacion`, `derivar_humano`, `webhook`), `"webhook": {"url", "timeout_ms"}`,
//! `"responses"` and `"description"`. A parameter given only by name gets its type from the
//! name (`num_*`/`numero_*`/`cantidad_*` integer, `incluir_*`/`con_*` boolean, `fecha*` date,
//! otherwise text), which is what the seed's names mean. An intent without `"action"` gets
//! the one its name says (`crear_presentacion`; `derivar_humano` and names with `humano` or
//! `asesor`) or `responder`. Parameters are asked for when missing (`required`) unless the
//! intent is answered from the documents (`responder`) or the parameter has a default.
//! Unknown keys are errors, naming the intent, the field and what was expected.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// A problem with an intents file, naming where.
#[derive(Debug, thiserror::Error)]
pub enum IntentsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path} is not valid JSON: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is not what it should be.
    #[error("{path}: intent {intent:?}, field `{field}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The intent (empty for the top level).
        intent: String,
        /// The field, e.g. `parameters[1].type`.
        field: String,
        /// What was expected and what was found.
        message: String,
    },
}

/// The type of a parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// Free text (a topic, an address).
    Text,
    /// A whole number, optionally within a range.
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// Yes or no.
    Boolean,
    /// A calendar date.
    Date,
    /// One of a fixed list of values.
    OneOf(Vec<String>),
}

impl ParamType {
    /// The type's name in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Integer { .. } => "integer",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::OneOf(_) => "one_of",
        }
    }

    /// The type a parameter called `name` has when the file gives only its name.
    pub fn from_name(name: &str) -> Self {
        let n = name.to_lowercase();
        if ["num_", "numero_", "número_", "cantidad_", "n_"]
            .iter()
            .any(|p| n.starts_with(p))
            && !n.contains("pedido")
            && !n.contains("orden")
            && !n.contains("guia")
        {
            // A deck of hundreds of slides is a typo, not a request.
            let slides = n.contains("diapo") || n.contains("slide") || n.contains("lamina");
            Self::Integer {
                min: Some(1),
                max: slides.then_some(30),
            }
        } else if ["incluir_", "con_", "usar_", "es_", "tiene_"]
            .iter()
            .any(|p| n.starts_with(p))
        {
            Self::Boolean
        } else if n.starts_with("fecha") || n.starts_with("dia") || n.starts_with("día") {
            Self::Date
        } else {
            Self::Text
        }
    }
}

/// One parameter of an intent.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Its name (`tema`, `num_diapos` ...).
    pub name: String,
    /// Its type.
    pub kind: ParamType,
    /// Whether the intent waits for it (asks for it when missing).
    pub required: bool,
    /// The question asked when it is missing.
    pub question: String,
    /// The value used when it is not given.
    pub default: Option<Value>,
}

/// What Raymundo does once an intent and its parameters are known.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The retrieval-augmented answer (the default).
    Responder,
    /// Build a `.pptx` presentation.
    CrearPresentacion,
    /// Hand the conversation to a person.
    DerivarHumano,
    /// POST the intent and parameters to a URL and relay its reply.
    Webhook {
        /// Where to POST.
        url: String,
        /// Give up after this long.
        timeout_ms: u64,
    },
}

impl Action {
    /// The action's name in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Responder => "responder",
            Self::CrearPresentacion => "crear_presentacion",
            Self::DerivarHumano => "derivar_humano",
            Self::Webhook { .. } => "webhook",
        }
    }
}

/// One intent.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentSpec {
    /// Its name.
    pub name: String,
    /// Example messages.
    pub examples: Vec<String>,
    /// Its parameters, in the order they are asked for.
    pub parameters: Vec<ParamSpec>,
    /// What to do.
    pub action: Action,
    /// Fixed responses (one is picked when the action replies with text of its own).
    pub responses: Vec<String>,
    /// A description for people.
    pub description: Option<String>,
}

/// Every intent of a project, sorted by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntentSet {
    /// The intents.
    pub intents: Vec<IntentSpec>,
}

const INTENT_KEYS: &[&str] = &[
    "examples",
    "parameters",
    "action",
    "webhook",
    "responses",
    "description",
];
const PARAM_KEYS: &[&str] = &[
    "name", "type", "min", "max", "values", "required", "question", "default",
];

struct Ctx<'a> {
    path: &'a Path,
    intent: String,
}

impl Ctx<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> IntentsError {
        IntentsError::Invalid {
            path: self.path.to_path_buf(),
            intent: self.intent.clone(),
            field: field.into(),
            message: message.into(),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string_list(ctx: &Ctx, field: &str, v: &Value) -> Result<Vec<String>, IntentsError> {
    let arr = v.as_array().ok_or_else(|| {
        ctx.err(
            field,
            format!("expected an array of strings, got {}", kind_of(v)),
        )
    })?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| match x.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Some(_) => Err(ctx.err(format!("{field}[{i}]"), "expected a non-empty string")),
            None => Err(ctx.err(
                format!("{field}[{i}]"),
                format!("expected a string, got {}", kind_of(x)),
            )),
        })
        .collect()
}

/// The question asked for a parameter the file gives no question for: a natural one for the
/// usual names, otherwise one built from the name and the type.
pub fn default_question(name: &str, kind: &ParamType) -> String {
    let n = name.to_lowercase();
    let known = [
        ("tema", "¿Sobre qué tema?"),
        ("num_diapos", "¿Cuántas diapositivas quieres?"),
        ("incluir_imagenes", "¿Quieres que incluya imágenes? (sí/no)"),
        ("numero_pedido", "¿Cuál es tu número de pedido?"),
        ("fecha", "¿Para qué fecha?"),
        ("direccion", "¿En qué dirección?"),
        ("codigo_error", "¿Qué código de error aparece?"),
        ("modelo", "¿Qué modelo tienes (por ejemplo AX-200)?"),
    ];
    if let Some((_, q)) = known.iter().find(|(k, _)| *k == n) {
        return q.to_string();
    }
    let words = n.replace('_', " ");
    match kind {
        ParamType::Boolean => format!("¿{}? (sí/no)", raymundo_core::text::capitalise(&words)),
        ParamType::Integer { .. } => format!("¿Qué {words} (un número)?"),
        ParamType::Date => format!("¿Qué {words}? (por ejemplo, mañana o el 15 de marzo)"),
        ParamType::OneOf(values) => format!("¿Qué {words}? ({})", values.join(", ")),
        ParamType::Text => format!("¿Me indicas {words}?"),
    }
}

/// The action an intent runs when the file names none: its name says it for the built-in
/// actions (`crear_presentacion`, `derivar_humano`, `hablar_con_humano` ...), otherwise the
/// retrieval-augmented answer.
pub fn default_action(intent: &str) -> Action {
    let n = intent.to_lowercase();
    if n == "crear_presentacion" {
        Action::CrearPresentacion
    } else if n == "derivar_humano" || n.contains("humano") || n.contains("asesor") {
        Action::DerivarHumano
    } else {
        Action::Responder
    }
}

fn int_field(ctx: &Ctx, field: String, v: Option<&Value>) -> Result<Option<i64>, IntentsError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| ctx.err(field, format!("expected a whole number, got {x}"))),
    }
}

fn check_default(
    ctx: &Ctx,
    field: String,
    kind: &ParamType,
    v: &Value,
) -> Result<(), IntentsError> {
    let ok = match kind {
        ParamType::Text | ParamType::Date => v.is_string(),
        ParamType::Boolean => v.is_boolean(),
        ParamType::Integer { min, max } => v
            .as_i64()
            .is_some_and(|n| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)),
        ParamType::OneOf(values) => v.as_str().is_some_and(|s| values.iter().any(|x| x == s)),
    };
    if ok {
        Ok(())
    } else {
        Err(ctx.err(
            field,
            format!(
                "{v} is not a valid {} value for this parameter",
                kind.name()
            ),
        ))
    }
}

/// `asks_by_default`: whether a parameter without `"required"` is asked for (not for intents
/// answered from the documents, which use what the message gives).
fn parse_param(
    ctx: &Ctx,
    i: usize,
    v: &Value,
    asks_by_default: bool,
) -> Result<ParamSpec, IntentsError> {
    let field = format!("parameters[{i}]");
    if let Some(name) = v.as_str() {
        if name.trim().is_empty() {
            return Err(ctx.err(field, "expected a parameter name, got an empty string"));
        }
        let kind = ParamType::from_name(name.trim());
        return Ok(ParamSpec {
            name: name.trim().to_string(),
            question: default_question(name.trim(), &kind),
            kind,
            required: asks_by_default,
            default: None,
        });
    }
    let obj = v.as_object().ok_or_else(|| {
        ctx.err(
            field.clone(),
            format!(
                "expected a name or an object with \"name\", got {}",
                kind_of(v)
            ),
        )
    })?;
    for key in obj.keys() {
        if !PARAM_KEYS.contains(&key.as_str()) {
            return Err(ctx.err(
                format!("{field}.{key}"),
                format!("unknown field; expected one of {}", PARAM_KEYS.join(", ")),
            ));
        }
    }
    let name = match obj.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => n.trim().to_string(),
        _ => return Err(ctx.err(format!("{field}.name"), "expected a non-empty string")),
    };
    let min = int_field(ctx, format!("{field}.min"), obj.get("min"))?;
    let max = int_field(ctx, format!("{field}.max"), obj.get("max"))?;
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(ctx.err(
                format!("{field}.min"),
                format!("{a} is larger than max {b}"),
            ));
        }
    }
    let kind = match obj.get("type") {
        None => match (min, max) {
            (None, None) => ParamType::from_name(&name),
            _ => ParamType::Integer { min, max },
        },
        Some(t) => match t.as_str() {
            Some("text") => ParamType::Text,
            Some("integer") => ParamType::Integer { min, max },
            Some("boolean") => ParamType::Boolean,
            Some("date") => ParamType::Date,
            Some("one_of") => {
                let values = match obj.get("values") {
                    Some(v) => string_list(ctx, &format!("{field}.values"), v)?,
                    None => Vec::new(),
                };
                if values.is_empty() {
                    return Err(ctx.err(
                        format!("{field}.values"),
                        "a one_of parameter needs a non-empty list of values",
                    ));
                }
                ParamType::OneOf(values)
            }
            _ => {
                return Err(ctx.err(
                    format!("{field}.type"),
                    format!("expected one of text, integer, boolean, date, one_of; got {t}"),
                ))
            }
        },
    };
    if (min.is_some() || max.is_some()) && !matches!(kind, ParamType::Integer { .. }) {
        return Err(ctx.err(
            format!("{field}.min"),
            format!(
                "min and max only apply to integer parameters, this one is {}",
                kind.name()
            ),
        ));
    }
    if obj.contains_key("values") && !matches!(kind, ParamType::OneOf(_)) {
        return Err(ctx.err(
            format!("{field}.values"),
            "values only apply to one_of parameters",
        ));
    }
    let default = obj.get("default").filter(|d| !d.is_null()).cloned();
    if let Some(d) = &default {
        check_default(ctx, format!("{field}.default"), &kind, d)?;
    }
    let required = match obj.get("required") {
        None => asks_by_default && default.is_none(),
        Some(Value::Bool(b)) => *b,
        Some(x) => {
            return Err(ctx.err(
                format!("{field}.required"),
                format!("expected true or false, got {x}"),
            ))
        }
    };
    let question = match obj.get("question") {
        None => default_question(&name, &kind),
        Some(Value::String(q)) if !q.trim().is_empty() => q.trim().to_string(),
        Some(x) => {
            return Err(ctx.err(
                format!("{field}.question"),
                format!("expected a non-empty string, got {x}"),
            ))
        }
    };
    Ok(ParamSpec {
        name,
        kind,
        required,
        question,
        default,
    })
}

fn parse_action(ctx: &Ctx, obj: &Map<String, Value>) -> Result<Action, IntentsError> {
    let name = match obj.get("action") {
        None => {
            return Ok(match obj.get("webhook") {
                Some(_) => parse_webhook(ctx, obj)?,
                None => default_action(&ctx.intent),
            })
        }
        Some(Value::String(s)) => s.as_str(),
        Some(x) => return Err(ctx.err("action", format!("expected a string, got {}", kind_of(x)))),
    };
    match name {
        "responder" => Ok(Action::Responder),
        "crear_presentacion" => Ok(Action::CrearPresentacion),
        "derivar_humano" => Ok(Action::DerivarHumano),
        "webhook" => parse_webhook(ctx, obj),
        other => Err(ctx.err(
            "action",
            format!(
                "expected one of responder, crear_presentacion, derivar_humano, webhook; got {other:?}"
            ),
        )),
    }
}

fn parse_webhook(ctx: &Ctx, obj: &Map<String, Value>) -> Result<Action, IntentsError> {
    let hook = obj
        .get("webhook")
        .and_then(Value::as_object)
        .ok_or_else(|| ctx.err("webhook", "the webhook action needs {\"url\": ...}"))?;
    for key in hook.keys() {
        if key != "url" && key != "timeout_ms" {
            return Err(ctx.err(
                format!("webhook.{key}"),
                "unknown field; expected url, timeout_ms",
            ));
        }
    }
    let url = hook
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .ok_or_else(|| ctx.err("webhook.url", "expected an http:// or https:// URL"))?
        .to_string();
    let timeout_ms = match hook.get("timeout_ms") {
        None => 10_000,
        Some(v) => v.as_u64().filter(|t| *t > 0).ok_or_else(|| {
            ctx.err(
                "webhook.timeout_ms",
                format!("expected a positive whole number, got {v}"),
            )
        })?,
    };
    Ok(Action::Webhook { url, timeout_ms })
}

impl IntentSet {
    /// Reads and validates an intents file.
    pub fn load(path: &Path) -> Result<Self, IntentsError> {
        let text = std::fs::read_to_string(path).map_err(|source| IntentsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates the text of an intents file (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, IntentsError> {
        let value: Value = serde_json::from_str(text).map_err(|e| IntentsError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let top = Ctx {
            path,
            intent: String::new(),
        };
        let obj = value.as_object().ok_or_else(|| {
            top.err(
                "(top level)",
                format!(
                    "expected an object of intents by name, got {}",
                    kind_of(&value)
                ),
            )
        })?;
        let mut intents = Vec::with_capacity(obj.len());
        for (name, spec) in obj {
            let ctx = Ctx {
                path,
                intent: name.clone(),
            };
            if name.trim().is_empty() {
                return Err(ctx.err("(name)", "an intent needs a non-empty name"));
            }
            let spec = spec.as_object().ok_or_else(|| {
                ctx.err(
                    "(intent)",
                    format!(
                        "expected an object with \"examples\", got {}",
                        kind_of(spec)
                    ),
                )
            })?;
            for key in spec.keys() {
                if !INTENT_KEYS.contains(&key.as_str()) {
                    return Err(ctx.err(
                        key.clone(),
                        format!("unknown field; expected one of {}", INTENT_KEYS.join(", ")),
                    ));
                }
            }
            let examples = match spec.get("examples") {
                Some(v) => string_list(&ctx, "examples", v)?,
                None => return Err(ctx.err("examples", "missing; give a few example messages")),
            };
            if examples.is_empty() {
                return Err(ctx.err("examples", "expected at least one example message"));
            }
            let action = parse_action(&ctx, spec)?;
            let asks_by_default = action != Action::Responder;
            let mut parameters = Vec::new();
            if let Some(p) = spec.get("parameters") {
                let arr = p.as_array().ok_or_else(|| {
                    ctx.err(
                        "parameters",
                        format!("expected an array of names or objects, got {}", kind_of(p)),
                    )
                })?;
                for (i, v) in arr.iter().enumerate() {
                    let param = parse_param(&ctx, i, v, asks_by_default)?;
                    if parameters.iter().any(|q: &ParamSpec| q.name == param.name) {
                        return Err(ctx.err(
                            format!("parameters[{i}].name"),
                            format!("{:?} appears twice", param.name),
                        ));
                    }
                    parameters.push(param);
                }
            }
            let responses = match spec.get("responses") {
                Some(v) => string_list(&ctx, "responses", v)?,
                None => Vec::new(),
            };
            let description = match spec.get("description") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(x) => {
                    return Err(ctx.err(
                        "description",
                        format!("expected a string, got {}", kind_of(x)),
                    ))
                }
            };
            intents.push(IntentSpec {
                name: name.clone(),
                examples,
                parameters,
                action,
                responses,
                description,
            });
        }
        Ok(Self { intents })
    }

    /// The names of the intents, in order.
    pub fn names(&self) -> Vec<String> {
        self.intents.iter().map(|i| i.name.clone()).collect()
    }

    /// The intent called `name`.
    pub fn get(&self, name: &str) -> Option<&IntentSpec> {
        self.intents.iter().find(|i| i.name == name)
    }
}

#[cfg(test)]
mod tests;

impl IntentSpec {
    /// The name of the action it runs.
    pub fn action_name(&self) -> &'static str {
        self.action.name()
    }
}
