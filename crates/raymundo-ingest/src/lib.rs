//! Document ingestion for Raymundo: from the files in `data/docs/` to chunks ready to embed.
//!
//! The pipeline is a chain of pure functions over one file at a time, so the binary can run
//! it in any order and cache by content hash: [`list_files`] walks the documents folder,
//! [`load_document`] picks a loader by extension (text, Markdown with front matter, PDF, HTML,
//! DOCX), every loader produces the same shape of text — decoded, mojibake repaired, Unicode
//! NFC, tidy whitespace, paragraphs separated by blank lines and headings as `# ...` lines —
//! then [`scrub_pii`] replaces personal data by typed placeholders *before* anything leaves
//! this crate, and the labels (source folder, intent, title) are attached. Finally
//! [`chunk_document`] cuts the text by the embedding model's own tokens (through the core
//! [`TokenCounter`] trait), at headings first, so every chunk fits the model and carries its
//! section. The company's own public contacts can be kept through a [`PiiAllowlist`]
//! ([`load_document_with`]). Files that cannot be used are not errors of the run: they come
//! back as [`IngestError::Skipped`] with a plain-English reason. Parsing is tolerant by design
//! (a hand-written HTML walker, `quick-xml` for DOCX, `pdf-extract` guarded against panics),
//! and nothing here does I/O beyond reading the given files.

mod chunker;
mod email_thread;
mod error;
mod files;
mod language;
mod loaders;
mod normalize;
mod pii;

use raymundo_core::Document;
use std::path::Path;

pub use chunker::chunk_document;
pub use email_thread::{company_domains, mark_speakers};
pub use error::IngestError;
pub use files::{hash_file, list_files};
pub use language::detect_language;
pub use loaders::{pdf_child_main, read_pdfs_in_child, PdfChild, SUPPORTED_EXTENSIONS};
pub use normalize::{normalize_str, normalize_text};
#[cfg(fuzzing)]
pub use pii::scrub_pii_counting;
pub use pii::{scrub_pii, scrub_pii_with, PiiAllowlist, PiiCounts, PiiKind};
pub use raymundo_core::{Chunk, ChunkingConfig, TokenCounter};

/// A loaded document and what was scrubbed from it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedDocument {
    /// The normalised, PII-scrubbed, labelled document.
    pub document: Document,
    /// Personal data replaced in its text and title.
    pub pii: PiiCounts,
}

/// Options of [`load_document_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Values the PII scrubber keeps (the company's own public phone numbers and addresses).
    pub pii_allowlist: PiiAllowlist,
    /// The company's e-mail domains: in an e-mail thread, messages from other domains are
    /// marked as quoted (`> `), so they are searched but never given as the answer
    /// ([`mark_speakers`]; empty: the top message's sender is the company).
    pub company_domains: Vec<String>,
}

/// Loads one file: detects its type by extension, extracts and normalises the text, reads
/// Markdown front matter, marks the messages of an e-mail thread that the company did not
/// write as quoted, scrubs PII and labels the document.
///
/// `rel_path` is the path relative to `docs_dir` with `/` separators (as returned by
/// [`list_files`]) and becomes [`Document::path`]; `abs_path` is where the bytes are read.
/// Labels: `source` is the front matter's `source`, else the first folder of `rel_path`
/// (lowercased), else `other`; `intent` comes from front matter. The title is the front
/// matter's `title`, else the `Subject:` of an e-mail, else the first heading, else the HTML
/// `<title>` or DOCX title property, else the file stem.
///
/// Returns [`IngestError::Skipped`] for unsupported extensions, scanned, encrypted or damaged
/// PDFs, unreadable DOCX files and files without text; [`IngestError::Io`] if the file cannot
/// be read.
pub fn load_document(
    docs_dir: &Path,
    rel_path: &str,
    abs_path: &Path,
) -> Result<LoadedDocument, IngestError> {
    load_document_with(docs_dir, rel_path, abs_path, &LoadOptions::default())
}

/// [`load_document`] with options (a PII allowlist).
pub fn load_document_with(
    docs_dir: &Path,
    rel_path: &str,
    abs_path: &Path,
    options: &LoadOptions,
) -> Result<LoadedDocument, IngestError> {
    let _ = docs_dir; // Labels come from `rel_path`; the folder is part of the call for context.
    loaders::check_supported(rel_path).map_err(|r| IngestError::skipped(rel_path, r))?;
    let bytes = std::fs::read(abs_path).map_err(|e| IngestError::io(abs_path, e))?;
    load_bytes(rel_path, &bytes, options)
}

/// [`load_document_with`] on bytes already read: the type comes from `rel_path`'s extension.
/// PDFs are parsed in this process (the build reads them in a child process with limits, see
/// [`read_pdfs_in_child`]).
pub fn load_bytes(
    rel_path: &str,
    bytes: &[u8],
    options: &LoadOptions,
) -> Result<LoadedDocument, IngestError> {
    // `extract` refuses an unsupported extension itself.
    let extracted =
        loaders::extract(rel_path, bytes).map_err(|r| IngestError::skipped(rel_path, r))?;
    let allow = &options.pii_allowlist;
    // Who speaks is read from the addresses, so before they are scrubbed.
    let marked = loaders::looks_like_email(&extracted.text)
        .then(|| mark_speakers(&extracted.text, &options.company_domains));
    let (text, mut pii) = scrub_pii_with(marked.as_deref().unwrap_or(&extracted.text), allow);
    if !text.chars().any(char::is_alphanumeric) {
        return Err(IngestError::skipped(rel_path, "file has no text"));
    }

    let front = extracted.front;
    let title_source = front
        .title
        .clone()
        .or_else(|| loaders::email_subject(&text))
        .or_else(|| first_heading(&text))
        .or(extracted.meta_title)
        .unwrap_or_else(|| file_stem(rel_path));
    let (title, title_pii) =
        scrub_pii_with(&normalize_str(&title_source).replace('\n', " "), allow);
    pii.merge(&title_pii);

    let source = front
        .source
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| source_label(rel_path));
    let intent = front
        .intent
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());

    Ok(LoadedDocument {
        document: Document {
            path: rel_path.to_string(),
            source,
            intent,
            title,
            text,
            content_hash: files::hash_bytes(bytes),
        },
        pii,
    })
}

/// The first folder under the documents folder, lowercased; `other` for top-level files.
pub fn source_label(rel_path: &str) -> String {
    match rel_path.split_once('/') {
        Some((folder, _)) if !folder.is_empty() => folder.to_lowercase(),
        _ => "other".to_string(),
    }
}

fn first_heading(text: &str) -> Option<String> {
    let mut in_fence = false;
    for line in text.lines() {
        if line.starts_with("```") || line.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let title = line[hashes..].trim().trim_end_matches('#').trim();
            if !title.is_empty() {
                return Some(title.to_string());
            }
        }
    }
    None
}

fn file_stem(rel_path: &str) -> String {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests;
