//! Exact inner-product search.
//!
//! A full scan: rows are scored a block at a time with the run-time selected SIMD kernel
//! ([`Kernel`]), and a score only reaches the filter and the bounded heap when it beats the
//! weakest kept result. Above [`PARALLEL_MIN_FLOATS`] floats the scoring is split over the
//! available cores (scoped threads taking blocks of rows in turn); the filter then runs on the calling
//! thread over the scores, so it need not be `Sync`. The scan is bound by memory bandwidth
//! once the vectors do not fit in the cache, which is where the second core pays most.

use crate::simd::Kernel;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Mutex, OnceLock};

/// Below this many floats (`rows * dim`, about 11k vectors of 384) the scan stays on the
/// calling thread: below it the data fits in the last-level cache, one core scans it in a
/// few hundred microseconds, and on a busy machine waiting for a second thread costs more
/// than it saves.
pub const PARALLEL_MIN_FLOATS: usize = 1 << 22;

/// Rows scored per kernel call when scanning on one thread (the scores live on the stack).
const BLOCK: usize = 256;

/// Rows per work item when the scan is split over threads.
const PARALLEL_BLOCK: usize = 2048;

/// The kernel for this CPU, detected once.
pub(crate) fn kernel() -> Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    *KERNEL.get_or_init(Kernel::detect)
}

/// Cores available to this process, looked up once.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Inner product of `a` and `b`, with the fastest kernel this CPU supports (AVX2+FMA when
/// present, detected at run time; a portable vectorised loop otherwise).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    kernel().dot(a, b)
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

/// The best `k` of a stream of scored rows; the weakest kept score is cached as a threshold so
/// that most rows cost one comparison.
struct TopK {
    k: usize,
    heap: BinaryHeap<MinScored>,
    threshold: f32,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
            threshold: f32::NEG_INFINITY,
        }
    }

    /// Offers the scores of rows `first..first + scores.len()`.
    #[inline]
    fn offer(&mut self, first: usize, scores: &[f32], keep: &impl Fn(usize) -> bool) {
        for (j, &s) in scores.iter().enumerate() {
            // A full heap also rejects NaN scores.
            if self.heap.len() == self.k && (s <= self.threshold || s.is_nan()) {
                continue;
            }
            let i = first + j;
            if !keep(i) {
                continue;
            }
            self.heap.push(MinScored(s, i));
            if self.heap.len() > self.k {
                self.heap.pop();
            }
            if self.heap.len() == self.k {
                self.threshold = self.heap.peek().map_or(f32::NEG_INFINITY, |w| w.0);
            }
        }
    }

    fn into_sorted(self) -> Vec<(usize, f32)> {
        let mut out: Vec<(usize, f32)> = self
            .heap
            .into_iter()
            .map(|MinScored(s, i)| (i, s))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

/// The `k` best rows of `vectors` (row-major, `dim` wide) by inner product with `query`,
/// best first (ties by row); rows for which `keep` is false are skipped. Uses every core
/// for large inputs (see [`PARALLEL_MIN_FLOATS`]).
pub fn top_k(
    vectors: &[f32],
    dim: usize,
    query: &[f32],
    k: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<(usize, f32)> {
    top_k_threads(vectors, dim, query, k, keep, cores())
}

/// [`top_k`] with at most `threads` threads (1: on the calling thread only). The split only
/// happens above [`PARALLEL_MIN_FLOATS`].
pub fn top_k_threads(
    vectors: &[f32],
    dim: usize,
    query: &[f32],
    k: usize,
    keep: impl Fn(usize) -> bool,
    threads: usize,
) -> Vec<(usize, f32)> {
    if k == 0 || dim == 0 || vectors.is_empty() {
        return Vec::new();
    }
    assert_eq!(query.len(), dim, "query dimension");
    let n = vectors.len() / dim;
    let kernel = kernel();
    let mut top = TopK::new(k);
    let threads = threads.max(1).min(n);
    if threads == 1 || vectors.len() < PARALLEL_MIN_FLOATS {
        let mut scores = [0.0f32; BLOCK];
        for (b, block) in vectors[..n * dim].chunks(BLOCK * dim).enumerate() {
            let scores = &mut scores[..block.len() / dim];
            kernel.dot_rows(block, dim, query, scores);
            top.offer(b * BLOCK, scores, &keep);
        }
        return top.into_sorted();
    }
    thread_local! {
        static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    }
    SCORES.with_borrow_mut(|scores| {
        scores.clear();
        scores.resize(n, 0.0);
        // Blocks handed out one at a time: a thread that the OS leaves waiting (the machine
        // is shared) delays the scan by one block at most, not by half of it.
        let blocks = Mutex::new(
            scores
                .chunks_mut(PARALLEL_BLOCK)
                .zip(vectors.chunks(PARALLEL_BLOCK * dim)),
        );
        let work = || loop {
            let next = blocks.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some((out, rows)) = next else { break };
            kernel.dot_rows(rows, dim, query, out);
        };
        std::thread::scope(|s| {
            for _ in 1..threads {
                s.spawn(work);
            }
            work();
        });
        top.offer(0, scores, &keep);
    });
    top.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, dim: usize) -> Vec<f32> {
        let mut s = 0x9e37_79b9_u32;
        (0..n * dim)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 1000) as f32 / 1000.0 - 0.5
            })
            .collect()
    }

    fn naive(
        v: &[f32],
        dim: usize,
        q: &[f32],
        k: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let mut all: Vec<(usize, f32)> = v
            .chunks_exact(dim)
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(i, r)| (i, r.iter().zip(q).map(|(a, b)| a * b).sum()))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.into_iter().take(k).map(|p| p.0).collect()
    }

    #[test]
    fn serial_and_parallel_scans_find_the_naive_top_k_with_and_without_a_filter() {
        let dim = 64;
        let n = PARALLEL_MIN_FLOATS / dim + 37; // large enough to split
        let v = data(n, dim);
        let q = &v[5 * dim..6 * dim];
        for threads in [1, 2, 3] {
            let got: Vec<usize> = top_k_threads(&v, dim, q, 10, |_| true, threads)
                .into_iter()
                .map(|p| p.0)
                .collect();
            assert_eq!(got, naive(&v, dim, q, 10, |_| true), "threads {threads}");
            let odd = |i: usize| i % 2 == 1;
            let got: Vec<usize> = top_k_threads(&v, dim, q, 7, odd, threads)
                .into_iter()
                .map(|p| p.0)
                .collect();
            assert_eq!(got, naive(&v, dim, q, 7, odd), "threads {threads}");
        }
    }

    #[test]
    fn small_and_degenerate_inputs() {
        let v = data(3, 4);
        assert!(top_k(&v, 4, &v[..4], 0, |_| true).is_empty());
        assert!(top_k(&[], 4, &v[..4], 5, |_| true).is_empty());
        let all = top_k(&v, 4, &v[..4], 10, |_| true);
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(top_k(&v, 4, &v[..4], 10, |_| false).is_empty());
    }
}
