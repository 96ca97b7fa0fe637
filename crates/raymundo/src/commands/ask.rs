//! `raymundo ask "pregunta"`.

use crate::project::{format_sources, print_answer, Assistant};
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// Flags of `ask`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The question.
    question: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Who writes the answer for this run: `local`, `extractive` or a configured provider
    /// (default: the `[llm] chain` of raymundo.toml).
    #[arg(long, value_name = "NAME")]
    llm: Option<String>,
}

/// Answers one question from the documents; an LLM's answer is printed as it is written.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let assistant = Assistant::open_with(root, args.llm.as_deref())?;
    let mut streamed = false;
    let stream = !args.json;
    let asked = assistant.ask_with(&args.question, &args.question, &[], &mut |piece| {
        if stream {
            streamed = true;
            print!("{piece}");
            let _ = std::io::stdout().flush();
        }
    })?;
    let (answer, result, timings) = (&asked.answer, &asked.result, &asked.timings);
    if args.json {
        let out = serde_json::json!({
            "question": args.question,
            "answer": answer.text,
            "in_scope": answer.in_scope,
            "answered_by": answer.answered_by,
            "chain": assistant.chain_names(),
            "attempts": asked.attempts,
            "sources": answer.sources,
            "best_score": result.best_dense,
            "threshold": assistant.min_score,
            "coverage": result.coverage,
            "min_coverage": assistant.min_coverage,
            "timings_ms": timings,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if streamed {
            println!("{}", format_sources(&assistant.config, answer));
        } else {
            print_answer(&assistant.config, answer);
        }
        match timings.first_token_ms {
            Some(first) => eprintln!(
                "({}; first words after {first:.0} ms, {:.0} ms in all)",
                answer.answered_by, timings.total_ms
            ),
            None => eprintln!("({}; {:.0} ms)", answer.answered_by, timings.total_ms),
        }
    }
    Ok(())
}
