//! What a question asks for, and whether a sentence holds that kind of answer.
//!
//! "¿Cuánto cuesta el plan Pro?" wants a number, "¿Cuándo...?" a date or an hour, "¿Quién /
//! dónde...?" a name, "¿Por qué...?" a reason, "¿Cómo...?" a way of doing it. A sentence that
//! repeats the question's words without the number or the name is not its answer, however
//! close in meaning; [`Kind::evidence`] tells the extractive answerer which sentences carry
//! the kind of fact asked for (something the question itself does not already contain).
//! Spanish and English, with or without accents.

use raymundo_core::text::fold;
use std::collections::HashSet;

/// The kind of answer a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An amount, a price, a count, a duration (`cuánto`, `how many`, `qué porcentaje`).
    Quantity,
    /// A date, a year, a day, an hour (`cuándo`, `en qué año`, `what time`).
    Time,
    /// A person or an organisation (`quién`, `who`).
    Person,
    /// A place (`dónde`, `where`, `en qué país`).
    Place,
    /// A reason (`por qué`, `why`).
    Reason,
    /// A way of doing something (`cómo`, `how do I`).
    Manner,
    /// Anything else (`qué es`, `cuál`, a statement).
    Other,
}

/// Nouns that turn `qué` / `cuál` / `what` / `which` into a more specific question.
#[rustfmt::skip]
const TIME_NOUNS: &[&str] = &[
    "año", "años", "fecha", "fechas", "dia", "dias", "mes", "meses", "hora", "horas", "siglo",
    "epoca", "year", "years", "date", "day", "month", "time", "century", "decade", "era", "period",
];
#[rustfmt::skip]
const QUANTITY_NOUNS: &[&str] = &[
    "precio", "costo", "coste", "porcentaje", "cantidad", "numero", "monto", "tarifa", "cuota",
    "edad", "velocidad", "temperatura", "distancia", "altura", "tamaño", "peso", "price",
    "cost", "percentage", "percent", "number", "amount", "fee", "age", "speed", "temperature",
    "distance", "height", "size", "weight", "population",
];
#[rustfmt::skip]
const PLACE_NOUNS: &[&str] = &[
    "pais", "ciudad", "lugar", "region", "estado", "continente", "calle", "sitio", "country",
    "city", "place", "region", "state", "continent", "street", "location", "area", "town",
];
#[rustfmt::skip]
const PERSON_NOUNS: &[&str] = &[
    "persona", "empresa", "compania", "autor", "presidente", "person", "company", "author",
    "president", "organization", "team", "group",
];

/// Phrases after which a speaker restates the question (folded, with spaces around).
#[rustfmt::skip]
const CORRECTIONS: &[&str] = &[
    " digo ", " digo, ", " perdon ", " perdon, ", " mejor dicho ", " quiero decir ", " i mean ",
    " i mean, ", " or rather ", " rather ", " sorry ", " sorry, ", " no wait ", " make that ",
    " actually ", " uh ", " um ", " oops ", " no, ",
];

/// Number words (folded) that count as a quantity; `un`/`uno`/`una`/`one` are left out, since
/// they are articles as often as numbers.
#[rustfmt::skip]
const NUMBER_WORDS: &[&str] = &[
    "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce",
    "quince", "veinte", "treinta", "cuarenta", "cincuenta", "cien", "ciento", "cientos", "mil",
    "millon", "millones", "mitad", "doble", "gratis", "two", "three", "four", "five", "six",
    "seven", "eight", "nine", "ten", "eleven", "twelve", "fifteen", "twenty", "thirty", "forty",
    "fifty", "hundred", "hundreds", "thousand", "thousands", "million", "millions", "billion",
    "half", "twice", "dozen", "free",
];
#[rustfmt::skip]
const MONTHS_AND_DAYS: &[&str] = &[
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "setiembre", "octubre", "noviembre", "diciembre", "lunes", "martes", "miercoles", "jueves",
    "viernes", "sabado", "sabados", "domingo", "domingos", "siglo", "january", "february",
    "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "century", "ayer", "mañana", "hoy", "yesterday", "tomorrow", "today", "am", "pm", "hrs",
    "mediodia", "noon", "midnight", "medianoche", "semana", "semanas", "week", "weeks",
];
#[rustfmt::skip]
const REASON_WORDS: &[&str] = &[
    "porque", "debido", "causa", "razon", "motivo", "gracias", "because", "due", "since",
    "reason", "cause", "caused", "thanks", "therefore", "so",
];
/// Words that describe a way of doing something (an instrument or a step).
#[rustfmt::skip]
const MANNER_WORDS: &[&str] = &[
    "mediante", "traves", "usando", "utilizando", "puedes", "debes", "entra", "entrar", "ve",
    "selecciona", "elige", "presiona", "pulsa", "abre", "escribe", "envia", "llama", "ingresa",
    "primero", "despues", "luego", "paso", "pasos", "by", "using", "through", "via", "first",
    "then", "step", "steps", "go", "select", "press", "open", "click", "enter",
];

