//! PDF: text in content-stream order (which is reading order for the PDFs that office tools
//! and report generators write, including multi-column layouts), rebuilt into lines and
//! paragraphs from glyph positions. Lines set in a clearly larger font than the body become
//! `#` headings; page numbers and running headers/footers are dropped; words hyphenated at a
//! line end are joined.
//!
//! `pdf-extract` can panic on unusual files, so every call into it runs under
//! [`std::panic::catch_unwind`] with the panic message silenced for this thread only; a
//! damaged, encrypted or image-only PDF is skipped with a reason, never a crash.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Depth of [`quietly`] calls on this thread: panics inside are not printed.
    static QUIET: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f`, turning a panic into `Err` without printing its message. The process-wide panic
/// hook is wrapped once and still reports panics on every other thread (and on this one
/// outside `quietly`), so concurrent tests and the binary's own panics are unaffected.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(q.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(q.get() - 1));
    result.map_err(|_| ())
}

/// Extracts the text of a PDF, or says in plain English why it cannot.
pub(crate) fn pdf_to_text(bytes: &[u8]) -> Result<String, String> {
    let header = &bytes[..bytes.len().min(1024)];
    if !header.windows(5).any(|w| w == b"%PDF-") {
        return Err("file is not a PDF (no %PDF header)".to_string());
    }
    let mut doc = match quietly(|| pdf_extract::Document::load_mem(bytes)) {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => {
            return Err(format!(
                "PDF could not be parsed (damaged or truncated file?): {e}"
            ))
        }
        Err(()) => return Err("PDF could not be parsed (damaged file?)".to_string()),
    };
    if doc.is_encrypted() {
        match quietly(|| doc.decrypt("")) {
            Ok(Ok(())) => {}
            _ => return Err("PDF is encrypted (password-protected)".to_string()),
        }
    }
    let page_ids = doc.get_pages();
    if page_ids.is_empty() {
        return Err("PDF has no pages (damaged file?)".to_string());
    }
    for &id in page_ids.values() {
        super::pdf_forms::check_page_forms(&doc, id)?;
    }
    let pages: Vec<u32> = page_ids.keys().copied().collect();
    let mut collector = Collector::default();
    let mut failed = 0;
    for &page in &pages {
        let ok = matches!(
            quietly(|| pdf_extract::output_doc_page(&doc, &mut collector, page)),
            Ok(Ok(()))
        );
        if !ok {
            failed += 1;
        }
        collector.end_line();
    }
    if failed == pages.len() {
        return Err("PDF content could not be read (damaged or unsupported file)".to_string());
    }
    let text = layout(collector.lines, pages.len());
    let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
    let garbage = text
        .chars()
        .filter(|&c| {
            c == '\u{FFFD}'
                || ('\u{E000}'..='\u{F8FF}').contains(&c)
                || (c.is_control() && c != '\n')
        })
        .count();
    if letters < 3 {
        return Err("PDF has no extractable text (scanned image?)".to_string());
    }
    if garbage > letters {
        return Err("PDF text could not be decoded (fonts without a Unicode mapping)".to_string());
    }
    Ok(text)
}

/// A line of text as placed on the page.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    /// Largest font size on the line (points, after transforms).
    size: f64,
    /// Baseline distance from the top of the page.
    y: f64,
    page: u32,
}

/// Receives glyphs from `pdf-extract` and groups them into lines.
#[derive(Default)]
struct Collector {
    lines: Vec<Line>,
    current: Option<Line>,
    page: u32,
    page_height: f64,
    last_end: f64,
    last_y: f64,
}

impl Collector {
    fn end_line(&mut self) {
        if let Some(mut line) = self.current.take() {
            let trimmed = line.text.trim();
            if !trimmed.is_empty() {
                line.text = trimmed.to_string();
                self.lines.push(line);
            }
        }
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.end_line();
        self.page = page_num;
        self.page_height = media_box.ury - media_box.lly;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.end_line();
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        // Page coordinates with the origin at the top left.
        let x = trm.m31;
        let y = self.page_height - trm.m32;
        let vx = font_size * (trm.m11 + trm.m21);
        let vy = font_size * (trm.m12 + trm.m22);
        let size = (vx * vy).abs().sqrt().max(0.1);
        let is_space = char.chars().all(char::is_whitespace);

        let new_line = self
            .current
            .as_ref()
            .is_some_and(|_| (y - self.last_y).abs() > size * 0.5);
        if new_line {
            self.end_line();
        }
        if is_space {
            if let Some(line) = self.current.as_mut() {
                if !line.text.ends_with(' ') {
                    line.text.push(' ');
                }
            }
        } else {
            let gap = x - self.last_end;
            let line = self.current.get_or_insert_with(|| Line {
                text: String::new(),
                size: 0.0,
                y,
                page: self.page,
            });
            if !line.text.is_empty() && gap > size * 0.15 && !line.text.ends_with(' ') {
                line.text.push(' ');
            }
            line.text.push_str(char);
            line.size = line.size.max(size);
        }
        self.last_end = x + width * size;
        self.last_y = y;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

fn round_size(size: f64) -> i64 {
    (size * 2.0).round() as i64
}

/// Page numbers and "Página 3 de 10" lines.
fn is_page_number(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '/' || c == '-' || c == '|')
        .filter(|w| !w.is_empty())
        .collect();
    !words.is_empty()
        && words.len() <= 4
        && words.iter().any(|w| w.chars().all(|c| c.is_ascii_digit()))
        && words.iter().all(|w| {
            w.chars().all(|c| c.is_ascii_digit())
                || matches!(
                    *w,
                    "página" | "pagina" | "pág." | "pág" | "page" | "p." | "de" | "of"
                )
        })
}

/// Rebuilds paragraphs and headings from positioned lines.
fn layout(lines: Vec<Line>, page_count: usize) -> String {
    let lines = drop_page_furniture(lines, page_count);
    if lines.is_empty() {
        return String::new();
    }

    // Body font size: the size carrying the most characters.
    let mut by_size: HashMap<i64, usize> = HashMap::new();
    for l in &lines {
        *by_size.entry(round_size(l.size)).or_default() += l.text.chars().count();
    }
    let body = by_size
        .iter()
        .max_by_key(|&(size, chars)| (*chars, -size))
        .map_or(0, |(&s, _)| s);
    let body_pt = body as f64 / 2.0;

    // Heading sizes: clearly larger than the body, largest first.
    // Slightly larger lines count too (11.5 pt sub-headings over 10.5 pt text) when they
    // look like titles: short and not ending a sentence.
    let is_heading_line = |l: &Line| {
        let words = l.text.split_whitespace().count();
        (l.size > body_pt * 1.15 && words <= 20)
            || (l.size > body_pt * 1.07 && words <= 12 && !l.text.ends_with(['.', ',', ';']))
    };
    let mut heading_sizes: Vec<i64> = lines
        .iter()
        .filter(|l| is_heading_line(l))
        .map(|l| round_size(l.size))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    heading_sizes.sort_unstable_by(|a, b| b.cmp(a));
    let level_of = |l: &Line| -> Option<usize> {
        if !is_heading_line(l) {
            return None;
        }
        let rank = heading_sizes
            .iter()
            .position(|&s| s == round_size(l.size))?;
        Some((rank + 1).min(6))
    };

    // Typical distance between consecutive body lines.
    let mut gaps: Vec<f64> = lines
        .windows(2)
        .filter(|w| w[0].page == w[1].page && round_size(w[1].size) == body)
        .map(|w| w[1].y - w[0].y)
        .filter(|&g| g > 0.0 && g < body_pt * 3.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let line_gap = gaps.get(gaps.len() / 2).copied().unwrap_or(body_pt * 1.2);

    let mut out: Vec<String> = Vec::new();
    let mut paragraph = String::new();
    let mut previous: Option<(&Line, Option<usize>)> = None;
    for line in &lines {
        let level = level_of(line);
        if let Some(level) = level {
            // A heading wrapped over two lines continues the previous heading line.
            if let Some((prev, Some(prev_level))) = previous {
                let gap = line.y - prev.y;
                if prev_level == level
                    && prev.page == line.page
                    && gap > 0.0
                    && gap < line.size * 1.6
                {
                    if let Some(last) = out.last_mut() {
                        last.push(' ');
                        last.push_str(&line.text);
                    }
                    previous = Some((line, Some(level)));
                    continue;
                }
            }
            flush(&mut paragraph, &mut out);
            out.push(format!("{} {}", "#".repeat(level), line.text));
            previous = Some((line, Some(level)));
            continue;
        }
        let item = list_item(&line.text);
        let continues = match previous {
            Some((prev, None)) => {
                let gap = line.y - prev.y;
                if prev.page == line.page && gap > 0.0 {
                    gap <= line_gap * 1.35
                } else {
                    // New page or new column: the paragraph goes on unless the previous
                    // line closed a sentence.
                    !prev.text.ends_with(['.', ':', '!', '?', '…'])
                }
            }
            _ => false,
        };
        if !continues {
            flush(&mut paragraph, &mut out);
        }
        match item {
            Some(item) => {
                if !paragraph.is_empty() {
                    paragraph.push('\n');
                }
                paragraph.push_str(&item);
            }
            None => join_line(&mut paragraph, &line.text),
        }
        previous = Some((line, None));
    }
    flush(&mut paragraph, &mut out);
    out.join("\n\n")
}

fn flush(paragraph: &mut String, out: &mut Vec<String>) {
    if !paragraph.trim().is_empty() {
        out.push(std::mem::take(paragraph));
    }
    paragraph.clear();
}

/// A list item line: `• Uno` becomes `- Uno`; numbered items (`2. Dos`, `3) Tres`) keep
/// their number.
fn list_item(text: &str) -> Option<String> {
    for bullet in ['•', '·', '▪', '◦', '●', '○', '■', '–', '-', '*', '➢', '✓'] {
        if let Some(rest) = text.strip_prefix(bullet) {
            if rest.starts_with(' ') {
                return Some(format!("- {}", rest.trim_start()));
            }
        }
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let rest = &text[digits..];
    if (1..=2).contains(&digits) && (rest.starts_with(". ") || rest.starts_with(") ")) {
        return Some(text.to_string());
    }
    None
}

/// Appends a wrapped line to a paragraph, joining words hyphenated at the line end.
fn join_line(paragraph: &mut String, line: &str) {
    if paragraph.is_empty() {
        paragraph.push_str(line);
        return;
    }
    let hyphenated = paragraph.ends_with('-')
        && paragraph
            .chars()
            .rev()
            .nth(1)
            .is_some_and(char::is_alphabetic)
        && line.chars().next().is_some_and(char::is_lowercase);
    if hyphenated {
        paragraph.pop();
    } else {
        paragraph.push(' ');
    }
    paragraph.push_str(line);
}

/// Drops page numbers, and first or last lines of a page that repeat (digits aside) on most
/// pages: running headers and footers.
fn drop_page_furniture(lines: Vec<Line>, page_count: usize) -> Vec<Line> {
    let key = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect()
    };
    let mut repeated: HashSet<String> = HashSet::new();
    if page_count >= 3 {
        let mut pages_with: HashMap<String, HashSet<u32>> = HashMap::new();
        let mut by_page: HashMap<u32, Vec<&Line>> = HashMap::new();
        for l in &lines {
            by_page.entry(l.page).or_default().push(l);
        }
        for page_lines in by_page.values().filter(|p| p.len() >= 3) {
            for l in [page_lines[0], page_lines[page_lines.len() - 1]] {
                pages_with.entry(key(&l.text)).or_default().insert(l.page);
            }
        }
        let threshold = (page_count / 2).max(3);
        repeated = pages_with
            .into_iter()
            .filter(|(_, pages)| pages.len() >= threshold)
            .map(|(k, _)| k)
            .collect();
    }
    lines
        .into_iter()
        .filter(|l| !is_page_number(&l.text) && !repeated.contains(&key(&l.text)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, size: f64, y: f64, page: u32) -> Line {
        Line {
            text: text.to_string(),
            size,
            y,
            page,
        }
    }

    #[test]
    fn layout_builds_headings_paragraphs_and_lists() {
        let lines = vec![
            line("Manual de uso", 20.0, 50.0, 1),
            line("Primera línea del párrafo que conti-", 11.0, 80.0, 1),
            line("núa aquí.", 11.0, 94.0, 1),
            line("Otro párrafo tras un hueco.", 11.0, 130.0, 1),
            line("• Uno", 11.0, 144.0, 1),
            line("• Dos", 11.0, 158.0, 1),
            line("1. Primero que", 11.0, 172.0, 1),
            line("sigue.", 11.0, 186.0, 1),
            line("2. Segundo.", 11.0, 200.0, 1),
            line("Subtítulo", 12.0, 214.0, 1),
            line("Sección", 14.0, 190.0, 1),
            line("Texto de la sección que sigue en la", 11.0, 220.0, 1),
            line("3", 9.0, 800.0, 1),
            line("página siguiente sin punto final", 11.0, 60.0, 2),
        ];
        assert_eq!(
            layout(lines, 2),
            "# Manual de uso\n\nPrimera línea del párrafo que continúa aquí.\n\n\
             Otro párrafo tras un hueco.\n- Uno\n- Dos\n1. Primero que sigue.\n2. Segundo.\n\n\
             ### Subtítulo\n\n## Sección\n\n\
             Texto de la sección que sigue en la página siguiente sin punto final"
        );
    }

    #[test]
    fn running_headers_are_dropped() {
        let mut lines = Vec::new();
        for page in 1..=4 {
            lines.push(line("ACME S.A. de C.V. — Manual interno", 9.0, 20.0, page));
            lines.push(line(
                &format!("Contenido de la página {page}."),
                11.0,
                100.0,
                page,
            ));
            lines.push(line(&format!("Página {page} de 4"), 9.0, 800.0, page));
        }
        let text = layout(lines, 4);
        assert!(!text.contains("ACME"), "{text}");
        assert!(!text.contains("de 4"), "{text}");
        assert!(text.contains("Contenido de la página 3."), "{text}");
    }

    #[test]
    fn not_a_pdf() {
        assert_eq!(
            pdf_to_text(b"hola").unwrap_err(),
            "file is not a PDF (no %PDF header)"
        );
    }

    #[test]
    fn quietly_catches_panics() {
        assert!(quietly(|| panic!("boom")).is_err());
        assert_eq!(quietly(|| 7), Ok(7));
    }
}
