//! Inner products with run-time CPU feature detection.
//!
//! [`Kernel::detect`] picks, once, the best implementation the CPU running the program
//! supports: on x86-64 with AVX2 and FMA, kernels written with the `pulp` crate's safe SIMD
//! types (8-wide fused multiply-add, several independent accumulators); everywhere else a
//! portable loop with 16 accumulators that the compiler vectorises for the baseline target
//! (SSE2 on x86-64, NEON on aarch64). Nothing here needs `-C target-cpu=native`: the AVX2
//! code is compiled behind `#[target_feature]` inside `pulp` and only entered after
//! detection.
//!
//! Besides the single [`Kernel::dot`] there are batched forms that enter the SIMD context once
//! per batch: [`Kernel::dot_rows`] for a contiguous block of rows (one row after the other,
//! which the hardware prefetcher follows best), [`Kernel::dot_ids`] for scattered rows (four
//! rows per pass over the query: four independent memory streams in flight, shared query
//! loads).

#[cfg(target_arch = "x86_64")]
use pulp::{x86::V3, Simd};

/// An inner-product implementation chosen for the CPU at run time. Cheap to copy; detect it
/// once and pass it to hot loops.
#[derive(Debug, Clone, Copy)]
pub struct Kernel {
    #[cfg(target_arch = "x86_64")]
    v3: Option<V3>,
}

impl Default for Kernel {
    fn default() -> Self {
        Self::detect()
    }
}

impl Kernel {
    /// The fastest implementation this CPU supports.
    pub fn detect() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            v3: V3::try_new(),
        }
    }

    /// The portable implementation, whatever the CPU (for tests and comparisons).
    pub fn portable() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            v3: None,
        }
    }

    /// A short name of the implementation in use: `"avx2+fma"` or `"portable"`.
    pub fn name(self) -> &'static str {
        #[cfg(target_arch = "x86_64")]
        if self.v3.is_some() {
            return "avx2+fma";
        }
        "portable"
    }

    /// Inner product of `a` and `b` (same length).
    #[inline]
    pub fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        debug_assert_eq!(a.len(), b.len());
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = self.v3 {
            return simd.vectorize(Dot { simd, a, b });
        }
        dot_portable(a, b)
    }

    /// `out[r] = dot(rows[r * dim..(r + 1) * dim], query)` for every row of the block `rows`
    /// (`out.len() * dim == rows.len()`, `query.len() == dim`).
    pub fn dot_rows(self, rows: &[f32], dim: usize, query: &[f32], out: &mut [f32]) {
        assert_eq!(query.len(), dim, "query dimension");
        assert_eq!(rows.len(), out.len() * dim, "rows and outputs");
        if dim == 0 {
            out.fill(0.0);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = self.v3 {
            return simd.vectorize(DotRows {
                simd,
                rows,
                dim,
                query,
                out,
            });
        }
        for (row, o) in rows.chunks_exact(dim).zip(out.iter_mut()) {
            *o = dot_portable(row, query);
        }
    }

    /// `out[j] = dot(row ids[j] of vectors, query)`, rows `dim` wide; every id must be a row
    /// of `vectors` and `out.len() == ids.len()`.
    pub fn dot_ids(self, vectors: &[f32], dim: usize, ids: &[u32], query: &[f32], out: &mut [f32]) {
        assert_eq!(query.len(), dim, "query dimension");
        assert_eq!(ids.len(), out.len(), "ids and outputs");
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = self.v3 {
            return simd.vectorize(DotIds {
                simd,
                vectors,
                dim,
                ids,
                query,
                out,
            });
        }
        for (&id, o) in ids.iter().zip(out.iter_mut()) {
            let i = id as usize;
            *o = dot_portable(&vectors[i * dim..(i + 1) * dim], query);
        }
    }
}

/// Inner product with 16 independent accumulators, which the compiler vectorises for the
/// baseline target (a plain `zip().map().sum()` does not, being a strict sequential sum).
pub fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (a16, b16) = (a.chunks_exact(16), b.chunks_exact(16));
    let (a_tail, b_tail) = (a16.remainder(), b16.remainder());
    for (x, y) in a16.zip(b16) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for (x, y) in a_tail.iter().zip(b_tail) {
        tail += x * y;
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
struct Dot<'a> {
    simd: V3,
    a: &'a [f32],
    b: &'a [f32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Dot<'_> {
    type Output = f32;

    #[inline(always)]
    fn call(self) -> f32 {
        dot_v3(self.simd, self.a, self.b)
    }
}

/// One inner product: four accumulators over 32 floats per step (two loads per FMA, so the
/// loads are the limit, not the FMA latency).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn dot_v3(simd: V3, a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (av, a_tail) = V3::as_simd_f32s(a);
    let (bv, b_tail) = V3::as_simd_f32s(b);
    let zero = simd.splat_f32s(0.0);
    let (mut s0, mut s1, mut s2, mut s3) = (zero, zero, zero, zero);
    let (a4, a1) = pulp::as_arrays::<4, _>(av);
    let (b4, b1) = pulp::as_arrays::<4, _>(bv);
    for ([x0, x1, x2, x3], [y0, y1, y2, y3]) in a4.iter().zip(b4) {
        s0 = simd.mul_add_f32s(*x0, *y0, s0);
        s1 = simd.mul_add_f32s(*x1, *y1, s1);
        s2 = simd.mul_add_f32s(*x2, *y2, s2);
        s3 = simd.mul_add_f32s(*x3, *y3, s3);
    }
    for (x, y) in a1.iter().zip(b1) {
        s0 = simd.mul_add_f32s(*x, *y, s0);
    }
    let s = simd.add_f32s(simd.add_f32s(s0, s1), simd.add_f32s(s2, s3));
    let mut acc = simd.reduce_sum_f32s(s);
    for (x, y) in a_tail.iter().zip(b_tail) {
        acc += x * y;
    }
    acc
}

