//! Whole numbers in digits and in words (Spanish and English), and which number in a message
//! is the quantity a parameter asks for.

use super::norm::{fold, name_words, Tokens};
use super::Scan;

/// A number written in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumMention {
    /// Its value.
    pub value: i64,
    /// First token.
    pub start: usize,
    /// Token after the last.
    pub end: usize,
    /// A bare `un`/`una`/`uno`, which is usually an article.
    pub article: bool,
    /// How many digits it was written with (0 for words).
    pub digits: usize,
    /// Written with a decimal part (`2.5`): not a whole number.
    pub decimal: bool,
}

/// Words for 0-29 (Spanish) and 0-19 (English), plus a few chat misspellings.
fn unit(w: &str) -> Option<i64> {
    Some(match w {
        "cero" | "zero" => 0,
        "un" | "uno" | "una" | "one" => 1,
        "dos" | "two" => 2,
        "tres" | "three" => 3,
        "cuatro" | "four" => 4,
        "cinco" | "sinco" | "five" => 5,
        "seis" | "six" => 6,
        "siete" | "seven" => 7,
        "ocho" | "eight" => 8,
        "nueve" | "nine" => 9,
        "diez" | "dies" | "ten" => 10,
        "once" | "eleven" => 11,
        "doce" | "twelve" => 12,
        "trece" | "thirteen" => 13,
        "catorce" | "fourteen" => 14,
        "quince" | "fifteen" => 15,
        "dieciseis" | "sixteen" => 16,
        "diecisiete" | "seventeen" => 17,
        "dieciocho" | "eighteen" => 18,
        "diecinueve" | "nineteen" => 19,
        "veintiun" | "veintiuno" | "veintiuna" => 21,
        "veintidos" => 22,
        "veintitres" => 23,
        "veinticuatro" => 24,
        "veinticinco" => 25,
        "veintiseis" => 26,
        "veintisiete" => 27,
        "veintiocho" => 28,
        "veintinueve" => 29,
        _ => return None,
    })
}

/// Tens that may be followed by `y` + a unit.
fn tens(w: &str) -> Option<i64> {
    Some(match w {
        "veinte" | "twenty" => 20,
        "treinta" | "thirty" => 30,
        "cuarenta" | "forty" | "fourty" => 40,
        "cincuenta" | "fifty" => 50,
        "sesenta" | "sixty" => 60,
        "setenta" | "seventy" => 70,
        "ochenta" | "eighty" => 80,
        "noventa" | "ninety" => 90,
        _ => return None,
    })
}

fn hundreds(w: &str) -> Option<i64> {
    let base = w.strip_suffix("as").or_else(|| w.strip_suffix("os"))?;
    Some(match base {
        "doscient" => 200,
        "trescient" => 300,
        "cuatrocient" => 400,
        "quinient" => 500,
        "seiscient" => 600,
        "setecient" => 700,
        "ochocient" => 800,
        "novecient" => 900,
        _ => return None,
    })
}

/// A number written in words starting at token `i`: its value and the index after it.
pub(crate) fn word_number(t: &Tokens, i: usize) -> Option<(i64, usize)> {
    if let Some(end) = t.any_phrase(i, &["media docena", "half a dozen", "half dozen"]) {
        return Some((6, end));
    }
    if let Some(end) = t.any_phrase(i, &["un par", "a couple", "a pair", "par"]) {
        return Some((2, end));
    }
    if let Some(end) = t.any_phrase(i, &["a dozen", "docena", "dozen"]) {
        return Some((12, end));
    }
    let mut j = i;
    let mut total = 0i64;
    let mut cur = 0i64;
    let mut any = false;
    loop {
        let w = t.norm(j);
        if matches!(w, "cien" | "ciento") {
            if cur != 0 {
                break;
            }
            cur = 100;
        } else if let Some(h) = hundreds(w) {
            if cur != 0 {
                break;
            }
            cur = h;
        } else if let Some(v) = tens(w) {
            if cur % 100 != 0 {
                break;
            }
            cur += v;
            any = true;
            j += 1;
            // "treinta y dos", "twenty-five", "twenty five"
            let k = if t.is_in(j, &["y", "and", "-"]) {
                j + 1
            } else {
                j
            };
            if let Some(u) = unit(t.norm(k)).filter(|u| (1..=9).contains(u)) {
                cur += u;
                j = k + 1;
            }
            continue;
        } else if let Some(v) = unit(w) {
            if cur % 100 != 0 {
                break;
            }
            cur += v;
        } else if w == "hundred" {
            if cur == 0 {
                cur = 100;
            } else if cur < 10 {
                cur *= 100;
            } else {
                break;
            }
        } else if matches!(w, "mil" | "thousand") {
            if total != 0 {
                break;
            }
            total = cur.max(1) * 1000;
            cur = 0;
        } else {
            break;
        }
        any = true;
        j += 1;
    }
    if !any {
        return None;
    }
    let mut value = total + cur;
    if t.is_in(j, &["docena", "docenas", "dozen", "dozens"]) {
        value *= 12;
        j += 1;
    }
    Some((value, j))
}

