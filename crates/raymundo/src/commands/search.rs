//! `raymundo search "consulta"`.

use crate::project::Assistant;
use anyhow::Result;
use raymundo_index::Filter;
use std::path::Path;

/// Flags of `search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to look for.
    query: String,
    /// Number of passages.
    #[arg(short, default_value_t = 5)]
    k: usize,
    /// Only passages with this source label (faq, manual, email ...).
    #[arg(long)]
    source: Option<String>,
    /// Only passages of documents labelled with this intent.
    #[arg(long)]
    intent: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints the top-k passages with score, source, file and position.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let assistant = Assistant::open(root)?;
    let filter = Filter {
        source: args.source.map(|s| s.to_lowercase()),
        intent: args.intent,
    };
    let (result, timings) = assistant.search(&args.query, args.k.max(1), &filter)?;
    let hits = &result.hits;
    if args.json {
        let out = serde_json::json!({
            "query": args.query,
            "model": assistant.index.meta().model_id,
            "fusion": assistant.config.retrieval.fusion.as_str(),
            "in_scope": assistant.in_scope(&result),
            "best_dense": result.best_dense,
            "coverage": result.coverage,
            "hits": hits.iter().map(|h| serde_json::json!({
                "score": h.score,
                "dense": h.dense,
                "bm25": h.lexical,
                "id": h.chunk.id(),
                "doc": h.chunk.doc,
                "source": h.chunk.source,
                "intent": h.chunk.intent,
                "title": h.chunk.title,
                "section": h.chunk.section,
                "position": h.chunk.position,
                "tokens": h.chunk.tokens,
                "text": h.chunk.text,
            })).collect::<Vec<_>>(),
            "timings_ms": timings,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if hits.is_empty() {
        println!("No passages found.");
    }
    for (i, h) in hits.iter().enumerate() {
        let bm25 = h
            .lexical
            .map(|b| format!(" bm25 {b:.1}"))
            .unwrap_or_default();
        println!(
            "{}. {:.3} (cos {:.3}{bm25})  [{}] {} #{}{}",
            i + 1,
            h.score,
            h.dense,
            h.chunk.source,
            h.chunk.doc,
            h.chunk.position,
            h.chunk
                .section
                .as_deref()
                .map(|s| format!("  ({s})"))
                .unwrap_or_default()
        );
        let preview: String = h
            .chunk
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let preview: String = preview.chars().take(240).collect();
        println!(
            "   {preview}{}\n",
            if h.chunk.text.len() > 240 { "…" } else { "" }
        );
    }
    eprintln!(
        "({:.0} ms: embed {:.0} ms, search {:.1} ms)",
        timings.total_ms, timings.embed_ms, timings.search_ms
    );
    Ok(())
}
