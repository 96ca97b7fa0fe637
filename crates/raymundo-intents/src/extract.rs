//! Parameter values from Spanish (and some English) messages.
//!
//! Two entry points: [`extract`] reads a whole message (the one in which an intent was
//! recognised, or any later one) and takes only what is clearly said about each parameter;
//! [`parse_answer`] reads the reply to the question asked for one parameter and is more
//! permissive (a bare `8`, `cinco`, `sí`, `marketing digital`, `el lunes`). [`is_cancel`] and
//! [`is_correction`] tell the conversation what a message does.
//!
//! Everything is matched on tokens folded to lower case without accents, so `Imágenes`,
//! `imagenes` and `IMAGENES` are the same and WhatsApp style (no accents, `q` for `que`, extra
//! spaces, emojis) works; texts are cut from the original message and keep the user's
//! spelling. Before looking for quantities, a message is scanned for the things whose digits
//! are not quantities: product and error codes (`AX-400`, `E-104`), dates (`25 de marzo`,
//! `25/03`), times (`a las 5`), money, order numbers (`100987`, `#100234`) and street addresses
//! (`Av. Guadalupe 4410`).
//!
//! Values are JSON: integer -> number, boolean -> `true`/`false`, date -> `"YYYY-MM-DD"`,
//! text -> string, one_of -> the value as written in the list. Defaults are not applied here
//! (except in [`parse_answer`] to an "as you like" answer): the slot filler does that.
//!
//! Choices (documented in the submodules `dates` and `text`): a weekday is its next
//! occurrence strictly after today; a day and month without a year is the next time it comes;
//! numeric dates are day first; a topic drops its leading article (`lanzamiento del AX-400`)
//! and stops where another parameter's words begin; `error 104` is read as `E-104`, the
//! sample company's form; of several quantities for the same noun the last one wins.
//!
//! Known limits: a weekday said about the past is read as the next one unless a past verb
//! stands just before it (`compré el lunes`, `la cita que tenía para el jueves` are skipped,
//! `me llegó roto el lunes` is not); spelled-out numbers stop at the thousands; an address
//! needs a street word (`calle`, `Av.`) or a name after `en` followed by a street number, so
//! `en mi casa en Zapopan` gives none; a topic in a whole message needs a cue (`sobre`,
//! `acerca de`, or `de`/`para`/`con` right after `presentación`, `slides` ...); a topic keeps
//! trailing words that belong to no parameter (`... para el equipo`); codes are letters and
//! digits (`AX-400`), not names (`el controlador grande`); English is covered only for cheap
//! cases (numbers, yes/no, `with images`, weekdays, `tomorrow`, `March 15`).

mod booleans;
mod control;
mod dates;
mod norm;
mod numbers;
mod text;

#[cfg(test)]
mod tests;

use crate::spec::{ParamSpec, ParamType};
use serde_json::Value;
use std::collections::BTreeMap;

pub use booleans::parse_boolean;
pub use chrono::NaiveDate;
pub use control::{is_cancel, is_correction};
pub use dates::parse_date;
pub use norm::fold as normalize;
pub use numbers::parse_integer;

use dates::{DateError, DateMention};
use norm::{tokenize, Tokens};
use numbers::NumMention;
use text::{Code, TextKind};

/// What a message says about an intent's parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extraction {
    /// The values found, by parameter name.
    pub values: BTreeMap<String, Value>,
    /// Values that were given but are not acceptable (out of range, a date that does not
    /// exist); those parameters are not in `values`.
    pub problems: Vec<Problem>,
}

impl Extraction {
    /// Whether nothing was found, right or wrong.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.problems.is_empty()
    }
}

/// A value given for a parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The parameter.
    pub param: String,
    /// For the user, in Spanish: what was wrong and the question again, e.g. "El número de
    /// diapositivas debe estar entre 1 y 30. ¿Cuántas quieres?".
    pub message: String,
}

