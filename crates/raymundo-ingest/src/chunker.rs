//! Chunking by the embedding model's own tokens.
//!
//! A document is cut into sections at its `#` heading lines. A section that fits under the
//! cap is a unit that is never split (an FAQ entry stays whole); consecutive small units are
//! merged while the chunk is still under `min_tokens`. A section too big for one chunk is cut
//! at paragraphs, then sentences, then words (then characters, for a monstrous "word"), and
//! consecutive pieces of it overlap by about `overlap_tokens` tokens of whole sentences.
//! Every chunk starts with its heading lines so the heading words are embedded with it, and
//! every size is measured with the [`TokenCounter`] on the exact chunk text, so no chunk ever
//! exceeds the cap.

use raymundo_core::{Chunk, ChunkingConfig, Document, TokenCounter};

/// Cuts `doc` into chunks of `cfg.min_tokens..=cfg.max_tokens` tokens (the maximum is also
/// capped by `counter.max_content_tokens()`), in document order.
///
/// An empty document gives no chunks; a small one gives a single chunk.
pub fn chunk_document(
    doc: &Document,
    counter: &dyn TokenCounter,
    cfg: &ChunkingConfig,
) -> Vec<Chunk> {
    let cap = cfg.max_tokens.min(counter.max_content_tokens()).max(1);
    let limits = Limits {
        cap,
        min: cfg.min_tokens.min(cap),
        overlap: cfg.overlap_tokens.min(cap / 2),
    };
    let sections = parse_sections(&doc.text);
    let texts = pack(&sections, counter, &limits);
    texts
        .into_iter()
        .flat_map(|(text, section)| {
            enforce_cap(&text, counter, cap)
                .into_iter()
                .map(move |t| (t, section.clone()))
        })
        .enumerate()
        .map(|(position, (text, section))| Chunk {
            doc: doc.path.clone(),
            position,
            source: doc.source.clone(),
            intent: doc.intent.clone(),
            title: doc.title.clone(),
            section,
            tokens: counter.count_tokens(&text),
            text,
        })
        .collect()
}

struct Limits {
    cap: usize,
    min: usize,
    overlap: usize,
}

// ----------------------------------------------------------------------------------------
// Parsing

#[derive(Debug, Clone, PartialEq)]
struct Heading {
    level: usize,
    text: String,
    line: String,
    /// Its line number: two headings with the same words are still two headings.
    at: usize,
}

#[derive(Debug, Clone)]
struct Section {
    /// Ancestor headings and the section's own heading (empty before the first heading).
    path: Vec<Heading>,
    /// Paragraphs (blank-line separated blocks; they may contain single line breaks).
    body: Vec<String>,
}

impl Section {
    fn label(&self) -> Option<String> {
        label_of(&self.path)
    }
}

fn label_of(path: &[Heading]) -> Option<String> {
    (!path.is_empty()).then(|| {
        path.iter()
            .map(|h| h.text.as_str())
            .collect::<Vec<_>>()
            .join(" > ")
    })
}

/// `## Title ##` -> (2, "Title").
fn parse_heading(line: &str) -> Option<(usize, String)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    (!text.is_empty()).then(|| (level, text.to_string()))
}

fn parse_sections(text: &str) -> Vec<Section> {
    let mut sections = vec![Section {
        path: Vec::new(),
        body: Vec::new(),
    }];
    let mut stack: Vec<Heading> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut in_fence = false;

    fn flush(paragraph: &mut Vec<&str>, sections: &mut [Section]) {
        if !paragraph.is_empty() {
            let text = paragraph.join("\n");
            sections.last_mut().expect("a section").body.push(text);
            paragraph.clear();
        }
    }

    for (at, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if !in_fence {
            if let Some((level, heading_text)) = parse_heading(trimmed) {
                flush(&mut paragraph, &mut sections);
                while stack.last().is_some_and(|h| h.level >= level) {
                    stack.pop();
                }
                stack.push(Heading {
                    level,
                    text: heading_text,
                    line: trimmed.to_string(),
                    at,
                });
                sections.push(Section {
                    path: stack.clone(),
                    body: Vec::new(),
                });
                continue;
            }
        }
        if trimmed.is_empty() && !in_fence {
            flush(&mut paragraph, &mut sections);
        } else {
            paragraph.push(trimmed);
        }
    }
    flush(&mut paragraph, &mut sections);

    // Drop empty sections, except a heading with no body and no subsections (it is kept so
    // its words are not lost).
    let mut kept = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        if !section.body.is_empty() {
            kept.push(section.clone());
            continue;
        }
        if section.path.is_empty() {
            continue;
        }
        let has_children = sections.get(i + 1).is_some_and(|next| {
            next.path.len() > section.path.len() && next.path.starts_with(&section.path)
        });
        if !has_children {
            kept.push(section.clone());
        }
    }
    kept
}

