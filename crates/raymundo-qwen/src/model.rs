//! The Qwen2 decoder: weights from GGUF, the forward pass, and the key/value cache.
//!
//! Per layer: RMS norm, one fused Q/K/V product (with Qwen2's biases), rotary positions
//! (the "NeoX" half-split layout llama.cpp uses for `qwen2`), grouped-query attention over
//! the cache, the output product, a residual; then RMS norm, one fused gate/up product,
//! SiLU gating, the down product and a residual. Only the last position's logits are
//! computed, since generation needs nothing else.

use crate::QwenError;
use candle_core::quantized::gguf_file;
use raymundo_q8::Kernel;
use raymundo_q8::Q8Rows;
use rayon::prelude::*;
use std::path::Path;

/// The shape of a Qwen2 model, read from the GGUF metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Decoder layers.
    pub layers: usize,
    /// Width of the residual stream.
    pub hidden: usize,
    /// Width of the feed-forward layer.
    pub ffn: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Rotary base frequency.
    pub rope_theta: f32,
    /// RMS norm epsilon.
    pub eps: f32,
    /// The longest context the model was trained for.
    pub trained_context: usize,
    /// Vocabulary size.
    pub vocab: usize,
}

pub(crate) struct Layer {
    pub(crate) attn_norm: Vec<f32>,
    pub(crate) qkv: Q8Rows,
    pub(crate) qkv_bias: Vec<f32>,
    pub(crate) out: Q8Rows,
    pub(crate) ffn_norm: Vec<f32>,
    pub(crate) gate_up: Q8Rows,
    pub(crate) down: Q8Rows,
}

/// Every weight of the model, in the 8-bit layout.
pub(crate) struct Weights {
    pub(crate) embed: Q8Rows,
    pub(crate) output: Option<Q8Rows>,
    pub(crate) norm: Vec<f32>,
    pub(crate) layers: Vec<Layer>,
}

/// A loaded model.
pub struct Model {
    /// Its shape.
    pub config: Config,
    /// The architecture's name in the file (`qwen2`).
    pub name: String,
    embed: Q8Rows,
    output: Option<Q8Rows>,
    norm: Vec<f32>,
    layers: Vec<Layer>,
    kernel: Kernel,
    /// `cos`/`sin` of every position up to the context size, `head_dim / 2` each.
    rope: Vec<(f32, f32)>,
    context: usize,
}

/// Keys and values of the positions seen so far, per layer.
#[derive(Debug, Default, Clone)]
pub struct Cache {
    /// The tokens whose keys and values are held.
    pub tokens: Vec<u32>,
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl Cache {
    /// Forgets everything after the first `len` tokens.
    pub fn truncate(&mut self, len: usize, kv_dim: usize) {
        self.tokens.truncate(len);
        for k in &mut self.k {
            k.truncate(len * kv_dim);
        }
        for v in &mut self.v {
            v.truncate(len * kv_dim);
        }
    }
}

fn meta_u(content: &gguf_file::Content, key: &str) -> Result<usize, String> {
    content
        .metadata
        .get(key)
        .ok_or_else(|| format!("metadata {key} is missing"))?
        .to_u32()
        .map(|v| v as usize)
        .map_err(|e| format!("metadata {key}: {e}"))
}

fn meta_f(content: &gguf_file::Content, key: &str, default: f32) -> Result<f32, String> {
    match content.metadata.get(key) {
        None => Ok(default),
        Some(v) => v.to_f32().map_err(|e| format!("metadata {key}: {e}")),
    }
}

impl Config {
    fn from_gguf(content: &gguf_file::Content) -> Result<(Self, String), String> {
        let arch = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if arch != "qwen2" {
            return Err(format!(
                "architecture {arch:?} is not supported; expected a Qwen2-family model (qwen2)"
            ));
        }
        let p = |k: &str| format!("{arch}.{k}");
        let hidden = meta_u(content, &p("embedding_length"))?;
        let heads = meta_u(content, &p("attention.head_count"))?;
        let vocab = content
            .tensor_infos
            .get("token_embd.weight")
            .map(|t| t.shape.dims()[0])
            .ok_or("tensor token_embd.weight is missing")?;
        Ok((
            Self {
                layers: meta_u(content, &p("block_count"))?,
                hidden,
                ffn: meta_u(content, &p("feed_forward_length"))?,
                heads,
                kv_heads: meta_u(content, &p("attention.head_count_kv"))?,
                head_dim: hidden / heads,
                rope_theta: meta_f(content, &p("rope.freq_base"), 10_000.0)?,
                eps: meta_f(content, &p("attention.layer_norm_rms_epsilon"), 1e-6)?,
                trained_context: meta_u(content, &p("context_length")).unwrap_or(32_768),
                vocab,
            },
            arch,
        ))
    }

