//! A Qwen2-family chat model run in-process.
//!
//! The weights come from a GGUF file (any of llama.cpp's quantisations), are re-quantised to
//! one 8-bit format ([`raymundo_q8::Q8Rows`]) and multiplied with runtime-dispatched integer
//! kernels ([`raymundo_q8::Kernel`]); the forward pass ([`model`]) keeps a key/value cache so
//! that a prompt sharing its start with the previous one (the system text) is not computed
//! twice.

pub mod catalog;
mod error;
pub mod model;
mod weights_file;

pub use catalog::{local_model, LocalModelFiles, LocalModelSpec, LOCAL_MODELS};
pub use error::QwenError;
pub use model::{Cache, Config, Model};
pub mod generate;

pub use generate::{ChatModel, Generated, Options};
