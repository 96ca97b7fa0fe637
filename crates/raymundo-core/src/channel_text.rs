//! Replies shaped for chat channels that do not render Markdown.
//!
//! WhatsApp shows Markdown literally (`## Título`, `**negrita**`, tables with pipes) and has
//! its own lighter marks: `*bold*`, `_italic_`. [`for_whatsapp`] rewrites a Markdown reply
//! into those marks and plain text; [`split_message`] cuts a reply longer than the channel's
//! limit into parts at natural boundaries.

/// The longest WhatsApp text message, in characters.
pub const WHATSAPP_MAX_CHARS: usize = 4096;

/// A Markdown reply as WhatsApp should show it.
///
/// Headings become bold lines (`# Título` -> `*Título*`), `**bold**` and `__bold__` become
/// `*bold*`, `*italic*` becomes `_italic_`, code fences and inline backticks disappear
/// (the code stays), links become `texto (url)`, bullets `-`, `*`, `+` become `•`, table
/// rows become `a · b` (the separator row is dropped), horizontal rules are dropped, and
/// runs of blank lines shrink to one. Numbered lists and citations such as `[1]` are kept
/// as they are.
pub fn for_whatsapp(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            lines.push(line.trim_end().to_owned());
            continue;
        }
        if let Some(converted) = convert_line(line) {
            lines.push(converted.trim_end().to_owned());
        }
    }
    join_collapsing_blank_lines(&lines).trim().to_owned()
}

/// One line outside code blocks; `None` when the line disappears.
fn convert_line(line: &str) -> Option<String> {
    let trimmed = line.trim();
    if is_horizontal_rule(trimmed) {
        return None;
    }
    if trimmed.starts_with('|') {
        return table_row(trimmed);
    }
    if let Some(title) = heading_title(trimmed) {
        let title: String = inline(title).chars().filter(|&c| c != '*').collect();
        let title = title.trim();
        return Some(if title.is_empty() {
            String::new()
        } else {
            format!("*{title}*")
        });
    }
    if let Some((indent, item)) = bullet_item(line) {
        return Some(format!("{indent}• {}", inline(item)));
    }
    Some(inline(line))
}

/// `---`, `***`, `___` (three or more, spaces allowed).
fn is_horizontal_rule(trimmed: &str) -> bool {
    let marks: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    marks.len() >= 3
        && ['-', '*', '_']
            .iter()
            .any(|&m| marks.chars().all(|c| c == m))
}

/// The text of a heading line (`## Título ##` -> `Título`).
fn heading_title(trimmed: &str) -> Option<&str> {
    let level = trimmed.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &trimmed[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None; // `#etiqueta` is not a heading
    }
    let title = rest.trim();
    let without_closing = title.trim_end_matches('#');
    Some(
        if without_closing.ends_with([' ', '\t']) || without_closing.is_empty() {
            without_closing.trim_end()
        } else {
            title
        },
    )
}

/// `(indentation, text)` of a `- `, `* ` or `+ ` list item.
fn bullet_item(line: &str) -> Option<(&str, &str)> {
    let content = line.trim_start();
    let indent = &line[..line.len() - content.len()];
    let mut chars = content.chars();
    let marker = chars.next()?;
    let after = chars.as_str();
    if matches!(marker, '-' | '*' | '+') && after.starts_with([' ', '\t']) {
        Some((indent, after.trim_start()))
    } else {
        None
    }
}

/// A table row as `a · b`; the separator row (`|---|:--:|`) disappears.
fn table_row(trimmed: &str) -> Option<String> {
    let is_separator = trimmed.contains('-')
        && trimmed
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'));
    if is_separator {
        return None;
    }
    let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let cells: Vec<String> = inner
        .split('|')
        .map(|cell| inline(cell.trim()))
        .filter(|cell| !cell.is_empty())
        .collect();
    Some(cells.join(" · "))
}

/// Joins lines, keeping at most one blank line in a row.
fn join_collapsing_blank_lines(lines: &[String]) -> String {
    let mut out = String::new();
    let mut previous_blank = false;
    for line in lines {
        let blank = line.trim().is_empty();
        if blank && previous_blank {
            continue;
        }
        out.push_str(if blank { "" } else { line });
        out.push('\n');
        previous_blank = blank;
    }
    out
}