    /// Width of the keys (and of the values) of one position.
    pub fn kv_dim(&self) -> usize {
        self.kv_heads * self.head_dim
    }
}

struct Reader<'a> {
    content: &'a gguf_file::Content,
    file: std::fs::File,
    path: &'a Path,
}

impl Reader<'_> {
    fn f32s(&mut self, name: &str) -> Result<(Vec<usize>, Vec<f32>), QwenError> {
        let format = |message: String| QwenError::Format {
            path: self.path.to_path_buf(),
            message,
        };
        let q = self
            .content
            .tensor(&mut self.file, name, &candle_core::Device::Cpu)
            .map_err(|e| format(format!("tensor {name}: {e}")))?;
        let t = q
            .dequantize(&candle_core::Device::Cpu)
            .map_err(|e| format(format!("tensor {name}: {e}")))?;
        let dims = t.dims().to_vec();
        let data = t
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| format(format!("tensor {name}: {e}")))?;
        Ok((dims, data))
    }

    fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>, QwenError> {
        let (_, data) = self.f32s(name)?;
        if data.len() != len {
            return Err(QwenError::Format {
                path: self.path.to_path_buf(),
                message: format!("tensor {name} has {} values, expected {len}", data.len()),
            });
        }
        Ok(data)
    }

    fn matrix(&mut self, name: &str, rows: usize, cols: usize) -> Result<Q8Rows, QwenError> {
        let (dims, data) = self.f32s(name)?;
        if dims != [rows, cols] {
            return Err(QwenError::Format {
                path: self.path.to_path_buf(),
                message: format!("tensor {name} has shape {dims:?}, expected [{rows}, {cols}]"),
            });
        }
        Ok(Q8Rows::quantize(rows, cols, &data))
    }
}

impl Model {
    /// Loads a Qwen2 GGUF file; `context` caps the positions the cache can hold.
    pub fn load(path: &Path, context: usize) -> Result<Self, QwenError> {
        let mut file = std::fs::File::open(path).map_err(|source| QwenError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| QwenError::Format {
            path: path.to_path_buf(),
            message: format!("not a GGUF file: {e}"),
        })?;
        let (config, name) = Config::from_gguf(&content).map_err(|message| QwenError::Format {
            path: path.to_path_buf(),
            message,
        })?;
        let c = &config;
        let sidecar = crate::weights_file::sidecar_path(path);
        let weights = match sidecar
            .as_deref()
            .and_then(|p| crate::weights_file::read(p, c))
        {
            Some(w) => w,
            None => {
                let w = convert(&content, file, path, c)?;
                if let Some(p) = &sidecar {
                    crate::weights_file::write(p, &w);
                }
                w
            }
        };
        let Weights {
            embed,
            output,
            norm,
            layers,
        } = weights;
        let context = context.clamp(16, c.trained_context);
        let half = c.head_dim / 2;
        let mut rope = Vec::with_capacity(context * half);
        for pos in 0..context {
            for i in 0..half {
                let freq = c.rope_theta.powf(-2.0 * i as f32 / c.head_dim as f32);
                let angle = pos as f32 * freq;
                rope.push((angle.cos(), angle.sin()));
            }
        }
        Ok(Self {
            config,
            name,
            embed,
            output,
            norm,
            layers,
            kernel: Kernel::detect(),
            rope,
            context,
        })
    }

    /// The positions the cache can hold (prompt and answer together).
    pub fn context(&self) -> usize {
        self.context
    }

    /// The kernel the products run on.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Bytes of weights held in memory.
    pub fn size_bytes(&self) -> usize {
        let layers: usize = self
            .layers
            .iter()
            .map(|l| {
                l.qkv.size_bytes()
                    + l.out.size_bytes()
                    + l.gate_up.size_bytes()
                    + l.down.size_bytes()
            })
            .sum();
        layers + self.embed.size_bytes() + self.output.as_ref().map_or(0, Q8Rows::size_bytes)
    }

    /// An empty cache for this model.
    pub fn new_cache(&self) -> Cache {
        Cache {
            tokens: Vec::new(),
            k: vec![Vec::new(); self.config.layers],
            v: vec![Vec::new(); self.config.layers],
        }
    }

