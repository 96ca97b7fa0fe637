//! Images carried by, or referenced from, source documents.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::Picture;

/// Pictures narrower or shorter than this many pixels are skipped (icons, bullets, spacers).
pub const MIN_PICTURE_SIDE: u32 = 32;
/// Files and archive members larger than this are not read.
const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// Finds the PNG and JPEG pictures a document carries or references, in document order, at most
/// `max` of them.
///
/// | document | where pictures come from |
/// |---|---|
/// | `.md`, `.markdown` | `![alt](path)` and `<img src=...>`, the alt text as caption |
/// | `.html`, `.htm` | `<img src=...>`, the `alt` attribute as caption |
/// | `.docx` | `word/media/*` |
/// | `.pptx` | `ppt/media/*` |
/// | `.xlsx` | `xl/media/*` |
/// | `.odt`, `.odp`, `.ods` | `Pictures/*` |
/// | `.pdf` | embedded JPEG images (image XObjects with the `DCTDecode` filter alone) |
/// | `.png`, `.jpg`, `.jpeg` | the file itself |
///
/// References are followed only to local files given by relative paths (resolved against the
/// document's directory; `..` is allowed). URLs (`http:`, `data:`, `//host`, ...) and absolute
/// paths are ignored: nothing is ever fetched. Formats other than PNG and JPEG, pictures smaller
/// than [`MIN_PICTURE_SIDE`] on either side and repeats of a picture already found are skipped.
///
/// Never fails and never panics: a missing, unreadable or broken file gives an empty list (a
/// broken PDF that makes the PDF parser panic included).
pub fn images_in_document(path: &Path, max: usize) -> Vec<Picture> {
    if max == 0 {
        return Vec::new();
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mut found = Found {
        pictures: Vec::new(),
        max,
    };
    match extension.as_str() {
        "md" | "markdown" => {
            if let Some(text) = read_text(path) {
                let mut refs = markdown_images(&text);
                refs.extend(html_images(&text));
                refs.sort_by_key(|r| r.at);
                found.add_references(path, refs);
            }
        }
        "html" | "htm" => {
            if let Some(text) = read_text(path) {
                found.add_references(path, html_images(&text));
            }
        }
        "docx" => found.add_zip_members(path, "word/media/"),
        "pptx" => found.add_zip_members(path, "ppt/media/"),
        "xlsx" => found.add_zip_members(path, "xl/media/"),
        "odt" | "odp" | "ods" => found.add_zip_members(path, "Pictures/"),
        "pdf" => {
            if let Some(bytes) = read_capped(path) {
                for jpeg in pdf_jpegs(&bytes) {
                    if found.add(jpeg, None) {
                        break;
                    }
                }
            }
        }
        "png" | "jpg" | "jpeg" => {
            if let Some(bytes) = read_capped(path) {
                found.add(bytes, None);
            }
        }
        _ => {}
    }
    found.pictures
}

struct Found {
    pictures: Vec<Picture>,
    max: usize,
}

impl Found {
    /// Keeps the bytes if they are a new, large enough PNG or JPEG; true once `max` is reached.
    fn add(&mut self, bytes: Vec<u8>, caption: Option<String>) -> bool {
        if self.pictures.len() >= self.max {
            return true;
        }
        if let Some(mut picture) = Picture::from_bytes(bytes) {
            let big_enough =
                picture.width >= MIN_PICTURE_SIDE && picture.height >= MIN_PICTURE_SIDE;
            if big_enough && !self.pictures.iter().any(|p| p.bytes == picture.bytes) {
                picture.caption = caption.filter(|c| !c.trim().is_empty());
                self.pictures.push(picture);
            }
        }
        self.pictures.len() >= self.max
    }

    fn add_references(&mut self, document: &Path, refs: Vec<ImageRef>) {
        let dir = document.parent().unwrap_or(Path::new(""));
        for r in refs {
            let Some(target) = local_target(dir, &r.src) else {
                continue;
            };
            if let Some(bytes) = read_capped(&target) {
                if self.add(bytes, r.alt) {
                    break;
                }
            }
        }
    }

    fn add_zip_members(&mut self, path: &Path, folder: &str) {
        let Ok(file) = std::fs::File::open(path) else {
            return;
        };
        let Ok(mut archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
            return;
        };
        for i in 0..archive.len() {
            let Ok(member) = archive.by_index(i) else {
                continue;
            };
            if !member.name().starts_with(folder)
                || member.is_dir()
                || member.size() > MAX_READ_BYTES
            {
                continue;
            }
            let mut bytes = Vec::with_capacity(member.size() as usize);
            // The declared size may lie: read no more than the cap either way.
            if member.take(MAX_READ_BYTES).read_to_end(&mut bytes).is_err() {
                continue;
            }
            if self.add(bytes, None) {
                break;
            }
        }
    }
}

/// An image reference found in text.
#[derive(Debug, PartialEq, Eq)]
struct ImageRef {
    /// Byte offset of the reference in the text, to keep document order.
    at: usize,
    src: String,
    alt: Option<String>,
}

fn read_text(path: &Path) -> Option<String> {
    let bytes = read_capped(path)?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_capped(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_READ_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_READ_BYTES).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// The local file a reference points to, or `None` for URLs and absolute paths.
fn local_target(dir: &Path, src: &str) -> Option<PathBuf> {
    let src = src.trim();
    // Drop "#fragment" and "?query".
    let src = src.split(['#', '?']).next().unwrap_or_default();
    if src.is_empty() || src.starts_with('/') || src.starts_with('\\') {
        return None;
    }
    // A scheme ("http:", "data:", "file:", "C:") is not a relative path.
    if let Some(colon) = src.find(':') {
        if !src[..colon].contains('/') {
            return None;
        }
    }
    let decoded = percent_decode(src)?;
    let relative = Path::new(&decoded);
    if relative.is_absolute() {
        return None;
    }
    Some(dir.join(relative))
}

/// Decodes `%XX` escapes (as in `mi%20imagen.png`); `None` when the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Markdown images: `![alt](src)`, `![alt](<src with spaces>)`, `![alt](src "title")`.
fn markdown_images(text: &str) -> Vec<ImageRef> {
    let mut refs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("![") {
        let at = text.len() - rest.len() + start;
        rest = &rest[start + 2..];
        let Some(close) = find_closing_bracket(rest) else {
            break;
        };
        let alt = &rest[..close];
        let after = &rest[close + 1..];
        let Some(inner) = after.strip_prefix('(') else {
            continue;
        };
        let Some(end) = inner.find(')') else { continue };
        let target = inner[..end].trim();
        let src = if let Some(angled) = target.strip_prefix('<') {
            angled.split('>').next().unwrap_or_default()
        } else {
            target.split_whitespace().next().unwrap_or_default()
        };
        if !src.is_empty() {
            refs.push(ImageRef {
                at,
                src: src.to_string(),
                alt: Some(alt.trim().to_string()).filter(|a| !a.is_empty()),
            });
        }
        rest = &inner[end + 1..];
    }
    refs
}

/// The position of the `]` closing an alt text, allowing nested brackets.
fn find_closing_bracket(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' if depth == 0 => return Some(i),
            ']' => depth -= 1,
            '\n' if s[..i].ends_with('\n') => return None, // a blank line ends the paragraph
            _ => {}
        }
    }
    None
}