// ----------------------------------------------------------------------------------------
// Rendering

/// Heading lines of `section` that are not already open in the chunk (`open` is the path of
/// the previous section in the same chunk, `None` at the start of a chunk).
fn render_section(open: Option<&[Heading]>, section: &Section) -> String {
    let common = open.map_or(0, |open| {
        open.iter()
            .zip(&section.path)
            .take_while(|(a, b)| a == b)
            .count()
    });
    let headings: Vec<&str> = section.path[common..]
        .iter()
        .map(|h| h.line.as_str())
        .collect();
    let mut out = headings.join("\n");
    let body = section.body.join("\n\n");
    if !out.is_empty() && !body.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&body);
    out
}

fn render_sections(sections: &[&Section]) -> String {
    let mut out = String::new();
    let mut open: Option<&[Heading]> = None;
    for section in sections {
        let part = render_section(open, section);
        if !out.is_empty() && !part.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&part);
        open = Some(&section.path);
    }
    out
}

/// The label of a chunk made of several whole sections: their common heading path, or the
/// first section's path when they share none.
fn label_of_group(sections: &[&Section]) -> Option<String> {
    let first = &sections.first()?.path;
    let common = sections.iter().skip(1).fold(first.len(), |n, s| {
        first
            .iter()
            .zip(&s.path)
            .take(n)
            .take_while(|(a, b)| a == b)
            .count()
    });
    if common == 0 {
        label_of(first)
    } else {
        label_of(&first[..common])
    }
}

// ----------------------------------------------------------------------------------------
// Packing

enum Packed<'a> {
    /// Whole sections, merged.
    Whole(Vec<&'a Section>),
    /// A piece of a section that had to be split.
    Split(String, Option<String>),
}

fn pack(
    sections: &[Section],
    counter: &dyn TokenCounter,
    limits: &Limits,
) -> Vec<(String, Option<String>)> {
    let mut packed: Vec<Packed> = Vec::new();
    let mut current: Vec<&Section> = Vec::new();
    let tokens = |t: &str| counter.count_tokens(t);

    for section in sections {
        let alone = render_section(None, section);
        if tokens(&alone) <= limits.cap {
            if !current.is_empty() {
                let current_text = render_sections(&current);
                let mut candidate = current.clone();
                candidate.push(section);
                if tokens(&current_text) < limits.min
                    && tokens(&render_sections(&candidate)) <= limits.cap
                {
                    current = candidate;
                    continue;
                }
                packed.push(Packed::Whole(std::mem::take(&mut current)));
            }
            current.push(section);
        } else {
            if !current.is_empty() {
                packed.push(Packed::Whole(std::mem::take(&mut current)));
            }
            let label = section.label();
            for text in split_section(section, counter, limits) {
                packed.push(Packed::Split(text, label.clone()));
            }
        }
    }
    if !current.is_empty() {
        packed.push(Packed::Whole(current));
    }

    // A small group of whole sections left after a full one joins it when both fit.
    let mut merged: Vec<Packed> = Vec::new();
    for item in packed {
        if let (Some(Packed::Whole(prev)), Packed::Whole(group)) = (merged.last_mut(), &item) {
            if tokens(&render_sections(group)) < limits.min {
                let mut candidate = prev.clone();
                candidate.extend(group.iter().copied());
                if tokens(&render_sections(&candidate)) <= limits.cap {
                    *prev = candidate;
                    continue;
                }
            }
        }
        merged.push(item);
    }

    merged
        .into_iter()
        .map(|item| match item {
            Packed::Whole(group) => (render_sections(&group), label_of_group(&group)),
            Packed::Split(text, label) => (text, label),
        })
        .filter(|(text, _)| !text.trim().is_empty())
        .collect()
}

