//! What can go wrong loading or running the model.

use std::path::PathBuf;

/// A failure of the local model, naming the file or the limit involved.
#[derive(Debug, thiserror::Error)]
pub enum QwenError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what it should be (not GGUF, another architecture, a missing tensor).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The prompt does not fit, or another limit of the context was hit.
    #[error("context: {0}")]
    Context(String),
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The model files could not be fetched.
    #[error("fetching the model: {0}")]
    Fetch(String),
}
