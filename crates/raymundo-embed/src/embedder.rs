//! The BERT sentence encoder.

use crate::bert::{BertConfig, BertEncoder};
use crate::fetch::ModelFiles;
use crate::spec::{FileRole, ModelSpec, WeightsFormat};
use crate::{e5s1, EmbedError};
use candle_core::Device;
use raymundo_core::{EmbedFailure, Embedder, EmbeddingPrecision, TokenCounter};
use raymundo_q8::Kernel;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// A BERT-family sentence encoder: mean pooling over the attention mask, then L2 norm.
pub struct BertEmbedder {
    spec: &'static ModelSpec,
    model: BertEncoder,
    tokenizer: Tokenizer,
    /// The same tokenizer without truncation, to measure long texts whole.
    counter: Tokenizer,
    model_id: String,
    batch_size: usize,
    passage_prefix_tokens: usize,
}

impl std::fmt::Debug for BertEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertEmbedder")
            .field("model_id", &self.model_id)
            .finish_non_exhaustive()
    }
}

impl BertEmbedder {
    /// Loads a verified model from the cache. `batch_size` texts go through one forward pass;
    /// `precision` chooses the arithmetic of the dense layers ([`EmbeddingPrecision::Auto`]:
    /// 8-bit where the CPU has AVX2 or AVX-512 VNNI, `f32` elsewhere).
    pub fn load(
        files: &ModelFiles,
        batch_size: usize,
        precision: EmbeddingPrecision,
    ) -> Result<Self, EmbedError> {
        let spec = files.spec;
        let device = Device::Cpu;
        let weights = files
            .path(FileRole::Weights)
            .expect("every origin has weights");
        let tok_path = files
            .path(FileRole::Tokenizer)
            .expect("every origin has a tokenizer");

        let (config, tensors) = match files.origin.format {
            WeightsFormat::Safetensors => {
                let cfg_path = files
                    .path(FileRole::Config)
                    .expect("safetensors origins have a config");
                let text = std::fs::read_to_string(&cfg_path)
                    .map_err(|e| EmbedError::io(format!("reading {}", cfg_path.display()), e))?;
                let config: BertConfig =
                    serde_json::from_str(&text).map_err(|e| EmbedError::Format {
                        path: cfg_path.clone(),
                        message: e.to_string(),
                    })?;
                // Read into memory rather than memory-mapped: no `unsafe`, and a file replaced
                // while loaded cannot change the weights under us. Header checks catch the rest.
                let tensors = candle_core::safetensors::load(&weights, &device)?;
                (config, tensors)
            }
            WeightsFormat::E5s1 => {
                let (header, tensors) = e5s1::read(&weights, &device)?;
                let config: BertConfig = serde_json::from_value(header.bert_config_json())
                    .map_err(|e| EmbedError::Format {
                        path: weights.clone(),
                        message: e.to_string(),
                    })?;
                (config, tensors)
            }
        };
        let kernel = Kernel::detect();
        let kernel = match precision {
            EmbeddingPrecision::F32 => None,
            EmbeddingPrecision::Int8 => Some(kernel),
            // The portable integer loop is slower than candle's f32 products.
            EmbeddingPrecision::Auto => (!matches!(kernel, Kernel::Portable)).then_some(kernel),
        };
        let model = BertEncoder::new(&config, tensors, kernel)?;

        let mut tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| EmbedError::Tokenizer(format!("{}: {e}", tok_path.display())))?;
        // tokenizer.json files ship with truncation at 128 and fixed padding; sentence-
        // transformers reads up to max_seq_length tokens and pads per batch. Do the same.
        tokenizer.with_padding(None);
        let mut counter = tokenizer.clone();
        counter
            .with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: spec.max_seq_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let mut this = Self {
            spec,
            model,
            tokenizer,
            counter,
            model_id: files.model_id(),
            batch_size: batch_size.max(1),
            passage_prefix_tokens: 0,
        };
        this.passage_prefix_tokens = this.count_tokens(spec.passage_prefix.trim_end());
        Ok(this)
    }

    /// The arithmetic of the dense layers: `int8 (avx2)`, `int8 (avx512-vnni)`, `f32`...
    pub fn precision(&self) -> String {
        match self.model.kernel() {
            Some(k) => format!("int8 ({})", k.name()),
            None => "f32".into(),
        }
    }

    /// The model's specification.
    pub fn spec(&self) -> &'static ModelSpec {
        self.spec
    }

    /// Embeds several search queries at once (the model's query prefix applied), in batches.
    pub fn embed_queries(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let prefixed: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{}", self.spec.query_prefix, t))
            .collect();
        self.embed_raw(&prefixed)
    }

    /// Embeds already-prefixed texts, sorted by length into batches; output in input order.
    pub fn embed_raw(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out = vec![Vec::new(); texts.len()];
        for batch in order.chunks(self.batch_size) {
            let seqs: Vec<&[u32]> = batch.iter().map(|&i| encodings[i].get_ids()).collect();
            let vectors = self.model.embed(&seqs)?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

impl TokenCounter for BertEmbedder {
    fn count_tokens(&self, text: &str) -> usize {
        self.counter
            .encode(text, false)
            .map(|e| e.get_ids().len())
            .unwrap_or(usize::MAX)
    }

    fn max_content_tokens(&self) -> usize {
        // Two special tokens and the passage prefix share the model's window.
        self.spec.max_seq_len - 2 - self.passage_prefix_tokens
    }
}

impl Embedder for BertEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dim(&self) -> usize {
        self.spec.dim
    }

    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedFailure> {
        let prefixed: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{}", self.spec.passage_prefix, t))
            .collect();
        self.embed_raw(&prefixed)
            .map_err(|e| EmbedFailure(e.to_string()))
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedFailure> {
        let prefixed = vec![format!("{}{}", self.spec.query_prefix, text)];
        let mut v = self
            .embed_raw(&prefixed)
            .map_err(|e| EmbedFailure(e.to_string()))?;
        Ok(v.pop().unwrap_or_default())
    }
}
