//! The embedding crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while fetching, verifying, loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O cause.
        source: std::io::Error,
    },
    /// A downloaded or cached file has the wrong checksum.
    #[error("checksum mismatch for {path}: expected sha256 {expected}, got {actual}")]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The pinned SHA-256.
        expected: String,
        /// What the file hashed to.
        actual: String,
    },
    /// No source could provide the model.
    #[error("could not fetch model {model}: {details}")]
    Fetch {
        /// Model name.
        model: String,
        /// What each source said.
        details: String,
    },
    /// The model is not in the cache and fetching was not allowed.
    #[error("model {model} is not in the cache ({dir}); run `raymundo model fetch {model}`")]
    NotCached {
        /// Model name.
        model: String,
        /// Cache folder that was searched.
        dir: PathBuf,
    },
    /// The weights file is malformed.
    #[error("invalid model file {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The tokenizer failed to load or to encode.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The tensor library failed.
    #[error("model computation: {0}")]
    Candle(#[from] candle_core::Error),
}

impl EmbedError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
