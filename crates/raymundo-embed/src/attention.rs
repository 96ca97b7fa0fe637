//! Self-attention of one sequence, every head, in `f32` on the CPU's vector registers.
//!
//! For each head the keys are laid out transposed (`head_dim x keys`, padded with zeros to
//! whole vectors), so that the scores run along the key axis: a tile of four queries gets its
//! scores for two vectors of keys at a time (eight accumulators, one fused multiply-add per
//! query, key vector and dimension). The scores become unnormalised weights in place
//! (`exp(s - max)`), and the context of the four queries is the sum over keys of each key's
//! weight times its row of values (two vectors of dimensions at a time, no horizontal sums),
//! divided by the weights' sum at the end. Only four rows of scores exist at once, so they
//! stay in the first-level cache whatever the sequence length. The work is compiled for the
//! best vector extensions of the CPU ([`pulp::Arch::dispatch`]). It replaces per-head calls
//! of candle's general matrix product, which spent more time allocating and copying than
//! multiplying at these sizes (measured: 34% of the encoder's time, at 15 GMAC/s).

use crate::kernels::{exp, max, sum};
use pulp::Simd;

/// Queries computed together.
const QT: usize = 4;

/// Buffers of [`attention`], reused from one sequence to the next on a thread.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    q: Vec<f32>,
    kt: Vec<f32>,
    v: Vec<f32>,
    p: Vec<f32>,
}

/// Self-attention of one sequence: `qkv` holds its rows of query, key and value projections
/// side by side (`3 * hidden` wide, before `bias` is added); the context vectors (heads side
/// by side, `hidden` wide) are written to `out`.
pub(crate) fn attention(
    arch: pulp::Arch,
    qkv: &[f32],
    bias: &[f32],
    heads: usize,
    out: &mut [f32],
    buf: &mut Buffers,
) {
    struct Attention<'a> {
        qkv: &'a [f32],
        bias: &'a [f32],
        heads: usize,
        out: &'a mut [f32],
        buf: &'a mut Buffers,
    }
    impl pulp::WithSimd for Attention<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let Self {
                qkv,
                bias,
                heads,
                out,
                buf,
            } = self;
            let h3 = bias.len();
            let h = h3 / 3;
            let d = h / heads;
            let l = qkv.len() / h3;
            let n = S::F32_LANES;
            let lp = l.next_multiple_of(2 * n);
            let lq = l.next_multiple_of(QT);
            for hd in 0..heads {
                reset(&mut buf.q, lq * d);
                reset(&mut buf.kt, d * lp);
                reset(&mut buf.v, l * d);
                reset(&mut buf.p, QT * lp);
                let (qb, kb, vb) = (hd * d, h + hd * d, 2 * h + hd * d);
                let (q_bias, k_bias, v_bias) =
                    (&bias[qb..qb + d], &bias[kb..kb + d], &bias[vb..vb + d]);
                for ((i, row), q) in qkv
                    .chunks_exact(h3)
                    .enumerate()
                    .zip(buf.q.chunks_exact_mut(d))
                {
                    for ((q, x), b) in q.iter_mut().zip(&row[qb..qb + d]).zip(q_bias) {
                        *q = x + b;
                    }
                    for ((kt, x), b) in buf
                        .kt
                        .chunks_exact_mut(lp)
                        .zip(&row[kb..kb + d])
                        .zip(k_bias)
                    {
                        kt[i] = x + b;
                    }
                    for ((v, x), b) in buf.v[i * d..(i + 1) * d]
                        .iter_mut()
                        .zip(&row[vb..vb + d])
                        .zip(v_bias)
                    {
                        *v = x + b;
                    }
                }
                for i0 in (0..l).step_by(QT) {
                    let qn = QT.min(l - i0);
                    // Scores of QT queries against every key, two key vectors at a time.
                    let qt: [&[f32]; QT] =
                        std::array::from_fn(|r| &buf.q[(i0 + r) * d..(i0 + r + 1) * d]);
                    for jv in (0..lp).step_by(2 * n) {
                        let mut acc = [[simd.splat_f32s(0.0); 2]; QT];
                        for (c, kt) in buf.kt.chunks_exact(lp).enumerate() {
                            let k = S::as_simd_f32s(&kt[jv..jv + 2 * n]).0;
                            let (k0, k1) = (k[0], k[1]);
                            for (acc, q) in acc.iter_mut().zip(qt) {
                                let q = simd.splat_f32s(q[c]);
                                acc[0] = simd.mul_add_e_f32s(q, k0, acc[0]);
                                acc[1] = simd.mul_add_e_f32s(q, k1, acc[1]);
                            }
                        }
                        for (r, acc) in acc.iter().enumerate() {
                            let p = S::as_mut_simd_f32s(&mut buf.p[r * lp + jv..][..2 * n]).0;
                            p[0] = acc[0];
                            p[1] = acc[1];
                        }
                    }
                    // Softmax over the real keys, left unnormalised: the context is divided
                    // by each row's sum at the end instead.
                    let mut inv = [0.0f32; QT];
                    for (r, inv) in inv.iter_mut().enumerate().take(qn) {
                        let keys = &mut buf.p[r * lp..r * lp + l];
                        let m = max(keys);
                        for x in keys.iter_mut() {
                            *x = exp(*x - m);
                        }
                        *inv = 1.0 / sum(keys);
                    }
                    // Context: each key's weights times its row of values, added up.
                    let mut c = 0;
                    while c + 2 * n <= d {
                        context::<S, 2>(simd, &buf.p, lp, &buf.v, d, c, &inv, qn, out, i0, h, hd);
                        c += 2 * n;
                    }
                    while c + n <= d {
                        context::<S, 1>(simd, &buf.p, lp, &buf.v, d, c, &inv, qn, out, i0, h, hd);
                        c += n;
                    }
                    for c in c..d {
                        for (r, inv) in inv.iter().enumerate().take(qn) {
                            let p = &buf.p[r * lp..r * lp + l];
                            let v: f32 = p
                                .iter()
                                .zip(buf.v[c..].iter().step_by(d))
                                .map(|(p, v)| p * v)
                                .sum();
                            out[(i0 + r) * h + hd * d + c] = v * inv;
                        }
                    }
                }
            }
        }
    }
    arch.dispatch(Attention {
        qkv,
        bias,
        heads,
        out,
        buf,
    })
}

