//! Raymundo's shared vocabulary.
//!
//! Every other crate depends on this one and on nothing else of ours: it holds the domain
//! types that travel through the pipeline ([`Document`] -> [`Chunk`] -> [`Hit`] -> [`Answer`]),
//! the small `Send + Sync` traits at the seams ([`TokenCounter`], [`Embedder`], [`Answerer`]),
//! and the layered project configuration ([`Config`]). Library crates implement the traits;
//! only the `raymundo` binary picks the concrete implementations and wires them together.

pub mod channel_text;
mod config;
pub mod conversation;
pub mod followup;
mod llm_config;
mod server_config;
pub mod text;
mod types;

pub use config::{
    AnswerConfig, ChunkingConfig, Config, ConfigError, EmbeddingConfig, EmbeddingPrecision, Fusion,
    IndexBackend, IndexConfig, IntentsConfig, ModelChoice, PathsConfig, PiiConfig, RetrievalConfig,
    CONFIG_FILE, DEFAULT_DENSE_WEIGHT,
};
pub use conversation::{
    ConversationState, MemoryState, PendingIntent, Remembered, Speaker, StateError,
};
pub use llm_config::{LlmConfig, LocalModelConfig, ProviderConfig, ProviderKind};
pub use server_config::ServerConfig;
pub use types::{Answer, Chunk, Document, Hit, SourceRef};

/// Counts tokens the way the embedding model will see them.
///
/// The chunker uses it so that chunk sizes are measured in the model's own tokens and no
/// chunk ever exceeds what the model can read.
pub trait TokenCounter: Send + Sync {
    /// Number of tokens of `text` without special tokens or prefixes.
    fn count_tokens(&self, text: &str) -> usize;
    /// The longest content (in tokens, without specials and prefixes) the model reads whole.
    fn max_content_tokens(&self) -> usize;
}

/// Turns text into L2-normalised sentence vectors.
pub trait Embedder: TokenCounter {
    /// Stable identifier of the model (name and pinned revision), stored in every index.
    fn model_id(&self) -> &str;
    /// Vector dimension.
    fn dim(&self) -> usize;
    /// Embeds document passages (the model's passage prefix, if any, is applied here).
    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedFailure>;
    /// Embeds one search query (the model's query prefix, if any, is applied here).
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedFailure>;
}

/// Writes the reply to a question from the retrieved passages.
///
/// The extractive answerer implements it today; LLM providers slot in behind the same trait.
pub trait Answerer: Send + Sync {
    /// Short name of the implementation, recorded with every answer (e.g. `extractive`).
    fn name(&self) -> &str;
    /// Answers `question` from `hits` (already judged in scope, best first).
    fn answer(&self, question: &str, hits: &[Hit]) -> Result<Answer, AnswerFailure>;
}

/// An embedding failure, with the cause in words.
#[derive(Debug, thiserror::Error)]
#[error("embedding failed: {0}")]
pub struct EmbedFailure(pub String);

/// An answering failure, with the cause in words.
#[derive(Debug, thiserror::Error)]
#[error("answering failed: {0}")]
pub struct AnswerFailure(pub String);

/// Lowercase hexadecimal SHA-256 is the content hash used across Raymundo; this helper
/// formats raw digest bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}