// ----------------------------------------------------------------------------------------
// Splitting a section

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    Paragraph,
    Line,
    Space,
    Glue,
}

impl Sep {
    fn as_str(self) -> &'static str {
        match self {
            Sep::Paragraph => "\n\n",
            Sep::Line => "\n",
            Sep::Space => " ",
            Sep::Glue => "",
        }
    }
}

#[derive(Debug, Clone)]
struct Piece {
    text: String,
    /// Separator placed before this piece when it follows another one.
    sep: Sep,
}

fn join(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            out.push_str(p.sep.as_str());
        }
        out.push_str(&p.text);
    }
    out
}

fn with_prefix(prefix: &str, body: &str) -> String {
    if prefix.is_empty() {
        body.to_string()
    } else if body.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}\n\n{body}")
    }
}

/// The heading lines repeated at the top of every piece of a split section, kept to at most a
/// third of the cap (dropping outer headings first, then cutting words), and the index of the
/// first heading of the path that it holds whole (the path's length when it holds none).
fn split_prefix(section: &Section, counter: &dyn TokenCounter, cap: usize) -> (String, usize) {
    let limit = cap / 3;
    for skip in 0..section.path.len() {
        let prefix = section.path[skip..]
            .iter()
            .map(|h| h.line.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if counter.count_tokens(&prefix) <= limit {
            return (prefix, skip);
        }
    }
    let Some(own) = section.path.last() else {
        return (String::new(), 0);
    };
    let mut prefix = String::new();
    for word in own.line.split_whitespace() {
        let candidate = if prefix.is_empty() {
            word.to_string()
        } else {
            format!("{prefix} {word}")
        };
        if counter.count_tokens(&candidate) > limit {
            break;
        }
        prefix = candidate;
    }
    (prefix, section.path.len())
}

fn split_section(section: &Section, counter: &dyn TokenCounter, limits: &Limits) -> Vec<String> {
    let (prefix, whole_from) = split_prefix(section, counter, limits.cap);
    let measure = |pieces: &[Piece]| counter.count_tokens(&with_prefix(&prefix, &join(pieces)));
    let fits = |pieces: &[Piece]| measure(pieces) <= limits.cap;

    // Headings too long to lead every piece whole come first as text of their own (cut by
    // `enforce_cap` if need be), so that none of their words is lost: a parent with no body
    // of its own appears nowhere else.
    let cut: Vec<&str> = section.path[..whole_from]
        .iter()
        .map(|h| h.line.as_str())
        .collect();
    let head: Vec<String> = (!cut.is_empty())
        .then(|| cut.join("\n"))
        .into_iter()
        .collect();
    // Paragraphs, refined into smaller pieces where a paragraph alone does not fit.
    let mut pieces = Vec::new();
    for paragraph in &section.body {
        let piece = Piece {
            text: paragraph.clone(),
            sep: Sep::Paragraph,
        };
        refine(piece, Grain::Sentences, &fits, &mut pieces);
    }
    if pieces.is_empty() {
        return if head.is_empty() || !prefix.is_empty() {
            head.into_iter().chain([prefix]).collect()
        } else {
            head
        };
    }

    // Balanced target size so the last piece is not a crumb.
    let total = measure(&pieces);
    let step = limits.cap.saturating_sub(limits.overlap).max(1);
    let n = total.saturating_sub(limits.overlap).div_ceil(step).max(1);
    let target = (total.saturating_sub(limits.overlap).div_ceil(n) + limits.overlap)
        .clamp(limits.min.max(1), limits.cap);

    let mut out = head;
    let mut carry: Vec<Piece> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let mut current = carry.clone();
        let mut added = 0;
        while i < pieces.len() {
            let mut candidate = current.clone();
            candidate.push(pieces[i].clone());
            if fits(&candidate) {
                current = candidate;
                i += 1;
                added += 1;
                if measure(&current) >= target {
                    break;
                }
            } else if added == 0 && !current.is_empty() {
                // The overlap leaves no room for the next piece: shorten the overlap.
                current.remove(0);
            } else if added == 0 {
                // Cannot happen after `refine`; take the piece anyway, `enforce_cap` cuts it.
                current.push(pieces[i].clone());
                i += 1;
                break;
            } else {
                break;
            }
        }
        out.push(with_prefix(&prefix, &join(&current)));
        // No overlap inside a word that had to be cut into characters.
        carry = if i < pieces.len() && limits.overlap > 0 && pieces[i].sep != Sep::Glue {
            overlap_tail(&current, counter, limits.overlap)
        } else {
            Vec::new()
        };
    }
    out
}