/// HTML images: the `src` and `alt` attributes of every `<img>` tag.
fn html_images(text: &str) -> Vec<ImageRef> {
    let lower = text.to_ascii_lowercase();
    let mut refs = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("<img") {
        let at = from + pos;
        let start = at + 4;
        let end = lower[start..].find('>').map_or(text.len(), |e| start + e);
        from = end;
        // "<imgx" is another tag.
        if !text[start..].starts_with(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>') {
            continue;
        }
        let attrs = attributes(&text[start..end]);
        let get = |name: &str| {
            attrs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if let Some(src) = get("src").filter(|s| !s.trim().is_empty()) {
            let alt = get("alt")
                .map(|a| decode_entities(a.trim()))
                .filter(|a| !a.is_empty());
            refs.push(ImageRef {
                at,
                src: decode_entities(&src),
                alt,
            });
        }
    }
    refs
}

/// `name=value` pairs of a tag; values may be double-quoted, single-quoted or bare.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut rest = tag.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_ascii_whitespace() || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after_eq) = rest.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            let (v, tail) = match after_eq.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after_eq[1..];
                    let close = body.find(q).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or_default())
                }
                _ => {
                    let close = after_eq
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(after_eq.len());
                    (&after_eq[..close], &after_eq[close..])
                }
            };
            value = v.to_string();
            rest = tail;
        }
        if !name.is_empty() {
            attrs.push((name.to_string(), value));
        }
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
    }
    attrs
}

/// The few entities found in attribute values.
fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// JPEG streams embedded in a PDF: image XObjects whose only filter is `DCTDecode` (their
/// stream bytes are a complete JPEG file).
fn pdf_jpegs(bytes: &[u8]) -> Vec<Vec<u8>> {
    // lopdf may panic on hostile input; a broken PDF must only mean "no pictures".
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Ok(document) = lopdf::Document::load_mem(bytes) else { return Vec::new() };
        let mut jpegs = Vec::new();
        for object in document.objects.values() {
            let Ok(stream) = object.as_stream() else { continue };
            let is_image = stream
                .dict
                .get(b"Subtype")
                .and_then(|s| s.as_name())
                .is_ok_and(|name| name == b"Image");
            let is_dct = match stream.dict.get(b"Filter") {
                Ok(lopdf::Object::Name(name)) => name == b"DCTDecode",
                Ok(lopdf::Object::Array(filters)) => {
                    matches!(filters.as_slice(), [lopdf::Object::Name(name)] if name == b"DCTDecode")
                }
                _ => false,
            };
            if is_image && is_dct {
                jpegs.push(stream.content.clone());
            }
        }
        jpegs
    }))
    .unwrap_or_default()
}