    /// Runs `tokens` after those already in `cache`, appends them to it, and returns the
    /// logits of the last one.
    pub fn forward(&self, tokens: &[u32], cache: &mut Cache) -> Result<Vec<f32>, QwenError> {
        let c = &self.config;
        let start = cache.tokens.len();
        let n = tokens.len();
        if n == 0 {
            return Err(QwenError::Context("no tokens to run".into()));
        }
        if start + n > self.context {
            return Err(QwenError::Context(format!(
                "{} tokens do not fit the context of {}",
                start + n,
                self.context
            )));
        }
        let (hidden, kv) = (c.hidden, c.kv_dim());
        let mut x = vec![0.0f32; n * hidden];
        for (row, &t) in x.chunks_exact_mut(hidden).zip(tokens) {
            if t as usize >= c.vocab {
                return Err(QwenError::Context(format!(
                    "token id {t} is outside the vocabulary"
                )));
            }
            self.embed.dequantize_row(t as usize, row);
        }
        let mut h = vec![0.0f32; n * hidden];
        let mut hq = Q8Rows::quantize(0, hidden, &[]);
        let mut qkv = vec![0.0f32; n * (hidden + 2 * kv)];
        let mut attn = vec![0.0f32; n * hidden];
        let mut proj = vec![0.0f32; n * hidden];
        let mut gate_up = vec![0.0f32; n * 2 * c.ffn];
        let mut act = vec![0.0f32; n * c.ffn];
        let mut act_q = Q8Rows::quantize(0, c.ffn, &[]);
        for (li, layer) in self.layers.iter().enumerate() {
            rms_norm(&x, &layer.attn_norm, c.eps, &mut h);
            hq.requantize(n, &h);
            layer.qkv.matmul(self.kernel, &hq, &mut qkv);
            let width = hidden + 2 * kv;
            for row in qkv.chunks_exact_mut(width) {
                for (v, b) in row.iter_mut().zip(&layer.qkv_bias) {
                    *v += b;
                }
            }
            for (t, row) in qkv.chunks_exact_mut(width).enumerate() {
                let pos = start + t;
                let (q, rest) = row.split_at_mut(hidden);
                let (k, v) = rest.split_at_mut(kv);
                for head in q.chunks_exact_mut(c.head_dim) {
                    self.rotate(head, pos);
                }
                for head in k.chunks_exact_mut(c.head_dim) {
                    self.rotate(head, pos);
                }
                cache.k[li].extend_from_slice(k);
                cache.v[li].extend_from_slice(v);
            }
            self.attention(&qkv, &cache.k[li], &cache.v[li], start, &mut attn);
            hq.requantize(n, &attn);
            layer.out.matmul(self.kernel, &hq, &mut proj);
            for (x, p) in x.iter_mut().zip(&proj) {
                *x += p;
            }
            rms_norm(&x, &layer.ffn_norm, c.eps, &mut h);
            hq.requantize(n, &h);
            layer.gate_up.matmul(self.kernel, &hq, &mut gate_up);
            gate_up
                .par_chunks_exact(2 * c.ffn)
                .zip(act.par_chunks_exact_mut(c.ffn))
                .for_each(|(row, out)| {
                    let (g, u) = row.split_at(c.ffn);
                    for ((o, g), u) in out.iter_mut().zip(g).zip(u) {
                        *o = g / (1.0 + (-g).exp()) * u;
                    }
                });
            act_q.requantize(n, &act);
            layer.down.matmul(self.kernel, &act_q, &mut proj);
            for (x, p) in x.iter_mut().zip(&proj) {
                *x += p;
            }
        }
        cache.tokens.extend_from_slice(tokens);
        let last = &x[(n - 1) * hidden..];
        let mut normed = vec![0.0f32; hidden];
        rms_norm(last, &self.norm, c.eps, &mut normed);
        let lq = Q8Rows::quantize(1, hidden, &normed);
        let mut logits = vec![0.0f32; c.vocab];
        self.output
            .as_ref()
            .unwrap_or(&self.embed)
            .matmul(self.kernel, &lq, &mut logits);
        Ok(logits)
    }

    /// Rotary position embedding of one head, NeoX layout (pairs `i` and `i + d/2`).
    fn rotate(&self, head: &mut [f32], pos: usize) {
        let half = head.len() / 2;
        let table = &self.rope[pos * half..(pos + 1) * half];
        let (a, b) = head.split_at_mut(half);
        for ((x0, x1), (cos, sin)) in a.iter_mut().zip(b.iter_mut()).zip(table) {
            let (u, v) = (*x0, *x1);
            *x0 = u * cos - v * sin;
            *x1 = u * sin + v * cos;
        }
    }

