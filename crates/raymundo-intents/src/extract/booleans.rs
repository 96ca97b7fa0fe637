//! Yes and no: bare answers (`sí`, `claro`, `nel`, `no thanks`) and, for parameters about an
//! object (`incluir_imagenes`), phrases about that object (`con fotos`, `sin imágenes`, `que
//! lleve imágenes`, `no incluyas imágenes`, `with images`).

use super::norm::{name_words, tokenize, Tokens};

/// Synonyms of common objects of `incluir_*`/`con_*` parameters.
const GROUPS: &[&[&str]] = &[
    &[
        "imagen",
        "imagenes",
        "foto",
        "fotos",
        "fotografia",
        "fotografias",
        "ilustracion",
        "ilustraciones",
        "grafico",
        "graficos",
        "dibujo",
        "dibujos",
        "image",
        "images",
        "picture",
        "pictures",
        "photo",
        "photos",
        "pic",
        "pics",
        "img",
        "imgs",
    ],
    &[
        "grafica",
        "graficas",
        "chart",
        "charts",
        "graph",
        "graphs",
        "diagrama",
        "diagramas",
    ],
    &["video", "videos"],
    &["logo", "logos", "logotipo", "logotipos"],
    &["tabla", "tablas", "table", "tables"],
    &["animacion", "animaciones", "transiciones", "animations"],
    &["nota", "notas", "notes"],
    &["instalacion", "instalar", "installation"],
    &["factura", "facturar", "invoice"],
    &["envio", "envios", "entrega", "shipping", "delivery"],
    &["garantia", "warranty"],
];

/// The words that name a boolean parameter's object: the name after `incluir_`, `con_`,
/// `usar_`, `tiene_`, `es_` ..., with its plural or singular and synonyms.
pub(crate) fn objects_for(name: &str) -> Vec<String> {
    const PREFIXES: &[&str] = &[
        "incluir_", "incluye_", "con_", "usar_", "usa_", "tiene_", "tener_", "es_", "agregar_",
        "anadir_", "poner_", "lleva_", "llevar_", "include_", "with_", "has_", "is_", "quiere_",
    ];
    let forms = |w: &str| {
        if w.len() <= 2 {
            return Vec::new();
        }
        let mut forms = vec![w.to_string()];
        if let Some(s) = w.strip_suffix("es").filter(|s| s.len() > 2) {
            forms.push(s.to_string());
        }
        if let Some(s) = w.strip_suffix('s') {
            forms.push(s.to_string());
        } else {
            forms.push(format!("{w}s"));
        }
        forms
    };
    name_words(name, PREFIXES, forms, GROUPS)
}

/// A statement about an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoolMention {
    /// First token (the `con`, `sin`, `no` ...).
    pub start: usize,
    /// Token after the object.
    pub end: usize,
    /// Whether the object is wanted.
    pub value: bool,
}

/// Words skipped between a trigger and the object (`con muchas fotos`).
const BETWEEN: &[&str] = &[
    "las",
    "los",
    "la",
    "el",
    "unas",
    "unos",
    "una",
    "un",
    "algunas",
    "algunos",
    "muchas",
    "muchos",
    "pocas",
    "pocos",
    "varias",
    "varios",
    "buenas",
    "bonitas",
    "de",
    "mas",
    "tambien",
    "some",
    "any",
    "the",
    "a",
    "an",
    "lots",
    "of",
    "tus",
    "sus",
    "mis",
    "le",
    "les",
    "alguna",
    "algun",
    "ninguna",
    "ningun",
    "cuantas",
    "cuantos",
    "poquitas",
    "poquitos",
    "nomas",
    "solo",
    "solamente",
];

/// Words that, before the object, say it is not wanted.
const NEG: &[&str] = &[
    "sin", "without", "ni", "cero", "nada", "ninguna", "ningun", "no",
];

/// Words that, before the object, say it is wanted (unless negated).
const POS: &[&str] = &[
    "con",
    "with",
    "incluye",
    "incluya",
    "incluyas",
    "incluyan",
    "incluir",
    "incluyendo",
    "incluyele",
    "include",
    "including",
    "agrega",
    "agregale",
    "agregue",
    "agregues",
    "agregar",
    "agregarle",
    "anade",
    "anadele",
    "anadir",
    "pon",
    "ponle",
    "ponles",
    "ponerle",
    "poner",
    "pongas",
    "ponga",
    "pongan",
    "mete",
    "metele",
    "meter",
    "metas",
    "usa",
    "usar",
    "uses",
    "use",
    "utiliza",
    "lleve",
    "lleven",
    "lleva",
    "llevar",
    "tenga",
    "tengan",
    "tiene",
    "tener",
    "add",
    "quiero",
    "queremos",
    "quisiera",
    "necesito",
    "ocupo",
    "prefiero",
    "want",
    "need",
    "muestra",
    "mostrar",
];

/// Words that negate a verb before the object (`no incluyas`).
const NOT: &[&str] = &["no", "nunca", "tampoco", "not", "dont", "without", "sin"];

