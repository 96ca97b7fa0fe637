//! Raymundo's side of `bench/ann/run.sh`: exact and HNSW search over the files that
//! `bench/ann/gen.py` writes, one query at a time, printed as JSON lines.
//!
//! `cargo run --release -p raymundo-index --example ann_bench -- DIR N`
//!
//! Environment: `REPS` (timed repetitions, median reported; 5), `EFS` (ef values to sweep;
//! `16,24,32,48,64,96,128,192,256`), `TARGET` (recall@10 the chosen ef must reach; 0.98),
//! `M` and `EFC` (graph parameters; the defaults of `HnswParams`), `GRAPH` (a file to load the
//! graph from instead of building it, or to save it to after building).

use raymundo_index::{top_k, top_k_threads, Hnsw, HnswParams, Kernel};
use std::time::Instant;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn read_f32(path: &str, count: usize) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(bytes.len() >= count * 4, "{path}: too short");
    bytes[..count * 4]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect()
}

fn read_i32(path: &str) -> Vec<i32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect()
}

/// Resident set size of this process, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Queries per second over `queries` (one at a time), median of `reps` passes, and the
/// results of the last pass.
fn qps(
    reps: usize,
    queries: &[&[f32]],
    mut search: impl FnMut(&[f32]) -> Vec<(usize, f32)>,
) -> (f64, Vec<Vec<usize>>) {
    let mut rates = Vec::new();
    let mut found = Vec::new();
    for _ in 0..reps {
        found.clear();
        let start = Instant::now();
        for q in queries {
            found.push(search(q));
        }
        rates.push(queries.len() as f64 / start.elapsed().as_secs_f64());
    }
    let ids = found
        .into_iter()
        .map(|r| r.into_iter().map(|p| p.0).collect())
        .collect();
    (median(rates), ids)
}

fn recall(found: &[Vec<usize>], gt: &[i32]) -> f64 {
    let mut hits = 0;
    for (i, f) in found.iter().enumerate() {
        let want = &gt[i * 10..i * 10 + 10];
        hits += f
            .iter()
            .take(10)
            .filter(|&&id| want.contains(&(id as i32)))
            .count();
    }
    hits as f64 / (10 * found.len()) as f64
}

#[allow(clippy::too_many_arguments)]
fn row(index: &str, n: usize, build_s: f64, rss: f64, ef: usize, r: f64, q5: f64, q10: f64) {
    println!(
        "{{\"impl\":\"raymundo\",\"index\":\"{index}\",\"n\":{n},\"build_s\":{build_s:.3},\
         \"rss_mib\":{rss:.1},\"ef\":{ef},\"recall10\":{r:.4},\"qps5\":{q5:.1},\"qps10\":{q10:.1}}}"
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, n) = match args.as_slice() {
        [d, n, ..] => (d.clone(), n.parse::<usize>().expect("N")),
        _ => panic!("usage: ann_bench DIR N"),
    };
    let meta = std::fs::read_to_string(format!("{dir}/meta.json")).expect("meta.json");
    let field = |k: &str| -> usize {
        let at = meta.find(&format!("\"{k}\": ")).expect(k) + k.len() + 4;
        meta[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|v| v.parse().ok())
            .expect(k)
    };
    let (dim, nq) = (field("dim"), field("nq"));
    let reps = env("REPS", 5usize);
    let target = env("TARGET", 0.98f64);
    let efs: Vec<usize> = env("EFS", "16,24,32,48,64,96,128,192,256".to_string())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let defaults = HnswParams::default();
    let params = HnswParams {
        m: env("M", defaults.m),
        ef_construction: env("EFC", defaults.ef_construction),
        ef_search: defaults.ef_search,
    };

    let base = read_f32(&format!("{dir}/base.f32"), n * dim);
    let queries = read_f32(&format!("{dir}/queries.f32"), nq * dim);
    let gt = read_i32(&format!("{dir}/gt_{n}.i32"));
    let qs: Vec<&[f32]> = queries.chunks_exact(dim).collect();
    let base = base.as_slice();
    eprintln!(
        "raymundo: n {n}, dim {dim}, kernel {}, {} cores",
        Kernel::detect().name(),
        std::thread::available_parallelism().map_or(1, |c| c.get())
    );

    // Exact: fewer queries for larger sizes (about 5e8 floats scanned per pass).
    let nq_exact = (500_000_000 / (n * dim)).clamp(20, nq);
    let qx = &qs[..nq_exact];
    for threads in [0, 1] {
        let search = |k: usize| {
            move |q: &[f32]| {
                if threads == 0 {
                    top_k(base, dim, q, k, |_| true)
                } else {
                    top_k_threads(base, dim, q, k, |_| true, threads)
                }
            }
        };
        let (q5, _) = qps(reps, qx, search(5));
        let (q10, found) = qps(reps, qx, search(10));
        let name = if threads == 0 {
            "exact (all cores)"
        } else {
            "exact (1 thread)"
        };
        row(name, n, 0.0, 0.0, 0, recall(&found, &gt), q5, q10);
    }

    let rss0 = rss_mib();
    let start = Instant::now();
    // GRAPH=path: load the graph from there if present (no build time then), else save it.
    let cached = std::env::var("GRAPH").ok();
    let loaded = cached
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .map(|bytes| Hnsw::from_bytes(&bytes, n).unwrap_or_else(|e| panic!("{cached:?}: {e}")));
    let fresh = loaded.is_none();
    let graph = loaded.unwrap_or_else(|| Hnsw::build(base, dim, &params));
    let build_s = if fresh {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let rss = rss_mib() - rss0;
    if let (true, Some(path)) = (fresh, &cached) {
        std::fs::write(path, graph.to_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    eprintln!(
        "raymundo: HNSW m {} efc {} built in {build_s:.1} s, graph {:.1} MiB (RSS +{rss:.1} MiB)",
        params.m,
        params.ef_construction,
        graph.memory_bytes() as f64 / (1 << 20) as f64
    );
    let mut chosen = *efs.last().expect("EFS");
    for &ef in &efs {
        let (q10, found) = qps(1, &qs, |q| graph.search(base, q, 10, ef, &|_| true));
        let r = recall(&found, &gt);
        eprintln!("raymundo: HNSW ef {ef:>4}: recall@10 {r:.4}, {q10:.0} QPS");
        if r >= target {
            chosen = ef;
            break;
        }
    }
    let mut efs_timed = vec![chosen];
    if params.ef_search != chosen {
        efs_timed.push(params.ef_search);
    }
    for ef in efs_timed {
        let (q5, _) = qps(reps, &qs, |q| graph.search(base, q, 5, ef, &|_| true));
        let (q10, found) = qps(reps, &qs, |q| graph.search(base, q, 10, ef, &|_| true));
        let r = recall(&found, &gt);
        let name = format!("HNSW m={} efc={}", params.m, params.ef_construction);
        row(&name, n, build_s, rss, ef, r, q5, q10);
    }
}
