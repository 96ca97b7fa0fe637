//! Small text utilities shared by the pipeline stages: sentence splitting and the
//! accent-folded word keys used for lexical matching.

/// `text` with its first letter in upper case ("riego por goteo" -> "Riego por goteo").
pub fn capitalise(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Splits text into sentences at `.`, `!`, `?`, `…` (and line breaks), keeping the
/// punctuation. Abbreviation-like tokens such as `Sr.` or `p. ej.` and numbers such as
/// `1.299` or `v2.4` do not end a sentence.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let end_here = match c {
            '\n' => true,
            '!' | '?' | '…' => true,
            '.' => {
                let next = chars.get(i + 1).map(|&(_, n)| n);
                let next_is_space = next.is_none_or(|n| n.is_whitespace());
                let word_start = text[start..pos]
                    .rmatch_indices(char::is_whitespace)
                    .next()
                    .map_or(start, |(p, space)| start + p + space.len());
                let word = &text[word_start..pos];
                let abbreviation = word.chars().count() <= 3
                    && word.chars().next().is_some_and(|f| f.is_uppercase())
                    && word.chars().skip(1).all(|ch| ch.is_lowercase());
                next_is_space
                    && !abbreviation
                    && !matches!(word, "ej" | "p" | "etc" | "aprox" | "núm" | "tel")
            }
            _ => false,
        };
        if end_here {
            // Take closing quotes or brackets with the sentence.
            let mut j = i + 1;
            while j < chars.len()
                && matches!(chars[j].1, '"' | '\'' | ')' | '»' | '”' | '.' | '!' | '?')
            {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
            let s = text[start..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = end;
            i = j;
        } else {
            i += 1;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Lower-cases and removes Spanish accents (á -> a, ü -> u; ñ is kept).
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            other => other,
        })
        .collect()
}

const STOP_WORDS: &[&str] = &[
    "a", "al", "algo", "como", "con", "cual", "cuales", "cuando", "de", "del", "donde", "el",
    "ella", "en", "es", "esa", "ese", "eso", "esta", "este", "esto", "hay", "la", "las", "le",
    "les", "lo", "los", "me", "mi", "mis", "muy", "no", "nos", "o", "para", "pero", "por", "puedo",
    "que", "se", "si", "sin", "sobre", "son", "su", "sus", "te", "tengo", "ti", "tu", "tus", "u",
    "un", "una", "unas", "uno", "unos", "y", "ya", "yo", "hola", "quiero", "saber", "favor",
    "cuanto", "cuanta", "the", "and", "of", "to", "is", "in", "for", "on", "with", "what", "how",
    "do", "does", "can", "an", "are", "my", "i", "it", "be",
];

/// True for words too common to count as evidence (Spanish and English).
pub fn is_stop_word(folded: &str) -> bool {
    STOP_WORDS.contains(&folded)
}

/// Content-word keys of a text: folded, stop words removed, cut to a 5-character stem so
/// that `envío`, `envíos` and `enviar` meet.
pub fn content_keys(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !is_stop_word(w))
        .map(|w| w.chars().take(5).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzzer: a word after a non-breaking space (two bytes in UTF-8, common
    /// in text pasted from a phone or a web page) was cut inside that space, a panic.
    #[test]
    fn sentences_after_a_non_breaking_space_split_without_a_panic() {
        assert_eq!(
            split_sentences("Precio\u{a0}final. Envío\u{2003}gratis."),
            vec!["Precio\u{a0}final.", "Envío\u{2003}gratis."]
        );
    }

    #[test]
    fn sentences_split_at_punctuation_but_not_numbers_or_abbreviations() {
        let s = split_sentences("El precio es $1,299.00 MXN. ¿Incluye envío? Sí, la Sra. Pérez lo confirmó! Versión v2.4.1 lista");
        assert_eq!(
            s,
            [
                "El precio es $1,299.00 MXN.",
                "¿Incluye envío?",
                "Sí, la Sra. Pérez lo confirmó!",
                "Versión v2.4.1 lista"
            ]
        );
    }

    #[test]
    fn keys_fold_accents_and_drop_stop_words() {
        assert_eq!(
            content_keys("¿Cuánto tarda el envío a Mérida?"),
            ["tarda", "envio", "merid"]
        );
    }
}
