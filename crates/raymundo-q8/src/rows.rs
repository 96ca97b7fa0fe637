//! 8-bit weights and activations: blocks of 32 values sharing one `f32` scale (the layout
//! llama.cpp calls Q8_0), and the matrix products the model spends its time in.
//!
//! Every weight of the GGUF file, whatever its quantisation (Q4_K, Q5_0, Q6_K, Q8_0), is
//! re-quantised to this one format when the model loads. Each block of the source formats
//! holds at most 64 distinct levels, so 255 levels per block keep it almost exactly (the
//! error is below 1/254 of the block's largest value) and a single integer kernel serves
//! every tensor. Activations are quantised the same way before each product.

use crate::dot::Kernel;
use rayon::prelude::*;
use std::sync::OnceLock;

/// Values per block.
pub const BLOCK: usize = 32;

/// Rows handed to one rayon task.
const ROWS_PER_TASK: usize = 32;

/// Rows of `cols` values quantised in blocks of [`BLOCK`].
#[derive(Debug, Clone, Default)]
pub struct Q8Rows {
    /// Number of rows.
    pub rows: usize,
    /// Values per row (a multiple of [`BLOCK`]).
    pub cols: usize,
    /// The quantised values, row after row, in `-127..=127`.
    pub qs: Vec<i8>,
    /// One scale per block, row after row.
    pub d: Vec<f32>,
    /// The sum of each block's values, computed when a kernel first needs it.
    sums: OnceLock<Vec<i32>>,
}

impl Q8Rows {
    /// Quantises `data`, `rows` rows of `cols` values each.
    ///
    /// # Panics
    /// If `cols` is not a multiple of [`BLOCK`] or `data` is not `rows * cols` long.
    pub fn quantize(rows: usize, cols: usize, data: &[f32]) -> Self {
        let mut q = Self::from_parts(0, cols, Vec::new(), Vec::new());
        q.requantize(rows, data);
        q
    }

    /// Rows from their quantised values and block scales.
    ///
    /// # Panics
    /// If the lengths do not match `rows x cols`.
    pub fn from_parts(rows: usize, cols: usize, qs: Vec<i8>, d: Vec<f32>) -> Self {
        assert_eq!(qs.len(), rows * cols, "values are not rows x cols");
        assert_eq!(d.len() * BLOCK, qs.len(), "one scale per block");
        Self {
            rows,
            cols,
            qs,
            d,
            sums: OnceLock::new(),
        }
    }

    /// The sum of the values of each block, row after row (computed once).
    pub fn block_sums(&self) -> &[i32] {
        self.sums.get_or_init(|| {
            self.qs
                .par_chunks(BLOCK * 1024)
                .flat_map_iter(|c| {
                    c.chunks_exact(BLOCK)
                        .map(|b| b.iter().map(|&v| v as i32).sum::<i32>())
                })
                .collect()
        })
    }

    /// Quantises `data` into this buffer, reusing its memory.
    pub fn requantize(&mut self, rows: usize, data: &[f32]) {
        assert_eq!(
            self.cols % BLOCK,
            0,
            "columns must be a multiple of {BLOCK}"
        );
        assert_eq!(data.len(), rows * self.cols, "data is not rows x cols");
        self.rows = rows;
        self.sums = OnceLock::new();
        self.qs.resize(data.len(), 0);
        self.d.resize(data.len() / BLOCK, 0.0);
        // A prompt's activations (up to millions of values) are quantised on every thread.
        const SPAN: usize = 256;
        data.par_chunks(BLOCK * SPAN)
            .zip(self.qs.par_chunks_mut(BLOCK * SPAN))
            .zip(self.d.par_chunks_mut(SPAN))
            .for_each(|((data, qs), d)| quantize_blocks(data, qs, d));
    }

    /// Blocks per row.
    pub fn blocks_per_row(&self) -> usize {
        self.cols / BLOCK
    }

