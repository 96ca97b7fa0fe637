//! Answer writers.
//!
//! Every writer implements [`raymundo_core::Answerer`]. The [`ExtractiveAnswerer`] needs no
//! language model: it picks the sentences of the retrieved passages that best match the
//! question and cites them, so an answer is always grounded in the company's own words.
//! It is the default when no LLM is configured and the provider of last resort after.

pub mod chat;
mod extractive;
mod http;
pub mod ollama;
pub mod openai;
pub mod retry;

pub use chat::{ChatMessage, ChatProvider, ChatRequest, Completion, LlmError, Role};
pub use extractive::ExtractiveAnswerer;
pub use http::api_key_from;
pub use ollama::OllamaProvider;
pub use openai::OpenAiProvider;
pub use retry::{with_retries, FailedAttempt, RetryPolicy};