/// Inline Markdown of one line: code spans, links, emphasis.
fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let converted = match c {
            '`' => Some(code_span(&chars, i)),
            '[' => link(&chars, i),
            '!' if chars.get(i + 1) == Some(&'[') => link(&chars, i + 1),
            '*' | '_' => emphasis(&chars, i),
            _ => None,
        };
        match converted {
            Some((replacement, next)) => {
                out.push_str(&replacement);
                i = next;
            }
            None if c == '*' || c == '_' => {
                // An unmatched run of marks stays whole, so that its tail is not read as
                // another opening mark.
                let run = run_length(&chars, i, c);
                out.extend(&chars[i..i + run]);
                i += run;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn run_length(chars: &[char], start: usize, mark: char) -> usize {
    chars[start..].iter().take_while(|&&c| c == mark).count()
}

/// A code span's text without its backticks; a backtick run without a closing run just
/// disappears.
fn code_span(chars: &[char], start: usize) -> (String, usize) {
    let ticks = run_length(chars, start, '`');
    let open_end = start + ticks;
    let mut k = open_end;
    while k < chars.len() {
        let run = run_length(chars, k, '`');
        if run == ticks {
            let content: String = chars[open_end..k].iter().collect();
            return (content.trim().to_owned(), k + run);
        }
        k += run.max(1);
    }
    (String::new(), open_end)
}

/// The index of the `close` matching the `open` at `start`.
fn matching(chars: &[char], start: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in chars.iter().enumerate().skip(start) {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// `[texto](url)` (or an image `![texto](url)`, `bracket` pointing at its `[`) as
/// `texto (url)`, or just the address when the text is the address. A bracket not
/// followed by `(` (a citation such as `[1]`) is no link.
fn link(chars: &[char], bracket: usize) -> Option<(String, usize)> {
    let label_end = matching(chars, bracket, '[', ']')?;
    if chars.get(label_end + 1) != Some(&'(') {
        return None;
    }
    let target_end = matching(chars, label_end + 1, '(', ')')?;
    let target: String = chars[label_end + 2..target_end].iter().collect();
    // `[texto](url "título")`: the title is dropped.
    let url = target.split_whitespace().next().unwrap_or("");
    let label = inline(&chars[bracket + 1..label_end].iter().collect::<String>());
    let label = label.trim();
    let shown = if label.is_empty() {
        url.to_owned()
    } else if url.is_empty() || label == url || url.strip_prefix("mailto:") == Some(label) {
        label.to_owned()
    } else {
        format!("{label} ({url})")
    };
    Some((shown, target_end + 1))
}

/// `*x*` -> `_x_`, `**x**` / `__x__` -> `*x*`, `***x***` -> `*_x_*`. Marks must hug the
/// text (`5 * 3` is no emphasis) and underscores inside words (`nombre_de_archivo`) are
/// left alone; a single `_x_` is already WhatsApp italics.
fn emphasis(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mark = chars[start];
    let width = run_length(chars, start, mark).min(3);
    let is_word = |k: Option<&char>| k.is_some_and(|c| c.is_alphanumeric());
    if mark == '_' && (width == 1 || (start > 0 && is_word(chars.get(start - 1)))) {
        return None;
    }
    let open_end = start + width;
    let close = (open_end + 1..=chars.len().saturating_sub(width))
        .find(|&k| chars[k..k + width].iter().all(|&c| c == mark))?;
    let content = &chars[open_end..close];
    let hugs = !content[0].is_whitespace() && !content[content.len() - 1].is_whitespace();
    if !hugs || (mark == '_' && is_word(chars.get(close + width))) {
        return None;
    }
    let inner = inline(&content.iter().collect::<String>());
    let shown = match width {
        1 => format!("_{inner}_"),
        2 => format!("*{inner}*"),
        _ => format!("*_{inner}_*"),
    };
    Some((shown, close + width))
}

/// Splits a reply into parts of at most `max_chars` characters (not bytes; `0` counts as
/// 1) for a channel with a length limit, such as WhatsApp's [`WHATSAPP_MAX_CHARS`].
///
/// Each part ends at the last paragraph break that fits, else a line break, else the end
/// of a sentence (`.`, `?`, `!`, `…`, or before `¿` / `¡`), else a space; a boundary that
/// would leave a part shorter than a quarter of the limit is passed over for the next kind.
/// A word is cut only when it alone is longer than the limit. Parts are trimmed and never
/// empty; joined with whitespace they hold every word of `text`.
pub fn split_message(text: &str, max_chars: usize) -> Vec<String> {
    let max = max_chars.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        let cut = best_cut(rest, max);
        let (part, tail) = rest.split_at(cut);
        let part = part.trim_end();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        rest = tail.trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

/// Kinds of places where a message may be cut, best first.
#[derive(Clone, Copy)]
enum Boundary {
    Paragraph,
    Line,
    Sentence,
    Space,
}

const BOUNDARIES: [Boundary; 4] = [
    Boundary::Paragraph,
    Boundary::Line,
    Boundary::Sentence,
    Boundary::Space,
];

/// The byte index where the first part of `rest` (longer than `max` characters, starting
/// with a non-space) ends.
fn best_cut(rest: &str, max: usize) -> usize {
    let shortest = (max / 4).max(1);
    // The last cut of each kind at a whitespace whose preceding text fits in `max`.
    let mut last = [None; BOUNDARIES.len()];
    for (chars_before, (at, c)) in rest.char_indices().enumerate().take(max + 1) {
        if !c.is_whitespace() || chars_before == 0 {
            continue;
        }
        for (slot, kind) in BOUNDARIES.iter().enumerate() {
            let long_enough = chars_before >= shortest || matches!(kind, Boundary::Space);
            if long_enough && is_boundary(rest, at, *kind) {
                last[slot] = Some(at);
            }
        }
    }
    last.iter().flatten().next().copied().unwrap_or_else(|| {
        // One word longer than the limit: cut it at the limit.
        rest.char_indices()
            .nth(max)
            .map_or(rest.len(), |(at, _)| at)
    })
}

/// Whether cutting `rest` at the whitespace at byte `at` is a boundary of `kind`.
fn is_boundary(rest: &str, at: usize, kind: Boundary) -> bool {
    let (before, after) = rest.split_at(at);
    match kind {
        Boundary::Space => true,
        Boundary::Line => after.starts_with('\n'),
        Boundary::Paragraph => {
            after.starts_with('\n')
                && after[1..]
                    .trim_start_matches([' ', '\t', '\r'])
                    .starts_with('\n')
        }
        Boundary::Sentence => {
            let ends_sentence = before
                .trim_end_matches(['"', '\'', '”', '’', '»', ')'])
                .ends_with(['.', '?', '!', '…']);
            let opens_sentence = after.trim_start().starts_with(['¿', '¡']);
            ends_sentence || opens_sentence
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_whatsapp_marks() {
        let cases = [
            ("# Horario de atención", "*Horario de atención*"),
            ("## Vacaciones ##", "*Vacaciones*"),
            ("### **Política** de viajes", "*Política de viajes*"),
            ("#etiqueta no es título", "#etiqueta no es título"),
            (
                "Tienes **22 días** hábiles [1].",
                "Tienes *22 días* hábiles [1].",
            ),
            (
                "__Importante__: avisa con 15 días [2]",
                "*Importante*: avisa con 15 días [2]",
            ),
            ("Es *muy* importante", "Es _muy_ importante"),
            ("Es _muy_ importante", "Es _muy_ importante"),
            ("***Atención***", "*_Atención_*"),
            ("5 * 3 = 15 y 2 ** 3 = 8", "5 * 3 = 15 y 2 ** 3 = 8"),
            (
                "el archivo mi__informe__final.pdf",
                "el archivo mi__informe__final.pdf",
            ),
            ("nombre_de_archivo.txt", "nombre_de_archivo.txt"),
            ("Ejecuta `git pull` y listo", "Ejecuta git pull y listo"),
            ("Usa ``a `b` c`` así", "Usa a `b` c así"),
            (
                "Consulta [el portal de RR. HH.](https://intranet.example/rrhh) [3]",
                "Consulta el portal de RR. HH. (https://intranet.example/rrhh) [3]",
            ),
            (
                "[**Guía**](https://x.example/guía \"título\")",
                "*Guía* (https://x.example/guía)",
            ),
            (
                "Ver [https://a.example](https://a.example)",
                "Ver https://a.example",
            ),
            (
                "Escribe a [rrhh@x.example](mailto:rrhh@x.example)",
                "Escribe a rrhh@x.example",
            ),
            (
                "[](https://a.example) y [sin enlace]()",
                "https://a.example y sin enlace",
            ),
            (
                "![Logotipo](https://x.example/logo.png)",
                "Logotipo (https://x.example/logo.png)",
            ),
            (
                "Según [1][2] y [3] (ver anexo).",
                "Según [1][2] y [3] (ver anexo).",
            ),
            ("- uno\n* dos\n+ tres", "• uno\n• dos\n• tres"),
            ("- nivel 1\n  - nivel **2**", "• nivel 1\n  • nivel *2*"),
            (
                "1. Primero\n2. Segundo\n10) Décimo",
                "1. Primero\n2. Segundo\n10) Décimo",
            ),
            (
                "Ejemplo:\n```bash\nls -la **no**\n# no es título\n```\nFin",
                "Ejemplo:\nls -la **no**\n# no es título\nFin",
            ),
            (
                "| Día | Horario |\n|---|:---:|\n| Lunes | 9–18 h **[1]** |\n| Sábado | |",
                "Día · Horario\nLunes · 9–18 h *[1]*\nSábado",
            ),
            (
                "Uno\n\n\n\nDos\n\n\nTres\n\nCuatro",
                "Uno\n\nDos\n\nTres\n\nCuatro",
            ),
            ("Arriba\n\n---\n\n* * *\n\nAbajo", "Arriba\n\nAbajo"),
            ("\n\n  Hola, ¿qué tal?  \n\n", "Hola, ¿qué tal?"),
            (
                "línea con espacios   \r\nsiguiente",
                "línea con espacios\nsiguiente",
            ),
            (
                "Sin marcas: ñandú, pingüino, acción.",
                "Sin marcas: ñandú, pingüino, acción.",
            ),
        ];
        for (markdown, want) in cases {
            assert_eq!(for_whatsapp(markdown), want, "{markdown:?}");
        }
    }

    #[test]
    fn a_whole_answer_reads_well_on_whatsapp() {
        let markdown = "## Días de vacaciones\n\n\
            Según la **Política de personal** [1]:\n\n\
            - Tienes **22 días hábiles** al año [1].\n\
            - Se piden en [el portal](https://intranet.example/vacaciones) con 15 días de antelación [2].\n\n\n\n\
            | Antigüedad | Días |\n| --- | --- |\n| < 5 años | 22 |\n| ≥ 5 años | 25 |\n\n\
            ¿Necesitas algo más?";
        let want = "*Días de vacaciones*\n\n\
            Según la *Política de personal* [1]:\n\n\
            • Tienes *22 días hábiles* al año [1].\n\
            • Se piden en el portal (https://intranet.example/vacaciones) con 15 días de antelación [2].\n\n\
            Antigüedad · Días\n< 5 años · 22\n≥ 5 años · 25\n\n\
            ¿Necesitas algo más?";
        assert_eq!(for_whatsapp(markdown), want);
    }

    /// Every word of `text` is in `parts`, in order (a word longer than the limit may be
    /// spread over several parts, so the check ignores whitespace).
    fn assert_nothing_lost(text: &str, parts: &[String]) {
        let squeeze = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squeeze(&parts.join(" ")), squeeze(text));
    }

    #[test]
    fn messages_split_at_the_best_boundary_that_fits() {
        let cases: &[(&str, usize, &[&str])] = &[
            ("  Hola.  ", 20, &["Hola."]),
            ("", 20, &[]),
            (" \n\n ", 20, &[]),
            ("Exactamente veinte c", 20, &["Exactamente veinte c"]),
            (
                "Primer párrafo.\n\nSegundo párrafo, más largo.",
                30,
                &["Primer párrafo.", "Segundo párrafo, más largo."],
            ),
            (
                "Uno dos. Tres cuatro\n\ncinco seis",
                25,
                &["Uno dos. Tres cuatro", "cinco seis"],
            ),
            (
                "• leche\n• pan\n• huevos y más cosas",
                20,
                &["• leche\n• pan", "• huevos y más cosas"],
            ),
            (
                "Hola. ¿Cómo estás? Bien, gracias.",
                13,
                &["Hola.", "¿Cómo estás?", "Bien,", "gracias."],
            ),
            (
                "Claro que sí ¡qué buena idea! vamos",
                16,
                &["Claro que sí", "¡qué buena idea!", "vamos"],
            ),
            ("uno dos tres cuatro", 8, &["uno dos", "tres", "cuatro"]),
            (
                "a supercalifragilístico b",
                5,
                &["a", "super", "calif", "ragil", "ístic", "o b"],
            ),
            ("ñandú", 0, &["ñ", "a", "n", "d", "ú"]),
        ];
        for (text, max, want) in cases {
            let parts = split_message(text, *max);
            assert_eq!(parts, *want, "{text:?} at {max}");
            assert_nothing_lost(text, &parts);
        }
    }

    #[test]
    fn short_boundaries_are_passed_over_for_fuller_parts() {
        // The paragraph break after "Sí." would leave a 3-character part.
        let text = "Sí.\n\nLa oficina abre de lunes a viernes. Cierra en agosto.";
        let parts = split_message(text, 40);
        assert_eq!(
            parts,
            [
                "Sí.\n\nLa oficina abre de lunes a viernes.",
                "Cierra en agosto."
            ]
        );
    }

    #[test]
    fn a_long_whatsapp_reply_is_split_into_whole_paragraphs() {
        let paragraph = |n: usize| {
            format!(
                "Párrafo {n}: según la política de vacaciones, el empleado añade los días \
                 pendientes del año anterior y los disfruta antes del 31 de marzo; la \
                 aprobación corresponde a su responsable directo, quien la comunica a \
                 Recursos Humanos con copia al área de nóminas [{n}]. ¿Dudas? Pregunta. "
            )
            .repeat(2)
            .trim_end()
            .to_owned()
        };
        let paragraphs: Vec<String> = (1..=16).map(paragraph).collect();
        let reply = paragraphs.join("\n\n");
        assert!(reply.chars().count() > 2 * WHATSAPP_MAX_CHARS);

        let parts = split_message(&reply, WHATSAPP_MAX_CHARS);
        assert!(parts.len() >= 3, "{} parts", parts.len());
        for part in &parts {
            assert!(part.chars().count() <= WHATSAPP_MAX_CHARS);
            // Each part is a run of whole paragraphs.
            let first = part.split("\n\n").next().unwrap();
            let last = part.split("\n\n").last().unwrap();
            assert!(paragraphs.iter().any(|p| p == first), "{first:?}");
            assert!(paragraphs.iter().any(|p| p == last), "{last:?}");
        }
        assert_eq!(parts.join("\n\n"), reply);
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let reply = "áéíóú ñ ".repeat(500);
        let reply = reply.trim();
        assert!(reply.len() > WHATSAPP_MAX_CHARS);
        assert!(reply.chars().count() <= WHATSAPP_MAX_CHARS);
        assert_eq!(split_message(reply, WHATSAPP_MAX_CHARS), [reply]);
    }

    /// Texts drawn from Markdown marks, Spanish letters and all kinds of whitespace.
    fn varied_texts() -> impl Iterator<Item = String> {
        const PIECES: &[&str] = &[
            "á",
            "ñ",
            "¿",
            "¡",
            "?",
            ".",
            "!",
            "…",
            " ",
            "  ",
            "\n",
            "\n\n",
            "\t",
            "palabra",
            "*",
            "**",
            "_",
            "__",
            "`",
            "```",
            "#",
            "# ",
            "- ",
            "|",
            "[1]",
            "[",
            "]",
            "(",
            ")",
            "x",
            "larguísimapalabra",
            "\r\n",
            "> ",
            "1. ",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        (0..400).map(move |_| {
            let mut text = String::new();
            for _ in 0..(seed % 60) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(0x9e37_79b9);
            text
        })
    }

    #[test]
    fn split_keeps_its_promises_on_varied_texts() {
        for text in varied_texts() {
            for max in [1, 3, 7, 20, 4096] {
                let parts = split_message(&text, max);
                for part in &parts {
                    assert!(!part.trim().is_empty(), "{text:?} at {max}: empty part");
                    assert_eq!(part.trim(), part, "{text:?} at {max}: untrimmed part");
                    assert!(part.chars().count() <= max, "{text:?} at {max}: {part:?}");
                }
                assert_nothing_lost(&text, &parts);
            }
            // Formatting never panics and never leaves blank runs or outer whitespace.
            let shown = for_whatsapp(&text);
            assert_eq!(shown.trim(), shown);
            assert!(!shown.contains("\n\n\n"), "{text:?} -> {shown:?}");
        }
    }

    #[test]
    fn a_reply_without_spaces_is_cut_at_the_limit() {
        let reply = "ñ".repeat(WHATSAPP_MAX_CHARS * 2 + 10);
        let parts = split_message(&reply, WHATSAPP_MAX_CHARS);
        let sizes: Vec<usize> = parts.iter().map(|p| p.chars().count()).collect();
        assert_eq!(sizes, [WHATSAPP_MAX_CHARS, WHATSAPP_MAX_CHARS, 10]);
        assert_eq!(parts.concat(), reply);
    }
}