/// How finely [`refine`] cuts a piece that does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grain {
    Sentences,
    Words,
    Chars,
}

/// Breaks a piece that does not fit into sentences (or lines), then words, then characters.
fn refine(piece: Piece, grain: Grain, fits: &dyn Fn(&[Piece]) -> bool, out: &mut Vec<Piece>) {
    if fits(std::slice::from_ref(&piece)) {
        out.push(piece);
        return;
    }
    if grain <= Grain::Sentences {
        let sentences = split_sentences(&piece.text);
        if sentences.len() > 1 {
            for (k, (text, sep)) in sentences.into_iter().enumerate() {
                let sep = if k == 0 { piece.sep } else { sep };
                refine(Piece { text, sep }, Grain::Words, fits, out);
            }
            return;
        }
    }
    if grain <= Grain::Words {
        let words: Vec<&str> = piece.text.split_whitespace().collect();
        if words.len() > 1 {
            for (k, word) in words.into_iter().enumerate() {
                let sep = if k == 0 { piece.sep } else { Sep::Space };
                let text = word.to_string();
                refine(Piece { text, sep }, Grain::Chars, fits, out);
            }
            return;
        }
    }
    // A single enormous "word": cut it into character runs that fit.
    let mut rest = piece.text.as_str();
    let mut sep = piece.sep;
    while !rest.is_empty() {
        let cut = largest_fitting_prefix(rest, &|s: &str| {
            fits(&[Piece {
                text: s.to_string(),
                sep,
            }])
        });
        out.push(Piece {
            text: rest[..cut].to_string(),
            sep,
        });
        rest = &rest[cut..];
        sep = Sep::Glue;
    }
}

/// Byte length of the longest prefix of `s` (at least one character) accepted by `fits`.
fn largest_fitting_prefix(s: &str, fits: &dyn Fn(&str) -> bool) -> usize {
    let bounds: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .skip(1)
        .chain(std::iter::once(s.len()))
        .collect();
    // Binary search over character boundaries; the first character is always taken.
    let (mut lo, mut hi) = (0usize, bounds.len() - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(&s[..bounds[mid]]) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    bounds[lo]
}

/// Whole sentences from the end of `pieces` totalling at most `overlap` tokens (trailing words
/// when even the last sentence is longer).
fn overlap_tail(pieces: &[Piece], counter: &dyn TokenCounter, overlap: usize) -> Vec<Piece> {
    let mut sentences: Vec<Piece> = Vec::new();
    for piece in pieces {
        for (k, (text, sep)) in split_sentences(&piece.text).into_iter().enumerate() {
            let sep = if k == 0 { piece.sep } else { sep };
            sentences.push(Piece { text, sep });
        }
    }
    let mut tail: Vec<Piece> = Vec::new();
    for sentence in sentences.iter().rev() {
        let mut candidate = vec![sentence.clone()];
        candidate.extend(tail.iter().cloned());
        if counter.count_tokens(&join(&candidate)) > overlap {
            break;
        }
        tail = candidate;
    }
    if !tail.is_empty() {
        return tail;
    }
    // The last sentence alone is longer than the overlap: take its trailing words.
    let Some(last) = sentences.last() else {
        return tail;
    };
    let words: Vec<&str> = last.text.split_whitespace().collect();
    let mut taken = 0;
    for k in (0..words.len()).rev() {
        if counter.count_tokens(&words[k..].join(" ")) > overlap {
            break;
        }
        taken = words.len() - k;
    }
    if taken == 0 || taken == words.len() {
        return Vec::new();
    }
    vec![Piece {
        text: words[words.len() - taken..].join(" "),
        sep: Sep::Space,
    }]
}

/// Abbreviations after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "sr", "sra", "srta", "sres", "dr", "dra", "lic", "ing", "arq", "mtro", "mtra", "prof", "etc",
    "ej", "p.ej", "núm", "no", "nº", "tel", "av", "avda", "col", "cp", "c.p", "art", "pág", "págs",
    "aprox", "ud", "uds", "vs", "mr", "mrs", "ms", "e.g", "i.e", "approx", "fig", "vol", "cap",
    "s.a", "s.l", "c.v", "depto", "dpto", "ext", "min", "máx", "mín",
];

