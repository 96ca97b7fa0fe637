//! A weight matrix packed for the AVX2 integer matrix product of many tokens.
//!
//! [`Q8Rows`] keeps each weight row's bytes together, which suits one token at a time: a dot
//! product per row. With many tokens (a batch of passages, a prompt) the work is a matrix
//! product, and AVX2 has no instruction that sums a whole row; the row-wise kernel spends
//! five instructions per block and token, plus a horizontal sum per row and token.
//! [`PackedQ8`] turns the layout around: the 32-bit lanes of a register hold eight *output
//! rows*, four bytes of each, so one register of weights meets four bytes of one token,
//! broadcast to every lane, and the products land in the lane of their row. A block of 32
//! columns is then eight steps of three instructions (`vpmaddubsw`, `vpmaddwd`, `vpaddd`)
//! for eight rows and one token, and the results come out as eight consecutive outputs of
//! that token, already in the row-major `(tokens, rows)` layout the rest of the model reads.
//!
//! `vpmaddubsw` multiplies unsigned by signed bytes and saturates the sum of each pair at
//! 16 bits. The activations are made unsigned by adding 128 (`x ^ 0x80`), which the packed
//! matrix undoes by starting each block's sums at `-128 * sum(w)`; the weights are quantised
//! to `-63..=63` so that a pair of products stays below `2 * 255 * 63 < 2^15`. Blocks keep
//! their own scales, so a weight is off by at most 1/126 of its block's largest value.

use crate::dot::Kernel;
use crate::rows::{Q8Rows, BLOCK};
use rayon::prelude::*;

/// Output rows side by side in one register.
const LANES: usize = 8;
/// Four bytes per lane: the columns one `vpmaddubsw`/`vpmaddwd` pair sums per lane.
const QUAD: usize = 4;
/// Bytes of one block of one group of eight rows.
const GROUP_BLOCK: usize = LANES * BLOCK;
/// The largest weight level: pairs of products must fit `vpmaddubsw`'s 16 bits.
const WEIGHT_LEVELS: f32 = 63.0;
/// Row groups computed together (sharing each token's broadcast bytes).
const G: usize = 4;
/// Tokens computed together (sharing each weight load).
const T: usize = 2;
/// Tokens per thread from which tasks split the tokens rather than the rows (measured with
/// `model bench`'s short queries: an e5 query took 10-11 ms with its tokens' rows split,
/// 13-15 ms with its tokens split).
const MANY_TOKENS: usize = 32;

/// A weight matrix of `rows` outputs by `cols` inputs, quantised in blocks of [`BLOCK`]
/// columns and interleaved eight rows at a time.
#[derive(Debug, Clone)]
pub struct PackedQ8 {
    rows: usize,
    cols: usize,
    /// For each group of eight rows and each block: eight steps of eight rows x four bytes.
    qs: Vec<i8>,
    /// For each group and block: the eight rows' scales.
    d: Vec<f32>,
    /// For each group and block: `-128 * sum(w)` of each row, the sums' starting value.
    start: Vec<i32>,
}

impl PackedQ8 {
    /// Quantises and packs `data`, `rows` rows of `cols` values (row `r` is output `r`).
    ///
    /// # Panics
    /// If `cols` is not a multiple of [`BLOCK`] or `data` is not `rows * cols` long.
    pub fn pack(rows: usize, cols: usize, data: &[f32]) -> Self {
        assert_eq!(cols % BLOCK, 0, "columns must be a multiple of {BLOCK}");
        assert_eq!(data.len(), rows * cols, "data is not rows x cols");
        let blocks = cols / BLOCK;
        let groups = rows.div_ceil(LANES);
        let mut qs = vec![0i8; groups * blocks * GROUP_BLOCK];
        let mut d = vec![0.0f32; groups * blocks * LANES];
        let mut start = vec![0i32; groups * blocks * LANES];
        qs.par_chunks_mut(blocks * GROUP_BLOCK)
            .zip(d.par_chunks_mut(blocks * LANES))
            .zip(start.par_chunks_mut(blocks * LANES))
            .enumerate()
            .for_each(|(g, ((qs, d), start))| {
                for lane in 0..LANES {
                    let r = g * LANES + lane;
                    if r >= rows {
                        break; // padding rows stay zero
                    }
                    for b in 0..blocks {
                        let block = &data[r * cols + b * BLOCK..][..BLOCK];
                        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                        let inv = if amax > 0.0 {
                            WEIGHT_LEVELS / amax
                        } else {
                            0.0
                        };
                        d[b * LANES + lane] = amax / WEIGHT_LEVELS;
                        let mut sum = 0i32;
                        let out = &mut qs[b * GROUP_BLOCK..(b + 1) * GROUP_BLOCK];
                        for (step, quad) in block.chunks_exact(QUAD).enumerate() {
                            let at = step * LANES * QUAD + lane * QUAD;
                            for (o, v) in out[at..at + QUAD].iter_mut().zip(quad) {
                                // Adding and removing 1.5 * 2^23 rounds to the nearest
                                // integer without a call into the C maths library.
                                const ROUND: f32 = 12_582_912.0;
                                let q = ((v * inv + ROUND) - ROUND) as i8;
                                sum += q as i32;
                                *o = q;
                            }
                        }
                        start[b * LANES + lane] = -128 * sum;
                    }
                }
            });
        Self {
            rows,
            cols,
            qs,
            d,
            start,
        }
    }