    /// Causal grouped-query attention of the `n` new positions (queries in `qkv`) over the
    /// whole cache; writes `n x hidden` values to `out`.
    fn attention(&self, qkv: &[f32], k: &[f32], v: &[f32], start: usize, out: &mut [f32]) {
        let c = &self.config;
        let (hidden, kv, d) = (c.hidden, c.kv_dim(), c.head_dim);
        let width = hidden + 2 * kv;
        let n = qkv.len() / width;
        let group = c.heads / c.kv_heads;
        let scale = 1.0 / (d as f32).sqrt();
        let per_head: Vec<Vec<f32>> = (0..c.heads)
            .into_par_iter()
            .map(|h| {
                let kvh = h / group;
                let mut result = vec![0.0f32; n * d];
                let mut scores = Vec::with_capacity(start + n);
                for t in 0..n {
                    let q = &qkv[t * width + h * d..t * width + (h + 1) * d];
                    let visible = start + t + 1;
                    scores.clear();
                    let mut max = f32::NEG_INFINITY;
                    for j in 0..visible {
                        let key = &k[j * kv + kvh * d..j * kv + (kvh + 1) * d];
                        let s = dot_f32(q, key) * scale;
                        max = max.max(s);
                        scores.push(s);
                    }
                    let mut sum = 0.0;
                    for s in scores.iter_mut() {
                        *s = (*s - max).exp();
                        sum += *s;
                    }
                    let o = &mut result[t * d..(t + 1) * d];
                    for (j, s) in scores.iter().enumerate() {
                        let w = s / sum;
                        let value = &v[j * kv + kvh * d..j * kv + (kvh + 1) * d];
                        for (o, v) in o.iter_mut().zip(value) {
                            *o += w * v;
                        }
                    }
                }
                result
            })
            .collect();
        for (h, r) in per_head.iter().enumerate() {
            for t in 0..n {
                out[t * hidden + h * d..t * hidden + (h + 1) * d]
                    .copy_from_slice(&r[t * d..(t + 1) * d]);
            }
        }
    }
}

fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (a, b) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += a[i] * b[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Reads every tensor of the GGUF file and re-quantises it to the 8-bit layout.
fn convert(
    content: &gguf_file::Content,
    file: std::fs::File,
    path: &Path,
    c: &Config,
) -> Result<Weights, QwenError> {
    let mut r = Reader {
        content,
        file,
        path,
    };
    let embed = r.matrix("token_embd.weight", c.vocab, c.hidden)?;
    let output = if content.tensor_infos.contains_key("output.weight") {
        Some(r.matrix("output.weight", c.vocab, c.hidden)?)
    } else {
        None
    };
    let norm = r.vector("output_norm.weight", c.hidden)?;
    let kv = c.kv_dim();
    let mut layers = Vec::with_capacity(c.layers);
    for i in 0..c.layers {
        let n = |t: &str| format!("blk.{i}.{t}");
        let q = r.matrix(&n("attn_q.weight"), c.hidden, c.hidden)?;
        let k = r.matrix(&n("attn_k.weight"), kv, c.hidden)?;
        let v = r.matrix(&n("attn_v.weight"), kv, c.hidden)?;
        let mut qkv_bias = r.vector(&n("attn_q.bias"), c.hidden)?;
        qkv_bias.extend(r.vector(&n("attn_k.bias"), kv)?);
        qkv_bias.extend(r.vector(&n("attn_v.bias"), kv)?);
        let gate = r.matrix(&n("ffn_gate.weight"), c.ffn, c.hidden)?;
        let up = r.matrix(&n("ffn_up.weight"), c.ffn, c.hidden)?;
        layers.push(Layer {
            attn_norm: r.vector(&n("attn_norm.weight"), c.hidden)?,
            qkv: Q8Rows::stack(&[&q, &k, &v]),
            qkv_bias,
            out: r.matrix(&n("attn_output.weight"), c.hidden, c.hidden)?,
            ffn_norm: r.vector(&n("ffn_norm.weight"), c.hidden)?,
            gate_up: Q8Rows::stack(&[&gate, &up]),
            down: r.matrix(&n("ffn_down.weight"), c.hidden, c.ffn)?,
        });
    }
    Ok(Weights {
        embed,
        output,
        norm,
        layers,
    })
}

/// RMS norm of each `weight.len()`-wide row of `x`, scaled by `weight`, into `out`.
fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let w = weight.len();
    x.par_chunks_exact(w)
        .zip(out.par_chunks_exact_mut(w))
        .for_each(|(row, o)| {
            let ms = row.iter().map(|v| v * v).sum::<f32>() / w as f32;
            let inv = 1.0 / (ms + eps).sqrt();
            for ((o, v), g) in o.iter_mut().zip(row).zip(weight) {
                *o = v * inv * g;
            }
        });
}
