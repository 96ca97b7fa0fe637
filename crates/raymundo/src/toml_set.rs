//! Setting values in `raymundo.toml` as text, so that the person's comments and layout stay:
//! `raymundo eval ... --calibrate` writes the values it chose this way, after a diff.

/// `text` with `key = value` set in `[section]`: an existing `key = ...` line of the section
/// is replaced, else its commented-out form (`# key = ...`, as `raymundo init` writes every
/// setting), else the line is added right after the section's header; a missing section is
/// appended. `value` is written as given (already TOML).
pub fn set(text: &str, section: &str, key: &str, value: &str) -> String {
    let line = format!("{key} = {value}");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header = format!("[{section}]");
    let Some(start) = lines.iter().position(|l| l.trim() == header) else {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("{header}\n{line}\n"));
        return out;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |p| start + 1 + p);
    let names = |l: &str, commented: bool| -> bool {
        let mut t = l.trim_start();
        if commented {
            match t.strip_prefix('#') {
                Some(rest) => t = rest.trim_start(),
                None => return false,
            }
        }
        t.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let at = (start + 1..end)
        .find(|&i| names(&lines[i], false))
        .or_else(|| (start + 1..end).find(|&i| names(&lines[i], true)));
    match at {
        Some(i) => lines[i] = line,
        None => lines.insert(start + 1, line),
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') || text.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "# settings\n[retrieval]\ntop_k = 4\n# min_score = 0.83\n\n[answer]\nmax_sentences = 3\n";

    #[test]
    fn replaces_the_commented_default_in_its_section() {
        let out = set(FILE, "retrieval", "min_score", "0.812");
        assert_eq!(
            out,
            "# settings\n[retrieval]\ntop_k = 4\nmin_score = 0.812\n\n[answer]\nmax_sentences = 3\n"
        );
        // Then the live line is replaced, not duplicated.
        let again = set(&out, "retrieval", "min_score", "0.8");
        assert_eq!(again.matches("min_score").count(), 1);
        assert!(again.contains("min_score = 0.8\n"));
    }

    #[test]
    fn adds_under_the_header_or_appends_the_section() {
        let out = set(FILE, "retrieval", "min_coverage", "0.3");
        assert!(
            out.contains("[retrieval]\nmin_coverage = 0.3\ntop_k = 4"),
            "{out}"
        );
        // A key of the same name in another section is left alone.
        let out = set(FILE, "answer", "top_k", "9");
        assert!(
            out.contains("top_k = 4") && out.contains("[answer]\ntop_k = 9"),
            "{out}"
        );
        let out = set(
            "[answer]\nmax_sentences = 3",
            "intents",
            "min_confidence",
            "0.4",
        );
        assert_eq!(
            out,
            "[answer]\nmax_sentences = 3\n\n[intents]\nmin_confidence = 0.4\n"
        );
        assert_eq!(
            set("", "retrieval", "top_k", "5"),
            "[retrieval]\ntop_k = 5\n"
        );
    }
}
