//! The integer dot products of 8-bit blocks, chosen at run time for the CPU.
//!
//! On x86-64 with AVX2 and FMA (almost every x86 server and laptop since 2013) a block of 32
//! products is four instructions: `vpsignb` twice (to make one side unsigned, as
//! `vpmaddubsw` wants), `vpmaddubsw`, `vpmaddwd`, then one FMA into eight float lanes with
//! the two scales, as llama.cpp does. Everything else gets the portable loop, which the
//! compiler vectorises for the baseline instruction set. The choice is made once per
//! process ([`Kernel::detect`]), so one binary runs everywhere and uses what the machine
//! has; `RAYMUNDO_SIMD=off` forces the portable loop (for measurements).

use crate::rows::{Q8Rows, BLOCK};

/// An implementation of the block dot products.
#[derive(Debug, Clone, Copy)]
pub enum Kernel {
    /// AVX2 + FMA intrinsics (the CPU was checked to have them).
    #[cfg(target_arch = "x86_64")]
    Avx2(pulp::x86::V3),
    /// AVX2 for one token at a time, AVX-512 VNNI for prompts ([`crate::vnni`]).
    #[cfg(target_arch = "x86_64")]
    Vnni(pulp::x86::V3, crate::vnni::Vnni),
    /// Plain loops.
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU supports, unless `RAYMUNDO_SIMD` says `off` (portable
    /// loops) or `avx2` (no AVX-512).
    pub fn detect() -> Self {
        let limit = std::env::var("RAYMUNDO_SIMD").unwrap_or_default();
        if limit == "off" || limit == "0" {
            return Self::Portable;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = pulp::x86::V3::try_new() {
            if let (Some(proof), false) = (crate::vnni::Vnni::detect(), limit == "avx2") {
                return Self::Vnni(simd, proof);
            }
            return Self::Avx2(simd);
        }
        Self::Portable
    }

    /// Every kernel this CPU can run (for tests that compare them).
    pub fn available() -> Vec<Self> {
        let mut all = vec![Self::Portable];
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = pulp::x86::V3::try_new() {
            all.push(Self::Avx2(simd));
            if let Some(proof) = crate::vnni::Vnni::detect() {
                all.push(Self::Vnni(simd, proof));
            }
        }
        all
    }

    /// A short name for logs and benchmarks.
    pub fn name(&self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx2(_) => "avx2",
            #[cfg(target_arch = "x86_64")]
            Self::Vnni(..) => "avx512-vnni",
            Self::Portable => "portable",
        }
    }

    /// `out[i] = dot(row first + i of w, row 0 of x)` for `out.len()` rows.
    pub fn rows_times_one(&self, w: &Q8Rows, first: usize, x: &Q8Rows, out: &mut [f32]) {
        let (xq, xd) = x.row(0);
        match *self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx2(simd) | Self::Vnni(simd, _) => simd.vectorize(
                #[inline(always)]
                || {
                    for (i, o) in out.iter_mut().enumerate() {
                        let (wq, wd) = w.row(first + i);
                        *o = avx2::dot(simd, wq, wd, xq, xd);
                    }
                },
            ),
            Self::Portable => {
                for (i, o) in out.iter_mut().enumerate() {
                    let (wq, wd) = w.row(first + i);
                    *o = portable_dot(wq, wd, xq, xd);
                }
            }
        }
    }

    /// `out[i * x.rows + t] = dot(row first + i of w, row t of x)` for `n` rows of `w`.
    pub fn rows_times_many(&self, w: &Q8Rows, first: usize, n: usize, x: &Q8Rows, out: &mut [f32]) {
        let tokens = x.rows;
        match *self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx2(simd) | Self::Vnni(simd, _) => simd.vectorize(
                #[inline(always)]
                || {
                    for i in 0..n {
                        let (wq, wd) = w.row(first + i);
                        let out = &mut out[i * tokens..(i + 1) * tokens];
                        let mut t = 0;
                        while t + 4 <= tokens {
                            let xs = [x.row(t), x.row(t + 1), x.row(t + 2), x.row(t + 3)];
                            let r = avx2::dot4(simd, wq, wd, xs);
                            out[t..t + 4].copy_from_slice(&r);
                            t += 4;
                        }
                        for (t, o) in out.iter_mut().enumerate().skip(t) {
                            let (xq, xd) = x.row(t);
                            *o = avx2::dot(simd, wq, wd, xq, xd);
                        }
                    }
                },
            ),
            Self::Portable => {
                for i in 0..n {
                    let (wq, wd) = w.row(first + i);
                    for t in 0..tokens {
                        let (xq, xd) = x.row(t);
                        out[i * tokens + t] = portable_dot(wq, wd, xq, xd);
                    }
                }
            }
        }
    }
}

