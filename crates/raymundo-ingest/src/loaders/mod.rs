//! One loader per file type: each turns raw bytes into normalised text with `#` heading lines
//! and blank lines between paragraphs, or a plain-English reason to skip the file.

mod docx;
mod html;
mod markdown;
mod pdf;
mod pdf_child;
mod pdf_forms;
mod text;

pub use pdf_child::{pdf_child_main, read_pdfs_in_child, PdfChild};

pub(crate) use text::{email_subject, looks_like_email, EMAIL_HEADERS};

use crate::normalize::{decode, normalize_str, normalize_text};

/// File extensions (lowercase, without the dot) that [`crate::load_document`] reads.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["txt", "md", "markdown", "pdf", "html", "htm", "docx"];

/// Labels a document may carry in its front matter.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct FrontMatter {
    pub source: Option<String>,
    pub intent: Option<String>,
    pub title: Option<String>,
}

/// What a loader extracted from a file.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    /// Normalised text.
    pub text: String,
    /// Front matter labels (Markdown only).
    pub front: FrontMatter,
    /// A title from the file's metadata (HTML `<title>`, DOCX core properties), used when the
    /// text has no heading.
    pub meta_title: Option<String>,
}

/// Lowercase extension of a relative path (`""` when there is none).
pub(crate) fn extension(rel_path: &str) -> String {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_lowercase(),
        _ => String::new(),
    }
}

/// Checks the extension before the file is read.
pub(crate) fn check_supported(rel_path: &str) -> Result<(), String> {
    let ext = extension(rel_path);
    if SUPPORTED_EXTENSIONS.contains(&ext.as_str()) {
        Ok(())
    } else if ext.is_empty() {
        Err("file has no extension, so its type is unknown".to_string())
    } else if matches!(
        ext.as_str(),
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "svg"
    ) {
        Err(format!(
            "image (.{ext}): not indexed; presentations use it when a document shows it"
        ))
    } else {
        Err(format!("unsupported file type .{ext}"))
    }
}

/// Extracts normalised text from `bytes` according to the extension of `rel_path`.
pub(crate) fn extract(rel_path: &str, bytes: &[u8]) -> Result<Extracted, String> {
    check_supported(rel_path)?;
    match extension(rel_path).as_str() {
        "txt" => {
            let decoded = decode(bytes);
            reject_binary(&decoded)?;
            Ok(Extracted {
                text: text::infer_headings(&normalize_str(&decoded)),
                ..Extracted::default()
            })
        }
        "md" | "markdown" => {
            let decoded = decode(bytes);
            reject_binary(&decoded)?;
            let (front, body) = markdown::split_front_matter(&normalize_str(&decoded));
            Ok(Extracted {
                text: normalize_str(&markdown::tidy(&body)),
                front,
                meta_title: None,
            })
        }
        "html" | "htm" => {
            let page = html::html_to_text(&decode(bytes));
            Ok(Extracted {
                text: normalize_str(&page.text),
                front: FrontMatter::default(),
                meta_title: page.title.map(|t| normalize_str(&t)),
            })
        }
        "docx" => {
            let doc = docx::docx_to_text(bytes)?;
            Ok(Extracted {
                text: normalize_str(&doc.text),
                front: FrontMatter::default(),
                meta_title: doc.title.map(|t| normalize_str(&t)),
            })
        }
        "pdf" => Ok(Extracted {
            text: normalize_str(&pdf_child::pdf_text(bytes)?),
            ..Extracted::default()
        }),
        _ => Ok(Extracted {
            text: normalize_text(bytes),
            ..Extracted::default()
        }),
    }
}

/// A renamed binary decodes to text full of control characters.
fn reject_binary(decoded: &str) -> Result<(), String> {
    let sample: Vec<char> = decoded.chars().take(8192).collect();
    let bad = sample
        .iter()
        .filter(|&&c| {
            (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{0C}')) || c == '\u{FFFD}'
        })
        .count();
    if !sample.is_empty() && bad * 20 > sample.len() {
        Err("file looks binary, not text".to_string())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert_eq!(extension("faq/Envios.MD"), "md");
        assert_eq!(extension("a.b/leeme"), "");
        assert_eq!(extension(".bashrc"), "");
        assert_eq!(
            check_supported("x/archivo.xyz").unwrap_err(),
            "unsupported file type .xyz"
        );
        assert!(check_supported("x/LEEME")
            .unwrap_err()
            .contains("no extension"));
        assert!(check_supported("manual/Guía.PDF").is_ok());
    }

    #[test]
    fn binary_renamed_as_text_is_rejected() {
        let bytes: Vec<u8> = (0u8..=255).cycle().take(2000).collect();
        assert_eq!(
            extract("a.txt", &bytes).unwrap_err(),
            "file looks binary, not text"
        );
    }
}
