//! A Qwen2-family chat model run in-process.
//!
//! The weights come from a GGUF file (any of llama.cpp's quantisations), are re-quantised to
//! one 8-bit format ([`q8`]) and multiplied with runtime-dispatched integer kernels
//! ([`dot`]); the forward pass ([`model`]) keeps a key/value cache so that a prompt sharing
//! its start with the previous one (the system text) is not computed twice.

pub mod catalog;
pub mod dot;
mod error;
pub mod model;
pub mod q8;
#[cfg(target_arch = "x86_64")]
pub mod vnni;
mod weights_file;

pub use catalog::{local_model, LocalModelFiles, LocalModelSpec, LOCAL_MODELS};
pub use error::QwenError;
pub use model::{Cache, Config, Model};
pub mod generate;

pub use generate::{ChatModel, Generated, Options};