/// Splits text into sentences (and lines): `(sentence, separator before it)`. A sentence ends
/// at `.`, `!`, `?` or `…` (optionally followed by closing quotes or brackets) followed by
/// whitespace; periods after common abbreviations, initials and list numbers do not count.
/// Spanish opening `¿`/`¡` naturally start the next sentence.
pub(crate) fn split_sentences(text: &str) -> Vec<(String, Sep)> {
    let mut out = Vec::new();
    for (line_no, line) in text.split('\n').enumerate() {
        let line_sep = if line_no == 0 { Sep::Space } else { Sep::Line };
        let mut first_in_line = true;
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut start = 0;
        let mut k = 0;
        while k < chars.len() {
            let (_, c) = chars[k];
            if matches!(c, '.' | '!' | '?' | '…') {
                // Include closing punctuation.
                let mut end_k = k + 1;
                while end_k < chars.len()
                    && matches!(
                        chars[end_k].1,
                        '"' | '\'' | ')' | ']' | '»' | '”' | '’' | '.' | '!' | '?'
                    )
                {
                    end_k += 1;
                }
                let at_space = end_k < chars.len() && chars[end_k].1.is_whitespace();
                if at_space && !(c == '.' && is_abbreviation(&line[start..chars[k].0], start == 0))
                {
                    let end_byte = chars[end_k].0;
                    let sentence = line[start..end_byte].trim();
                    if !sentence.is_empty() {
                        out.push((
                            sentence.to_string(),
                            if first_in_line { line_sep } else { Sep::Space },
                        ));
                        first_in_line = false;
                    }
                    start = end_byte;
                }
                k = end_k;
                continue;
            }
            k += 1;
        }
        let rest = line[start..].trim();
        if !rest.is_empty() {
            out.push((
                rest.to_string(),
                if first_in_line { line_sep } else { Sep::Space },
            ));
        }
    }
    out
}

/// Whether the word right before a period makes it a non-final period.
fn is_abbreviation(before: &str, at_line_start: bool) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    if word.is_empty() {
        return false;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    // Initials ("J. Pérez") and single letters.
    if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
        return true;
    }
    // A list number at the start of a line ("1. Abre la caja").
    at_line_start && before.trim() == word && word.chars().all(|c| c.is_ascii_digit())
}

