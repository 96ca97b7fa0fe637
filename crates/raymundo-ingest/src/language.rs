//! A crude language guess by stop-word counts.

/// Words frequent in Spanish and rare in English and in the other Romance languages.
const SPANISH: &[&str] = &[
    "el", "los", "las", "del", "y", "que", "por", "para", "con", "una", "es", "está", "están",
    "son", "su", "sus", "se", "lo", "al", "como", "más", "pero", "muy", "también", "puede",
    "pueden", "hay", "este", "esta", "estos", "tu", "usted", "cuando", "donde", "qué", "cómo",
    "cuánto", "sí", "nuestro", "nuestra", "días", "según", "sin", "sobre", "entre", "hasta",
];

/// Words frequent in English.
const ENGLISH: &[&str] = &[
    "the", "and", "of", "to", "is", "in", "that", "for", "with", "you", "it", "on", "are", "this",
    "be", "your", "we", "our", "can", "will", "from", "by", "or", "have", "an", "at", "not", "if",
    "how", "what", "when", "which", "they", "was", "all", "has", "please",
];

/// Words that point to another European language (Portuguese, French, Italian, German).
const OTHER: &[&str] = &[
    "não", "você", "uma", "são", "ao", "pelo", "também", "muito", "le", "les", "et", "des", "est",
    "une", "du", "pour", "dans", "avec", "vous", "nous", "pas", "il", "di", "che", "è", "gli",
    "della", "sono", "der", "die", "und", "das", "ist", "nicht", "mit", "ich", "sie", "ein",
    "eine", "zu", "auf", "für",
];

/// Guesses whether `text` is Spanish (`"es"`), English (`"en"`) or something else
/// (`"other"`), by counting frequent words; `¿`, `¡` and `ñ` add to Spanish. Used to pick the
/// embedding model, so it only needs to be right on whole documents, not on single words.
/// Text with too little evidence is `"other"`.
pub fn detect_language(text: &str) -> &'static str {
    let (mut es, mut en, mut other) = (0usize, 0usize, 0usize);
    let mut words = 0usize;
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(5000)
    {
        words += 1;
        let lower = word.to_lowercase();
        let w = lower.as_str();
        es += usize::from(SPANISH.contains(&w));
        en += usize::from(ENGLISH.contains(&w));
        other += usize::from(OTHER.contains(&w));
    }
    es += text
        .chars()
        .take(50_000)
        .filter(|c| matches!(c, '¿' | '¡' | 'ñ' | 'Ñ'))
        .count();
    let best = es.max(en).max(other);
    // Require a few hits and a clear share of the words of the text.
    if best < 2 || best * 20 < words {
        return "other";
    }
    if best == es && es > en && es > other {
        "es"
    } else if best == en && en > es && en > other {
        "en"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_english_and_others() {
        assert_eq!(
            detect_language("¿Cuánto tarda el envío? Los pedidos llegan en 3 días hábiles."),
            "es"
        );
        assert_eq!(
            detect_language(
                "How long does shipping take? Your order will arrive at the address in three days."
            ),
            "en"
        );
        assert_eq!(
            detect_language("Nous livrons les commandes dans toute la France et la Belgique avec le transporteur."),
            "other"
        );
        assert_eq!(
            detect_language("Der Versand ist kostenlos und die Lieferung dauert nicht lange."),
            "other"
        );
        assert_eq!(detect_language(""), "other");
        assert_eq!(detect_language("12345 AX-200"), "other");
    }
}
