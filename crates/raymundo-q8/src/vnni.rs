//! The prompt pass on CPUs with AVX-512 VNNI (AMD Zen 4 and later, Intel Ice Lake and later
//! servers): one `vpdpbusd` multiplies 64 pairs of bytes and adds them into 16 `i32` lanes.
//!
//! The lanes hold sixteen *tokens*, not sixteen positions of one row: the activations of a
//! tile of 16 tokens are interleaved four bytes at a time, and four bytes of a weight row are
//! broadcast to every lane. One block of 32 columns is then 8 `vpdpbusd` per weight row, and
//! its two scales are applied to all sixteen tokens with one multiply and one FMA, where the
//! AVX2 kernel spends five instructions per block and token. Four weight rows share every
//! activation load.
//!
//! `vpdpbusd` multiplies unsigned by signed bytes, so the activations are stored plus 128
//! (as `u8`) and `128 * sum(w)` of each weight block is subtracted from the sums.
//!
//! This module is the crate's only `unsafe` code: unaligned vector loads from slices whose
//! lengths are checked first, and calls of the `#[target_feature]` kernel after the CPU was
//! checked to have the features ([`Vnni::detect`]). Measured on the prompt pass of a
//! 331-token prompt (Qwen2.5 0.5B, 2 Zen 4 cores): see the crate's README section.
#![allow(unsafe_code)]

use crate::rows::{Q8Rows, BLOCK};
use rayon::prelude::*;
use std::arch::x86_64::{
    __m512, __m512i, _mm512_cvtepi32_ps, _mm512_dpbusd_epi32, _mm512_fmadd_ps, _mm512_loadu_ps,
    _mm512_loadu_si512, _mm512_mul_ps, _mm512_set1_epi32, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_setzero_si512, _mm512_storeu_ps, _mm512_sub_epi32,
};

/// Fewer tokens than this go to the AVX2 kernel (a tile would be mostly padding).
pub const MIN_TOKENS: usize = 4;
/// Tokens per tile: the 16 `i32` lanes of a 512-bit register.
const TILE: usize = 16;
/// Weight rows computed together, sharing the activation loads.
const ROWS: usize = 4;
/// Weight rows handed to one rayon task.
const ROWS_PER_TASK: usize = 64;
/// Packed bytes of one block of one tile: 32 columns x 16 tokens.
const PACKED_BLOCK: usize = BLOCK * TILE;

/// Proof that this CPU has AVX-512 F/BW/VL and VNNI; only [`Vnni::detect`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct Vnni(());

impl Vnni {
    /// `Some` when the CPU can run this kernel.
    pub fn detect() -> Option<Self> {
        let has = std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512vnni")
            && std::arch::is_x86_feature_detected!("fma");
        has.then_some(Self(()))
    }
}

/// Activations interleaved for the kernel: for each tile of 16 tokens and each block, eight
/// groups of 16 x 4 bytes (`x + 128`), then the 16 scales of the block.
struct Packed {
    tiles: usize,
    blocks: usize,
    qs: Vec<u8>,
    d: Vec<f32>,
}

fn pack(x: &Q8Rows) -> Packed {
    let blocks = x.blocks_per_row();
    let tiles = x.rows.div_ceil(TILE);
    // Padding tokens: value 0 (stored 128) and scale 0.
    let mut qs = vec![128u8; tiles * blocks * PACKED_BLOCK];
    let mut d = vec![0.0f32; tiles * blocks * TILE];
    for t in 0..x.rows {
        let (tile, lane) = (t / TILE, t % TILE);
        let (xq, xd) = x.row(t);
        for b in 0..blocks {
            let at = (tile * blocks + b) * PACKED_BLOCK;
            let packed = &mut qs[at..at + PACKED_BLOCK];
            for (k4, quad) in xq[b * BLOCK..(b + 1) * BLOCK].chunks_exact(4).enumerate() {
                let to = k4 * TILE * 4 + lane * 4;
                for (p, v) in packed[to..to + 4].iter_mut().zip(quad) {
                    *p = (*v as u8) ^ 0x80;
                }
            }
            d[(tile * blocks + b) * TILE + lane] = xd[b];
        }
    }
    Packed {
        tiles,
        blocks,
        qs,
        d,
    }
}

