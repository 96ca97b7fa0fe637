//! Exact inner-product search.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Inner product with 16 independent accumulators, which the compiler vectorises
/// (a plain `zip().map().sum()` does not, being a strict sequential sum).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let chunks = a.len() / 16;
    for c in 0..chunks {
        let (x, y) = (&a[c * 16..c * 16 + 16], &b[c * 16..c * 16 + 16]);
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0.0;
    for i in chunks * 16..a.len() {
        tail += a[i] * b[i];
    }
    acc.iter().sum::<f32>() + tail
}

#[derive(PartialEq)]
struct MinScored(f32, usize);

impl Eq for MinScored {}

impl PartialOrd for MinScored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MinScored {
    // Reversed so that the heap's top is the weakest of the kept results.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

/// The `k` best rows of `vectors` (row-major, `dim` wide) by inner product with `query`,
/// best first; rows for which `keep` is false are skipped.
pub(crate) fn top_k(
    vectors: &[f32],
    dim: usize,
    query: &[f32],
    k: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<(usize, f32)> {
    let mut heap = BinaryHeap::with_capacity(k + 1);
    if k == 0 {
        return Vec::new();
    }
    for (i, row) in vectors.chunks_exact(dim).enumerate() {
        let score = dot(row, query);
        if heap.len() == k {
            if let Some(worst) = heap.peek() {
                let MinScored(w, _) = worst;
                if score <= *w {
                    continue;
                }
            }
        }
        if !keep(i) {
            continue;
        }
        heap.push(MinScored(score, i));
        if heap.len() > k {
            heap.pop();
        }
    }
    let mut out: Vec<(usize, f32)> = heap.into_iter().map(|MinScored(s, i)| (i, s)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}