/// A message with its tokens and the spans of things that are not quantities.
pub(crate) struct Scan<'a> {
    /// The tokens.
    pub t: Tokens<'a>,
    /// Product and error codes.
    pub codes: Vec<Code>,
    /// Dates (whole-message rules).
    pub dates: Vec<DateMention>,
    /// A street address, as a token range.
    pub address: Option<(usize, usize)>,
    /// Every number, in digits or words.
    pub numbers: Vec<NumMention>,
    /// Tokens whose numbers are not quantities.
    pub blocked: Vec<bool>,
}

impl<'a> Scan<'a> {
    /// Scans `text`; relative dates are resolved against `today`.
    pub(crate) fn new(text: &'a str, today: NaiveDate) -> Self {
        let t = tokenize(text);
        let codes = text::find_codes(&t);
        let mut blocked = vec![false; t.len()];
        for c in &codes {
            blocked[c.start..c.end].iter_mut().for_each(|b| *b = true);
        }
        let dates = dates::mentions(&t, today, false, &blocked);
        let address = text::find_address(&t, &dates);
        // "López Mateos Sur 2375": a word and a number inside an address are not a code.
        let codes: Vec<Code> = codes
            .into_iter()
            .filter(|c| {
                let spaced = !t.glued(c.start + 1);
                !(spaced && address.is_some_and(|(s, e)| s <= c.start && c.end <= e))
            })
            .collect();
        for (s, e) in dates.iter().map(|d| (d.start, d.end)).chain(address) {
            blocked[s..e].iter_mut().for_each(|b| *b = true);
        }
        numbers::block_non_quantities(&t, &mut blocked);
        let numbers = numbers::mentions(&t);
        Scan {
            t,
            codes,
            dates,
            address,
            numbers,
            blocked,
        }
    }

    /// Tokens that belong to codes.
    pub(crate) fn codes_mask(&self) -> Vec<bool> {
        let mut m = vec![false; self.t.len()];
        for c in &self.codes {
            m[c.start..c.end].iter_mut().for_each(|b| *b = true);
        }
        m
    }

    /// Tokens that belong to codes or dates (not order numbers).
    fn codes_and_dates_mask(&self) -> Vec<bool> {
        let mut m = self.codes_mask();
        for d in &self.dates {
            m[d.start..d.end].iter_mut().for_each(|b| *b = true);
        }
        m
    }

    /// Spans that belong to other parameters, where a topic stops: quantities of
    /// `int_nouns`, statements about `objects`, and dates not attached with `de` (`ventas del
    /// 15 de marzo` keeps its date).
    fn foreign(&self, int_nouns: &[Vec<String>], objects: &[Vec<String>]) -> Vec<(usize, usize)> {
        let t = &self.t;
        let mut spans = Vec::new();
        for nouns in int_nouns {
            for m in numbers::strong_mentions(self, nouns) {
                let mut s = m.start;
                while s > 0
                    && t.is_in(
                        s - 1,
                        &["de", "con", "unas", "unos", "en", "como", "y", "o"],
                    )
                {
                    s -= 1;
                }
                // The noun after the number belongs to the span too.
                let e = numbers::noun_after(t, m.end, nouns).unwrap_or(m.end);
                spans.push((s, e));
            }
        }
        for objs in objects {
            for b in booleans::mentions(t, objs) {
                let s = if b.start > 0 && t.is_in(b.start - 1, &["que", "y"]) {
                    b.start - 1
                } else {
                    b.start
                };
                spans.push((s, b.end));
            }
        }
        for d in &self.dates {
            if !t.is_in(d.start.wrapping_sub(1), &["de", "del"]) && !t.is_in(d.start, &["de"]) {
                spans.push((d.start, d.end));
            }
        }
        spans
    }
}

/// Nouns of a presentation's size and objects of a presentation's pictures: a topic stops
/// before them even when the intent has no such parameter.
fn generic_foreign() -> (Vec<String>, Vec<String>) {
    (
        numbers::nouns_for("num_diapos"),
        booleans::objects_for("incluir_imagenes"),
    )
}

