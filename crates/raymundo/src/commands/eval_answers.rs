//! `raymundo eval answers`: the answer chain (or one provider) on the labelled questions:
//! how often an in-scope question is answered citing an expected document, how often an
//! out-of-scope one is declined, and how long the first word and the whole answer take.

use crate::project::Assistant;
use anyhow::{Context, Result};
use raymundo_eval::{load_questions, matches, percentile};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One question's answer, as written to the answers file.
#[derive(Debug, Serialize)]
struct Row<'a> {
    pregunta: &'a str,
    en_alcance: bool,
    fuentes_esperadas: &'a [String],
    answer: String,
    answered_by: String,
    /// The question was answered (not declined by the guard or the model).
    answered: bool,
    /// Documents the answer cites.
    cited: Vec<String>,
    /// An expected document is among the cited ones.
    cites_expected: bool,
    /// With gold answers: the reply's first sentence contains one.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_sentence_has_answer: Option<bool>,
    /// With gold answers: the reply contains one.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_has_answer: Option<bool>,
    /// Words in the reply (without citation markers).
    words: usize,
    first_token_ms: Option<f64>,
    total_ms: f64,
}

/// The summary.
#[derive(Debug, Default, Serialize)]
struct Summary {
    chain: Vec<String>,
    questions: usize,
    in_scope: usize,
    out_of_scope: usize,
    /// In-scope questions answered citing an expected document.
    grounded: usize,
    grounded_rate: f64,
    /// In-scope questions declined (guard or model).
    declined_in_scope: usize,
    /// Out-of-scope questions declined.
    declined_out_of_scope: usize,
    decline_rate_out_of_scope: f64,
    /// Out-of-scope questions answered anyway (false positives).
    false_positive_rate: f64,
    /// In-scope questions with gold answers.
    with_gold: usize,
    /// Of those, the reply's first sentence contains a gold answer (declined: no).
    first_sentence_has_answer_rate: f64,
    /// Of those, the whole reply contains a gold answer.
    reply_has_answer_rate: f64,
    /// Mean words of the answered in-scope replies.
    mean_words: f64,
    /// Answers per provider.
    answered_by: std::collections::BTreeMap<String, usize>,
    first_token_p50_ms: f64,
    first_token_p95_ms: f64,
    total_p50_ms: f64,
    total_p95_ms: f64,
}