/// A number written in digits at token `i` (`8`, `1,000`, `-3`, `2.5`).
fn digit_number(t: &Tokens, i: usize) -> Option<NumMention> {
    if !t.is_num(i) {
        return None;
    }
    let mut digits = t.norm(i).to_string();
    let mut j = i + 1;
    let mut decimal = false;
    while t.is_in(j, &[",", "."]) && t.glued(j) && t.is_num(j + 1) && t.glued(j + 1) {
        if t.norm(j + 1).len() == 3 && !decimal {
            digits.push_str(t.norm(j + 1));
        } else {
            decimal = true;
        }
        j += 2;
    }
    if digits.len() > 15 {
        return None;
    }
    let mut value: i64 = digits.parse().ok()?;
    let mut start = i;
    if i > 0 && t.is(i - 1, "-") && t.glued(i) && (i == 1 || !t.glued(i - 1)) {
        value = -value;
        start = i - 1;
    }
    Some(NumMention {
        value,
        start,
        end: j,
        article: false,
        digits: digits.len(),
        decimal,
    })
}

/// Every number in the message, in order, without overlaps.
pub(crate) fn mentions(t: &Tokens) -> Vec<NumMention> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if let Some(m) = digit_number(t, i) {
            i = m.end;
            out.push(m);
        } else if let Some((value, end)) = t.is_word(i).then(|| word_number(t, i)).flatten() {
            out.push(NumMention {
                value,
                start: i,
                end,
                article: end == i + 1 && t.is_in(i, &["un", "una", "uno"]),
                digits: 0,
                decimal: false,
            });
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Marks numbers that are not quantities: times (`a las 5`, `10:30`, `5 pm`), money (`$500`,
/// `300 pesos`), percentages, numbers after `#` and identifiers of five digits or more.
pub(crate) fn block_non_quantities(t: &Tokens, blocked: &mut [bool]) {
    for m in mentions(t) {
        let (s, e) = (m.start, m.end);
        let next = t.norm(e);
        let time = (t.is(e, ":") && t.is_num(e + 1))
            || t.is_in(e, &["am", "pm", "hrs", "hr", "h", "horas", "hs"])
            || (t.is(e, "a") && t.is(e + 1, ".") && t.is(e + 2, "m"))
            || (t.is(e, "p") && t.is(e + 1, ".") && t.is(e + 2, "m"))
            || t.phrase(e, "de la tarde").is_some()
            || t.phrase(e, "de la manana").is_some()
            || t.phrase(e, "de la noche").is_some()
            || t.phrase(e, "en punto").is_some()
            || (s >= 1 && t.is_in(s - 1, &["las", "la"]) && s >= 2 && t.is(s - 2, "a"))
            || (s >= 1 && t.is(s - 1, "at"));
        let money = (s >= 1 && t.is(s - 1, "$"))
            || matches!(
                next,
                "pesos" | "peso" | "mxn" | "usd" | "dlls" | "dls" | "dolares" | "dollars" | "varos"
            )
            || next == "%"
            || t.phrase(e, "por ciento").is_some()
            || t.phrase(e, "percent").is_some();
        let identifier = m.digits >= 5 || (s >= 1 && t.is(s - 1, "#")) || m.decimal;
        if time || money || identifier {
            // "10:30" blocks its minutes too.
            let e = if t.is(e, ":") && t.is_num(e + 1) {
                e + 2
            } else {
                e
            };
            blocked[s..e].iter_mut().for_each(|b| *b = true);
        }
    }
}

/// Nouns that count a parameter: from its name after `num_`/`numero_`/`cantidad_`, with
/// synonyms for common ones (`num_diapos` -> diapositivas, slides, láminas, hojas, páginas).
pub(crate) fn nouns_for(name: &str) -> Vec<String> {
    const GROUPS: &[&[&str]] = &[
        &[
            "diapositiva",
            "diapositivas",
            "diapo",
            "diapos",
            "slide",
            "slides",
            "lamina",
            "laminas",
            "hoja",
            "hojas",
            "pagina",
            "paginas",
            "transparencia",
            "transparencias",
            "filmina",
            "filminas",
            "pages",
        ],
        &[
            "persona",
            "personas",
            "gente",
            "asistentes",
            "invitados",
            "participantes",
            "people",
            "persons",
        ],
        &["zona", "zonas", "zone", "zones", "estaciones"],
        &["sensor", "sensores", "sensors"],
        &["controlador", "controladores", "equipos", "controllers"],
        &["dia", "dias", "days"],
        &["hora", "horas", "hours"],
        &["minuto", "minutos", "minutes"],
        &["pregunta", "preguntas", "questions"],
        &[
            "pieza",
            "piezas",
            "unidad",
            "unidades",
            "producto",
            "productos",
            "articulos",
            "items",
        ],
    ];
    const PREFIXES: &[&str] = &[
        "num_",
        "numero_",
        "cantidad_",
        "n_",
        "total_",
        "max_",
        "min_",
        "number_of_",
    ];
    let forms = |w: &str| {
        if w.len() <= 2 || w == "del" {
            return Vec::new();
        }
        let mut forms = vec![w.to_string()];
        if let Some(s) = w.strip_suffix('s') {
            forms.push(s.to_string());
        }
        forms
    };
    name_words(name, PREFIXES, forms, GROUPS)
}

fn noun_fits(w: &str, nouns: &[String]) -> bool {
    !w.is_empty()
        && nouns
            .iter()
            .any(|n| w == n || (n.len() >= 5 && w.starts_with(n.as_str())))
}

/// The index after a fitting noun that follows the number (`10 diapositivas`, `una docena
/// de slides`).
pub(crate) fn noun_after(t: &Tokens, end: usize, nouns: &[String]) -> Option<usize> {
    const FILLER: &[&str] = &[
        "sola",
        "solas",
        "mas",
        "maximo",
        "max",
        "aprox",
        "aproximadamente",
        "cortas",
        "breves",
        "diferentes",
        "distintas",
        "nuevas",
        "buenas",
        "de",
    ];
    for j in end..end + 3 {
        if noun_fits(t.norm(j), nouns) {
            return Some(j + 1);
        }
        if !t.is_in(j, FILLER) {
            return None;
        }
    }
    None
}

/// Whether a noun that fits comes just before the number (`diapositivas: 8`).
fn noun_before(t: &Tokens, start: usize, nouns: &[String]) -> bool {
    const LINK: &[&str] = &[
        ":", "=", "-", "como", "unas", "unos", "son", "sean", "seran", "de",
    ];
    let mut j = start;
    for _ in 0..3 {
        if j == 0 {
            return false;
        }
        j -= 1;
        if noun_fits(t.norm(j), nouns) {
            return true;
        }
        if !t.is_in(j, LINK) {
            return false;
        }
    }
    false
}

/// Numbers next to a noun that fits the parameter, outside dates, codes and addresses.
pub(crate) fn strong_mentions(scan: &Scan, nouns: &[String]) -> Vec<NumMention> {
    scan.numbers
        .iter()
        .filter(|m| !m.decimal && !scan.blocked[m.start..m.end].iter().any(|b| *b))
        .filter(|m| {
            noun_after(&scan.t, m.end, nouns).is_some() || noun_before(&scan.t, m.start, nouns)
        })
        .copied()
        .collect()
}

/// The number a whole message gives for a parameter counted by `nouns`: the last one next
/// to a fitting noun; else, when `weak_ok` (the only integer parameter), a lone number said
/// as a quantity (`mejor que sean 8`, `no, mejor 10`, `déjalo en 12`).
pub(crate) fn find_for(scan: &Scan, nouns: &[String], weak_ok: bool) -> Option<NumMention> {
    if let Some(m) = strong_mentions(scan, nouns).last() {
        return Some(*m);
    }
    if !weak_ok {
        return None;
    }
    let t = &scan.t;
    let weak: Vec<&NumMention> = scan
        .numbers
        .iter()
        .filter(|m| !m.article && !m.decimal && m.digits <= 4)
        .filter(|m| !scan.blocked[m.start..m.end].iter().any(|b| *b))
        .filter(|m| !(m.digits == 4 && (1900..=2100).contains(&m.value)))
        .filter(|m| quantity_cue_before(t, m.start) && quantity_end_after(t, m.end))
        .collect();
    match weak.as_slice() {
        [m] => Some(**m),
        _ => None,
    }
}

fn quantity_cue_before(t: &Tokens, start: usize) -> bool {
    const CUES: &[&str] = &[
        ",", ":", "sean", "seran", "serian", "sea", "son", "mejor", "pon", "ponle", "ponlas",
        "ponme", "hazla", "hazlo", "hazme", "haz", "de", "con", "unas", "unos", "como", "solo",
        "nomas", "maximo", "minimo", "total", "en", "make", "it", "only", "just",
    ];
    const CHANGE: &[&str] = &[
        "cambialo",
        "cambiala",
        "cambia",
        "cambiar",
        "subelo",
        "subela",
        "bajalo",
        "bajala",
        "ajustalo",
        "ajustala",
        "aumentalo",
        "aumentala",
        "reducelo",
        "reducela",
        "change",
        "to",
    ];
    if start == 0 {
        return true;
    }
    // Only interjections before it: "mmm 8", "ok 10".
    if (0..start).all(|k| t.is_in(k, &["pues", "mmm", "ok", "bueno", "este", "ah", "no", ","])) {
        return true;
    }
    if t.is(start - 1, "a") || t.is(start - 1, "to") {
        return start >= 2 && t.is_in(start - 2, CHANGE);
    }
    t.is_in(start - 1, CUES)
}

fn quantity_end_after(t: &Tokens, end: usize) -> bool {
    end >= t.len()
        || t.is_in(
            end,
            &[
                ",",
                ".",
                "!",
                "?",
                ";",
                "y",
                "por",
                "porfa",
                "gracias",
                "mejor",
                "entonces",
                "nomas",
                "solamente",
                "sobre",
                "con",
                "sin",
                "para",
                "acerca",
                "please",
                "and",
                "about",
                "with",
            ],
        )
}

/// A whole number in a short text: a bare answer (`8`, `cinco`, `una docena`, `unas 10
/// diapositivas`, `twelve`). Numbers inside dates, times, codes and addresses do not count.
/// `None` when there is none, or several different ones (`8 o 10`), unless the text corrects
/// itself (`8, no, mejor 10` gives 10). A bare `una`/`uno` counts only in a short answer.
pub fn parse_integer(text: &str) -> Option<i64> {
    // Only the spans of dates matter here, not their values.
    let scan = Scan::new(text, chrono::NaiveDate::from_ymd_opt(2000, 1, 1)?);
    integer_in(&scan)
}

pub(crate) fn integer_in(scan: &Scan) -> Option<i64> {
    let free: Vec<&NumMention> = scan
        .numbers
        .iter()
        .filter(|m| !m.decimal && !scan.blocked[m.start..m.end].iter().any(|b| *b))
        .collect();
    let full: Vec<&&NumMention> = free.iter().filter(|m| !m.article).collect();
    let mut values: Vec<i64> = full.iter().map(|m| m.value).collect();
    values.dedup();
    match values.as_slice() {
        [v] => return Some(*v),
        [.., last] if super::control::is_correction(scan.t.src) => return Some(*last),
        [] => {}
        _ => return None,
    }
    let short = scan.t.words().len() <= 3;
    match free.as_slice() {
        [m] if m.article && short => Some(m.value),
        _ => None,
    }
}

/// How a parameter is named in messages: `num_diapos` -> "El número de diapositivas".
pub(crate) fn label(name: &str) -> String {
    let n = fold(name);
    let (head, rest) = if let Some(r) = ["num_", "numero_", "n_", "number_of_"]
        .iter()
        .find_map(|p| n.strip_prefix(p))
    {
        ("El número de", r)
    } else if let Some(r) = n.strip_prefix("cantidad_") {
        ("La cantidad de", r)
    } else {
        return format!("El valor de «{}»", name.replace('_', " "));
    };
    let words: Vec<&str> = rest
        .split('_')
        .map(|w| match w {
            "diapos" | "slides" | "laminas" => "diapositivas",
            "imgs" | "imagenes" => "imágenes",
            "dias" => "días",
            "paginas" => "páginas",
            other => other,
        })
        .collect();
    format!("{head} {}", words.join(" "))
}

/// Checks `n` against the parameter's range; the error is Spanish and ends with the question.
pub(crate) fn check_range(
    n: i64,
    min: Option<i64>,
    max: Option<i64>,
    name: &str,
    question: &str,
) -> Result<i64, String> {
    let l = label(name);
    match (min, max) {
        (Some(a), Some(b)) if n < a || n > b => {
            Err(format!("{l} debe estar entre {a} y {b}. {question}"))
        }
        (Some(a), None) if n < a => Err(format!("{l} debe ser al menos {a}. {question}")),
        (None, Some(b)) if n > b => Err(format!("{l} debe ser como máximo {b}. {question}")),
        _ => Ok(n),
    }
}
