//! Free text by parameter name: topics (`tema`), order numbers (`numero_pedido`), error codes
//! (`codigo_error`), product models (`modelo`), addresses (`direccion`), and the values of
//! `one_of` parameters.
//!
//! A topic drops a leading article (`sobre el lanzamiento del AX-400` gives `lanzamiento del
//! AX-400`), because it becomes a title, and stops where something belonging to another
//! parameter begins (`, con imágenes`, `de 8 diapositivas`, `para mañana`).

use super::dates::DateMention;
use super::norm::{fold, tokenize, Tokens};

/// What a text parameter holds, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    /// `tema`, `topic`, `asunto`, `titulo`.
    Topic,
    /// `numero_pedido`, `orden`, `guia`, `folio`: a number of 5 to 12 digits.
    Order,
    /// `codigo_error`: codes like `E-104`.
    ErrorCode,
    /// `modelo`: product codes like `AX-200`.
    Model,
    /// `direccion`, `domicilio`.
    Address,
    /// Anything else: only taken from an answer.
    Other,
}

impl TextKind {
    /// The kind of a text parameter called `name`.
    pub(crate) fn of(name: &str) -> Self {
        let n = fold(name);
        let has = |ws: &[&str]| ws.iter().any(|w| n.contains(w));
        if has(&["tema", "topic", "asunto", "titulo", "title", "subject"]) {
            Self::Topic
        } else if has(&[
            "pedido", "orden", "guia", "folio", "rastreo", "tracking", "order",
        ]) {
            Self::Order
        } else if has(&["error", "falla", "alarma"])
            || (n.starts_with("codigo") && !has(&["postal"]))
        {
            Self::ErrorCode
        } else if has(&[
            "modelo",
            "model",
            "producto",
            "equipo",
            "controlador",
            "dispositivo",
        ]) {
            Self::Model
        } else if has(&["direccion", "domicilio", "address", "ubicacion", "calle"]) {
            Self::Address
        } else {
            Self::Other
        }
    }
}

/// A product or error code (`AX-400`, `E-104`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Code {
    /// First token.
    pub start: usize,
    /// Token after the last.
    pub end: usize,
    /// Normalised: upper-case letters, a hyphen, the digits (`ax 200` -> `AX-200`).
    pub value: String,
    /// An error code (`E`/`ERR` prefix, or said after `error`/`código`).
    pub error: bool,
}

/// Short words that are not code prefixes.
const CODE_STOP: &[&str] = &[
    "a", "y", "o", "u", "x", "i", "de", "en", "la", "el", "lo", "le", "me", "te", "se", "mi", "tu",
    "su", "un", "al", "es", "ya", "no", "si", "las", "los", "del", "con", "por", "que", "son",
    "mas", "sus", "mis", "una", "uno", "dos", "pon", "ten", "hay", "fue", "era", "van", "voy",
    "vez", "dia", "mes", "ano", "hoy", "tel", "cel", "cp", "is", "in", "on", "at", "to", "of",
    "the", "and", "for", "an", "my", "it", "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago",
    "sep", "oct", "nov", "dic", "jan", "apr", "aug", "dec", "km", "num", "av", "col", "ext", "int",
    "hrs", "am", "pm", "pag", "mz", "nos", "les", "sea", "ver", "cap", "ave", "sin", "mil", "pal",
    "pa", "nomas", "para", "top", "sur", "nte", "ote", "pte", "san", "sta", "sto", "pto", "dr",
    "lic", "ing", "muy", "ese", "esa", "eso", "asi", "aun", "mal", "ir", "vas", "tel", "zona",
    "lt", "ex", "ok", "va", "le", "ni", "nada", "cada", "con",
];

const ERROR_WORDS: &[&str] = &["error", "codigo", "falla", "alarma", "code", "err"];

