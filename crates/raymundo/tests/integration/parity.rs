//! Raymundo's vectors against sentence-transformers' on the same weights, and chunk sizes
//! measured with the real tokenizers.
//!
//! `tests/data/parity.json` was produced by `bench/parity/make_reference.py` (see there).

use raymundo_core::{ChunkingConfig, Embedder, EmbeddingPrecision, TokenCounter};
use raymundo_embed::{fetch, BertEmbedder};
use std::sync::Arc;

fn load(name: &str, precision: EmbeddingPrecision) -> Arc<BertEmbedder> {
    crate::support::ensure_models();
    let spec = raymundo_embed::spec_by_name(name).unwrap();
    let files = fetch::ensure_model(spec, fetch::Source::from_env(), &mut |_| {}).unwrap();
    Arc::new(BertEmbedder::load(&files, 8, precision).unwrap())
}

fn reference() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/parity.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn check(name: &str, precision: EmbeddingPrecision, min_cosine: f32) {
    let reference = reference();
    let sentences: Vec<&str> = reference["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let expected = &reference["models"][name]["vectors"];
    let embedder = load(name, precision);
    let got = embedder.embed_passages(&sentences).unwrap();
    let mut lowest = f32::INFINITY;
    for (i, (v, e)) in got.iter().zip(expected.as_array().unwrap()).enumerate() {
        let e: Vec<f32> = e
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        let cos: f32 = v.iter().zip(&e).map(|(a, b)| a * b).sum();
        lowest = lowest.min(cos);
        assert!(
            cos >= min_cosine,
            "{name} ({}): sentence {i} cosine {cos} < {min_cosine}",
            embedder.precision()
        );
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // Printed for the README (`cargo test parity -- --nocapture`).
    eprintln!(
        "{name} ({}): lowest cosine {lowest:.5}",
        embedder.precision()
    );
}

#[test]
fn minilm_matches_sentence_transformers() {
    check("all-MiniLM-L6-v2", EmbeddingPrecision::F32, 0.999);
}

#[test]
fn e5_matches_sentence_transformers_on_the_same_weights() {
    check("multilingual-e5-small", EmbeddingPrecision::F32, 0.999);
}

#[test]
fn minilm_in_eight_bits_stays_close_to_sentence_transformers() {
    check("all-MiniLM-L6-v2", EmbeddingPrecision::Int8, 0.99);
}

#[test]
fn e5_in_eight_bits_stays_close_to_sentence_transformers() {
    check("multilingual-e5-small", EmbeddingPrecision::Int8, 0.99);
}

#[test]
fn chunks_fit_the_model_measured_in_its_own_tokens() {
    let embedder = load("multilingual-e5-small", EmbeddingPrecision::Auto);
    let docs = crate::support::sample_docs();
    let cfg = ChunkingConfig {
        min_tokens: 60,
        max_tokens: 120,
        overlap_tokens: 20,
    };
    let mut total = 0;
    for (rel, abs) in raymundo_ingest::list_files(&docs).unwrap() {
        let Ok(doc) = raymundo_ingest::load_document(&docs, &rel, &abs) else {
            continue;
        };
        for chunk in raymundo_ingest::chunk_document(&doc.document, embedder.as_ref(), &cfg) {
            let n = embedder.count_tokens(&chunk.text);
            assert_eq!(n, chunk.tokens, "{}", chunk.id());
            assert!(n <= 120, "{} has {n} tokens", chunk.id());
            total += 1;
        }
    }
    assert!(total > 50);
    // The model's own window bounds every chunk whatever the settings.
    assert!(embedder.max_content_tokens() <= 510);
}