/// `out[t * w.rows + r] = dot(row r of w, row t of x)`, like [`Q8Rows::matmul`].
pub fn matmul(_proof: Vnni, w: &Q8Rows, x: &Q8Rows, out: &mut [f32]) {
    assert_eq!(w.cols, x.cols, "inner dimensions differ");
    assert_eq!(out.len(), w.rows * x.rows, "output has the wrong size");
    let packed = pack(x);
    let sums = w.block_sums();
    let tokens = x.rows;
    let parts: Vec<Vec<f32>> = (0..w.rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|task| {
            let first = task * ROWS_PER_TASK;
            let n = ROWS_PER_TASK.min(w.rows - first);
            let mut part = vec![0.0f32; n * tokens];
            let mut result = [[0.0f32; TILE]; ROWS];
            for tile in 0..packed.tiles {
                for r0 in (0..n).step_by(ROWS) {
                    // Rows past the end repeat the last row; their results are dropped.
                    let rows: [usize; ROWS] =
                        std::array::from_fn(|i| (first + r0 + i).min(w.rows - 1));
                    // SAFETY: `_proof` shows the CPU has every feature `tile_product` enables.
                    unsafe { tile_product(w, sums, rows, &packed, tile, &mut result) };
                    for (i, lanes) in result.iter().enumerate().take(n - r0) {
                        let r = r0 + i;
                        for (lane, v) in lanes.iter().enumerate() {
                            let t = tile * TILE + lane;
                            if t < tokens {
                                part[r * tokens + t] = *v;
                            }
                        }
                    }
                }
            }
            part
        })
        .collect();
    for (task, part) in parts.iter().enumerate() {
        let first = task * ROWS_PER_TASK;
        for (i, row) in part.chunks_exact(tokens).enumerate() {
            for (t, v) in row.iter().enumerate() {
                out[t * w.rows + first + i] = *v;
            }
        }
    }
}

/// Four bytes of a weight row as one `i32`, to be broadcast to every lane.
#[inline(always)]
fn quad(row: &[i8], at: usize) -> i32 {
    let q: [i8; 4] = row[at..at + 4].try_into().expect("four bytes");
    i32::from_le_bytes(q.map(|v| v as u8))
}

/// Dot products of `ROWS` weight rows with the 16 tokens of one tile.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, VL, VNNI and FMA.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,fma")]
unsafe fn tile_product(
    w: &Q8Rows,
    sums: &[i32],
    rows: [usize; ROWS],
    packed: &Packed,
    tile: usize,
    out: &mut [[f32; TILE]; ROWS],
) {
    let blocks = packed.blocks;
    let cols = w.cols;
    let wq: [&[i8]; ROWS] = rows.map(|r| &w.qs[r * cols..(r + 1) * cols]);
    let wd: [&[f32]; ROWS] = rows.map(|r| &w.d[r * blocks..(r + 1) * blocks]);
    let ws: [&[i32]; ROWS] = rows.map(|r| &sums[r * blocks..(r + 1) * blocks]);
    let mut acc: [__m512; ROWS] = [_mm512_setzero_ps(); ROWS];
    for b in 0..blocks {
        let at = (tile * blocks + b) * PACKED_BLOCK;
        let xb = &packed.qs[at..at + PACKED_BLOCK];
        let mut dots: [__m512i; ROWS] = [_mm512_setzero_si512(); ROWS];
        for k4 in 0..BLOCK / 4 {
            let group = &xb[k4 * TILE * 4..(k4 + 1) * TILE * 4];
            // SAFETY: `group` is 64 bytes long, the width of the load.
            let xv = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
            for (dot, row) in dots.iter_mut().zip(&wq) {
                let w4 = _mm512_set1_epi32(quad(row, b * BLOCK + k4 * 4));
                *dot = _mm512_dpbusd_epi32(*dot, xv, w4);
            }
        }
        let scales = &packed.d[(tile * blocks + b) * TILE..(tile * blocks + b + 1) * TILE];
        // SAFETY: `scales` is 16 floats long, the width of the load.
        let dx = unsafe { _mm512_loadu_ps(scales.as_ptr()) };
        for i in 0..ROWS {
            let exact = _mm512_sub_epi32(dots[i], _mm512_set1_epi32(128 * ws[i][b]));
            let scale = _mm512_mul_ps(dx, _mm512_set1_ps(wd[i][b]));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scale, acc[i]);
        }
    }
    for (o, a) in out.iter_mut().zip(acc) {
        // SAFETY: `o` is 16 floats long, the width of the store.
        unsafe { _mm512_storeu_ps(o.as_mut_ptr(), a) };
    }
}
