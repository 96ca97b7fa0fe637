//! `raymundo ask "pregunta"`.

use crate::project::{print_answer, Assistant};
use anyhow::Result;
use std::path::Path;

/// Flags of `ask`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The question.
    question: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Answers one question from the documents.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let assistant = Assistant::open(root)?;
    let (answer, result, timings) = assistant.ask(&args.question)?;
    if args.json {
        let out = serde_json::json!({
            "question": args.question,
            "answer": answer.text,
            "in_scope": answer.in_scope,
            "answered_by": answer.answered_by,
            "sources": answer.sources,
            "best_score": result.best_dense,
            "threshold": assistant.min_score,
            "coverage": result.coverage,
            "min_coverage": assistant.min_coverage,
            "timings_ms": timings,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_answer(&assistant.config, &answer);
        eprintln!("({:.0} ms)", timings.total_ms);
    }
    Ok(())
}
