//! Checks that an answer stays on what the snippets say, for models too small to be trusted
//! with the rules of the system text.
//!
//! A number is the fact a small model most often gets wrong (a price, a deadline, a count),
//! and the one a customer acts on. An answer sentence with a number that neither the
//! snippets nor the question contain is not shown; the sentences before it are. An answer
//! that cites nothing is attributed to the snippets whose content words it shares.

use raymundo_core::text::content_keys;
use std::collections::HashSet;

/// Integers up to this are too common ("1 a 2 días", "paso 3") to count as a claim.
const SMALL: f64 = 10.0;

/// The numbers written in `text` (`$1,500.00` is 1500, `3.5` is 3.5, `[2]` is skipped).
pub fn numbers(text: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        while i < chars.len() {
            let c = chars[i];
            let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if c.is_ascii_digit() {
                digits.push(c);
            } else if c == ',' && next_digit {
                // A thousands separator (1,500) or a decimal comma (3,5): both read as
                // digits joined; decimals after a comma are rare in prices written in Mexico.
            } else if c == '.' && next_digit {
                digits.push('.');
            } else {
                break;
            }
            i += 1;
        }
        let citation = start > 0 && chars[start - 1] == '[' && chars.get(i) == Some(&']');
        if !citation {
            if let Ok(v) = digits.parse::<f64>() {
                out.push(v);
            }
        }
    }
    out
}

/// The first number in `sentence` that is not small and not among `known`.
pub fn unsupported_number(sentence: &str, known: &[f64]) -> Option<f64> {
    numbers(sentence).into_iter().find(|v| {
        let small = *v <= SMALL && v.fract() == 0.0;
        !small && !known.iter().any(|k| (k - v).abs() < 1e-6)
    })
}

/// Numbers (1-based) of the `snippets` that share at least two content words with
/// `answer`, most shared first.
pub fn attribute(answer: &str, snippets: &[&str]) -> Vec<usize> {
    let keys: HashSet<String> = content_keys(answer).into_iter().collect();
    let mut scored: Vec<(usize, usize)> = snippets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let shared = content_keys(s)
                .into_iter()
                .collect::<HashSet<_>>()
                .intersection(&keys)
                .count();
            (i + 1, shared)
        })
        .filter(|(_, shared)| *shared >= 2)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().map(|(n, _)| n).collect()
}

/// Where the first complete sentence of `text` ends (after its final mark), if it does:
/// a `.`, `?`, `!` or line break followed by white space.
pub fn sentence_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' {
            return Some(i + 1);
        }
        if matches!(c, '.' | '?' | '!') {
            if let Some(&(j, n)) = chars.peek() {
                if n.is_whitespace() {
                    return Some(j);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prices_decimals_and_skips_citations() {
        assert_eq!(
            numbers("El envío cuesta $1,500.00 MXN [2] o 3.5 días, 12 meses."),
            vec![1500.0, 3.5, 12.0]
        );
    }

    #[test]
    fn a_number_the_snippets_do_not_have_is_unsupported() {
        let known = numbers("El envío estándar cuesta $149.00 MXN; gratis desde $1,500.");
        assert_eq!(unsupported_number("Cuesta $149 pesos.", &known), None);
        assert_eq!(unsupported_number("Llega en 2 días.", &known), None);
        assert_eq!(
            unsupported_number("Cuesta $199 pesos.", &known),
            Some(199.0)
        );
    }

    #[test]
    fn attribution_follows_shared_words() {
        let snippets = [
            "Aceptamos tarjeta de crédito y pago en OXXO.",
            "El envío estándar cuesta 149 pesos en todo México.",
        ];
        assert_eq!(
            attribute("El envío estándar te cuesta 149 pesos.", &snippets),
            vec![2]
        );
        assert!(attribute("Hola, ¿cómo estás?", &snippets).is_empty());
    }

    #[test]
    fn sentences_end_at_a_mark_followed_by_space() {
        assert_eq!(sentence_end("Cuesta $1,500.00 MXN. Y"), Some(21));
        assert_eq!(sentence_end("Cuesta $1,500.00 MXN"), None);
        assert_eq!(sentence_end("Uno\ndos"), Some(4));
    }
}
