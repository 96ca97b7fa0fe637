//! The chunker on any document and limits: no chunk over the cap, chunks in document order
//! and no text lost (the document's non-space characters, in order, are a subsequence of
//! the chunks' own, which repeat headings and overlap).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use raymundo_core::{ChunkingConfig, Document, TokenCounter};
use raymundo_ingest::{chunk_document, normalize_str};

/// Tokens like a subword tokenizer's count: every punctuation mark is a token, and the
/// other characters of a word one token per 6 (so one character is never over one token).
struct Subwords;

impl TokenCounter for Subwords {
    fn count_tokens(&self, text: &str) -> usize {
        text.split_whitespace()
            .map(|w| {
                let punct = w.chars().filter(|c| c.is_ascii_punctuation()).count();
                (w.chars().count() - punct).div_ceil(6) + punct
            })
            .sum()
    }

    fn max_content_tokens(&self) -> usize {
        510
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    text: String,
    min: u8,
    max: u8,
    overlap: u8,
}

fuzz_target!(|input: Input| {
    let cfg = ChunkingConfig {
        min_tokens: input.min as usize,
        max_tokens: input.max as usize,
        overlap_tokens: input.overlap as usize,
    };
    let doc = Document {
        path: "doc.md".into(),
        source: "other".into(),
        intent: None,
        title: "Doc".into(),
        // Documents reach the chunker normalised (loaders::extract).
        text: normalize_str(&input.text),
        content_hash: String::new(),
    };
    let chunks = chunk_document(&doc, &Subwords, &cfg);
    let cap = cfg.max_tokens.min(Subwords.max_content_tokens()).max(1);
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.position, i);
        assert!(
            c.tokens <= cap,
            "chunk {i} has {} tokens, over the cap of {cap}: {:?}",
            c.tokens,
            c.text
        );
        assert_eq!(c.tokens, Subwords.count_tokens(&c.text));
        assert!(!c.text.trim().is_empty(), "empty chunk {i}");
    }
    let mut kept = chunks
        .iter()
        .flat_map(|c| c.text.chars())
        .filter(|c| !c.is_whitespace());
    for (at, wanted) in doc.text.chars().filter(|c| !c.is_whitespace()).enumerate() {
        assert!(
            kept.any(|c| c == wanted),
            "the document's non-space character {at} ({wanted:?}) is missing from the chunks"
        );
    }
});
