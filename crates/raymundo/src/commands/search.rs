//! `raymundo search "consulta"`.

use crate::project::Assistant;
use anyhow::Result;
use raymundo_eval::percentile;
use raymundo_index::Filter;
use std::path::Path;

/// Flags of `search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to look for.
    #[arg(required_unless_present = "queries")]
    query: Option<String>,
    /// Run every line of this file as a query (in one loaded process) and report the
    /// latency percentiles, embedding included; with --json, one result line per query.
    #[arg(long, conflicts_with = "query")]
    queries: Option<std::path::PathBuf>,
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
    let started = std::time::Instant::now();
    let assistant = Assistant::open(root)?;
    let open_ms = started.elapsed().as_secs_f64() * 1000.0;
    let filter = Filter {
        source: args.source.clone().map(|s| s.to_lowercase()),
        intent: args.intent.clone(),
    };
    if let Some(file) = &args.queries {
        return run_many(&assistant, file, &args, &filter, open_ms);
    }
    let query = args.query.clone().unwrap_or_default();
    let (result, timings) = assistant.search(&query, args.k.max(1), &filter)?;
    let hits = &result.hits;
    if args.json {
        let out = serde_json::json!({
            "query": query,
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

fn run_many(
    assistant: &Assistant,
    file: &Path,
    args: &Args,
    filter: &Filter,
    open_ms: f64,
) -> Result<()> {
    use anyhow::Context;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading queries from {}", file.display()))?;
    let queries: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if queries.is_empty() {
        anyhow::bail!("{} has no queries (one per line)", file.display());
    }
    let mut totals = Vec::with_capacity(queries.len());
    let mut searches = Vec::with_capacity(queries.len());
    for q in &queries {
        let (result, timings) = assistant.search(q, args.k.max(1), filter)?;
        totals.push(timings.total_ms);
        searches.push(timings.search_ms);
        if args.json {
            let line = serde_json::json!({
                "query": q,
                "ms": timings.total_ms,
                "in_scope": assistant.in_scope(&result),
                "hits": result.hits.iter().map(|h| h.chunk.id()).collect::<Vec<_>>(),
            });
            println!("{line}");
        }
    }
    totals.sort_by(f64::total_cmp);
    searches.sort_by(f64::total_cmp);
    let summary = serde_json::json!({
        "queries": queries.len(),
        "chunks": assistant.index.len(),
        "index": assistant.index.describe(),
        "open_ms": open_ms,
        "p50_ms": percentile(&totals, 0.50),
        "p95_ms": percentile(&totals, 0.95),
        "p99_ms": percentile(&totals, 0.99),
        "search_only_p50_ms": percentile(&searches, 0.50),
        "search_only_p95_ms": percentile(&searches, 0.95),
    });
    if args.json {
        println!("{}", serde_json::json!({ "summary": summary }));
    } else {
        println!(
            "{} queries over {} chunks ({}; index and model opened in {:.0} ms)",
            queries.len(),
            assistant.index.len(),
            assistant.index.describe(),
            open_ms
        );
        println!(
            "  per query, embedding included: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            summary["p50_ms"].as_f64().unwrap_or(0.0),
            summary["p95_ms"].as_f64().unwrap_or(0.0),
            summary["p99_ms"].as_f64().unwrap_or(0.0)
        );
        println!(
            "  search alone (vectors + BM25 + fusion): p50 {:.2} ms, p95 {:.2} ms",
            summary["search_only_p50_ms"].as_f64().unwrap_or(0.0),
            summary["search_only_p95_ms"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(())
}