    /// Output rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Input columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes held.
    pub fn size_bytes(&self) -> usize {
        self.qs.len() + (self.d.len() + self.start.len()) * 4
    }

    fn blocks(&self) -> usize {
        self.cols / BLOCK
    }

    fn groups(&self) -> usize {
        self.rows.div_ceil(LANES)
    }

    /// Row `r` as `f32` values (the quantised weights times their scales), for tests.
    pub fn dequantize_row(&self, r: usize) -> Vec<f32> {
        let (g, lane) = (r / LANES, r % LANES);
        let blocks = self.blocks();
        (0..self.cols)
            .map(|c| {
                let b = c / BLOCK;
                let (step, byte) = ((c % BLOCK) / QUAD, c % QUAD);
                let q = self.qs
                    [(g * blocks + b) * GROUP_BLOCK + step * LANES * QUAD + lane * QUAD + byte];
                q as f32 * self.d[(g * blocks + b) * LANES + lane]
            })
            .collect()
    }

    /// `out[t * self.rows() + r] = dot(row r, row t of x)` for every token `t` of `x`: the
    /// row-major `(tokens, rows)` product, spread over rayon's threads.
    pub fn matmul(&self, kernel: Kernel, x: &Q8Rows, out: &mut [f32]) {
        self.matmul_tiled::<G, T>(kernel, x, out)
    }

    /// [`Self::matmul`] with tiles of `GT` groups by `TT` tokens (for measurements).
    #[doc(hidden)]
    pub fn matmul_tiled<const GT: usize, const TT: usize>(
        &self,
        kernel: Kernel,
        x: &Q8Rows,
        out: &mut [f32],
    ) {
        assert_eq!(self.cols, x.cols, "inner dimensions differ");
        assert_eq!(out.len(), self.rows * x.rows, "output has the wrong size");
        let tokens = x.rows;
        if tokens == 0 || self.rows == 0 {
            return;
        }
        let threads = rayon::current_num_threads();
        let groups = self.groups();
        // Many tokens: each task takes a run of tokens through every row, so each task reads
        // the whole matrix once. Few tokens (a query): that would read the matrix from memory
        // once per task for a handful of products per byte; each task takes a run of row
        // groups for every token instead, so every weight is read once.
        let per_task = tokens.div_ceil(threads * 4).next_multiple_of(TT).min(64);
        if tokens >= threads * MANY_TOKENS {
            out.par_chunks_mut(per_task * self.rows)
                .enumerate()
                .for_each(|(i, out)| {
                    let first = i * per_task;
                    let n = out.len() / self.rows;
                    self.block::<GT, TT>(kernel, x, first..first + n, 0..groups, out, 0);
                });
        } else {
            let per_task = groups.div_ceil(threads * 4).max(4);
            let parts: Vec<(usize, Vec<f32>)> = (0..groups.div_ceil(per_task))
                .into_par_iter()
                .map(|i| {
                    let g0 = i * per_task;
                    let g1 = (g0 + per_task).min(groups);
                    let width = ((g1 - g0) * LANES).min(self.rows - g0 * LANES);
                    let mut part = vec![0.0f32; tokens * width];
                    self.block::<GT, TT>(kernel, x, 0..tokens, g0..g1, &mut part, g0 * LANES);
                    (g0 * LANES, part)
                })
                .collect();
            for (first, part) in parts {
                let width = part.len() / tokens;
                for (t, row) in part.chunks_exact(width).enumerate() {
                    out[t * self.rows + first..][..width].copy_from_slice(row);
                }
            }
        }
    }

