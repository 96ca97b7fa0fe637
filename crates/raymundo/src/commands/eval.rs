//! `raymundo eval retrieval`: retrieval quality on a labelled question file;
//! `raymundo eval intents`: intent recognition on a labelled message file;
//! `raymundo eval answers`: the answer chain on the labelled questions.

use crate::project::Assistant;
use anyhow::{Context, Result};
use raymundo_core::Fusion;
use raymundo_eval::{
    calibrate, calibrate_both, decision_rates, evaluate, load_questions, threshold_for_fp_rate,
    Guard, Question, Report, Retrieved,
};
use raymundo_index::Filter;
use std::path::{Path, PathBuf};

/// Flags of `eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// hit@k, recall@k, MRR, nDCG@10 and the out-of-scope decision at the configured thresholds.
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
        /// Evaluate every fusion mode (dense, bm25, rrf, weighted) side by side.
        #[arg(long)]
        compare: bool,
        /// Add each question's ranks and scope signals to the JSON output.
        #[arg(long)]
        per_question: bool,
        /// Write the scope thresholds calibrated on this file into raymundo.toml
        /// (`[retrieval] min_score`, `min_coverage`), showing the change as a diff.
        #[arg(long)]
        calibrate: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Per-intent precision/recall/F1, macro-F1, accuracy, confusions and the no-intent
    /// false-positive rate on a labelled message file (JSONL {"texto", "intent"} or TSV).
    Intents {
        /// Labelled messages; default data/eval/intents.jsonl of the project.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Compare every classification method side by side.
        #[arg(long)]
        compare: bool,
        /// Highest no-intent false-positive rate allowed when calibrating the threshold.
        #[arg(long, default_value_t = 0.05)]
        target_fp: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The answers themselves: in-scope questions answered citing an expected document,
    /// out-of-scope questions declined (false-positive rate), time to the first word.
    Answers {
        /// Eval file (JSONL); default data/eval/preguntas.jsonl of the project.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Answer with this provider (`local`, `extractive` or a configured name) instead
        /// of the configured chain.
        #[arg(long)]
        llm: Option<String>,
        /// Only the first N questions.
        #[arg(long)]
        limit: Option<usize>,
        /// Write every answer to this JSONL file (for reading them).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Writes the guard calibrated on labelled questions into the project's `raymundo.toml`,
/// printing the diff (on stderr, so `--json` output stays one document).
fn write_guard(
    root: &Path,
    questions: &[Question],
    guard: Guard,
    fp: f64,
    miss: f64,
) -> Result<()> {
    let inside = questions.iter().filter(|q| q.in_scope).count();
    if inside == 0 || inside == questions.len() {
        anyhow::bail!(
            "--calibrate needs questions both in scope and out of scope (\"en_alcance\": false); \
             the file has {inside} in scope of {}",
            questions.len()
        );
    }
    let path = root.join(raymundo_core::CONFIG_FILE);
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut new = crate::toml_set::set(
        &old,
        "retrieval",
        "min_score",
        &format!("{:.3}", guard.min_score),
    );
    new = crate::toml_set::set(
        &new,
        "retrieval",
        "min_coverage",
        &format!("{:.3}", guard.min_coverage),
    );
    // The edited file must still be a valid configuration before it replaces the old one.
    raymundo_core::Config::parse(&new)
        .map_err(|e| anyhow::anyhow!("the calibrated {} would not load: {e}", path.display()))?;
    let diff = crate::intents_edit::unified_diff(&old, &new, &path.display().to_string());
    if diff.is_empty() {
        eprintln!("{} already holds the calibrated thresholds", path.display());
        return Ok(());
    }
    eprint!("{diff}");
    crate::intents_edit::write_atomically(&path, new.as_bytes())?;
    eprintln!(
        "wrote {}: on {} labelled questions these thresholds answer {:.1}% of the out-of-scope \
         ones and decline {:.1}% of the others",
        path.display(),
        questions.len(),
        fp * 100.0,
        miss * 100.0
    );
    Ok(())
}

/// One fusion mode's results.
struct Run {
    fusion: Fusion,
    retrieved: Vec<Retrieved>,
    report: Report,
    ms_per_query: f64,
}

fn run_questions(
    assistant: &Assistant,
    questions: &[Question],
    fusion: Fusion,
    k: usize,
    guard: Guard,
) -> Result<Run> {
    let mut config = assistant.config.retrieval.clone();
    config.fusion = fusion;
    let mut retrieved = Vec::with_capacity(questions.len());
    let started = std::time::Instant::now();
    for q in questions {
        let (result, _) = assistant.search_with(&q.query, 30, &Filter::default(), &config)?;
        let mut docs: Vec<String> = Vec::new();
        for h in &result.hits {
            if !docs.contains(&h.chunk.doc) {
                docs.push(h.chunk.doc.clone());
            }
        }
        retrieved.push(Retrieved {
            docs,
            best_score: result.best_dense,
            coverage: result.coverage,
        });
    }
    let ms_per_query = started.elapsed().as_secs_f64() * 1000.0 / questions.len().max(1) as f64;
    let report = evaluate(questions, &retrieved, k, guard);
    Ok(Run {
        fusion,
        retrieved,
        report,
        ms_per_query,
    })
}

/// Runs an evaluation.
pub fn run(root: &Path, args: Args) -> Result<()> {
    match args.what {
        What::Retrieval {
            file,
            k,
            target_fp,
            compare,
            per_question,
            calibrate,
            json,
        } => retrieval(
            root,
            file,
            k,
            target_fp,
            Flags {
                compare,
                per_question,
                calibrate,
                json,
            },
        ),
        What::Intents {
            file,
            compare,
            target_fp,
            json,
        } => crate::commands::eval_intents::run(root, file, compare, target_fp, json),
        What::Answers {
            file,
            llm,
            limit,
            out,
            json,
        } => crate::commands::eval_answers::run(root, file, llm, limit, out, json),
    }
}

/// The switches of `eval retrieval`.
struct Flags {
    compare: bool,
    per_question: bool,
    calibrate: bool,
    json: bool,
}

fn retrieval(
    root: &Path,
    file: Option<PathBuf>,
    k: usize,
    target_fp: f64,
    flags: Flags,
) -> Result<()> {
    let Flags {
        compare,
        per_question,
        calibrate: write_calibration,
        json,
    } = flags;
    let assistant = Assistant::open(root)?;
    let file = file.unwrap_or_else(|| root.join("data/eval/preguntas.jsonl"));
    let questions = load_questions(&file)?;
    let guard = Guard {
        min_score: assistant.min_score,
        min_coverage: assistant.min_coverage,
    };
    let configured = assistant.config.retrieval.fusion;
    let fusions: Vec<Fusion> = if compare {
        let mut all = vec![configured];
        all.extend(
            [Fusion::Dense, Fusion::Bm25, Fusion::Rrf, Fusion::Weighted]
                .into_iter()
                .filter(|f| *f != configured),
        );
        all
    } else {
        vec![configured]
    };
    let mut runs = Vec::new();
    for f in fusions {
        runs.push(run_questions(&assistant, &questions, f, k, guard)?);
    }
    let main = &runs[0];
    let cal_score = calibrate(&questions, &main.retrieved, 0.0);
    let cal_both = calibrate_both(&questions, &main.retrieved);
    let (cal_fp, cal_miss) = decision_rates(&questions, &main.retrieved, cal_both);
    let (score_fp, score_miss) = decision_rates(&questions, &main.retrieved, cal_score);
    let target_threshold =
        threshold_for_fp_rate(&questions, &main.retrieved, target_fp, guard.min_coverage);
    if write_calibration {
        write_guard(root, &questions, cal_both, cal_fp, cal_miss)?;
    }
    crate::commands::report::save_eval(
        &assistant.config.root,
        "retrieval",
        &file,
        serde_json::to_value(&main.report)?,
    );
    if json {
        let mut v = serde_json::to_value(&main.report)?;
        v["model"] = assistant.index.meta().model_id.clone().into();
        v["fusion"] = main.fusion.as_str().into();
        v["calibrated_threshold"] = cal_both.min_score.into();
        v["calibrated_min_coverage"] = cal_both.min_coverage.into();
        v["calibrated_false_positive_rate"] = cal_fp.into();
        v["calibrated_miss_rate"] = cal_miss.into();
        v["calibrated_threshold_cosine_only"] = cal_score.min_score.into();
        v["threshold_for_target_fp"] = target_threshold.into();
        v["target_fp"] = target_fp.into();
        v["ms_per_query"] = main.ms_per_query.into();
        if compare {
            v["compare"] = runs
                .iter()
                .map(|r| {
                    let mut o = serde_json::to_value(&r.report).unwrap_or_default();
                    o["fusion"] = r.fusion.as_str().into();
                    o["ms_per_query"] = r.ms_per_query.into();
                    o
                })
                .collect();
        }
        if per_question {
            v["per_question"] = questions
                .iter()
                .zip(&main.retrieved)
                .map(|(q, r)| {
                    let rank = r
                        .docs
                        .iter()
                        .position(|d| q.relevant.iter().any(|e| raymundo_eval::matches(d, e)));
                    serde_json::json!({
                        "query": q.query,
                        "in_scope": q.in_scope,
                        "first_relevant_rank": rank.map(|r| r + 1),
                        "best_score": r.best_score,
                        "coverage": r.coverage,
                        "answered": guard.answers(r),
                    })
                })
                .collect();
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let r = &main.report;
    println!(
        "Retrieval on {} ({} questions, {} in scope), model {}",
        file.display(),
        r.questions,
        r.in_scope,
        assistant.index.meta().model_id
    );
    println!(
        "  {:<10} {:>7} {:>9} {:>7} {:>8} {:>7} {:>7} {:>8}",
        "fusion",
        format!("hit@{k}"),
        format!("recall@{k}"),
        "MRR",
        "nDCG@10",
        "FP",
        "miss",
        "ms/query"
    );
    for run in &runs {
        let r = &run.report;
        println!(
            "  {:<10} {:>7.3} {:>9.3} {:>7.3} {:>8.3} {:>7.3} {:>7.3} {:>8.1}",
            format!(
                "{}{}",
                run.fusion.as_str(),
                if run.fusion == configured { "*" } else { "" }
            ),
            r.hit_at_k,
            r.recall_at_k,
            r.mrr,
            r.ndcg_at_10,
            r.false_positive_rate,
            r.miss_rate,
            run.ms_per_query
        );
    }
    println!(
        "  (* configured; FP = out-of-scope questions answered, miss = in-scope questions declined,"
    );
    println!(
        "   at cosine >= {:.3} and coverage >= {:.2})",
        guard.min_score, guard.min_coverage
    );
    println!(
        "  calibrated on this file: cosine >= {:.3}, coverage >= {:.2} -> FP {:.3}, miss {:.3}",
        cal_both.min_score, cal_both.min_coverage, cal_fp, cal_miss
    );
    println!(
        "  cosine alone:            cosine >= {:.3}                  -> FP {:.3}, miss {:.3}",
        cal_score.min_score, score_fp, score_miss
    );
    println!("  lowest cosine threshold with FP <= {target_fp}: {target_threshold:.3}");
    Ok(())
}
