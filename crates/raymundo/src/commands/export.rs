//! `raymundo export logs` and `raymundo export finetune`: the interaction log as files.
//!
//! `logs` writes every recorded turn (optionally since a date) as anonymised JSON lines:
//! the user is the store's salted key, texts were scrubbed when recorded and are scrubbed
//! again here (a later, better scrubber also cleans old rows). `finetune` writes the
//! reviewed answers as OpenAI chat fine-tuning examples (`{"messages": [system, user,
//! assistant]}`): the system text and the user message are the prompt Raymundo builds at
//! run time (personality, the retrieved passages numbered, the question), looked up in the
//! current index by document and position; the assistant message is the answer the reviewer
//! approved, their correction, or the configured out-of-scope reply when they said the
//! question was outside the documents. Both write to a temporary file renamed into place,
//! so a failure leaves no half-written export.

use crate::interaction_log::{open_recorded, scrub};
use anyhow::{Context, Result};
use raymundo_core::{Chunk, Config, Hit};
use raymundo_llm::chat::{ChatProvider, ChatRequest, Completion, LlmError, Role};
use raymundo_llm::prompt::{self, PromptInput};
use raymundo_store::{Interaction, InteractionFilter, Verdict};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Flags of `export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Every recorded turn as anonymised JSON lines (default: data/logs/interacciones-<time>.jsonl).
    Logs(Target),
    /// Reviewed answers as OpenAI chat fine-tuning JSONL, with the system prompt and the
    /// retrieved context (default: data/logs/finetune-<time>.jsonl).
    Finetune(Target),
}

#[derive(Debug, clap::Args)]
struct Target {
    /// Where to write (a file); default under data/logs/.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Only turns of the last period (`7d`, `24h`) or since a date (`2026-11-01`).
    #[arg(long, value_name = "PERIOD")]
    since: Option<String>,
}

/// Writes the export asked for.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let config = crate::project::load_config(root)?;
    let (target, kind) = match &args.what {
        What::Logs(t) => (t, "interacciones"),
        What::Finetune(t) => (t, "finetune"),
    };
    let now = chrono::Utc::now();
    let since = target
        .since
        .as_deref()
        .map(|s| super::stats::parse_since(s, now.timestamp()))
        .transpose()?;
    let store = open_recorded(&config)?;
    let mut turns = store.interactions(&InteractionFilter {
        since,
        ..Default::default()
    })?;
    turns.reverse(); // oldest first, as a log reads
    let lines = match args.what {
        What::Logs(_) => turns.iter().map(log_line).collect::<Vec<_>>(),
        What::Finetune(_) => finetune_lines(&config, &turns)?,
    };
    let out = match &target.out {
        Some(p) => p.clone(),
        None => config
            .root
            .join("data")
            .join("logs")
            .join(format!("{kind}-{}.jsonl", now.format("%Y%m%dT%H%M%SZ"))),
    };
    write_jsonl(&out, &lines)?;
    println!(
        "Wrote {} line(s) of {} turn(s) to {}",
        lines.len(),
        turns.len(),
        out.display()
    );
    Ok(())
}

/// One turn of the log, anonymised.
pub fn log_line(i: &Interaction) -> Value {
    let t = &i.turn;
    let at = chrono::DateTime::from_timestamp(t.at, 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_default();
    json!({
        "id": i.id,
        "at": at,
        "channel": t.channel,
        "user": t.user_key,
        "message": scrub(&t.message),
        "query": t.query.as_deref().map(scrub),
        "step": t.step,
        "intent": t.intent,
        "parameters": t.parameters.as_ref().map(scrub_json),
        "confidence": t.confidence,
        "chunks": t.chunks.iter().map(|c| json!({"doc": c.doc, "position": c.position, "score": c.score})).collect::<Vec<_>>(),
        "answer": scrub(&t.answer),
        "provider": t.provider,
        "in_scope": t.in_scope,
        "resolved": t.resolved,
        "handed_off": t.handed_off,
        "latency_ms": t.latency_ms,
        "total_ms": t.total_ms,
        "feedback": i.feedback,
        "review": i.review.as_ref().map(|r| json!({
            "verdict": r.verdict.as_str(),
            "corrected_answer": r.corrected_answer.as_deref().map(scrub),
            "corrected_intent": r.corrected_intent,
            "reviewer": r.reviewer,
            "at": r.at,
        })),
    })
}

/// String values scrubbed, at any depth.
fn scrub_json(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(scrub(s)),
        Value::Array(a) => Value::Array(a.iter().map(scrub_json).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), scrub_json(v))).collect())
        }
        other => other.clone(),
    }
}

/// The answer a reviewed turn should have given, if the review says.
fn desired_answer(config: &Config, i: &Interaction) -> Option<String> {
    let review = i.review.as_ref()?;
    match review.verdict {
        Verdict::Correct => Some(i.turn.answer.clone()),
        Verdict::Incorrect => review.corrected_answer.clone(),
        Verdict::OutOfScope => Some(config.answer.out_of_scope.clone()),
    }
    .map(|a| scrub(a.trim()))
    .filter(|a| !a.is_empty())
}

/// Counts tokens as the HTTP providers' default estimate does, with a large context, so the
/// prompt is laid out as for a full-size model.
struct Layout;

impl ChatProvider for Layout {
    fn name(&self) -> &str {
        "finetune"
    }
    fn context_tokens(&self) -> usize {
        16_384
    }
    fn chat(&self, _: &ChatRequest, _: &mut dyn FnMut(&str)) -> Result<Completion, LlmError> {
        Err(LlmError::Model {
            provider: "finetune".into(),
            message: "the fine-tuning layout does not answer".into(),
        })
    }
}

fn finetune_lines(config: &Config, turns: &[Interaction]) -> Result<Vec<Value>> {
    let reviewed: Vec<&Interaction> = turns
        .iter()
        .filter(|i| i.turn.step == "answer" && i.review.is_some())
        .collect();
    if reviewed.is_empty() {
        return Ok(Vec::new());
    }
    let index = crate::retriever::load_index(config).context(
        "the fine-tuning export takes the passages' text from the index; run `raymundo build`",
    )?;
    let by_place: HashMap<(&str, usize), &Chunk> = index
        .chunks()
        .iter()
        .map(|c| ((c.doc.as_str(), c.position), c))
        .collect();
    let system = crate::answer_chain::personality(config)?;
    let mut lines = Vec::new();
    let mut missing = 0;
    for i in reviewed {
        let Some(desired) = desired_answer(config, i) else {
            continue;
        };
        let hits: Vec<Hit> = i
            .turn
            .chunks
            .iter()
            .filter_map(|c| {
                let found = by_place.get(&(c.doc.as_str(), c.position as usize));
                if found.is_none() {
                    missing += 1;
                }
                found.map(|chunk| Hit {
                    score: c.score,
                    dense: c.score,
                    lexical: None,
                    neighbour: false,
                    chunk: (*chunk).clone(),
                })
            })
            .collect();
        let question = scrub(i.turn.query.as_deref().unwrap_or(&i.turn.message));
        let built = prompt::build(
            &PromptInput {
                system: system.trim(),
                hits: &hits,
                history: &[],
                question: &question,
                max_answer_tokens: config.llm.max_answer_tokens,
                temperature: config.llm.temperature,
            },
            &Layout,
        );
        let mut messages: Vec<Value> = built
            .request
            .messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        messages.push(json!({"role": Role::Assistant.as_str(), "content": desired}));
        lines.push(json!({ "messages": messages }));
    }
    if missing > 0 {
        eprintln!(
            "note: {missing} retrieved passage(s) are no longer in the index (documents changed since); those examples carry the passages that remain"
        );
    }
    Ok(lines)
}

/// Writes one JSON value per line to a temporary file beside `out`, then renames it over.
pub fn write_jsonl(out: &Path, lines: &[Value]) -> Result<()> {
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        for line in lines {
            serde_json::to_writer(&mut w, line)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(out)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
