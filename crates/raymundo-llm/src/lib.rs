//! Answer writers.
//!
//! Language models sit behind one trait, [`ChatProvider`]: OpenAI-compatible servers
//! ([`openai`]), Ollama's native API ([`ollama`]) and the in-process Qwen model ([`local`]).
//! [`prompt`] builds what they read (system text, numbered snippets marked as data, recent
//! turns, the message, within the context window); [`chain::AnswerChain`] tries them in
//! order and records each attempt. The [`ExtractiveAnswerer`] needs no language model: it
//! picks the sentences of the retrieved passages that best match the question and cites
//! them. It is the default when no LLM is configured and the provider of last resort.

pub mod chain;
pub mod chat;
mod extractive;
pub mod focus;
pub mod grounding;
mod http;
pub mod injection;
#[cfg(feature = "local")]
pub mod local;
pub mod ollama;
pub mod openai;
pub mod prompt;
mod question;
pub mod retry;

pub use chat::{ChatMessage, ChatProvider, ChatRequest, Completion, LlmError, Role};
pub use extractive::ExtractiveAnswerer;
pub use http::api_key_from;
pub use ollama::OllamaProvider;
pub use openai::OpenAiProvider;
pub use retry::{with_retries, FailedAttempt, RetryPolicy};