fn is_integer(p: &ParamSpec) -> bool {
    matches!(p.kind, ParamType::Integer { .. })
}

/// Values for any of `params` found in a whole message (the one in which the intent was
/// recognised, or a later one). Only what the message clearly says is taken: a number next to
/// a noun that fits the parameter (`10 diapositivas`), a lone quantity when there is one
/// integer parameter (`mejor que sean 8`), a statement about a boolean parameter's object
/// (`con imágenes`; a bare `sí` is not enough here), a date, a topic after a cue, an order
/// number, a code, an address. Values out of range and dates that do not exist become
/// [`Problem`]s. With several date parameters, dates are given to them in order.
pub fn extract(message: &str, params: &[ParamSpec], today: NaiveDate) -> Extraction {
    let scan = Scan::new(message, today);
    let t = &scan.t;
    let mut out = Extraction::default();
    let int_count = params.iter().filter(|p| is_integer(p)).count();
    let (gen_nouns, gen_objects) = generic_foreign();
    let mut int_nouns: Vec<Vec<String>> = vec![gen_nouns];
    let mut objects: Vec<Vec<String>> = vec![gen_objects];
    for p in params {
        match p.kind {
            ParamType::Integer { .. } => int_nouns.push(numbers::nouns_for(&p.name)),
            ParamType::Boolean => objects.push(booleans::objects_for(&p.name)),
            _ => {}
        }
    }
    let foreign = scan.foreign(&int_nouns, &objects);
    let current_dates: Vec<&DateMention> = scan.dates.iter().filter(|d| !d.past).collect();
    let date_params = params.iter().filter(|p| p.kind == ParamType::Date).count();
    let mut date_index = 0;
    let problem = |out: &mut Extraction, p: &ParamSpec, message: String| {
        out.problems.push(Problem {
            param: p.name.clone(),
            message,
        })
    };
    for p in params {
        let value: Option<Value> = match &p.kind {
            ParamType::Integer { min, max } => {
                let nouns = numbers::nouns_for(&p.name);
                match numbers::find_for(&scan, &nouns, int_count == 1) {
                    Some(m) => {
                        match numbers::check_range(m.value, *min, *max, &p.name, &p.question) {
                            Ok(n) => Some(Value::from(n)),
                            Err(msg) => {
                                problem(&mut out, p, msg);
                                None
                            }
                        }
                    }
                    None => None,
                }
            }
            ParamType::Boolean => booleans::mentions(t, &booleans::objects_for(&p.name))
                .last()
                .map(|b| Value::Bool(b.value)),
            ParamType::Date => {
                let chosen = if date_params == 1 {
                    // The last date that exists; else the first that does not.
                    current_dates
                        .iter()
                        .rev()
                        .find(|d| d.value.is_ok())
                        .or_else(|| current_dates.first())
                        .copied()
                } else {
                    date_index += 1;
                    current_dates.get(date_index - 1).copied()
                };
                match chosen.map(|d| &d.value) {
                    Some(Ok(d)) => Some(Value::String(d.format("%Y-%m-%d").to_string())),
                    Some(Err(bad)) => {
                        problem(&mut out, p, invalid_date(bad, &p.question));
                        None
                    }
                    None => None,
                }
            }
            ParamType::OneOf(values) => match text::find_one_of(t, values) {
                Some(Ok(v)) => Some(Value::String(v)),
                _ => None,
            },
            ParamType::Text => text_value(&scan, p, &foreign).map(Value::String),
        };
        if let Some(v) = value {
            out.values.insert(p.name.clone(), v);
        }
    }
    out
}