/// Folded words of a text (letters and digits).
fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl Kind {
    /// The kind of answer `question` asks for, from its first question word.
    pub(crate) fn of(question: &str) -> Kind {
        // A question corrected on the way ("¿cuándo... digo, dónde...?", "what, I mean,
        // when...") asks what follows its last correction.
        let folded = fold(question);
        let question = CORRECTIONS
            .iter()
            .filter_map(|c| folded.rfind(c).map(|at| at + c.len()))
            .max()
            .map_or(question, |at| {
                // `fold` maps a character to one character: the same count leads there.
                let n = folded[..at].chars().count();
                let start = question
                    .char_indices()
                    .nth(n)
                    .map_or(question.len(), |(i, _)| i);
                &question[start..]
            });
        let w = words(question);
        let next = |i: usize| w.get(i + 1).map(String::as_str).unwrap_or("");
        // A noun right after `qué`/`cuál`/`what`/`which` (or one word later: "qué tipo de").
        let noun_kind = |i: usize| -> Option<Kind> {
            for n in [next(i), w.get(i + 2).map(String::as_str).unwrap_or("")] {
                if TIME_NOUNS.contains(&n) {
                    return Some(Kind::Time);
                }
                if QUANTITY_NOUNS.contains(&n) {
                    return Some(Kind::Quantity);
                }
                if PLACE_NOUNS.contains(&n) {
                    return Some(Kind::Place);
                }
                if PERSON_NOUNS.contains(&n) {
                    return Some(Kind::Person);
                }
            }
            None
        };
        for (i, word) in w.iter().enumerate() {
            let kind = match word.as_str() {
                "cuanto" | "cuanta" | "cuantos" | "cuantas" => Some(Kind::Quantity),
                "cuando" if i == 0 || question.contains("uándo") => Some(Kind::Time),
                "quien" | "quienes" | "who" | "whom" | "whose" => Some(Kind::Person),
                "donde" | "adonde" | "where" => Some(Kind::Place),
                "when" => Some(Kind::Time),
                "why" => Some(Kind::Reason),
                "por" if next(i) == "que" && (i == 0 || question.contains("qué")) => {
                    Some(Kind::Reason)
                }
                "como" if i == 0 || question.contains("ómo") => Some(Kind::Manner),
                "how" => Some(match next(i) {
                    "much" | "many" | "long" | "old" | "far" | "often" | "big" | "large"
                    | "tall" | "high" | "fast" => Kind::Quantity,
                    _ => Kind::Manner,
                }),
                "que" | "cual" | "cuales" | "what" | "which" => {
                    noun_kind(i).or((i == 0 || word.len() > 3).then_some(Kind::Other))
                }
                _ => None,
            };
            if let Some(k) = kind {
                return k;
            }
        }
        Kind::Other
    }

    /// 1.0 when `sentence` holds the kind of fact asked for and the question (its words:
    /// [`asked_words`]) does not already contain it (a number, a date, a name, a reason, a
    /// way), else 0.0. `Other` asks for nothing in particular: always 0.0.
    pub(crate) fn evidence(self, sentence: &str, asked: &HashSet<String>) -> f32 {
        let new_words: Vec<String> = words(sentence)
            .into_iter()
            .filter(|w| !asked.contains(w))
            .collect();
        let has = |list: &[&str]| new_words.iter().any(|w| list.contains(&w.as_str()));
        let digits = new_words
            .iter()
            .any(|w| w.chars().any(|c| c.is_ascii_digit()));
        let year = new_words
            .iter()
            .any(|w| w.len() == 4 && w.parse::<u32>().is_ok_and(|y| (1000..=2100).contains(&y)));
        let found = match self {
            Kind::Quantity => digits || sentence.contains('$') || has(NUMBER_WORDS),
            Kind::Time => year || has(MONTHS_AND_DAYS) || hour(sentence),
            Kind::Person | Kind::Place => names(sentence, asked),
            Kind::Reason => has(REASON_WORDS),
            Kind::Manner => has(MANNER_WORDS),
            Kind::Other => false,
        };
        if found {
            1.0
        } else {
            0.0
        }
    }
}

