//! A BERT encoder for sentence embeddings, shaped for throughput on a few CPU cores.
//!
//! It computes what candle-transformers' `BertModel` computes (post-norm BERT with erf GELU,
//! token type 0 everywhere) followed by mean pooling, but lays the work out differently:
//!
//! - **No padding.** The tokens of all sequences in a batch are packed into one `(tokens,
//!   hidden)` matrix. The dense layers, which are most of the work, run on that matrix as
//!   single large matrix products; only attention looks at sequence boundaries, and each
//!   sequence attends over its own tokens, so there is no attention mask and no work on pads.
//! - **Fused projections.** Query, key and value are one `(hidden, 3 * hidden)` product, with
//!   the `1 / sqrt(head_dim)` attention scale folded into the query weights and bias.
//! - **Fused element-wise passes** ([`crate::kernels`]): bias + residual + layer norm, bias +
//!   GELU, and softmax are each one vectorised pass over memory instead of a chain of
//!   tensor operations that each allocate and traverse their result.
//! - **Parallelism where the work is.** Matrix products go to candle (the `gemm` crate, which
//!   uses every core); attention runs one sequence per task on rayon's pool, and element-wise
//!   passes split their rows across it.

use crate::kernels::{self, Norm};
use candle_core::{bail, DType, Device, Result, Storage, Tensor};
use rayon::prelude::*;
use std::collections::HashMap;

/// Rows handed to one rayon task in the element-wise passes.
const ROWS_PER_TASK: usize = 32;

/// The hyper-parameters the encoder needs, from `config.json` or the E5S1 header.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BertConfig {
    /// Hidden size.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Feed-forward size.
    pub intermediate_size: usize,
    /// Maximum positions.
    pub max_position_embeddings: usize,
    /// Layer-norm epsilon.
    pub layer_norm_eps: f64,
    /// Activation; only `gelu` (the erf form) is supported.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Position embeddings; only `absolute` is supported.
    #[serde(default = "default_position")]
    pub position_embedding_type: String,
}

fn default_act() -> String {
    "gelu".into()
}

fn default_position() -> String {
    "absolute".into()
}

struct Layer {
    /// `(hidden, 3 * hidden)`: query (pre-scaled), key and value projections side by side.
    qkv: Tensor,
    qkv_b: Vec<f32>,
    out: Tensor,
    out_b: Vec<f32>,
    norm1: Norm,
    up: Tensor,
    up_b: Vec<f32>,
    down: Tensor,
    down_b: Vec<f32>,
    norm2: Norm,
}

/// The encoder: token ids in, mean-pooled L2-normalised sentence vectors out.
pub(crate) struct BertEncoder {
    hidden: usize,
    heads: usize,
    max_positions: usize,
    word: Vec<f32>,
    vocab: usize,
    /// Position embeddings with the token-type-0 embedding already added.
    pos: Vec<f32>,
    emb_norm: Norm,
    layers: Vec<Layer>,
    arch: pulp::Arch,
}

/// Weights by Hugging Face name, accepting an optional `bert.` prefix.
struct Weights {
    tensors: HashMap<String, Tensor>,
}

impl Weights {
    fn get(&self, name: &str) -> Result<Tensor> {
        let t = self
            .tensors
            .get(name)
            .or_else(|| self.tensors.get(&format!("bert.{name}")))
            .ok_or_else(|| candle_core::Error::Msg(format!("missing weight {name}")))?;
        t.to_dtype(DType::F32)
    }

    fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Tensor> {
        let t = self.get(name)?;
        if t.dims() != [rows, cols] {
            bail!(
                "weight {name} has shape {:?}, expected [{rows}, {cols}]",
                t.dims()
            );
        }
        Ok(t)
    }

    fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        let t = self.get(name)?;
        if t.dims() != [len] {
            bail!("weight {name} has shape {:?}, expected [{len}]", t.dims());
        }
        t.to_vec1()
    }

    fn norm(&self, prefix: &str, len: usize, eps: f32) -> Result<Norm> {
        Ok(Norm {
            w: self.vector(&format!("{prefix}.weight"), len)?,
            b: self.vector(&format!("{prefix}.bias"), len)?,
            eps,
        })
    }
}

/// `w` is `(out, in)` as stored; the products want `(in, out)`, laid out contiguously.
fn transposed(w: &Tensor) -> Result<Tensor> {
    w.t()?.contiguous()
}

impl BertEncoder {
    /// Builds the encoder from Hugging Face-named tensors.
    pub(crate) fn new(config: &BertConfig, tensors: HashMap<String, Tensor>) -> Result<Self> {
        if config.hidden_act != "gelu" {
            bail!("unsupported activation {:?}", config.hidden_act);
        }
        if config.position_embedding_type != "absolute" {
            bail!(
                "unsupported position embeddings {:?}",
                config.position_embedding_type
            );
        }
        let h = config.hidden_size;
        let heads = config.num_attention_heads;
        if heads == 0 || !h.is_multiple_of(heads) {
            bail!("hidden size {h} is not a multiple of {heads} heads");
        }
        let ff = config.intermediate_size;
        let eps = config.layer_norm_eps as f32;
        let w = Weights { tensors };

        let word_t = w.get("embeddings.word_embeddings.weight")?;
        let (vocab, wh) = word_t.dims2()?;
        if wh != h {
            bail!("word embeddings are {wh} wide, hidden size is {h}");
        }
        let word = word_t.flatten_all()?.to_vec1()?;
        let max_positions = config.max_position_embeddings;
        let pos = w.matrix("embeddings.position_embeddings.weight", max_positions, h)?;
        let type0 = w
            .get("embeddings.token_type_embeddings.weight")?
            .get(0)?
            .unsqueeze(0)?;
        let pos = pos.broadcast_add(&type0)?.flatten_all()?.to_vec1()?;
        let emb_norm = w.norm("embeddings.LayerNorm", h, eps)?;

        let scale = 1.0 / ((h / heads) as f64).sqrt();
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let q = (w.matrix(&format!("{p}.attention.self.query.weight"), h, h)? * scale)?;
            let k = w.matrix(&format!("{p}.attention.self.key.weight"), h, h)?;
            let v = w.matrix(&format!("{p}.attention.self.value.weight"), h, h)?;
            let qkv = transposed(&Tensor::cat(&[&q, &k, &v], 0)?)?;
            let mut qkv_b = w.vector(&format!("{p}.attention.self.query.bias"), h)?;
            qkv_b.iter_mut().for_each(|b| *b *= scale as f32);
            qkv_b.extend(w.vector(&format!("{p}.attention.self.key.bias"), h)?);
            qkv_b.extend(w.vector(&format!("{p}.attention.self.value.bias"), h)?);
            layers.push(Layer {
                qkv,
                qkv_b,
                out: transposed(&w.matrix(&format!("{p}.attention.output.dense.weight"), h, h)?)?,
                out_b: w.vector(&format!("{p}.attention.output.dense.bias"), h)?,
                norm1: w.norm(&format!("{p}.attention.output.LayerNorm"), h, eps)?,
                up: transposed(&w.matrix(&format!("{p}.intermediate.dense.weight"), ff, h)?)?,
                up_b: w.vector(&format!("{p}.intermediate.dense.bias"), ff)?,
                down: transposed(&w.matrix(&format!("{p}.output.dense.weight"), h, ff)?)?,
                down_b: w.vector(&format!("{p}.output.dense.bias"), h)?,
                norm2: w.norm(&format!("{p}.output.LayerNorm"), h, eps)?,
            });
        }
        Ok(Self {
            hidden: h,
            heads,
            max_positions,
            word,
            vocab,
            pos,
            emb_norm,
            layers,
            arch: pulp::Arch::new(),
        })
    }

    /// Encodes a batch of token-id sequences into mean-pooled, L2-normalised vectors.
    pub(crate) fn embed(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let h = self.hidden;
        let lens: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
        if let Some(&l) = lens.iter().find(|&&l| l == 0 || l > self.max_positions) {
            bail!(
                "sequence of {l} tokens (the model takes 1 to {})",
                self.max_positions
            );
        }
        let tokens: usize = lens.iter().sum();

        // Embeddings: word + position (+ type 0, folded into position), then layer norm.
        let positions: Vec<(u32, usize)> = seqs
            .iter()
            .flat_map(|s| s.iter().enumerate().map(|(p, &id)| (id, p)))
            .collect();
        if let Some(&(id, _)) = positions.iter().find(|(id, _)| *id as usize >= self.vocab) {
            bail!("token id {id} outside the vocabulary of {}", self.vocab);
        }
        let mut x = vec![0.0f32; tokens * h];
        x.par_chunks_mut(ROWS_PER_TASK * h)
            .zip(positions.par_chunks(ROWS_PER_TASK))
            .for_each(|(rows, ids)| {
                for (row, &(id, p)) in rows.chunks_exact_mut(h).zip(ids) {
                    let w = &self.word[id as usize * h..][..h];
                    let pe = &self.pos[p * h..][..h];
                    for ((o, &w), &pe) in row.iter_mut().zip(w).zip(pe) {
                        *o = w + pe;
                    }
                }
                kernels::norm_rows(self.arch, rows, &self.emb_norm);
            });
        let mut x = Tensor::from_vec(x, (tokens, h), &Device::Cpu)?;

        for layer in &self.layers {
            x = self.layer(layer, &x, &lens)?;
        }

        // Mean over each sequence's tokens, then L2 normalisation.
        with_slice(&x, |x| {
            let mut out = Vec::with_capacity(seqs.len());
            let mut start = 0;
            for &l in &lens {
                let mut v = vec![0.0f32; h];
                for row in x[start * h..(start + l) * h].chunks_exact(h) {
                    v.iter_mut().zip(row).for_each(|(v, r)| *v += r);
                }
                let norm = v
                    .iter()
                    .map(|v| v * v)
                    .sum::<f32>()
                    .sqrt()
                    .max(1e-12 * l as f32);
                v.iter_mut().for_each(|v| *v /= norm);
                out.push(v);
                start += l;
            }
            out
        })
    }

    fn layer(&self, layer: &Layer, x: &Tensor, lens: &[usize]) -> Result<Tensor> {
        let h = self.hidden;
        let tokens = x.dim(0)?;

        // Attention, one sequence per task.
        let qkv = x.matmul(&layer.qkv)?;
        let mut ctx = vec![0.0f32; tokens * h];
        let mut parts: Vec<(usize, &mut [f32])> = Vec::with_capacity(lens.len());
        let mut rest = ctx.as_mut_slice();
        let mut start = 0;
        for &l in lens {
            let (part, tail) = rest.split_at_mut(l * h);
            parts.push((start, part));
            rest = tail;
            start += l;
        }
        with_slice(&qkv, |qkv| {
            parts
                .into_par_iter()
                .try_for_each(|(start, out)| self.attention(layer, qkv, start, out))
        })??;
        let ctx = Tensor::from_vec(ctx, (tokens, h), &Device::Cpu)?;

        // Output projection, residual, layer norm.
        let y = ctx.matmul(&layer.out)?;
        let x = with_slice(&y, |y| {
            with_slice(x, |x| {
                self.rows(tokens, h, |out, r| {
                    let (y, x) = (&y[r.clone()], &x[r]);
                    kernels::add_norm(self.arch, out, y, &layer.out_b, x, &layer.norm1)
                })
            })
        })??;
        let x = Tensor::from_vec(x, (tokens, h), &Device::Cpu)?;

        // Feed-forward: up, GELU, down, residual, layer norm.
        let ff = layer.up_b.len();
        let u = x.matmul(&layer.up)?;
        let u = with_slice(&u, |u| {
            self.rows(tokens, ff, |out, r| {
                kernels::bias_gelu(self.arch, out, &u[r], &layer.up_b)
            })
        })?;
        let u = Tensor::from_vec(u, (tokens, ff), &Device::Cpu)?;
        let y = u.matmul(&layer.down)?;
        let x = with_slice(&y, |y| {
            with_slice(&x, |x| {
                self.rows(tokens, h, |out, r| {
                    let (y, x) = (&y[r.clone()], &x[r]);
                    kernels::add_norm(self.arch, out, y, &layer.down_b, x, &layer.norm2)
                })
            })
        })??;
        Tensor::from_vec(x, (tokens, h), &Device::Cpu)
    }

    /// Self-attention of the sequence whose tokens start at row `start` of `qkv`; writes the
    /// context vectors (rows of `hidden`, heads side by side) into `out`.
    fn attention(&self, layer: &Layer, qkv: &[f32], start: usize, out: &mut [f32]) -> Result<()> {
        let h = self.hidden;
        let heads = self.heads;
        let d = h / heads;
        let l = out.len() / h;
        // Bias, and head-major layout: q, k, v as (heads, l, d).
        let mut q = vec![0.0f32; l * h];
        let mut k = vec![0.0f32; l * h];
        let mut v = vec![0.0f32; l * h];
        for (i, row) in qkv[start * 3 * h..(start + l) * 3 * h]
            .chunks_exact(3 * h)
            .enumerate()
        {
            for (dst, part) in [&mut q, &mut k, &mut v].into_iter().zip(0..3) {
                for hd in 0..heads {
                    let src = &row[part * h + hd * d..][..d];
                    let b = &layer.qkv_b[part * h + hd * d..][..d];
                    let o = &mut dst[(hd * l + i) * d..][..d];
                    for ((o, &s), &b) in o.iter_mut().zip(src).zip(b) {
                        *o = s + b;
                    }
                }
            }
        }
        let dev = &Device::Cpu;
        let q = Tensor::from_vec(q, (heads, l, d), dev)?;
        let k = Tensor::from_vec(k, (heads, l, d), dev)?;
        let v = Tensor::from_vec(v, (heads, l, d), dev)?;
        let scores = q.matmul(&k.t()?)?;
        let mut p = vec![0.0f32; heads * l * l];
        with_slice(&scores, |s| kernels::softmax_rows(self.arch, &mut p, s, l))?;
        let p = Tensor::from_vec(p, (heads, l, l), dev)?;
        let c = p.matmul(&v)?;
        with_slice(&c, |c| {
            for hd in 0..heads {
                for i in 0..l {
                    out[i * h + hd * d..][..d].copy_from_slice(&c[(hd * l + i) * d..][..d]);
                }
            }
        })
    }

    /// A new `(rows, width)` buffer filled in parallel by `f(chunk, element range of chunk)`.
    fn rows<F>(&self, rows: usize, width: usize, f: F) -> Vec<f32>
    where
        F: Fn(&mut [f32], std::ops::Range<usize>) + Sync,
    {
        let mut out = vec![0.0f32; rows * width];
        let chunk = ROWS_PER_TASK * width;
        out.par_chunks_mut(chunk).enumerate().for_each(|(i, o)| {
            let start = i * chunk;
            let len = o.len();
            f(o, start..start + len)
        });
        out
    }
}

/// Runs `f` on the contiguous f32 data of a CPU tensor.
fn with_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        bail!("the encoder runs on the CPU");
    };
    if !layout.is_contiguous() {
        bail!("expected a contiguous tensor");
    }
    let data = cpu.as_slice::<f32>()?;
    let start = layout.start_offset();
    Ok(f(&data[start..start + t.elem_count()]))
}
