//! Raymundo's side of `bench/pgindex/run.sh`: one index searched from its files and from
//! PostgreSQL, the two taking turns query by query, printed as JSON lines.
//!
//! `cargo run --release -p raymundo-index --example pg_bench -- INDEX_DIR URL [QUERIES]`
//!
//! Publishes the index of INDEX_DIR to the database at URL (timed), then makes QUERIES
//! queries (300): each the first eight words of a chunk, with a vector mixing that chunk's
//! with another's plus a little noise (a question is near its passage, never on it). Reports
//! recall@10 of the dense search through pgvector's HNSW against an exact scan, the hybrid
//! search latency of both backends (p50/p95/p99, default retrieval settings, top 4), and how
//! often the two return the same passages.

use raymundo_core::RetrievalConfig;
use raymundo_index::{top_k, Filter, Index, PgIndex, SearchParams};
use std::path::Path;
use std::time::Instant;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn summary(name: &str, mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "{{\"backend\":\"{name}\",\"queries\":{},\"p50_ms\":{:.3},\"p95_ms\":{:.3},\"p99_ms\":{:.3}}}",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99)
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() >= 3, "usage: pg_bench INDEX_DIR URL [QUERIES]");
    let n_queries: usize = args.get(3).map_or(300, |q| q.parse().expect("QUERIES"));
    let file = Index::load(Path::new(&args[1]), None).expect("load the index");
    let dim = file.meta().dim;
    let started = Instant::now();
    let pg = PgIndex::publish(&args[2], &file).expect("publish to PostgreSQL");
    println!(
        "{{\"published_chunks\":{},\"version\":{},\"publish_s\":{:.1}}}",
        pg.len(),
        pg.version(),
        started.elapsed().as_secs_f64()
    );

    let mut rng = Rng(0x5241_594d_554e_444f);
    let queries: Vec<(String, Vec<f32>)> = (0..n_queries)
        .map(|_| {
            let (i, j) = (rng.below(file.len()), rng.below(file.len()));
            let text: Vec<&str> = file.chunks()[i].text.split_whitespace().take(8).collect();
            let mut v: Vec<f32> = file
                .vector(i)
                .iter()
                .zip(file.vector(j))
                .map(|(a, b)| 0.8 * a + 0.2 * b + 0.01 * rng.unit())
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            (text.join(" "), v)
        })
        .collect();

    // Recall@10 of the HNSW search in PostgreSQL against an exact scan.
    let vectors: Vec<f32> = (0..file.len())
        .flat_map(|i| file.vector(i).to_vec())
        .collect();
    let mut found = 0;
    for (_, q) in &queries {
        let exact: Vec<usize> = top_k(&vectors, dim, q, 10, |_| true)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        let truth: Vec<String> = exact.iter().map(|&i| file.chunks()[i].id()).collect();
        let hits = pg.search(q, 10, &Filter::default()).expect("dense search");
        found += hits
            .iter()
            .filter(|h| truth.contains(&h.chunk.id()))
            .count();
    }
    println!(
        "{{\"recall_at_10\":{:.4},\"queries\":{}}}",
        found as f64 / (10 * queries.len()) as f64,
        queries.len()
    );

    // Hybrid search, taking turns.
    let params = SearchParams::from_config(&RetrievalConfig::default(), 4);
    let (mut file_ms, mut pg_ms) = (Vec::new(), Vec::new());
    let mut same = 0;
    for (i, (text, q)) in queries.iter().enumerate() {
        let mut run = |pg_first: bool| {
            let mut out = [Vec::new(), Vec::new()];
            for turn in 0..2 {
                let on_pg = (turn == 0) == pg_first;
                let t = Instant::now();
                let hits = if on_pg {
                    pg.hybrid_search(q, text, &params)
                        .expect("hybrid search")
                        .hits
                } else {
                    file.hybrid_search(q, text, &params)
                        .expect("hybrid search")
                        .hits
                };
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if on_pg {
                    pg_ms.push(ms);
                    out[1] = hits.iter().map(|h| h.chunk.id()).collect::<Vec<_>>();
                } else {
                    file_ms.push(ms);
                    out[0] = hits.iter().map(|h| h.chunk.id()).collect::<Vec<_>>();
                }
            }
            out
        };
        let [a, b] = run(i % 2 == 0);
        same += usize::from(a == b);
    }
    // Where the two differ: each list alone.
    for fusion in [raymundo_core::Fusion::Dense, raymundo_core::Fusion::Bm25] {
        let alone = SearchParams {
            fusion,
            ..params.clone()
        };
        let mut shared = 0;
        for (text, q) in &queries {
            let ids = |hits: Vec<raymundo_core::Hit>| {
                let mut v: Vec<String> = hits.iter().map(|h| h.chunk.id()).collect();
                v.sort();
                v
            };
            let a = ids(file.hybrid_search(q, text, &alone).expect("search").hits);
            let b = ids(pg.hybrid_search(q, text, &alone).expect("search").hits);
            shared += a.iter().filter(|x| b.contains(x)).count();
        }
        println!(
            "{{\"fusion\":\"{}\",\"shared_of_top4\":{:.4}}}",
            fusion.as_str(),
            shared as f64 / (4 * queries.len()) as f64
        );
    }
    println!("{}", summary("file", file_ms));
    println!("{}", summary("postgres", pg_ms));
    println!(
        "{{\"same_top4\":{:.4},\"queries\":{}}}",
        same as f64 / queries.len() as f64,
        queries.len()
    );
}