    /// The quantised values and scales of row `r`.
    pub fn row(&self, r: usize) -> (&[i8], &[f32]) {
        let nb = self.blocks_per_row();
        (
            &self.qs[r * self.cols..(r + 1) * self.cols],
            &self.d[r * nb..(r + 1) * nb],
        )
    }

    /// Row `r` as `f32` values, written to `out` (`cols` long).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let (qs, d) = self.row(r);
        for ((o, q), d) in out
            .chunks_exact_mut(BLOCK)
            .zip(qs.chunks_exact(BLOCK))
            .zip(d)
        {
            for (o, q) in o.iter_mut().zip(q) {
                *o = *q as f32 * d;
            }
        }
    }

    /// Stacks matrices with the same number of columns, rows of the first first.
    pub fn stack(parts: &[&Q8Rows]) -> Self {
        let cols = parts.first().map_or(0, |p| p.cols);
        assert!(parts.iter().all(|p| p.cols == cols), "column counts differ");
        Self::from_parts(
            parts.iter().map(|p| p.rows).sum(),
            cols,
            parts.iter().flat_map(|p| p.qs.iter().copied()).collect(),
            parts.iter().flat_map(|p| p.d.iter().copied()).collect(),
        )
    }

    /// Bytes held.
    pub fn size_bytes(&self) -> usize {
        self.qs.len() + self.d.len() * 4
    }

    /// `out[t * self.rows + r] = dot(row r of self, row t of x)`: the product of this weight
    /// matrix with every activation row in `x`, spread over rayon's threads.
    pub fn matmul(&self, kernel: Kernel, x: &Q8Rows, out: &mut [f32]) {
        assert_eq!(self.cols, x.cols, "inner dimensions differ");
        assert_eq!(out.len(), self.rows * x.rows, "output has the wrong size");
        #[cfg(target_arch = "x86_64")]
        if let (Kernel::Vnni(_, proof), true) = (kernel, x.rows >= crate::vnni::MIN_TOKENS) {
            crate::vnni::matmul(proof, self, x, out);
            return;
        }
        if x.rows == 1 {
            out.par_chunks_mut(ROWS_PER_TASK)
                .enumerate()
                .for_each(|(chunk, out)| {
                    let first = chunk * ROWS_PER_TASK;
                    kernel.rows_times_one(self, first, x, out);
                });
            return;
        }
        // Several activation rows (a prompt): each task computes a block of weight rows
        // against all of them, so every weight block is loaded once per four tokens.
        let results: Vec<Vec<f32>> = (0..self.rows.div_ceil(ROWS_PER_TASK))
            .into_par_iter()
            .map(|chunk| {
                let first = chunk * ROWS_PER_TASK;
                let n = ROWS_PER_TASK.min(self.rows - first);
                let mut part = vec![0.0f32; n * x.rows];
                kernel.rows_times_many(self, first, n, x, &mut part);
                part
            })
            .collect();
        for (chunk, part) in results.iter().enumerate() {
            let first = chunk * ROWS_PER_TASK;
            let n = part.len() / x.rows;
            for r in 0..n {
                for t in 0..x.rows {
                    out[t * self.rows + first + r] = part[r * x.rows + t];
                }
            }
        }
    }
}

