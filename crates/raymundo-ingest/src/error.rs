//! The crate's one error type.

use std::path::PathBuf;

/// What can go wrong while listing, hashing or loading documents.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A file or folder could not be read (missing, permissions, I/O failure).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O cause.
        #[source]
        source: std::io::Error,
    },
    /// The file was left out on purpose: unsupported type, no extractable text, damaged or
    /// password-protected. Not fatal: the rest of the documents are still indexed.
    #[error("skipped {path}: {reason}")]
    Skipped {
        /// Path relative to the documents folder.
        path: String,
        /// Why, in plain English (e.g. `PDF has no extractable text (scanned image?)`).
        reason: String,
    },
}

impl IngestError {
    /// Whether this is a deliberate skip (as opposed to an I/O failure).
    pub fn is_skipped(&self) -> bool {
        matches!(self, Self::Skipped { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn skipped(path: &str, reason: impl Into<String>) -> Self {
        Self::Skipped {
            path: path.to_string(),
            reason: reason.into(),
        }
    }
}
