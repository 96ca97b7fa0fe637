//! Markdown: front matter and heading clean-up. The rest of the syntax is kept as is; it reads
//! fine to people and to the embedding model.

use super::FrontMatter;

/// Splits simple YAML-ish front matter (`key: value` lines between `---` lines at the very top)
/// from the body. Only `source`, `intent` and `title` are read; other keys are ignored. Text
/// without a closing `---` has no front matter.
pub(crate) fn split_front_matter(text: &str) -> (FrontMatter, String) {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("---") {
        return (FrontMatter::default(), text.to_string());
    }
    let mut front = FrontMatter::default();
    let mut consumed = 1;
    let mut closed = false;
    for line in lines.by_ref() {
        consumed += 1;
        let line = line.trim();
        if line == "---" || line == "..." {
            closed = true;
            break;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = unquote(value.trim());
        if value.is_empty() {
            continue;
        }
        match key.trim().to_lowercase().as_str() {
            "source" => front.source = Some(value.to_string()),
            "intent" => front.intent = Some(value.to_string()),
            "title" => front.title = Some(value.to_string()),
            _ => {}
        }
    }
    if !closed {
        return (FrontMatter::default(), text.to_string());
    }
    let body: Vec<&str> = text.lines().skip(consumed).collect();
    (front, body.join("\n"))
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(q) && value.ends_with(q) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

/// Turns Setext headings (`Title` over `===` or `---`) into `#` lines and drops closing `#`s
/// (`## Title ##`), so the chunker sees one heading syntax.
pub(crate) fn tidy(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut in_fence = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("```") || line.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if !in_fence {
            if let Some(next) = lines.get(i + 1) {
                let level = setext_level(next);
                let previous_blank = out.last().is_none_or(|l| l.trim().is_empty());
                if level > 0 && !line.trim().is_empty() && !line.starts_with('#') && previous_blank
                {
                    out.push(format!("{} {}", "#".repeat(level), line.trim()));
                    i += 2;
                    continue;
                }
            }
            if line.starts_with('#') {
                let hashes = line.chars().take_while(|&c| c == '#').count();
                let rest = &line[hashes..];
                if hashes <= 6 && rest.starts_with(' ') {
                    let title = rest.trim().trim_end_matches('#').trim_end();
                    out.push(format!("{} {}", "#".repeat(hashes), title));
                    i += 1;
                    continue;
                }
            }
        }
        out.push(line.to_string());
        i += 1;
    }
    out.join("\n")
}

fn setext_level(line: &str) -> usize {
    let t = line.trim();
    if t.len() >= 3 && t.chars().all(|c| c == '=') {
        1
    } else if t.len() >= 3 && t.chars().all(|c| c == '-') {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_read_and_removed() {
        let text =
            "---\ntitle: \"Envíos\"\nsource: FAQ\nintent: envios\nautor: x\n---\n\n# Hola\n\nTexto";
        let (front, body) = split_front_matter(text);
        assert_eq!(front.title.as_deref(), Some("Envíos"));
        assert_eq!(front.source.as_deref(), Some("FAQ"));
        assert_eq!(front.intent.as_deref(), Some("envios"));
        assert_eq!(body.trim(), "# Hola\n\nTexto");
    }

    #[test]
    fn no_or_unclosed_front_matter() {
        let (front, body) = split_front_matter("# Hola\n\n---\ntitle: x\n---");
        assert_eq!(front, FrontMatter::default());
        assert!(body.starts_with("# Hola"));
        let (front, body) = split_front_matter("---\ntitle: x\nsin cierre");
        assert_eq!(front, FrontMatter::default());
        assert!(body.starts_with("---"));
    }

    #[test]
    fn setext_and_closing_hashes() {
        let text = "Guía rápida\n===========\n\nIntro\n\nDetalles\n--------\n\n## Fin ##\n\n```\n# no\n```";
        assert_eq!(
            tidy(text),
            "# Guía rápida\n\nIntro\n\n## Detalles\n\n## Fin\n\n```\n# no\n```"
        );
    }
}