/// Every statement about one of `objects` in the message, in order.
pub(crate) fn mentions(t: &Tokens, objects: &[String]) -> Vec<BoolMention> {
    let mut out = Vec::new();
    for k in 0..t.len() {
        if !t.is_word(k) || !objects.iter().any(|o| o == t.norm(k)) {
            continue;
        }
        // Look back over articles and adjectives to the word that decides.
        let mut j = k;
        let mut found = None;
        while j > 0 && k - j < 5 {
            j -= 1;
            let w = t.norm(j);
            if NEG.contains(&w) {
                found = Some((j, false));
                break;
            }
            if POS.contains(&w) {
                // "no incluyas", "no le pongas", "que no lleve", "don't add".
                let mut n = j;
                while n > 0 && j - n < 2 && t.is_in(n - 1, &["le", "les", "lo", "la", "se", "me"]) {
                    n -= 1;
                }
                let start = if n > 0 && t.is_in(n - 1, NOT) {
                    n - 1
                } else if n >= 3 && t.is(n - 1, "t") && t.is(n - 2, "'") {
                    n - 3
                } else {
                    j
                };
                found = Some((start, start == j));
                break;
            }
            if !BETWEEN.contains(&w) {
                break;
            }
        }
        if let Some((start, value)) = found {
            out.push(BoolMention {
                start,
                end: k + 1,
                value,
            });
            continue;
        }
        // "imágenes no", "fotos sí", "imágenes también".
        let after = t.norm(k + 1);
        let ends = k + 2 >= t.len() || t.is_punct(k + 2) || t.is_in(k + 2, &["porfa", "gracias"]);
        if ends && matches!(after, "no" | "tampoco") {
            out.push(BoolMention {
                start: k,
                end: k + 2,
                value: false,
            });
        } else if ends && matches!(after, "si" | "tambien" | "porfa" | "please") {
            out.push(BoolMention {
                start: k,
                end: k + 2,
                value: true,
            });
        }
    }
    out
}

const YES_PHRASES: &[&str] = &[
    "por que no",
    "why not",
    "no hay problema",
    "no problem",
    "por favor",
    "por supuesto",
    "desde luego",
    "de acuerdo",
    "of course",
    "asi es",
    "me parece bien",
    "esta bien",
    "go ahead",
    "sounds good",
];

const NO_PHRASES: &[&str] = &[
    "para nada",
    "no thanks",
    "no gracias",
    "mejor no",
    "no hace falta",
    "no es necesario",
    "no way",
];

const UNSURE: &[&str] = &[
    "no se",
    "no estoy seguro",
    "no estoy segura",
    "ni idea",
    "quien sabe",
    "tal vez",
    "quizas",
    "quiza",
    "a lo mejor",
    "maybe",
    "no lo se",
    "da igual",
    "como quieras",
    "no importa",
    "no me importa",
    "lo que sea",
    "tu decide",
    "dont know",
    "depende",
    "not sure",
];

const YES: &[&str] = &[
    "si",
    "claro",
    "dale",
    "va",
    "sale",
    "ok",
    "vale",
    "afirmativo",
    "correcto",
    "exacto",
    "obvio",
    "obviamente",
    "seguro",
    "porfa",
    "yes",
    "yeah",
    "yep",
    "yup",
    "sure",
    "please",
    "andale",
    "perfecto",
    "adelante",
    "hazlo",
    "con",
    "incluyelas",
    "incluyelos",
    "ponlas",
    "ponlos",
    "agregalas",
    "agregalos",
    "okay",
    "simon",
];

const NO: &[&str] = &[
    "no", "negativo", "nada", "nunca", "tampoco", "sin", "ninguna", "ninguno", "never", "nope",
    "nah", "ningun",
];

/// Yes or no in a short answer: `sí`, `si`, `claro`, `dale`, `por favor`, `👍` are yes; `no`,
/// `nel`, `para nada`, `no gracias`, `no thanks`, `👎` are no. `claro que no` is no. `None`
/// when it says neither or says it does not know (`no sé`, `da igual`).
pub fn parse_boolean(text: &str) -> Option<bool> {
    let t = tokenize(text);
    let words: Vec<&str> = t.words();
    let joined = format!(" {} ", words.join(" "));
    if UNSURE.iter().any(|p| joined.contains(&format!(" {p} "))) {
        return None;
    }
    if joined.ends_with(" que no ") && !joined.ends_with(" por que no ") {
        return Some(false);
    }
    if joined.ends_with(" que si ") {
        return Some(true);
    }
    for i in 0..t.len() {
        if t.any_phrase(i, YES_PHRASES).is_some() {
            return Some(true);
        }
        if t.any_phrase(i, NO_PHRASES).is_some() {
            return Some(false);
        }
        if t.is_in(i, YES) {
            return Some(true);
        }
        if t.is_in(i, NO) {
            return Some(false);
        }
    }
    let yes = text.contains(['👍', '👌', '✅', '✔', '🙌']);
    let no = text.contains(['👎', '❌', '🚫', '✖']);
    match (yes, no) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}
