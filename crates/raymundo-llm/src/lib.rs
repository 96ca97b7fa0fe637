//! Answer writers.
//!
//! Every writer implements [`raymundo_core::Answerer`]. The [`ExtractiveAnswerer`] needs no
//! language model: it picks the sentences of the retrieved passages that best match the
//! question and cites them, so an answer is always grounded in the company's own words.
//! It is the default when no LLM is configured and the provider of last resort after.

pub mod chat;
mod extractive;

pub use chat::{ChatMessage, ChatProvider, ChatRequest, Completion, LlmError, Role};
pub use extractive::ExtractiveAnswerer;
