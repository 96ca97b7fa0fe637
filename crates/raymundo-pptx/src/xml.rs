//! Text that goes into XML: escaping, whitespace and length.

/// Escapes text for XML element content and attribute values (either quote style).
///
/// Characters XML 1.0 cannot carry at all (C0 controls other than tab, line feed and carriage
/// return, and the non-characters U+FFFE and U+FFFF) are dropped; everything else, accents
/// included, is kept as is (the parts are UTF-8).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute values would normalise these to spaces; keep them in element text.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_forbidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// One line of slide text: control characters dropped, every run of whitespace (line breaks
/// included) turned into a single space, trimmed.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || is_forbidden(c))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Shortens text to at most `max` characters, cutting at a word boundary when one is close and
/// ending with an ellipsis; shorter text is returned unchanged.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1);
    let cut: String = text.chars().take(keep).collect();
    // Prefer the last space in the final fifth of the kept text, so a word is not split.
    let min_len = cut.len() * 4 / 5;
    let cut = match cut.rfind(' ') {
        Some(space) if space >= min_len => &cut[..space],
        _ => cut.as_str(),
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_keeps_accents() {
        assert_eq!(
            escape(r#"Año <2024> & "más" 'ñ'"#),
            "Año &lt;2024&gt; &amp; &quot;más&quot; &apos;ñ&apos;"
        );
    }

    #[test]
    fn drops_characters_xml_cannot_carry() {
        assert_eq!(escape("a\u{0}b\u{7}c\u{1B}d\u{FFFF}"), "abcd");
        assert_eq!(escape("a\tb\nc"), "a&#9;b&#10;c");
    }

    #[test]
    fn one_line_collapses_whitespace_and_controls() {
        assert_eq!(
            one_line("  Política\n de\t\tviáticos \u{0}\r\n"),
            "Política de viáticos"
        );
        assert_eq!(one_line(" \n\t "), "");
    }

    #[test]
    fn truncates_at_a_word_with_an_ellipsis() {
        let text = "El reembolso de gastos se solicita en los cinco días hábiles posteriores";
        let short = truncate(text, 40);
        assert!(short.chars().count() <= 40, "{short}");
        assert!(short.ends_with('…'), "{short}");
        assert_eq!(short, "El reembolso de gastos se solicita en…");
        assert_eq!(truncate("corto", 40), "corto");
        // No space near the end: cut inside the word rather than losing most of the text.
        assert_eq!(truncate("aaaaaaaaaaaa", 5), "aaaa…");
    }
}
