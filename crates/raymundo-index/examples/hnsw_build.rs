//! Builds an HNSW graph over the first N vectors of a `bench/ann` data folder and reports the
//! build time: `cargo run --release -p raymundo-index --example hnsw_build -- DIR N [threads]`.

use raymundo_index::{Hnsw, HnswParams, DEFAULT_SEED};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().expect("DIR");
    let n: usize = args.get(1).and_then(|v| v.parse().ok()).expect("N");
    let threads: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(2);
    let dim = 384;
    let bytes = std::fs::read(format!("{dir}/base.f32")).expect("base.f32");
    let v: Vec<f32> = bytes[..n * dim * 4]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect();
    let start = Instant::now();
    let g = Hnsw::build_with(&v, dim, &HnswParams::default(), DEFAULT_SEED, threads);
    println!(
        "n {n}, {threads} threads: built in {:.2} s ({} bytes)",
        start.elapsed().as_secs_f64(),
        g.memory_bytes()
    );
}