/// A reply without its citation markers (`[1]`, `[2]` ...).
fn strip_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].chars().all(|c| c.is_ascii_digit()) => {
                out.push_str(rest[..open].trim_end());
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn rate(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

/// Runs the questions of `file` (default `data/eval/preguntas.jsonl`) through the chain
/// (`llm` overrides it), writing each answer to `out` (JSONL) when given.
pub fn run(
    root: &Path,
    file: Option<PathBuf>,
    llm: Option<String>,
    limit: Option<usize>,
    out: Option<PathBuf>,
    json: bool,
) -> Result<()> {
    let assistant = Assistant::open_with(root, llm.as_deref())?;
    let file = file.unwrap_or_else(|| root.join("data/eval/preguntas.jsonl"));
    let mut questions = load_questions(&file)?;
    if let Some(n) = limit {
        questions.truncate(n);
    }
    let mut writer = match &out {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    let mut s = Summary {
        chain: assistant.chain_names(),
        questions: questions.len(),
        ..Summary::default()
    };
    let (mut first, mut total) = (Vec::new(), Vec::new());
    let (mut first_hits, mut reply_hits, mut words, mut answered_in_scope) = (0, 0, 0, 0);
    for (i, q) in questions.iter().enumerate() {
        let asked = assistant.ask_with(&q.query, &q.query, &[], &mut |_| {})?;
        let a = &asked.answer;
        let cited: Vec<String> = a.sources.iter().map(|s| s.doc.clone()).collect();
        let cites_expected = cited
            .iter()
            .any(|d| q.relevant.iter().any(|e| matches(d, e)));
        let plain = strip_citations(&a.text);
        let gold = (q.in_scope && !q.answers.is_empty()).then_some(&q.answers);
        let row = Row {
            pregunta: &q.query,
            en_alcance: q.in_scope,
            fuentes_esperadas: &q.relevant,
            answer: a.text.clone(),
            answered_by: a.answered_by.clone(),
            answered: a.in_scope,
            cited,
            cites_expected,
            first_sentence_has_answer: gold.map(|g| {
                a.in_scope
                    && raymundo_eval::contains_answer(raymundo_eval::first_sentence(&plain), g)
            }),
            reply_has_answer: gold.map(|g| a.in_scope && raymundo_eval::contains_answer(&plain, g)),
            words: plain.split_whitespace().count(),
            first_token_ms: asked.timings.first_token_ms,
            total_ms: asked.timings.total_ms,
        };
        if q.in_scope {
            s.in_scope += 1;
            if row.answered && (cites_expected || q.relevant.is_empty()) {
                s.grounded += 1;
            }
            if !row.answered {
                s.declined_in_scope += 1;
            } else {
                answered_in_scope += 1;
                words += row.words;
            }
            if gold.is_some() {
                s.with_gold += 1;
                first_hits += usize::from(row.first_sentence_has_answer == Some(true));
                reply_hits += usize::from(row.reply_has_answer == Some(true));
            }
        } else {
            s.out_of_scope += 1;
            if !row.answered {
                s.declined_out_of_scope += 1;
            }
        }
        if row.answered {
            *s.answered_by.entry(row.answered_by.clone()).or_default() += 1;
        }
        if let Some(ms) = row.first_token_ms {
            first.push(ms);
        }
        total.push(row.total_ms);
        if let Some(w) = writer.as_mut() {
            serde_json::to_writer(&mut *w, &row)?;
            writeln!(w)?;
        }
        if !json {
            eprint!("\r{}/{}", i + 1, questions.len());
        }
    }
    if let Some(mut w) = writer {
        w.flush()?;
    }
    first.sort_by(f64::total_cmp);
    total.sort_by(f64::total_cmp);
    s.grounded_rate = rate(s.grounded, s.in_scope);
    s.first_sentence_has_answer_rate = rate(first_hits, s.with_gold);
    s.reply_has_answer_rate = rate(reply_hits, s.with_gold);
    s.mean_words = rate(words, answered_in_scope);
    s.decline_rate_out_of_scope = rate(s.declined_out_of_scope, s.out_of_scope);
    s.false_positive_rate = rate(s.out_of_scope - s.declined_out_of_scope, s.out_of_scope);
    s.first_token_p50_ms = percentile(&first, 0.5);
    s.first_token_p95_ms = percentile(&first, 0.95);
    s.total_p50_ms = percentile(&total, 0.5);
    s.total_p95_ms = percentile(&total, 0.95);
    crate::commands::report::save_eval(root, "answers", &file, serde_json::to_value(&s)?);
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    eprintln!();
    println!("chain: {}", s.chain.join(" -> "));
    println!(
        "in scope: {} questions; answered citing an expected document: {} ({:.1}%); declined: {}",
        s.in_scope,
        s.grounded,
        100.0 * s.grounded_rate,
        s.declined_in_scope
    );
    println!(
        "out of scope: {} questions; declined: {} ({:.1}%); false positives {:.1}%",
        s.out_of_scope,
        s.declined_out_of_scope,
        100.0 * s.decline_rate_out_of_scope,
        100.0 * s.false_positive_rate
    );
    if s.with_gold > 0 {
        println!(
            "gold answers ({} questions): in the first sentence {:.1}%, in the reply {:.1}%",
            s.with_gold,
            100.0 * s.first_sentence_has_answer_rate,
            100.0 * s.reply_has_answer_rate
        );
    }
    println!("reply length: {:.1} words on average", s.mean_words);
    let by: Vec<String> = s
        .answered_by
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("answered by: {}", by.join(", "));
    if !first.is_empty() {
        println!(
            "first word: p50 {:.0} ms, p95 {:.0} ms",
            s.first_token_p50_ms, s.first_token_p95_ms
        );
    }
    println!(
        "whole answer: p50 {:.0} ms, p95 {:.0} ms",
        s.total_p50_ms, s.total_p95_ms
    );
    if let Some(path) = out {
        println!("answers written to {}", path.display());
    }
    Ok(())
}