/// A text parameter's value in a whole message.
fn text_value(scan: &Scan, p: &ParamSpec, foreign: &[(usize, usize)]) -> Option<String> {
    let t = &scan.t;
    match TextKind::of(&p.name) {
        TextKind::Topic => text::find_topic(t, foreign, false),
        TextKind::Order => text::find_order(t, &scan.codes_and_dates_mask()),
        TextKind::ErrorCode => scan.codes.iter().find(|c| c.error).map(|c| c.value.clone()),
        TextKind::Model => scan
            .codes
            .iter()
            .find(|c| !c.error)
            .map(|c| c.value.clone()),
        TextKind::Address => scan.address.map(|(s, e)| t.slice(s, e).to_string()),
        TextKind::Other => None,
    }
}

fn invalid_date(bad: &str, question: &str) -> String {
    format!("La fecha «{bad}» no existe. {question}")
}

/// Answers that leave the choice to Raymundo.
fn is_indifferent(answer: &str) -> bool {
    const PHRASES: &[&str] = &[
        "da igual",
        "como quieras",
        "lo que quieras",
        "las que quieras",
        "los que quieras",
        "tu decide",
        "tu decides",
        "decide tu",
        "no importa",
        "cualquiera",
        "lo que sea",
        "las que sean",
        "whatever",
        "you decide",
        "you choose",
        "me da igual",
    ];
    let t = tokenize(answer);
    let joined = format!(" {} ", t.words().join(" "));
    PHRASES.iter().any(|p| joined.contains(&format!(" {p} ")))
}

/// The answer with surrounding spaces and final punctuation removed.
fn trimmed(answer: &str) -> String {
    answer
        .trim()
        .trim_start_matches(['¿', '¡'])
        .trim_end_matches(['.', '!', '?', ',', ';'])
        .trim()
        .to_string()
}

/// A reply to the question asked for `param`, more permissive than [`extract`]: a bare `8`,
/// `cinco`, `una docena`, `sí`, `nel`, `con fotos`, `el lunes`, `15`, `marketing digital`,
/// `el 2`/`la segunda` for a `one_of`. An "as you like" answer (`da igual`, `como quieras`)
/// gives the parameter's default when it has one. The error is for the user, in Spanish: what
/// was wrong, then the question again. Unknown text parameters take the trimmed answer.
pub fn parse_answer(answer: &str, param: &ParamSpec, today: NaiveDate) -> Result<Value, String> {
    let q = &param.question;
    if answer.trim().is_empty() {
        return Err(format!("No me llegó ninguna respuesta. {q}"));
    }
    if let Some(d) = param.default.as_ref().filter(|_| is_indifferent(answer)) {
        return Ok(d.clone());
    }
    match &param.kind {
        ParamType::Integer { min, max } => {
            let scan = Scan::new(answer, today);
            let nouns = numbers::nouns_for(&param.name);
            let n = numbers::strong_mentions(&scan, &nouns)
                .last()
                .map(|m| m.value)
                .or_else(|| numbers::integer_in(&scan))
                .ok_or_else(|| {
                    format!("No entendí la cantidad; escríbela con número, por ejemplo 8. {q}")
                })?;
            numbers::check_range(n, *min, *max, &param.name, q).map(Value::from)
        }
        ParamType::Boolean => {
            let t = tokenize(answer);
            let objects = booleans::objects_for(&param.name);
            // Naming the object is a yes ("unas fotos"), unless something says no.
            let named = || {
                let words = t.words();
                (words.iter().any(|w| objects.iter().any(|o| o == w))
                    && !words.iter().any(|w| matches!(*w, "no" | "sin" | "nada" | "ni")))
                .then_some(true)
            };
            booleans::mentions(&t, &objects)
                .last()
                .map(|b| b.value)
                .or_else(|| parse_boolean(answer))
                .or_else(named)
                .map(Value::Bool)
                .ok_or_else(|| format!("No me quedó claro si es sí o no. {q}"))
        }
        ParamType::Date => match dates::date_answer(answer, today) {
            Ok(d) => Ok(Value::String(d.format("%Y-%m-%d").to_string())),
            Err(DateError::Invalid(bad)) => Err(invalid_date(&bad, q)),
            Err(DateError::Several) => Err(format!("Mencionaste más de una fecha. {q}")),
            Err(DateError::Missing) => Err(format!(
                "No entendí la fecha; puedes decirme, por ejemplo, «mañana», «el lunes» o «15 de marzo». {q}"
            )),
        },
        ParamType::OneOf(values) => one_of_answer(answer, values)
            .map(Value::String)
            .ok_or_else(|| format!("Las opciones son: {}. {q}", options_list(values))),
        ParamType::Text => text_answer(answer, param, today).map(Value::String),
    }
}