/// The dot product of two block-quantised rows, in plain Rust.
fn portable_dot(wq: &[i8], wd: &[f32], xq: &[i8], xd: &[f32]) -> f32 {
    let mut acc = 0.0f32;
    for (((w, x), dw), dx) in wq
        .chunks_exact(BLOCK)
        .zip(xq.chunks_exact(BLOCK))
        .zip(wd)
        .zip(xd)
    {
        let mut s = 0i32;
        for (a, b) in w.iter().zip(x) {
            s += *a as i32 * *b as i32;
        }
        acc += s as f32 * dw * dx;
    }
    acc
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::BLOCK;
    use core::arch::x86_64::{__m256, __m256i};
    use pulp::x86::V3;

    #[inline(always)]
    fn load(block: &[i8]) -> __m256i {
        let bytes: [i8; BLOCK] = block.try_into().expect("a whole block");
        pulp::bytemuck::cast(bytes)
    }

    #[inline(always)]
    fn hsum(simd: V3, v: __m256) -> f32 {
        let lo = simd.avx._mm256_castps256_ps128(v);
        let hi = simd.avx._mm256_extractf128_ps::<1>(v);
        let s: [f32; 4] = pulp::bytemuck::cast(simd.sse._mm_add_ps(lo, hi));
        (s[0] + s[1]) + (s[2] + s[3])
    }

    /// The 32 products of one block summed into eight `i32` lanes, as floats. `abs_w` is
    /// `|w|` (unsigned for `vpmaddubsw`); the sign of `w` moves onto `x`. Pairs of
    /// products stay below 2 * 127 * 127, so the 16-bit sums never saturate.
    #[inline(always)]
    fn block_sum(simd: V3, abs_w: __m256i, w: __m256i, x: __m256i) -> __m256 {
        let signed_x = simd.avx2._mm256_sign_epi8(x, w);
        let pairs = simd.avx2._mm256_maddubs_epi16(abs_w, signed_x);
        let quads = simd
            .avx2
            ._mm256_madd_epi16(pairs, simd.avx._mm256_set1_epi16(1));
        simd.avx._mm256_cvtepi32_ps(quads)
    }

    /// One weight row times one activation row.
    #[inline(always)]
    pub(super) fn dot(simd: V3, wq: &[i8], wd: &[f32], xq: &[i8], xd: &[f32]) -> f32 {
        let mut acc = simd.avx._mm256_setzero_ps();
        for (((w, x), dw), dx) in wq
            .chunks_exact(BLOCK)
            .zip(xq.chunks_exact(BLOCK))
            .zip(wd)
            .zip(xd)
        {
            let w = load(w);
            let abs_w = simd.avx2._mm256_sign_epi8(w, w);
            let s = block_sum(simd, abs_w, w, load(x));
            acc = simd
                .fma
                ._mm256_fmadd_ps(simd.avx._mm256_set1_ps(dw * dx), s, acc);
        }
        hsum(simd, acc)
    }

    /// One weight row times four activation rows: the weight block is loaded once.
    #[inline(always)]
    pub(super) fn dot4(simd: V3, wq: &[i8], wd: &[f32], xs: [(&[i8], &[f32]); 4]) -> [f32; 4] {
        let mut acc = [simd.avx._mm256_setzero_ps(); 4];
        for (b, (w, dw)) in wq.chunks_exact(BLOCK).zip(wd).enumerate() {
            let w = load(w);
            let abs_w = simd.avx2._mm256_sign_epi8(w, w);
            for (acc, (xq, xd)) in acc.iter_mut().zip(xs) {
                let s = block_sum(simd, abs_w, w, load(&xq[b * BLOCK..(b + 1) * BLOCK]));
                *acc = simd
                    .fma
                    ._mm256_fmadd_ps(simd.avx._mm256_set1_ps(dw * xd[b]), s, *acc);
            }
        }
        acc.map(|a| hsum(simd, a))
    }
}