/// The folded words of a question, computed once for all its candidate sentences.
pub(crate) fn asked_words(question: &str) -> HashSet<String> {
    words(question).into_iter().collect()
}

/// An hour such as `13:00` or `9:30`.
fn hour(sentence: &str) -> bool {
    let b = sentence.as_bytes();
    b.windows(4).any(|w| {
        w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit()
    })
}

/// A capitalised word that is not the sentence's first and not in the question (a name).
fn names(sentence: &str, asked: &HashSet<String>) -> bool {
    sentence
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .any(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().count() > 1
                && !asked.contains(&fold(w))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_words_decide_the_kind() {
        assert_eq!(Kind::of("¿Cuánto cuesta el plan Pro?"), Kind::Quantity);
        assert_eq!(Kind::of("cuantos dias de vacaciones tengo"), Kind::Quantity);
        assert_eq!(Kind::of("¿Cuándo se paga la nómina?"), Kind::Time);
        assert_eq!(Kind::of("¿En qué año se fundó la empresa?"), Kind::Time);
        assert_eq!(Kind::of("¿Quién firma las facturas?"), Kind::Person);
        assert_eq!(Kind::of("¿Dónde está el showroom?"), Kind::Place);
        assert_eq!(Kind::of("¿Por qué falla el sensor?"), Kind::Reason);
        assert_eq!(Kind::of("¿Cómo solicito la factura?"), Kind::Manner);
        assert_eq!(Kind::of("How many people live in Paris?"), Kind::Quantity);
        assert_eq!(Kind::of("In what year did the war end?"), Kind::Time);
        assert_eq!(Kind::of("What country hosted it?"), Kind::Place);
        assert_eq!(Kind::of("What is a solenoid valve?"), Kind::Other);
        // A corrected question asks what follows the correction.
        assert_eq!(
            Kind::of("What did, uh sorry, when was Europe forested?"),
            Kind::Time
        );
        assert_eq!(
            Kind::of("¿Cuándo abren, digo, dónde está la tienda?"),
            Kind::Place
        );
        // `cuando` without an accent inside a sentence is a conjunction.
        assert_eq!(Kind::of("qué pasa cuando llueve"), Kind::Other);
    }

    #[test]
    fn evidence_is_a_new_fact_of_the_asked_kind() {
        let q = "¿Cuánto cuesta el envío express?";
        assert_eq!(
            Kind::Quantity.evidence("El envío express cuesta $289.00 MXN.", &asked_words(q)),
            1.0
        );
        assert_eq!(
            Kind::Quantity.evidence("El envío express es la opción más rápida.", &asked_words(q)),
            0.0
        );
        assert_eq!(
            Kind::Time.evidence(
                "Los pedidos pagados antes de las 13:00 salen el mismo día.",
                &asked_words("¿A qué hora?")
            ),
            1.0
        );
        assert_eq!(
            Kind::Person.evidence(
                "The treaty was signed by Napoleon Bonaparte.",
                &asked_words("Who signed the treaty?")
            ),
            1.0
        );
        assert_eq!(
            Kind::Person.evidence(
                "The treaty was signed in a hurry.",
                &asked_words("Who signed the treaty?")
            ),
            0.0
        );
        // A number the question already has is not an answer.
        assert_eq!(
            Kind::Quantity.evidence(
                "El pedido 100987 salió ayer.",
                &asked_words("¿Cuánto tarda el pedido 100987?")
            ),
            0.0
        );
    }
}