/// A `one_of` answer: a value, or its position (`2`, `la segunda`).
fn one_of_answer(answer: &str, values: &[String]) -> Option<String> {
    let t = tokenize(answer);
    match text::find_one_of(&t, values) {
        Some(Ok(v)) => return Some(v),
        Some(Err(())) => return None,
        None => {}
    }
    const ORDINALS: &[(&str, usize)] = &[
        ("primera", 1),
        ("primero", 1),
        ("primer", 1),
        ("first", 1),
        ("segunda", 2),
        ("segundo", 2),
        ("second", 2),
        ("tercera", 3),
        ("tercero", 3),
        ("tercer", 3),
        ("third", 3),
        ("cuarta", 4),
        ("cuarto", 4),
        ("quinta", 5),
        ("quinto", 5),
    ];
    let words = t.words();
    let pos = words
        .iter()
        .find_map(|w| ORDINALS.iter().find(|(o, _)| o == w).map(|(_, k)| *k))
        .or_else(|| {
            if words
                .iter()
                .any(|w| matches!(*w, "ultima" | "ultimo" | "last"))
            {
                Some(values.len())
            } else {
                parse_integer(answer).and_then(|n| usize::try_from(n).ok())
            }
        })?;
    values.get(pos.checked_sub(1)?).cloned()
}

fn options_list(values: &[String]) -> String {
    match values {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} o {last}", init.join(", ")),
    }
}

/// A text answer by the parameter's kind.
fn text_answer(answer: &str, param: &ParamSpec, today: NaiveDate) -> Result<String, String> {
    let q = &param.question;
    let scan = Scan::new(answer, today);
    let t = &scan.t;
    let plain = trimmed(answer);
    let found = match TextKind::of(&param.name) {
        TextKind::Topic => {
            let (nouns, objects) = generic_foreign();
            let foreign = scan.foreign(&[nouns], &[objects]);
            text::find_topic(t, &foreign, true)
        }
        TextKind::Order => {
            let order = text::find_order(t, &scan.codes_mask());
            return order.ok_or_else(|| {
                format!("No encontré el número; debe tener de 5 a 12 dígitos. {q}")
            });
        }
        TextKind::ErrorCode => scan
            .codes
            .iter()
            .find(|c| c.error)
            .or(scan.codes.first())
            .map(|c| c.value.clone()),
        TextKind::Model => scan
            .codes
            .iter()
            .find(|c| !c.error)
            .or(scan.codes.first())
            .map(|c| c.value.clone()),
        TextKind::Address => scan
            .address
            .map(|(s, e)| t.slice(s, e).to_string())
            .or_else(|| {
                // "en Hidalgo 120", "es Hidalgo 120", "mi dirección es ...": drop the lead-in.
                let mut s = 0;
                while t.is_in(
                    s,
                    &[
                        "mi",
                        "la",
                        "direccion",
                        "domicilio",
                        "es",
                        "en",
                        ":",
                        "seria",
                        "esta",
                    ],
                ) {
                    s += 1;
                }
                let rest = trimmed(t.slice(s, t.len()));
                (!rest.is_empty()).then_some(rest)
            }),
        TextKind::Other => None,
    };
    match found {
        Some(v) => Ok(v),
        None if !plain.is_empty() => Ok(plain),
        None => Err(format!("No me llegó ninguna respuesta. {q}")),
    }
}