/// Four rows against one query: two accumulators per row (eight independent FMA chains), the
/// query's loads shared by the four rows.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn dot4_v3(simd: V3, rows: [&[f32]; 4], q: &[f32]) -> [f32; 4] {
    let (qv, q_tail) = V3::as_simd_f32s(q);
    let r0 = V3::as_simd_f32s(&rows[0][..q.len()]);
    let r1 = V3::as_simd_f32s(&rows[1][..q.len()]);
    let r2 = V3::as_simd_f32s(&rows[2][..q.len()]);
    let r3 = V3::as_simd_f32s(&rows[3][..q.len()]);
    let zero = simd.splat_f32s(0.0);
    let mut a = [zero; 4];
    let mut b = [zero; 4];
    let pairs = qv.len() / 2;
    for p in 0..pairs {
        let (i, j) = (2 * p, 2 * p + 1);
        let (qi, qj) = (qv[i], qv[j]);
        a[0] = simd.mul_add_f32s(r0.0[i], qi, a[0]);
        a[1] = simd.mul_add_f32s(r1.0[i], qi, a[1]);
        a[2] = simd.mul_add_f32s(r2.0[i], qi, a[2]);
        a[3] = simd.mul_add_f32s(r3.0[i], qi, a[3]);
        b[0] = simd.mul_add_f32s(r0.0[j], qj, b[0]);
        b[1] = simd.mul_add_f32s(r1.0[j], qj, b[1]);
        b[2] = simd.mul_add_f32s(r2.0[j], qj, b[2]);
        b[3] = simd.mul_add_f32s(r3.0[j], qj, b[3]);
    }
    if qv.len() % 2 == 1 {
        let i = qv.len() - 1;
        let qi = qv[i];
        a[0] = simd.mul_add_f32s(r0.0[i], qi, a[0]);
        a[1] = simd.mul_add_f32s(r1.0[i], qi, a[1]);
        a[2] = simd.mul_add_f32s(r2.0[i], qi, a[2]);
        a[3] = simd.mul_add_f32s(r3.0[i], qi, a[3]);
    }
    let tails = [r0.1, r1.1, r2.1, r3.1];
    let mut out = [0.0f32; 4];
    for r in 0..4 {
        let mut acc = simd.reduce_sum_f32s(simd.add_f32s(a[r], b[r]));
        for (x, y) in tails[r].iter().zip(q_tail) {
            acc += x * y;
        }
        out[r] = acc;
    }
    out
}

#[cfg(target_arch = "x86_64")]
struct DotRows<'a> {
    simd: V3,
    rows: &'a [f32],
    dim: usize,
    query: &'a [f32],
    out: &'a mut [f32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for DotRows<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Self {
            simd,
            rows,
            dim,
            query,
            out,
        } = self;
        for (row, o) in rows.chunks_exact(dim).zip(out.iter_mut()) {
            *o = dot_v3(simd, row, query);
        }
    }
}

#[cfg(target_arch = "x86_64")]
struct DotIds<'a> {
    simd: V3,
    vectors: &'a [f32],
    dim: usize,
    ids: &'a [u32],
    query: &'a [f32],
    out: &'a mut [f32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for DotIds<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Self {
            simd,
            vectors,
            dim,
            ids,
            query,
            out,
        } = self;
        let row = |id: u32| {
            let i = id as usize;
            &vectors[i * dim..(i + 1) * dim]
        };
        let full = ids.len() / 4 * 4;
        let (ids4, ids1) = ids.split_at(full);
        let (out4, out1) = out.split_at_mut(full);
        for (i, o) in ids4.chunks_exact(4).zip(out4.chunks_exact_mut(4)) {
            let r = dot4_v3(simd, [row(i[0]), row(i[1]), row(i[2]), row(i[3])], query);
            o.copy_from_slice(&r);
        }
        for (&i, o) in ids1.iter().zip(out1.iter_mut()) {
            *o = dot_v3(simd, row(i), query);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn reference(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (*x as f64) * (*y as f64))
            .sum::<f64>() as f32
    }

    #[test]
    fn kernels_agree_with_a_plain_sum_for_every_length() {
        for kernel in [Kernel::detect(), Kernel::portable()] {
            for dim in [
                0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 384,
            ] {
                let a = pseudo(dim, 1);
                let b = pseudo(dim, 2);
                let got = kernel.dot(&a, &b);
                let want = reference(&a, &b);
                assert!(
                    (got - want).abs() < 1e-4 * (dim as f32 + 1.0),
                    "{} {dim}",
                    kernel.name()
                );

                let rows = pseudo(dim * 7, 3);
                let mut out = [0.0f32; 7];
                kernel.dot_rows(&rows, dim, &a, &mut out);
                let ids = [6u32, 0, 3, 3, 5, 1, 2];
                let mut by_id = [0.0f32; 7];
                kernel.dot_ids(&rows, dim, &ids, &a, &mut by_id);
                for r in 0..7 {
                    let want = reference(&rows[r * dim..(r + 1) * dim], &a);
                    assert!((out[r] - want).abs() < 1e-4 * (dim as f32 + 1.0));
                    let i = ids[r] as usize;
                    let want = reference(&rows[i * dim..(i + 1) * dim], &a);
                    assert!((by_id[r] - want).abs() < 1e-4 * (dim as f32 + 1.0));
                }
            }
        }
    }
}
