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
//! - **Fused element-wise passes** ([`crate::kernels`]): bias + residual + layer norm and
//!   bias + GELU are each one vectorised pass over memory instead of a chain of tensor
//!   operations that each allocate and traverse their result.
//! - **Own attention kernel** ([`crate::attention`]): scores, softmax and context of four
//!   queries at a time, on transposed keys and values, with no per-head allocation.
//! - **Buffers reused** from layer to layer within a batch.
//! - **8-bit dense layers** where the CPU has integer SIMD: the weights of the four dense
//!   products are quantised once at load into [`PackedQ8`] (blocks of 32 columns with their
//!   own scale), each layer's input is quantised per row and block as it arrives, and the
//!   products run on `raymundo-q8`'s kernels, the ones the chat model uses. The `f32` path
//!   (candle's matrix products) is kept for CPUs without AVX2 and for `precision = "f32"`.
//! - **Parallelism where the work is.** Matrix products use every core (rayon, or the `gemm`
//!   crate under candle); attention runs one sequence per task on rayon's pool (a thread
//!   keeps its attention buffers from one sequence to the next), and element-wise passes
//!   split their rows across it.

use crate::attention;
use crate::kernels::{self, Norm};
use candle_core::{bail, DType, Device, Result, Storage, Tensor};
use raymundo_q8::{Kernel, PackedQ8, Q8Rows, BLOCK};
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

/// The weights of one dense product, in the form its arithmetic wants.
enum Linear {
    /// `(in, out)`, contiguous, for candle's `f32` matrix product.
    F32(Tensor),
    /// One packed row per output, for the 8-bit kernels.
    Int8(PackedQ8),
}

impl Linear {
    /// `w` is `(out, in)` as stored. With a kernel (and block-aligned inputs) the weights are
    /// quantised to 8 bits; otherwise they stay `f32`.
    fn new(w: &Tensor, kernel: Option<Kernel>) -> Result<Self> {
        let (rows, cols) = w.dims2()?;
        match kernel {
            Some(_) if cols % BLOCK == 0 => {
                let data = w.flatten_all()?.to_vec1::<f32>()?;
                Ok(Self::Int8(PackedQ8::pack(rows, cols, &data)))
            }
            _ => Ok(Self::F32(w.t()?.contiguous()?)),
        }
    }

    /// `x`, `tokens` rows of the input width, times the weights, into `out` (`tokens` rows
    /// of the output width). `xq` holds the quantised input (its width is the input's).
    fn forward(
        &self,
        x: &[f32],
        tokens: usize,
        xq: &mut Q8Rows,
        out: &mut Vec<f32>,
        kernel: Option<Kernel>,
    ) -> Result<()> {
        match (self, kernel) {
            (Self::Int8(w), Some(kernel)) => {
                xq.requantize(tokens, x);
                out.resize(tokens * w.rows(), 0.0);
                w.matmul(kernel, xq, out);
            }
            (Self::F32(w), _) => {
                let x = Tensor::from_slice(x, (tokens, w.dim(0)?), &Device::Cpu)?;
                let y = x.matmul(w)?;
                out.clear();
                with_slice(&y, |y| out.extend_from_slice(y))?;
            }
            (Self::Int8(_), None) => bail!("8-bit weights without a kernel"),
        }
        Ok(())
    }
}

/// The buffers of one forward pass, reused by every layer (fresh buffers of this size would
/// each be zeroed by the kernel page by page, measured at 15% of the time).
struct Scratch {
    /// A layer's input, then the attention context, quantised (`hidden` wide).
    hq: Q8Rows,
    /// The feed-forward activations quantised (`intermediate` wide).
    fq: Q8Rows,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    y: Vec<f32>,
    mid: Vec<f32>,
    ff: Vec<f32>,
}

impl Scratch {
    fn new(hidden: usize, intermediate: usize) -> Self {
        let q8 = |cols| {
            if cols % BLOCK == 0 {
                Q8Rows::quantize(0, cols, &[])
            } else {
                Q8Rows::default()
            }
        };
        Self {
            hq: q8(hidden),
            fq: q8(intermediate),
            qkv: Vec::new(),
            ctx: Vec::new(),
            y: Vec::new(),
            mid: Vec::new(),
            ff: Vec::new(),
        }
    }
}

struct Layer {
    /// Query (pre-scaled), key and value projections as one product of `3 * hidden` outputs.
    qkv: Linear,
    qkv_b: Vec<f32>,
    out: Linear,
    out_b: Vec<f32>,
    norm1: Norm,
    up: Linear,
    up_b: Vec<f32>,
    down: Linear,
    down_b: Vec<f32>,
    norm2: Norm,
}

