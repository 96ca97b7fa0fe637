//! Micro-benchmark of the inner-product kernels and the exact scan.
//!
//! `cargo run --release -p raymundo-index --example dot_bench [n] [dim]` scores `n` random rows
//! against a query in several ways and prints the median time of 21 repetitions of each.

use raymundo_index::{dot_portable, top_k_threads, Kernel};
use std::hint::black_box;
use std::time::Instant;

fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[reps / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(100_000);
    let dim = args.get(1).copied().unwrap_or(384);
    let mut s = 0x1234_5678_u64;
    let v: Vec<f32> = (0..n * dim)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    let q = v[..dim].to_vec();
    let fast = Kernel::detect();
    println!("n {n} dim {dim}, kernel {}", fast.name());
    let reps = 21;
    let mut out = vec![0.0f32; 256];
    let rows = |f: &dyn Fn(&[f32]) -> f32| {
        let mut best = f32::MIN;
        for r in v.chunks_exact(dim) {
            best = best.max(f(r));
        }
        black_box(best);
    };
    let t_port = median_ms(reps, || rows(&|r| dot_portable(r, &q)));
    let t_fast = median_ms(reps, || rows(&|r| fast.dot(r, &q)));
    let t_block = median_ms(reps, || {
        for b in v.chunks(256 * dim) {
            let o = &mut out[..b.len() / dim];
            fast.dot_rows(b, dim, &q, o);
            black_box(&o);
        }
    });
    let t_top1 = median_ms(reps, || {
        black_box(top_k_threads(&v, dim, &q, 10, |_| true, 1));
    });
    let t_top2 = median_ms(reps, || {
        black_box(top_k_threads(&v, dim, &q, 10, |_| true, 2));
    });
    println!("per-row dot, portable 16 accumulators : {t_port:8.3} ms");
    println!("per-row dot, {:<25}: {t_fast:8.3} ms", fast.name());
    println!("dot_rows blocks of 256 (4 rows/pass)   : {t_block:8.3} ms");
    println!("top_k k=10, 1 thread                   : {t_top1:8.3} ms");
    println!("top_k k=10, 2 threads                  : {t_top2:8.3} ms");
}
