//! Grows a built index into a synthetic corpus of N chunks, for latency benchmarks at sizes
//! that would take hours to embed for real.
//!
//! Usage: `cargo run --release -p raymundo-index --example synth_corpus -- SRC_INDEX_DIR
//! OUT_INDEX_DIR N`
//!
//! Every synthetic chunk mixes the sentences of two real chunks (so BM25 sees real Spanish
//! vocabulary and document frequencies) and its vector is the normalised mix of their real
//! vectors plus a little noise (so the vectors keep the low intrinsic dimension of real
//! embeddings, which approximate search depends on). Ten chunks make one document.

use raymundo_core::Chunk;
use raymundo_index::{DocumentEntry, HnswParams, Index, IndexBuilder};
use std::path::PathBuf;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, out, n] = args.as_slice() else {
        return Err("usage: synth_corpus SRC_INDEX_DIR OUT_INDEX_DIR N".into());
    };
    let n: usize = n.parse()?;
    let source = Index::load(&PathBuf::from(src), None)?;
    if source.is_empty() {
        return Err("the source index is empty".into());
    }
    let meta = source.meta().clone();
    let dim = meta.dim;
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let mut builder = IndexBuilder::new(&meta.model_id, dim, &meta.settings);
    let per_doc = 10;
    let started = std::time::Instant::now();
    for d in 0..n.div_ceil(per_doc) {
        let path = format!("synth/doc-{d:06}.md");
        let count = per_doc.min(n - d * per_doc);
        let mut chunks = Vec::with_capacity(count);
        let mut vectors = Vec::with_capacity(count * dim);
        for position in 0..count {
            let a = rng.below(source.len());
            let b = rng.below(source.len());
            let (ca, cb) = (&source.chunks()[a], &source.chunks()[b]);
            let sa: Vec<&str> = ca.text.split_inclusive(". ").collect();
            let sb: Vec<&str> = cb.text.split_inclusive(". ").collect();
            let mut text = String::new();
            text.push_str(&sa[..sa.len().div_ceil(2)].concat());
            text.push(' ');
            text.push_str(&sb[sb.len() / 2..].concat());
            let mut v: Vec<f32> = source
                .vector(a)
                .iter()
                .zip(source.vector(b))
                .map(|(x, y)| 0.7 * x + 0.3 * y + 0.02 * rng.unit())
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter_mut().for_each(|x| *x /= norm);
            vectors.extend(v);
            chunks.push(Chunk {
                doc: path.clone(),
                position,
                source: ca.source.clone(),
                intent: ca.intent.clone(),
                title: format!("{} / {}", ca.title, cb.title),
                section: ca.section.clone(),
                tokens: (ca.tokens + cb.tokens) / 2,
                text,
            });
        }
        let entry = DocumentEntry {
            path,
            content_hash: format!("synthetic-{d}"),
            source: chunks[0].source.clone(),
            title: chunks[0].title.clone(),
            chunks: count,
        };
        builder.add_document(entry, chunks, vectors)?;
    }
    let mut index = builder.finish();
    index.set_language(&meta.language);
    let assembled = started.elapsed();
    // Like `raymundo build` with the default `ann_threshold`.
    if index.len() >= raymundo_core::RetrievalConfig::default().ann_threshold {
        index.build_ann(&HnswParams::default(), None);
    }
    let graphed = started.elapsed();
    index.save(&PathBuf::from(out), None)?;
    eprintln!(
        "{} chunks: assembled in {:.1} s, HNSW graph {:.1} s, saved with BM25 in {:.1} s",
        index.len(),
        assembled.as_secs_f64(),
        (graphed - assembled).as_secs_f64(),
        (started.elapsed() - graphed).as_secs_f64()
    );
    Ok(())
}