/// The encoder: token ids in, mean-pooled L2-normalised sentence vectors out.
pub(crate) struct BertEncoder {
    hidden: usize,
    heads: usize,
    intermediate: usize,
    max_positions: usize,
    word: Vec<f32>,
    vocab: usize,
    /// Position embeddings with the token-type-0 embedding already added.
    pos: Vec<f32>,
    emb_norm: Norm,
    layers: Vec<Layer>,
    arch: pulp::Arch,
    /// The 8-bit kernel of the dense products; `None` when they run in `f32`.
    kernel: Option<Kernel>,
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

impl BertEncoder {
    /// Builds the encoder from Hugging Face-named tensors; with a `kernel` the dense layers
    /// are quantised to 8 bits and run on it, without one they stay `f32`.
    pub(crate) fn new(
        config: &BertConfig,
        tensors: HashMap<String, Tensor>,
        kernel: Option<Kernel>,
    ) -> Result<Self> {
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
            let qkv = Linear::new(&Tensor::cat(&[&q, &k, &v], 0)?, kernel)?;
            let mut qkv_b = w.vector(&format!("{p}.attention.self.query.bias"), h)?;
            qkv_b.iter_mut().for_each(|b| *b *= scale as f32);
            qkv_b.extend(w.vector(&format!("{p}.attention.self.key.bias"), h)?);
            qkv_b.extend(w.vector(&format!("{p}.attention.self.value.bias"), h)?);
            layers.push(Layer {
                qkv,
                qkv_b,
                out: Linear::new(
                    &w.matrix(&format!("{p}.attention.output.dense.weight"), h, h)?,
                    kernel,
                )?,
                out_b: w.vector(&format!("{p}.attention.output.dense.bias"), h)?,
                norm1: w.norm(&format!("{p}.attention.output.LayerNorm"), h, eps)?,
                up: Linear::new(
                    &w.matrix(&format!("{p}.intermediate.dense.weight"), ff, h)?,
                    kernel,
                )?,
                up_b: w.vector(&format!("{p}.intermediate.dense.bias"), ff)?,
                down: Linear::new(
                    &w.matrix(&format!("{p}.output.dense.weight"), h, ff)?,
                    kernel,
                )?,
                down_b: w.vector(&format!("{p}.output.dense.bias"), h)?,
                norm2: w.norm(&format!("{p}.output.LayerNorm"), h, eps)?,
            });
        }
        Ok(Self {
            hidden: h,
            heads,
            intermediate: ff,
            max_positions,
            word,
            vocab,
            pos,
            emb_norm,
            layers,
            arch: pulp::Arch::new(),
            kernel,
        })
    }

    /// The 8-bit kernel of the dense products, `None` when they run in `f32`.
    pub(crate) fn kernel(&self) -> Option<Kernel> {
        self.kernel
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
        let mut scratch = Scratch::new(h, self.intermediate);
        for layer in &self.layers {
            self.layer(layer, &mut x, &lens, &mut scratch)?;
        }

        // Mean over each sequence's tokens, then L2 normalisation.
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
        Ok(out)
    }

    /// One encoder layer, `x` (`tokens x hidden`) updated in place.
    fn layer(&self, layer: &Layer, x: &mut [f32], lens: &[usize], s: &mut Scratch) -> Result<()> {
        let h = self.hidden;
        let tokens = x.len() / h;
        let kernel = self.kernel;

        // Attention, one sequence per task.
        layer
            .qkv
            .forward(x, tokens, &mut s.hq, &mut s.qkv, kernel)?;
        s.ctx.resize(tokens * h, 0.0);
        let mut parts: Vec<(usize, &mut [f32])> = Vec::with_capacity(lens.len());
        let mut rest = s.ctx.as_mut_slice();
        let mut start = 0;
        for &l in lens {
            let (part, tail) = rest.split_at_mut(l * h);
            parts.push((start, part));
            rest = tail;
            start += l;
        }
        let qkv = &s.qkv;
        parts
            .into_par_iter()
            .for_each_init(attention::Buffers::default, |buf, (start, out)| {
                let l = out.len() / h;
                let rows = &qkv[start * 3 * h..(start + l) * 3 * h];
                attention::attention(self.arch, rows, &layer.qkv_b, self.heads, out, buf)
            });

        // Output projection, residual, layer norm.
        layer
            .out
            .forward(&s.ctx, tokens, &mut s.hq, &mut s.y, kernel)?;
        s.mid.resize(tokens * h, 0.0);
        let (y, x_in) = (&s.y, &*x);
        self.rows(&mut s.mid, h, |out, r| {
            let (y, x) = (&y[r.clone()], &x_in[r]);
            kernels::add_norm(self.arch, out, y, &layer.out_b, x, &layer.norm1)
        });

        // Feed-forward: up, GELU, down, residual, layer norm.
        let ff = layer.up_b.len();
        layer
            .up
            .forward(&s.mid, tokens, &mut s.hq, &mut s.ff, kernel)?;
        self.rows(&mut s.ff, ff, |u, _| {
            kernels::bias_gelu(self.arch, u, &layer.up_b)
        });
        layer
            .down
            .forward(&s.ff, tokens, &mut s.fq, &mut s.y, kernel)?;
        let (y, mid) = (&s.y, &s.mid);
        self.rows(x, h, |out, r| {
            let (y, mid) = (&y[r.clone()], &mid[r]);
            kernels::add_norm(self.arch, out, y, &layer.down_b, mid, &layer.norm2)
        });
        Ok(())
    }

    /// Fills `out`, rows of `width`, in parallel: `f(chunk, element range of chunk)`.
    fn rows<F>(&self, out: &mut [f32], width: usize, f: F)
    where
        F: Fn(&mut [f32], std::ops::Range<usize>) + Sync,
    {
        let chunk = ROWS_PER_TASK * width;
        out.par_chunks_mut(chunk).enumerate().for_each(|(i, o)| {
            let start = i * chunk;
            let len = o.len();
            f(o, start..start + len)
        });
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
