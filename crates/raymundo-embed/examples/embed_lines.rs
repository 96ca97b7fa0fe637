//! Embeds each line of a text file with a built-in model and prints one JSON array per line.
//!
//! `cargo run -p raymundo-embed --example embed_lines -- multilingual-e5-small query lines.txt`
//! (`query` or `passage` picks the model's prefix). For prototyping outside Rust.

use raymundo_core::Embedder;
use raymundo_embed::{fetch, BertEmbedder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, kind, file] = args.as_slice() else {
        return Err("usage: embed_lines MODEL query|passage FILE".into());
    };
    let spec = raymundo_embed::spec_by_name(model).ok_or("unknown model")?;
    let files = fetch::ensure_model(spec, fetch::Source::from_env(), &mut |l| eprintln!("{l}"))?;
    let embedder = BertEmbedder::load(&files, 16, raymundo_core::EmbeddingPrecision::Auto)?;
    let text = std::fs::read_to_string(file)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let vectors = if kind == "query" {
        lines
            .iter()
            .map(|l| embedder.embed_query(l))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        embedder.embed_passages(&lines)?
    };
    for v in vectors {
        println!("{}", serde_json::to_string(&v)?);
    }
    Ok(())
}
