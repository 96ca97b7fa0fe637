//! `raymundo eval retrieval`: retrieval quality on a labelled question file.

use crate::project::Assistant;
use anyhow::Result;
use raymundo_eval::{calibrate, evaluate, load_questions, threshold_for_fp_rate, Retrieved};
use std::path::{Path, PathBuf};

/// Flags of `eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// hit@k, recall@k, MRR, nDCG@10 and the out-of-scope decision at the configured threshold.
    Retrieval {
        /// Eval file (JSONL); default data/eval/preguntas.jsonl of the project.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The k of hit@k and recall@k.
        #[arg(short, default_value_t = 5)]
        k: usize,
        /// Target false-positive rate for the suggested threshold.
        #[arg(long, default_value_t = 0.1)]
        target_fp: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs an evaluation.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let What::Retrieval {
        file,
        k,
        target_fp,
        json,
    } = args.what;
    let assistant = Assistant::open(root)?;
    let file = file.unwrap_or_else(|| root.join("data/eval/preguntas.jsonl"));
    let questions = load_questions(&file)?;
    let mut retrieved = Vec::with_capacity(questions.len());
    let started = std::time::Instant::now();
    for q in &questions {
        let (hits, _) = assistant.search(&q.query, 30, None)?;
        let mut docs: Vec<String> = Vec::new();
        for h in &hits {
            if !docs.contains(&h.chunk.doc) {
                docs.push(h.chunk.doc.clone());
            }
        }
        retrieved.push(Retrieved {
            docs,
            best_score: hits.first().map_or(-1.0, |h| h.score),
        });
    }
    let per_query_ms = started.elapsed().as_secs_f64() * 1000.0 / questions.len().max(1) as f64;
    let report = evaluate(&questions, &retrieved, k, assistant.min_score);
    let best_threshold = calibrate(&questions, &retrieved);
    let (cal_fp, cal_miss) = raymundo_eval::decision_rates(&questions, &retrieved, best_threshold);
    let target_threshold = threshold_for_fp_rate(&questions, &retrieved, target_fp);
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["model"] = assistant.index.meta().model_id.clone().into();
        v["calibrated_threshold"] = best_threshold.into();
        v["calibrated_false_positive_rate"] = cal_fp.into();
        v["calibrated_miss_rate"] = cal_miss.into();
        v["threshold_for_target_fp"] = target_threshold.into();
        v["target_fp"] = target_fp.into();
        v["ms_per_query"] = per_query_ms.into();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "Retrieval on {} ({} questions, {} in scope), model {}",
        file.display(),
        report.questions,
        report.in_scope,
        assistant.index.meta().model_id
    );
    println!("  {:<28} {:.3}", format!("hit@{k}"), report.hit_at_k);
    println!("  {:<28} {:.3}", format!("recall@{k}"), report.recall_at_k);
    println!("  {:<28} {:.3}", "MRR", report.mrr);
    println!("  {:<28} {:.3}", "nDCG@10", report.ndcg_at_10);
    println!("  {:<28} {:.3}", "threshold (configured)", report.threshold);
    println!(
        "  {:<28} {:.3}",
        "  false-positive rate", report.false_positive_rate
    );
    println!("  {:<28} {:.3}", "  miss rate", report.miss_rate);
    println!(
        "  {:<28} {:.3}  (fp {:.3}, miss {:.3})",
        "best threshold", best_threshold, cal_fp, cal_miss
    );
    println!(
        "  {:<28} {:.3}",
        format!("threshold for fp <= {target_fp}"),
        target_threshold
    );
    println!("  {:<28} {:.1}", "ms per query", per_query_ms);
    Ok(())
}
