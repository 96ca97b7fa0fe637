//! 8-bit block-quantised matrices and the integer matrix products Raymundo's models spend
//! their time in, shared by the sentence encoder (`raymundo-embed`) and the chat model
//! (`raymundo-qwen`).
//!
//! Values are quantised in blocks of [`BLOCK`] sharing one `f32` scale (the layout llama.cpp
//! calls Q8_0): [`Q8Rows`] holds rows of them, for activations and for the chat model's
//! weights. [`PackedQ8`] holds a weight matrix interleaved for the AVX2 matrix product, eight
//! output rows side by side, so that many activation rows (the tokens of a batch) are
//! multiplied with it at a time. The kernels are chosen once per process for the CPU
//! ([`Kernel::detect`]): AVX-512 VNNI, AVX2, or portable loops.

pub mod dot;
pub mod packed;
pub mod rows;
#[cfg(target_arch = "x86_64")]
pub mod vnni;

pub use dot::Kernel;
pub use packed::PackedQ8;
pub use rows::{Q8Rows, BLOCK};