/// Every code in the message, in order.
pub(crate) fn find_codes(t: &Tokens) -> Vec<Code> {
    let mut out: Vec<Code> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let w = t.norm(i);
        let letters_ok = t.is_word(i)
            && (1..=3).contains(&w.len())
            && w.bytes().all(|b| b.is_ascii_lowercase())
            && !CODE_STOP.contains(&w)
            && !(i > 0 && t.glued(i) && !t.is_punct(i - 1));
        if letters_ok {
            let d = if t.is(i + 1, "-") && t.glued(i + 1) && t.is_num(i + 2) && t.glued(i + 2) {
                Some(i + 2)
            } else if t.is_num(i + 1) && (t.glued(i + 1) || w.len() >= 2) && !t.is(i + 2, "-") {
                Some(i + 1)
            } else {
                None
            };
            if let Some(d) = d.filter(|&d| (2..=5).contains(&t.norm(d).len())) {
                let error = matches!(w, "e" | "er" | "err")
                    || (i.saturating_sub(3)..i).any(|x| t.is_in(x, ERROR_WORDS));
                out.push(Code {
                    start: i,
                    end: d + 1,
                    value: format!("{}-{}", w.to_uppercase(), t.norm(d)),
                    error,
                });
                i = d + 1;
                continue;
            }
        }
        // "error 104", "código 201": the company's error codes are E-xxx.
        if t.is_in(i, &["error", "codigo", "falla", "alarma"]) {
            let mut k = i + 1;
            while t.is_in(k, &["de", "numero", "num", "no", "#", ":", "."]) && k < i + 4 {
                k += 1;
            }
            if t.is_num(k) && (2..=4).contains(&t.norm(k).len()) && !t.is(k + 1, "-") {
                out.push(Code {
                    start: i,
                    end: k + 1,
                    value: format!("E-{}", t.norm(k)),
                    error: true,
                });
                i = k + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// An order or tracking number: the first number of 5 to 12 digits said after `pedido`,
/// `orden`, `guía`, `folio` or `#`, else the only such number in the message.
pub(crate) fn find_order(t: &Tokens, skip: &[bool]) -> Option<String> {
    const CUES: &[&str] = &[
        "pedido", "pedidos", "orden", "compra", "guia", "folio", "order", "rastreo", "tracking",
        "rastrear", "#",
    ];
    const LINK: &[&str] = &[
        "#", ":", "numero", "num", "no", ".", "de", "mi", "la", "el", "es", "number", "my", "is",
    ];
    let cands: Vec<usize> = (0..t.len())
        .filter(|&i| t.is_num(i) && !skip[i] && (5..=12).contains(&t.norm(i).len()))
        .filter(|&i| !(t.glued(i + 1) && t.is_in(i + 1, &[".", ","]) && t.is_num(i + 2)))
        .collect();
    let cued = cands.iter().find(|&&i| {
        let mut j = i;
        for _ in 0..4 {
            if j == 0 {
                return false;
            }
            j -= 1;
            if t.is_in(j, CUES) {
                return true;
            }
            if !t.is_in(j, LINK) {
                return false;
            }
        }
        false
    });
    match (cued, cands.as_slice()) {
        (Some(&i), _) | (None, &[i]) => Some(t.norm(i).to_string()),
        _ => None,
    }
}

/// Words that start a street address.
const STREET: &[&str] = &[
    "calle",
    "avenida",
    "av",
    "ave",
    "avda",
    "blvd",
    "boulevard",
    "bulevar",
    "bulevard",
    "calz",
    "calzada",
    "carretera",
    "carr",
    "camino",
    "privada",
    "priv",
    "prolongacion",
    "prol",
    "andador",
    "circuito",
    "cto",
    "paseo",
    "periferico",
    "retorno",
    "cerrada",
    "cda",
    "callejon",
    "glorieta",
    "colonia",
    "col",
    "fraccionamiento",
    "fracc",
    "street",
    "avenue",
];

/// Whether `w` (folded) starts a street address (`calle`, `Av.`, `blvd` ...).
pub(crate) fn is_street_word(w: &str) -> bool {
    STREET.contains(&w)
}

/// Words after `en` that do not begin a street name.
const NOT_STREET_NAME: &[&str] = &[
    "la", "el", "los", "las", "un", "una", "unos", "unas", "mi", "tu", "su", "sus", "mis",
    "nuestro", "nuestra", "zona", "zonas", "casa", "vivero", "jardin", "oficina", "sucursal",
    "total", "punto", "menos", "mas", "linea", "ese", "esa", "este", "esta", "que", "lo", "cuanto",
    "cuantos", "dias", "dia", "semanas", "horas", "minutos", "meses", "version", "modelo",
    "pedido", "orden", "caso", "paso", "promedio", "lugar", "es", "queda", "seria", "vivo", "son",
];

/// Words that end an address.
const ADDR_STOP: &[&str] = &[
    "para", "por", "porque", "pero", "que", "cuando", "antes", "despues", "hoy", "manana",
    "gracias", "porfa", "me", "te", "se", "nos", "quiero", "necesito", "tengo", "puede", "pueden",
    "podrian", "seria", "please", "ya", "si", "no", "es", "esta", "donde", "ahi", "alla", "aqui",
    "mi", "tu", "su",
];

/// A street address: from a street word (`calle`, `Av.`) or a capitalised word after `en`
/// (`en Hidalgo 120`) to before a date, a time, `para`, `por favor` or the end of the
/// sentence, taking up to three comma-separated parts (`Av. Guadalupe 4410, Zapopan`). It
/// must have a number.
pub(crate) fn find_address(t: &Tokens, dates: &[DateMention]) -> Option<(usize, usize)> {
    let in_date = |i: usize| dates.iter().any(|d| d.start <= i && i < d.end);
    for s in 0..t.len() {
        let cue = s > 0 && t.is_in(s - 1, &["en", "domicilio", "direccion", ":", "at"]);
        // In lower case ("en hidalgo 120"), a name then a street number.
        let lower_street = || {
            !t.is_in(s, NOT_STREET_NAME)
                && (s + 1..s + 4).any(|k| {
                    t.is_num(k)
                        && t.norm(k).len() <= 5
                        && (s..k).all(|x| {
                            t.is_word(x)
                                && !t.is_in(x, NOT_STREET_NAME)
                                && !is_street_word(t.norm(x))
                        })
                })
        };
        // "en Zapopan calle Robles 12" starts at "calle"; "en julio 2027" is no address.
        let street_or_month_ahead = (s..(s + 4).min(t.len()))
            .any(|k| (k > s && is_street_word(t.norm(k))) || super::dates::is_month(t.norm(k)));
        let start = (is_street_word(t.norm(s)) && !t.glued(s))
            || (cue
                && t.is_word(s)
                && !in_date(s)
                && !street_or_month_ahead
                && (t.upper_at(s) || lower_street()));
        if !start {
            continue;
        }
        let mut e = s;
        let mut parts = 1;
        let mut has_num = false;
        while e < t.len() && e < s + 25 {
            if in_date(e)
                || t.is_in(e, &["?", "!", ";", "(", ")", "\""])
                || t.is_sentence_dot(e)
                || (e > s && t.is_in(e, ADDR_STOP))
                || (t.is(e, "con") && !t.is(e.wrapping_sub(1), "esquina"))
                || (t.is(e, "a") && t.is_in(e + 1, &["las", "la", "partir"]))
                || (t.is(e, "en") && t.is(e + 1, "la") && t.is_in(e + 2, &["tarde", "noche"]))
            {
                break;
            }
            if t.is(e, ",") {
                let next_ok = (t.is_word(e + 1) || t.is_num(e + 1))
                    && !t.is_in(e + 1, ADDR_STOP)
                    && !in_date(e + 1);
                if parts >= 4 || !next_ok {
                    break;
                }
                parts += 1;
            }
            has_num |= t.is_num(e);
            e += 1;
        }
        if !has_num {
            continue;
        }
        while e > s
            && (t.is_in(e - 1, &[",", "-", "y", "el", "la", "de", "en", "a"])
                || (t.is(e - 1, ".") && t.is_sentence_dot(e - 1)))
        {
            e -= 1;
        }
        return Some((s, e));
    }
    None
}

/// Nouns that name a presentation.
const PRESENTATION: &[&str] = &[
    "presentacion",
    "presentaciones",
    "diapositivas",
    "diapositiva",
    "diapos",
    "diapo",
    "slides",
    "slide",
    "laminas",
    "lamina",
    "powerpoint",
    "point",
    "ppt",
    "pptx",
    "deck",
    "exposicion",
    "keynote",
    "presentation",
    "filminas",
    "transparencias",
];

/// Adjectives that may follow a presentation noun.
const ADJECTIVES: &[&str] = &[
    "corta",
    "cortita",
    "breve",
    "rapida",
    "sencilla",
    "bonita",
    "nueva",
    "ejecutiva",
    "pequena",
    "larga",
    "formal",
    "profesional",
    "completa",
    "chida",
    "padre",
    "buena",
    "short",
    "quick",
    "nice",
    "new",
    ",",
];

/// Words after a comma that start another clause, not a list of topics.
const CLAUSE_START: &[&str] = &[
    "por",
    "porfa",
    "gracias",
    "que",
    "y",
    "con",
    "sin",
    "para",
    "de",
    "unas",
    "unos",
    "como",
    "incluye",
    "incluyendo",
    "agrega",
    "pon",
    "ponle",
    "es",
    "necesito",
    "quiero",
    "tipo",
    "porque",
    "pero",
    "please",
    "with",
    "without",
    "for",
    "lo",
    "si",
    "no",
    "ok",
    "ya",
    "ademas",
    "tambien",
    "me",
    "te",
    "nos",
    "hazla",
    "hazlo",
    "en",
    "el",
    "la",
    "a",
    "and",
    "thanks",
    "mejor",
    "solo",
    "nomas",
    "de",
    "que",
    "algo",
];

const LEADING: &[&str] = &[
    "el", "la", "los", "las", "un", "una", "unos", "unas", "lo", "the", "an", ":", ",", "-", "\"",
    "'",
];

const TRAILING: &[&str] = &[
    "pero", "aunque", "porque", "y", "e", "o", "de", "del", "con", "sin", "para", "en", "a", "que",
    "el", "la", "los", "las", "por", "un", "una", "al", "and", "with", "for", "of", "the", "to",
    ",", ".", "-", ":", "\"", "'",
];

/// Cuts a topic starting at `s`: up to the first foreign span, sentence end, clause-starting
/// comma or `por favor`; without leading articles and trailing connectors.
fn cut(t: &Tokens, s: usize, foreign: &[(usize, usize)]) -> Option<String> {
    let starts_foreign = |i: usize| foreign.iter().any(|&(a, b)| a <= i && i < b);
    let mut e = s;
    while e < t.len() {
        if starts_foreign(e)
            || t.is_in(e, &["?", "!", ";", "(", ")"])
            || t.is_sentence_dot(e)
            || t.is_in(e, &["porfa", "gracias", "please", "thanks", "pls"])
            || t.phrase(e, "por favor").is_some()
            || (t.is(e, ",") && (t.is_in(e + 1, CLAUSE_START) || starts_foreign(e + 1)))
        {
            break;
        }
        e += 1;
    }
    let mut s = s;
    while s < e && t.is_in(s, LEADING) && s + 1 < e {
        s += 1;
    }
    while e > s && t.is_in(e - 1, TRAILING) {
        e -= 1;
    }
    // A topic has a word that is not a number ("unos diez o doce slides" has none).
    let has_word = (s..e).any(|i| {
        t.is_word(i) && !t.is_in(i, LEADING) && super::numbers::word_number(t, i).is_none()
    });
    has_word.then(|| t.slice(s, e).trim().to_string())
}

/// The topic of a message: after `sobre`, `acerca de`, `about`, `el tema es`, `que trate de`
/// ..., else after a presentation noun and `de`/`para`/`con` (`presentación de ventas`,
/// `slides para la reunión`). `answer`: the whole text is an answer to "¿sobre qué tema?", so
/// without a cue it is the topic itself. `foreign`: spans that belong to other parameters.
pub(crate) fn find_topic(t: &Tokens, foreign: &[(usize, usize)], answer: bool) -> Option<String> {
    let in_foreign = |i: usize| foreign.iter().any(|&(a, b)| a <= i && i < b);
    const CUES: &[&str] = &[
        "sobre el tema de",
        "sobre el tema",
        "sobre",
        "acerca de",
        "acerca del",
        "respecto a",
        "respecto de",
        "en cuanto a",
        "about",
        "regarding",
        "el tema es",
        "el tema sera",
        "el tema seria",
        "del tema",
        "con el tema de",
        "con el tema",
        "tema :",
        "tema de",
        "topic :",
        "que trate de",
        "que trate sobre",
        "que se trate de",
        "que hable de",
        "que hable sobre",
        "titulada",
        "titulado",
        "llamada",
        "que se llame",
        "con el titulo",
        "titulo :",
        "cambia el tema a",
        "cambialo a",
        "cambiala a",
        "cambiar el tema a",
        "mejor que sea de",
        "mejor que sea sobre",
        "change it to",
    ];
    for i in 0..t.len() {
        if in_foreign(i) {
            continue;
        }
        if let Some(s) = t.any_phrase(i, CUES) {
            if let Some(topic) = cut(t, s, foreign) {
                return Some(topic);
            }
        }
    }
    for p in 0..t.len() {
        if !t.is_in(p, PRESENTATION) {
            continue;
        }
        let mut k = p + 1;
        loop {
            if let Some(&(_, b)) = foreign.iter().find(|&&(a, _)| a == k) {
                k = b;
            } else if t.is_in(k, ADJECTIVES) {
                k += 1;
            } else {
                break;
            }
        }
        if t.is_in(k, &["de", "del", "para", "con", "on", "for", "of", ":"]) {
            if let Some(topic) = cut(t, k + 1, foreign) {
                return Some(topic);
            }
        }
    }
    if !answer {
        return None;
    }
    const FILLER: &[&str] = &[
        "pues", "mmm", "bueno", "ok", "es", "de", "seria", "sera", "sea", "que", "tema", "el", ":",
        ",", "it's", "its",
    ];
    let mut s = 0;
    while s < t.len() && t.is_in(s, FILLER) && !in_foreign(s) {
        s += 1;
    }
    cut(t, s, foreign)
}

/// A `one_of` value in a message: a value written out (accents and case ignored), or a word
/// that only one value has (`premium` for `plan premium`). `Err` when several match equally.
pub(crate) fn find_one_of(t: &Tokens, values: &[String]) -> Option<Result<String, ()>> {
    const STOP: &[&str] = &[
        "de", "del", "la", "el", "los", "las", "con", "sin", "por", "para",
    ];
    let msg: Vec<&str> = t.words();
    let value_words: Vec<Vec<String>> = values
        .iter()
        .map(|v| {
            let vt = tokenize(v);
            vt.words().into_iter().map(str::to_string).collect()
        })
        .collect();
    let scores: Vec<u8> = value_words
        .iter()
        .enumerate()
        .map(|(idx, ws)| {
            if !ws.is_empty() && msg.windows(ws.len()).any(|win| win == ws.as_slice()) {
                return 2;
            }
            let distinct = ws.iter().any(|w| {
                w.len() >= 3
                    && !STOP.contains(&w.as_str())
                    && msg.contains(&w.as_str())
                    && value_words
                        .iter()
                        .enumerate()
                        .all(|(o, other)| o == idx || !other.contains(w))
            });
            u8::from(distinct)
        })
        .collect();
    let best = *scores.iter().max()?;
    if best == 0 {
        return None;
    }
    let winners: Vec<usize> = (0..values.len()).filter(|&i| scores[i] == best).collect();
    match winners.as_slice() {
        [i] => Some(Ok(values[*i].clone())),
        _ => Some(Err(())),
    }
}