/// Context values `c..c + V * lanes` of up to [`QT`] queries (`qn` real ones, from `i0`) of
/// head `hd`: the rows of `p` (unnormalised weights, `lp` apart) times the rows of values
/// `v` (`d` wide), summed over the keys and multiplied by the rows' `inv`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn context<S: Simd, const V: usize>(
    simd: S,
    p: &[f32],
    lp: usize,
    v: &[f32],
    d: usize,
    c: usize,
    inv: &[f32; QT],
    qn: usize,
    out: &mut [f32],
    i0: usize,
    h: usize,
    hd: usize,
) {
    let n = S::F32_LANES;
    let l = v.len() / d;
    let pr: [&[f32]; QT] = std::array::from_fn(|r| &p[r * lp..r * lp + l]);
    let mut acc = [[simd.splat_f32s(0.0); V]; QT];
    for (j, row) in v.chunks_exact(d).enumerate() {
        let vs = S::as_simd_f32s(&row[c..c + V * n]).0;
        for (acc, pr) in acc.iter_mut().zip(pr) {
            let w = simd.splat_f32s(pr[j]);
            for (acc, &x) in acc.iter_mut().zip(vs) {
                *acc = simd.mul_add_e_f32s(w, x, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate().take(qn) {
        let o = &mut out[(i0 + r) * h + hd * d + c..][..V * n];
        let o = S::as_mut_simd_f32s(o).0;
        let inv = simd.splat_f32s(inv[r]);
        for (o, &a) in o.iter_mut().zip(acc) {
            *o = simd.mul_f32s(a, inv);
        }
    }
}

/// `len` zeros, reusing the buffer's memory.
#[inline(always)]
fn reset(v: &mut Vec<f32>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((s >> 8) as f32 / (1u32 << 24) as f32) * 4.0 - 2.0
            })
            .collect()
    }

    /// Attention written out the obvious way, in `f64`.
    fn reference(qkv: &[f32], bias: &[f32], heads: usize) -> Vec<f32> {
        let h = bias.len() / 3;
        let d = h / heads;
        let l = qkv.len() / (3 * h);
        let at = |i: usize, part: usize, hd: usize, c: usize| {
            let k = part * h + hd * d + c;
            (qkv[i * 3 * h + k] + bias[k]) as f64
        };
        let mut out = vec![0.0f32; l * h];
        for hd in 0..heads {
            for i in 0..l {
                let s: Vec<f64> = (0..l)
                    .map(|j| (0..d).map(|c| at(i, 0, hd, c) * at(j, 1, hd, c)).sum())
                    .collect();
                let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for c in 0..d {
                    let v: f64 = (0..l).map(|j| e[j] / z * at(j, 2, hd, c)).sum();
                    out[i * h + hd * d + c] = v as f32;
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_textbook_formula_for_any_length_and_head_size() {
        // Head sizes 16 (whole pairs of AVX2 vectors), 28 (a pair, one vector and four
        // single values) and 13 (odd: one vector and five single values).
        for (heads, h) in [(3, 48), (2, 56), (3, 39)] {
            let mut buf = Buffers::default();
            for l in [1, 2, 5, 16, 17, 33, 70] {
                let qkv = sample(l * 3 * h, l as u32);
                let bias = sample(3 * h, 99);
                let mut out = vec![f32::NAN; l * h];
                attention(pulp::Arch::new(), &qkv, &bias, heads, &mut out, &mut buf);
                let expected = reference(&qkv, &bias, heads);
                for (i, (a, b)) in out.iter().zip(&expected).enumerate() {
                    assert!(
                        (a - b).abs() < 1e-4,
                        "head size {}, length {l}, value {i}: {a} vs {b}",
                        h / heads
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    /// `cargo test --release -p raymundo-embed attention_speed -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn attention_speed() {
        let (heads, h) = (12, 384);
        let mut buf = Buffers::default();
        for l in [32, 128, 256, 320] {
            let qkv: Vec<f32> = (0..l * 3 * h)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect();
            let bias = vec![0.01f32; 3 * h];
            let mut out = vec![0.0f32; l * h];
            let reps = (4_000_000_000 / (l * l * 64 * heads)).max(3);
            // CPU time of this thread (Linux, 10 ms ticks): other processes do not count.
            let cpu = || {
                let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
                let f: Vec<&str> = stat
                    .rsplit(')')
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .collect();
                (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
            };
            let t = cpu();
            for _ in 0..reps {
                attention(pulp::Arch::new(), &qkv, &bias, heads, &mut out, &mut buf);
            }
            let s = (cpu() - t) / reps as f64;
            let macs = (2 * l * l * (h / heads) * heads) as f64;
            println!(
                "l {l:>4}: {:.3} ms, {:.1} GMAC/s (one thread)",
                s * 1e3,
                macs / s / 1e9
            );
        }
    }
}