/// Quantises whole blocks of `data` into `qs` and their scales into `d`, compiled for the
/// CPU's vector extensions (this runs on every activation of every product).
fn quantize_blocks(data: &[f32], qs: &mut [i8], d: &mut [f32]) {
    struct Blocks<'a> {
        data: &'a [f32],
        qs: &'a mut [i8],
        d: &'a mut [f32],
    }
    impl pulp::WithSimd for Blocks<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _simd: S) {
            for ((block, qs), d) in self
                .data
                .chunks_exact(BLOCK)
                .zip(self.qs.chunks_exact_mut(BLOCK))
                .zip(self.d.iter_mut())
            {
                let block: &[f32; BLOCK] = block.try_into().expect("a block");
                let qs: &mut [i8; BLOCK] = qs.try_into().expect("a block");
                let mut amax = 0.0f32;
                for v in block {
                    let a = v.abs();
                    amax = if a > amax { a } else { amax };
                }
                *d = amax / 127.0;
                let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
                // Adding and removing 1.5 * 2^23 rounds to the nearest integer (ties to even)
                // without a call into the C maths library; `|v * inv| <= 127`.
                const ROUND: f32 = 12_582_912.0;
                for (q, v) in qs.iter_mut().zip(block) {
                    *q = ((v * inv + ROUND) - ROUND) as i8;
                }
            }
        }
    }
    pulp::Arch::new().dispatch(Blocks { data, qs, d });
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `rows x cols` deterministic values in `[-1, 1)` (the kernels' tests share them).
    pub(crate) fn sample(rows: usize, cols: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..rows * cols)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((s >> 8) as f32 / (1u32 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn reference(w: &[f32], x: &[f32], rows: usize, cols: usize, tokens: usize) -> Vec<f32> {
        let mut out = vec![0.0; rows * tokens];
        for t in 0..tokens {
            for r in 0..rows {
                out[t * rows + r] = (0..cols).map(|c| w[r * cols + c] * x[t * cols + c]).sum();
            }
        }
        out
    }

    #[test]
    fn quantisation_keeps_values_within_half_a_step() {
        let data = sample(3, 64, 1);
        let q = Q8Rows::quantize(3, 64, &data);
        let mut row = vec![0.0; 64];
        for r in 0..3 {
            q.dequantize_row(r, &mut row);
            for (b, block) in data[r * 64..(r + 1) * 64].chunks(BLOCK).enumerate() {
                let step = q.d[r * 2 + b];
                for (i, v) in block.iter().enumerate() {
                    assert!((row[b * BLOCK + i] - v).abs() <= step * 0.5 + 1e-6);
                }
            }
        }
        assert!(q.qs.iter().all(|&v| v != -128));
    }

    #[test]
    fn products_match_f32_for_one_and_many_tokens_with_every_kernel() {
        let (rows, cols) = (70, 96);
        let w = sample(rows, cols, 7);
        let wq = Q8Rows::quantize(rows, cols, &w);
        for tokens in [1, 3, 9, 37] {
            let x = sample(tokens, cols, 11 + tokens as u32);
            let xq = Q8Rows::quantize(tokens, cols, &x);
            let expected = reference(&w, &x, rows, cols, tokens);
            // The exact product of the quantised values.
            let dequantized = |q: &Q8Rows| {
                let mut all = vec![0.0; q.rows * q.cols];
                for (r, row) in all.chunks_mut(q.cols).enumerate() {
                    q.dequantize_row(r, row);
                }
                all
            };
            let exact = reference(&dequantized(&wq), &dequantized(&xq), rows, cols, tokens);
            for kernel in Kernel::available() {
                let mut out = vec![0.0; rows * tokens];
                wq.matmul(kernel, &xq, &mut out);
                for ((a, b), e) in out.iter().zip(&exact).zip(&expected) {
                    assert!((a - b).abs() < 1e-3, "{kernel:?} {tokens}: {a} vs {b}");
                    assert!((a - e).abs() < 0.2, "{kernel:?} {tokens}: {a} vs f32 {e}");
                }
            }
        }
    }

    #[test]
    fn stacking_keeps_rows_in_order() {
        let a = Q8Rows::quantize(2, 32, &sample(2, 32, 3));
        let b = Q8Rows::quantize(1, 32, &sample(1, 32, 4));
        let s = Q8Rows::stack(&[&a, &b]);
        assert_eq!(s.rows, 3);
        assert_eq!(s.row(2), b.row(0));
        assert_eq!(s.row(1), a.row(1));
    }
}