/// Safety net: re-cuts a text over the cap by words (then characters). The packing above
/// measures every chunk, so this only acts with counters that are not monotonic.
fn enforce_cap(text: &str, counter: &dyn TokenCounter, cap: usize) -> Vec<String> {
    if counter.count_tokens(text) <= cap {
        return vec![text.to_string()];
    }
    let mut out = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if counter.count_tokens(&candidate) <= cap {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if counter.count_tokens(word) <= cap {
            current = word.to_string();
        } else {
            let mut rest = word;
            while !rest.is_empty() {
                let cut = largest_fitting_prefix(rest, &|s: &str| counter.count_tokens(s) <= cap);
                out.push(rest[..cut].to_string());
                rest = &rest[cut..];
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per whitespace-separated word.
    struct Words(usize);

    impl TokenCounter for Words {
        fn count_tokens(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
        fn max_content_tokens(&self) -> usize {
            self.0
        }
    }

    /// One token per started group of 4 characters of each word (like a subword tokenizer).
    struct Chars4;

    impl TokenCounter for Chars4 {
        fn count_tokens(&self, text: &str) -> usize {
            text.split_whitespace()
                .map(|w| w.chars().count().div_ceil(4))
                .sum()
        }
        fn max_content_tokens(&self) -> usize {
            510
        }
    }

    fn doc(text: &str) -> Document {
        Document {
            path: "faq/envios.md".into(),
            source: "faq".into(),
            intent: Some("envios".into()),
            title: "Envíos".into(),
            text: text.into(),
            content_hash: "0".into(),
        }
    }

    fn cfg(min: usize, max: usize, overlap: usize) -> ChunkingConfig {
        ChunkingConfig {
            min_tokens: min,
            max_tokens: max,
            overlap_tokens: overlap,
        }
    }

    /// `n` numbered sentences of 10 words each.
    fn sentences(tag: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("{tag}{i} uno dos tres cuatro cinco seis siete ocho fin."))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn empty_document_has_no_chunks() {
        assert!(chunk_document(&doc(""), &Words(512), &cfg(20, 50, 5)).is_empty());
        assert!(chunk_document(&doc("\n\n  \n"), &Words(512), &cfg(20, 50, 5)).is_empty());
    }

    #[test]
    fn tiny_document_is_one_chunk_with_metadata() {
        let chunks = chunk_document(
            &doc("Hola. Enviamos a todo México."),
            &Words(512),
            &cfg(20, 50, 5),
        );
        assert_eq!(chunks.len(), 1);
        let c = &chunks[0];
        assert_eq!(c.text, "Hola. Enviamos a todo México.");
        assert_eq!((c.position, c.tokens), (0, 5));
        assert_eq!(c.doc, "faq/envios.md");
        assert_eq!(c.source, "faq");
        assert_eq!(c.intent.as_deref(), Some("envios"));
        assert_eq!(c.title, "Envíos");
        assert_eq!(c.section, None);
        assert_eq!(c.id(), "faq/envios.md#0");
    }

    #[test]
    fn faq_entries_stay_whole_and_small_ones_merge() {
        let mut text = String::from("# Preguntas frecuentes\n\n");
        let mut answers = Vec::new();
        for i in 0..8 {
            let answer = format!("Respuesta{i} {}", "palabra ".repeat(8 + 3 * i).trim());
            text.push_str(&format!("## ¿Pregunta {i}?\n\n{answer}\n\n"));
            answers.push((format!("## ¿Pregunta {i}?"), answer));
        }
        let c = cfg(30, 60, 10);
        let chunks = chunk_document(&doc(&text), &Words(512), &c);
        assert!(chunks.len() > 1);
        for (question, answer) in &answers {
            let holders: Vec<_> = chunks
                .iter()
                .filter(|ch| ch.text.contains(question.as_str()))
                .collect();
            assert_eq!(holders.len(), 1, "{question} appears in exactly one chunk");
            assert!(
                holders[0].text.contains(answer.as_str()),
                "{question} is whole"
            );
        }
        for ch in &chunks {
            assert!(ch.tokens <= 60);
            assert!(
                ch.text.starts_with("# Preguntas frecuentes\n## ¿Pregunta"),
                "{}",
                ch.text
            );
            assert!(ch
                .section
                .as_deref()
                .unwrap()
                .starts_with("Preguntas frecuentes"));
        }
        // Entries of 12 and 15 words are merged into one chunk: sizes reach the minimum.
        assert!(
            chunks[..chunks.len() - 1].iter().all(|ch| ch.tokens >= 30),
            "{chunks:#?}"
        );
        assert_eq!(chunks[0].section.as_deref(), Some("Preguntas frecuentes"));
    }

    #[test]
    fn single_faq_entry_label_is_its_path() {
        let text = format!(
            "# FAQ\n\n## ¿Cuánto cuesta?\n\n{}\n\n## ¿Dónde?\n\n{}",
            sentences("a", 3),
            sentences("b", 3)
        );
        let chunks = chunk_document(&doc(&text), &Words(512), &cfg(20, 40, 5));
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].section.as_deref(), Some("FAQ > ¿Cuánto cuesta?"));
        assert_eq!(chunks[1].section.as_deref(), Some("FAQ > ¿Dónde?"));
        assert!(chunks[1].text.starts_with("# FAQ\n## ¿Dónde?\n\nb0 "));
    }

    #[test]
    fn long_section_is_split_with_overlap_and_heading() {
        let text = format!("# Manual\n\n## Instalación\n\n{}", sentences("s", 30));
        let c = cfg(40, 80, 20);
        let chunks = chunk_document(&doc(&text), &Words(512), &c);
        assert!(chunks.len() >= 4, "{}", chunks.len());
        for (i, ch) in chunks.iter().enumerate() {
            assert_eq!(ch.position, i);
            assert!(ch.tokens <= 80, "chunk {i} has {} tokens", ch.tokens);
            assert!(ch.tokens >= 40, "chunk {i} has {} tokens", ch.tokens);
            assert!(
                ch.text.starts_with("# Manual\n## Instalación\n\n"),
                "{}",
                ch.text
            );
            assert_eq!(ch.section.as_deref(), Some("Manual > Instalación"));
        }
        // Consecutive chunks share whole sentences (about 20 tokens = 2 sentences).
        for pair in chunks.windows(2) {
            let first_of_next = pair[1]
                .text
                .split("\n\n")
                .nth(1)
                .unwrap()
                .split('.')
                .next()
                .unwrap();
            assert!(
                pair[0].text.contains(&format!("{first_of_next}.")),
                "no overlap between\n{}\n---\n{}",
                pair[0].text,
                pair[1].text
            );
        }
        // Order preserved and nothing lost.
        for i in 0..30 {
            let tag = format!("s{i} ");
            assert!(chunks.iter().any(|ch| ch.text.contains(&tag)), "{tag} lost");
        }
        let first_positions: Vec<usize> = chunks
            .iter()
            .map(|ch| {
                let body = ch.text.split("\n\n").nth(1).unwrap();
                body[1..]
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse::<usize>()
                    .unwrap()
            })
            .collect();
        assert!(
            first_positions.windows(2).all(|w| w[0] < w[1]),
            "{first_positions:?}"
        );
    }

    #[test]
    fn cap_is_the_models_limit_when_smaller() {
        let text = sentences("s", 20);
        let chunks = chunk_document(&doc(&text), &Words(35), &cfg(10, 500, 5));
        assert!(chunks.len() >= 6);
        assert!(chunks.iter().all(|c| c.tokens <= 35));
    }

    #[test]
    fn giant_sentence_and_giant_word_are_cut() {
        let long_sentence = "palabra ".repeat(130);
        let chunks = chunk_document(&doc(long_sentence.trim()), &Words(512), &cfg(10, 50, 10));
        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|c| c.tokens <= 50));
        let word = "x".repeat(1000);
        let chunks = chunk_document(&doc(&word), &Chars4, &cfg(10, 50, 10));
        assert!(chunks.len() >= 5);
        assert!(chunks.iter().all(|c| c.tokens <= 50));
        assert_eq!(chunks.iter().map(|c| c.text.len()).sum::<usize>(), 1000);
    }

    #[test]
    fn never_over_the_cap_with_a_subword_counter() {
        let mut text = String::new();
        for s in 0..6 {
            text.push_str(&format!("## Sección {s} con un título bastante largo\n\n"));
            for p in 0..(s * 3 + 1) {
                text.push_str(&format!(
                    "Párrafo {p}: ¿Cómo configuro el termostato inteligente? ¡Muy fácil! Sigue las \
                     instrucciones del manual… Después reinicia el equipo (aprox. 5 min.) y verifica.\n\n"
                ));
            }
        }
        for (min, max, overlap) in [(20, 40, 8), (50, 120, 20), (100, 300, 40)] {
            let chunks = chunk_document(&doc(&text), &Chars4, &cfg(min, max, overlap));
            assert!(!chunks.is_empty());
            for c in &chunks {
                assert!(c.tokens <= max, "{} > {max}", c.tokens);
                assert_eq!(c.tokens, Chars4.count_tokens(&c.text));
                assert!(c.text.starts_with("## Sección"), "{}", c.text);
            }
            let within = chunks.iter().filter(|c| c.tokens >= min).count();
            assert!(
                within * 10 >= chunks.len() * 7,
                "most chunks reach the minimum: {within}/{}",
                chunks.len()
            );
        }
    }

    #[test]
    fn sentence_splitting_handles_spanish_and_abbreviations() {
        let got: Vec<String> =
            split_sentences("¿Cuánto cuesta? Son $99. ¡Gracias! El Sr. Pérez llegó… Fin")
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        assert_eq!(
            got,
            [
                "¿Cuánto cuesta?",
                "Son $99.",
                "¡Gracias!",
                "El Sr. Pérez llegó…",
                "Fin"
            ]
        );
        let got: Vec<(String, Sep)> =
            split_sentences("1. Abre la caja.\n2. Conecta el equipo. Listo.");
        assert_eq!(
            got,
            [
                ("1. Abre la caja.".to_string(), Sep::Space),
                ("2. Conecta el equipo.".to_string(), Sep::Line),
                ("Listo.".to_string(), Sep::Space),
            ]
        );
        let got: Vec<String> = split_sentences("Versión 2.4.1 lista. «¿De verdad?» Sí.")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(got, ["Versión 2.4.1 lista.", "«¿De verdad?»", "Sí."]);
    }

    #[test]
    fn headings_inside_code_fences_are_not_sections() {
        let text = "# Guía\n\n```\n# comentario de shell\nls\n```\n\nTexto.";
        let chunks = chunk_document(&doc(text), &Words(512), &cfg(5, 50, 5));
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].section.as_deref(), Some("Guía"));
    }

    #[test]
    fn heading_only_parents_are_carried_not_chunked() {
        let text = format!(
            "# Políticas\n\n## Devoluciones\n\n{}\n\n# Contacto",
            sentences("d", 2)
        );
        let chunks = chunk_document(&doc(&text), &Words(512), &cfg(5, 25, 5));
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        assert!(
            texts[0].starts_with("# Políticas\n## Devoluciones\n\nd0"),
            "{texts:?}"
        );
        assert!(texts.iter().all(|t| *t != "# Políticas"), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("# Contacto")), "{texts:?}");
    }

    /// Found by the fuzzer: a heading over the cap lost every word that did not fit in the
    /// prefix of its pieces, and all of them when the section had no body.
    #[test]
    fn a_heading_longer_than_the_cap_loses_no_word() {
        let heading: Vec<String> = (0..30).map(|i| format!("h{i}")).collect();
        for body in ["", "\n\nUn párrafo corto del cuerpo."] {
            let text = format!("# {}{body}", heading.join(" "));
            let chunks = chunk_document(&doc(&text), &Words(512), &cfg(5, 12, 2));
            let all: Vec<&str> = chunks
                .iter()
                .flat_map(|c| c.text.split_whitespace())
                .collect();
            for word in &heading {
                assert!(all.contains(&word.as_str()), "{word} lost: {chunks:?}");
            }
            assert!(chunks.iter().all(|c| c.tokens <= 12), "{chunks:?}");
        }
    }

    /// Found by the fuzzer: a heading repeated word for word was taken for the one before
    /// it, and its line was left out.
    #[test]
    fn a_repeated_heading_is_kept() {
        let text = "# Preguntas\n\nUna.\n\n# Preguntas\n\nDos.";
        let chunks = chunk_document(&doc(text), &Words(512), &cfg(50, 100, 5));
        let all: String = chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(all.matches("# Preguntas").count(), 2, "{all:?}");
    }

    /// Found by the fuzzer: a parent heading with no body of its own was dropped from the
    /// prefix of its child's pieces when the path did not fit, and then appeared nowhere.
    #[test]
    fn a_parent_heading_left_out_of_the_prefix_is_kept_as_text() {
        let parent: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
        let text = format!("# {}\n\n## Hijo\n\n{}", parent.join(" "), sentences("c", 6));
        let chunks = chunk_document(&doc(&text), &Words(512), &cfg(5, 20, 2));
        let all: Vec<&str> = chunks
            .iter()
            .flat_map(|c| c.text.split_whitespace())
            .collect();
        for word in &parent {
            assert!(all.contains(&word.as_str()), "{word} lost: {chunks:?}");
        }
        assert!(chunks.iter().all(|c| c.tokens <= 20), "{chunks:?}");
        // In document order: the parent before its child's text.
        let first = |w: &str| chunks.iter().position(|c| c.text.contains(w)).unwrap();
        assert!(first("p11") <= first("c0"), "{chunks:?}");
    }
}