    /// Tokens `tokens` of `x` times row groups `groups`, into `out`: row `t - tokens.start`
    /// of `out` holds the outputs from row `first_row` on, as many as fit its width.
    fn block<const GT: usize, const TT: usize>(
        &self,
        kernel: Kernel,
        x: &Q8Rows,
        tokens: std::ops::Range<usize>,
        groups: std::ops::Range<usize>,
        out: &mut [f32],
        first_row: usize,
    ) {
        let width = out.len() / tokens.len();
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(simd) | Kernel::Vnni(simd, _) => simd.vectorize(
                #[inline(always)]
                || avx2::block::<GT, TT>(simd, self, x, tokens, groups, out, width, first_row),
            ),
            Kernel::Portable => {
                let blocks = self.blocks();
                for (i, t) in tokens.enumerate() {
                    let (xq, xd) = x.row(t);
                    for g in groups.clone() {
                        for lane in 0..LANES {
                            let r = g * LANES + lane;
                            if r >= self.rows {
                                break;
                            }
                            let mut acc = 0.0f32;
                            for b in 0..blocks {
                                let gb = g * blocks + b;
                                let mut s = self.start[gb * LANES + lane];
                                for step in 0..BLOCK / QUAD {
                                    for byte in 0..QUAD {
                                        let w = self.qs[gb * GROUP_BLOCK
                                            + step * LANES * QUAD
                                            + lane * QUAD
                                            + byte];
                                        let xv = (xq[b * BLOCK + step * QUAD + byte] as u8 ^ 0x80)
                                            as i32;
                                        s += w as i32 * xv;
                                    }
                                }
                                acc += s as f32 * self.d[gb * LANES + lane] * xd[b];
                            }
                            out[i * width + r - first_row] = acc;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{PackedQ8, GROUP_BLOCK, LANES, QUAD};
    use crate::rows::{Q8Rows, BLOCK};
    use core::arch::x86_64::{__m256, __m256i};
    use pulp::x86::V3;

    #[inline(always)]
    fn load_i8(bytes: &[i8]) -> __m256i {
        let bytes: [i8; 32] = bytes[..32].try_into().expect("32 bytes");
        pulp::bytemuck::cast(bytes)
    }

    #[inline(always)]
    fn load_i32(v: &[i32]) -> __m256i {
        let v: [i32; LANES] = v[..LANES].try_into().expect("8 values");
        pulp::bytemuck::cast(v)
    }

    #[inline(always)]
    fn load_f32(v: &[f32]) -> __m256 {
        let v: [f32; LANES] = v[..LANES].try_into().expect("8 values");
        pulp::bytemuck::cast(v)
    }

    /// See [`PackedQ8::block`].
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn block<const G: usize, const T: usize>(
        simd: V3,
        w: &PackedQ8,
        x: &Q8Rows,
        tokens: std::ops::Range<usize>,
        groups: std::ops::Range<usize>,
        out: &mut [f32],
        width: usize,
        first_row: usize,
    ) {
        let mut g = groups.start;
        while g < groups.end {
            let gn = if groups.end - g >= G { G } else { 1 };
            let mut t = tokens.start;
            while t < tokens.end {
                let tn = if tokens.end - t >= T { T } else { 1 };
                let o = &mut out[(t - tokens.start) * width..];
                if gn == G && tn == T {
                    tile::<G, T>(simd, w, g, x, t, o, width, first_row);
                } else if gn == G {
                    tile::<G, 1>(simd, w, g, x, t, o, width, first_row);
                } else if tn == T {
                    tile::<1, T>(simd, w, g, x, t, o, width, first_row);
                } else {
                    tile::<1, 1>(simd, w, g, x, t, o, width, first_row);
                }
                t += tn;
            }
            g += gn;
        }
    }

    /// `GN` row groups times `TN` tokens.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn tile<const GN: usize, const TN: usize>(
        simd: V3,
        w: &PackedQ8,
        g0: usize,
        x: &Q8Rows,
        t0: usize,
        out: &mut [f32],
        width: usize,
        first_row: usize,
    ) {
        let blocks = w.cols / BLOCK;
        let cols = w.cols;
        let span = blocks * GROUP_BLOCK;
        let wq: [&[i8]; GN] = std::array::from_fn(|i| &w.qs[(g0 + i) * span..][..span]);
        let wd: [&[f32]; GN] =
            std::array::from_fn(|i| &w.d[(g0 + i) * blocks * LANES..][..blocks * LANES]);
        let ws: [&[i32]; GN] =
            std::array::from_fn(|i| &w.start[(g0 + i) * blocks * LANES..][..blocks * LANES]);
        let xq: [&[i8]; TN] = std::array::from_fn(|j| &x.qs[(t0 + j) * cols..][..cols]);
        let xd: [&[f32]; TN] = std::array::from_fn(|j| &x.d[(t0 + j) * blocks..][..blocks]);
        let acc = products::<GN, TN>(simd, wq, wd, ws, xq, xd, blocks);
        for (i, acc) in acc.iter().enumerate() {
            let r0 = (g0 + i) * LANES;
            let n = LANES.min(w.rows - r0);
            for (j, acc) in acc.iter().enumerate() {
                let v: [f32; LANES] = pulp::bytemuck::cast(*acc);
                let o = &mut out[j * width + r0 - first_row..][..n];
                if let Ok(o) = <&mut [f32; LANES]>::try_from(&mut *o) {
                    *o = v; // one vector store, not a call to `memcpy`
                } else {
                    o.copy_from_slice(&v[..n]);
                }
            }
        }
    }

    /// The sums over every block of `GN` groups' weights times `TN` tokens.
    #[inline(always)]
    fn products<const GN: usize, const TN: usize>(
        simd: V3,
        wq: [&[i8]; GN],
        wd: [&[f32]; GN],
        ws: [&[i32]; GN],
        xq: [&[i8]; TN],
        xd: [&[f32]; TN],
        blocks: usize,
    ) -> [[__m256; TN]; GN] {
        let flip = simd.avx._mm256_set1_epi8(-128);
        let ones = simd.avx._mm256_set1_epi16(1);
        let mut acc = [[simd.avx._mm256_setzero_ps(); TN]; GN];
        for b in 0..blocks {
            let wb: [&[i8; GROUP_BLOCK]; GN] = std::array::from_fn(|i| {
                wq[i][b * GROUP_BLOCK..(b + 1) * GROUP_BLOCK]
                    .try_into()
                    .expect("a block")
            });
            let xb: [&[i8; BLOCK]; TN] = std::array::from_fn(|j| {
                xq[j][b * BLOCK..(b + 1) * BLOCK]
                    .try_into()
                    .expect("a block")
            });
            // Each block's sums start at -128 * sum(w), which undoes the +128 of `xv`.
            let mut sums: [[__m256i; TN]; GN] =
                std::array::from_fn(|i| [load_i32(&ws[i][b * LANES..]); TN]);
            for step in 0..BLOCK / QUAD {
                for j in 0..TN {
                    let q = &xb[j][step * QUAD..(step + 1) * QUAD];
                    let bytes =
                        i32::from_le_bytes([q[0] as u8, q[1] as u8, q[2] as u8, q[3] as u8]);
                    let xv = simd
                        .avx2
                        ._mm256_xor_si256(simd.avx._mm256_set1_epi32(bytes), flip);
                    for i in 0..GN {
                        let wv = load_i8(&wb[i][step * LANES * QUAD..(step + 1) * LANES * QUAD]);
                        let pairs = simd.avx2._mm256_maddubs_epi16(xv, wv);
                        let quads = simd.avx2._mm256_madd_epi16(pairs, ones);
                        sums[i][j] = simd.avx2._mm256_add_epi32(sums[i][j], quads);
                    }
                }
            }
            for i in 0..GN {
                let dw = load_f32(&wd[i][b * LANES..]);
                for j in 0..TN {
                    let s = simd
                        .avx
                        ._mm256_mul_ps(simd.avx._mm256_cvtepi32_ps(sums[i][j]), dw);
                    acc[i][j] =
                        simd.fma
                            ._mm256_fmadd_ps(s, simd.avx._mm256_set1_ps(xd[j][b]), acc[i][j]);
                }
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::tests::sample;

    #[test]
    fn products_match_the_dequantised_weights_for_every_kernel_and_shape() {
        for (rows, cols) in [(70, 96), (8, 32), (3, 64), (384, 384)] {
            let w = sample(rows, cols, 7);
            let packed = PackedQ8::pack(rows, cols, &w);
            let wd: Vec<Vec<f32>> = (0..rows).map(|r| packed.dequantize_row(r)).collect();
            for (r, row) in wd.iter().enumerate() {
                let step = w[r * cols..(r + 1) * cols]
                    .iter()
                    .fold(0.0f32, |m, v| m.max(v.abs()))
                    / WEIGHT_LEVELS;
                for (a, b) in row.iter().zip(&w[r * cols..]) {
                    assert!((a - b).abs() <= step * 0.5 + 1e-6);
                }
            }
            for tokens in [1, 2, 3, 5, 9, 37, 130] {
                let x = sample(tokens, cols, 11 + tokens as u32);
                let xq = Q8Rows::quantize(tokens, cols, &x);
                let mut xd = vec![0.0; cols];
                for kernel in Kernel::available() {
                    let mut out = vec![f32::NAN; rows * tokens];
                    packed.matmul(kernel, &xq, &mut out);
                    for t in 0..tokens {
                        xq.dequantize_row(t, &mut xd);
                        for r in 0..rows {
                            let exact: f32 = wd[r].iter().zip(&xd).map(|(a, b)| a * b).sum();
                            let got = out[t * rows + r];
                            assert!(
                                (got - exact).abs() < 1e-3 * (1.0 + exact.abs()),
                                "{kernel:?} {rows}x{cols} token {t} row {r}: {got} vs {exact}"
                            );
                        }
                    }
                }
            }
        }
    }
}
