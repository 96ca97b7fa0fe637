//! Measuring retrieval.
//!
//! An eval file is JSONL: either the sample company's `{"pregunta", "fuentes_esperadas",
//! "en_alcance"}` or a plain `{"query", "relevant"}`. [`evaluate`] runs every question through
//! a search function and reports hit@k, recall@k, MRR and nDCG@10 over the in-scope questions,
//! and how well a threshold on the best score separates in-scope from out-of-scope questions;
//! [`calibrate`] finds the threshold that best makes that decision. Intent classification is
//! measured in [`intents`].

use serde::{Deserialize, Serialize};
use std::path::Path;

pub mod intents;
pub mod selfcal;

/// One labelled question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// The question text.
    pub query: String,
    /// Documents (paths under `data/docs/`, or bare file names) that answer it.
    pub relevant: Vec<String>,
    /// Whether the documents answer it at all.
    pub in_scope: bool,
    /// Gold answers (short spans, as in SQuAD-style sets), when the file gives them: a reply
    /// containing one of them holds the answer.
    pub answers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(alias = "query")]
    pregunta: String,
    #[serde(alias = "relevant", default)]
    fuentes_esperadas: Vec<String>,
    en_alcance: Option<bool>,
    #[serde(alias = "answers", default)]
    respuestas: Vec<String>,
}

/// A problem with an eval file, naming the line.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is not a valid question.
    #[error("{path}:{line}: {message}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
}

/// Reads an eval file (blank lines and lines starting with `//` are ignored).
pub fn load_questions(path: &Path) -> Result<Vec<Question>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let raw: Raw = serde_json::from_str(line).map_err(|e| EvalError::Line {
            path: path.display().to_string(),
            line: i + 1,
            message: e.to_string(),
        })?;
        let in_scope = raw.en_alcance.unwrap_or(!raw.fuentes_esperadas.is_empty());
        out.push(Question {
            query: raw.pregunta,
            relevant: raw.fuentes_esperadas,
            in_scope,
            answers: raw.respuestas,
        });
    }
    Ok(out)
}

/// The value at quantile `q` (0..=1) of `sorted` values (nearest rank; 0 when empty).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Text reduced for answer matching: accents folded, lower case, punctuation as spaces,
/// whitespace collapsed.
fn answer_key(text: &str) -> String {
    raymundo_core::text::fold(text)
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when `reply` contains one of the gold `answers` (accents, case and punctuation
/// ignored; whole words: "22" is not found in "122").
pub fn contains_answer(reply: &str, answers: &[String]) -> bool {
    let r = format!(" {} ", answer_key(reply));
    answers.iter().any(|a| {
        let a = answer_key(a);
        !a.is_empty() && r.contains(&format!(" {a} "))
    })
}

/// The first sentence of a reply, without its citation markers (`[1]`).
pub fn first_sentence(reply: &str) -> &str {
    raymundo_core::text::split_sentences(reply)
        .into_iter()
        .next()
        .unwrap_or("")
}

/// True when a retrieved document path matches an expected one (full path or bare name).
pub fn matches(retrieved: &str, expected: &str) -> bool {
    retrieved == expected
        || (!expected.contains('/') && retrieved.rsplit('/').next() == Some(expected))
}

/// The ranked documents retrieved for one question, best first, with the scope signals.
#[derive(Debug, Clone, Default)]
pub struct Retrieved {
    /// Distinct document paths, best first.
    pub docs: Vec<String>,
    /// Cosine of the best chunk (what the in-scope threshold is applied to).
    pub best_score: f32,
    /// IDF-weighted share of the question's terms found in the top passages.
    pub coverage: f32,
}

/// The in-scope decision: answer when the best cosine and the term coverage both reach
/// their thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Guard {
    /// Minimum best cosine.
    pub min_score: f32,
    /// Minimum term coverage (0 = not checked).
    pub min_coverage: f32,
}

impl Guard {
    /// A guard on the cosine only.
    pub fn score(min_score: f32) -> Self {
        Self {
            min_score,
            min_coverage: 0.0,
        }
    }

    /// True when the question would be answered.
    pub fn answers(&self, r: &Retrieved) -> bool {
        r.best_score >= self.min_score && r.coverage >= self.min_coverage
    }
}

/// Retrieval and scope-decision quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Questions evaluated.
    pub questions: usize,
    /// In-scope questions (the ranking metrics are averaged over these).
    pub in_scope: usize,
    /// The `k` of hit@k and recall@k.
    pub k: usize,
    /// Share of in-scope questions with a relevant document in the top k.
    #[serde(rename = "hit@k")]
    pub hit_at_k: f64,
    /// Mean share of the relevant documents found in the top k.
    #[serde(rename = "recall@k")]
    pub recall_at_k: f64,
    /// Mean reciprocal rank of the first relevant document (0 when not retrieved).
    pub mrr: f64,
    /// Mean nDCG over the top 10 documents, binary relevance.
    #[serde(rename = "ndcg@10")]
    pub ndcg_at_10: f64,
    /// The cosine threshold the decision metrics use.
    pub threshold: f32,
    /// The coverage threshold the decision metrics use.
    pub min_coverage: f32,
    /// Share of out-of-scope questions that would be answered.
    pub false_positive_rate: f64,
    /// Share of in-scope questions that would be declined.
    pub miss_rate: f64,
}

/// Evaluates `questions` with `retrieved[i]` the result for question `i`.
pub fn evaluate(questions: &[Question], retrieved: &[Retrieved], k: usize, guard: Guard) -> Report {
    let mut hit = 0.0;
    let mut recall = 0.0;
    let mut mrr = 0.0;
    let mut ndcg = 0.0;
    let mut n_in = 0usize;
    for (q, r) in questions.iter().zip(retrieved) {
        if !q.in_scope || q.relevant.is_empty() {
            continue;
        }
        n_in += 1;
        let relevant_at = |i: usize| q.relevant.iter().any(|e| matches(&r.docs[i], e));
        let top = r.docs.len().min(k);
        if (0..top).any(relevant_at) {
            hit += 1.0;
        }
        let found = q
            .relevant
            .iter()
            .filter(|e| r.docs[..top].iter().any(|d| matches(d, e)))
            .count();
        recall += found as f64 / q.relevant.len() as f64;
        if let Some(rank) = (0..r.docs.len()).find(|&i| relevant_at(i)) {
            mrr += 1.0 / (rank + 1) as f64;
        }
        let dcg: f64 = (0..r.docs.len().min(10))
            .filter(|&i| relevant_at(i))
            .map(|i| 1.0 / ((i + 2) as f64).log2())
            .sum();
        let ideal: f64 = (0..q.relevant.len().min(10))
            .map(|i| 1.0 / ((i + 2) as f64).log2())
            .sum();
        ndcg += if ideal > 0.0 { dcg / ideal } else { 0.0 };
    }
    let (fp, miss) = decision_rates(questions, retrieved, guard);
    let d = n_in.max(1) as f64;
    Report {
        questions: questions.len(),
        in_scope: n_in,
        k,
        hit_at_k: hit / d,
        recall_at_k: recall / d,
        mrr: mrr / d,
        ndcg_at_10: ndcg / d,
        threshold: guard.min_score,
        min_coverage: guard.min_coverage,
        false_positive_rate: fp,
        miss_rate: miss,
    }
}

/// (false-positive rate, miss rate) of answering as `guard` decides.
pub fn decision_rates(questions: &[Question], retrieved: &[Retrieved], guard: Guard) -> (f64, f64) {
    let (mut fp, mut out, mut miss, mut inn) = (0usize, 0usize, 0usize, 0usize);
    for (q, r) in questions.iter().zip(retrieved) {
        let answers = guard.answers(r);
        if q.in_scope {
            inn += 1;
            miss += usize::from(!answers);
        } else {
            out += 1;
            fp += usize::from(answers);
        }
    }
    (
        fp as f64 / out.max(1) as f64,
        miss as f64 / inn.max(1) as f64,
    )
}

/// Thresholds halfway between neighbouring observed values, plus one below and one above.
fn cut_points(mut values: Vec<f32>) -> Vec<f32> {
    values.sort_by(f32::total_cmp);
    values.dedup();
    let mut cuts: Vec<f32> = values.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    cuts.extend(values.first().map(|s| s - 1e-3));
    cuts.extend(values.last().map(|s| s + 1e-3));
    cuts
}

/// The cosine threshold that minimises `false-positive rate + miss rate` with the coverage
/// threshold fixed at `min_coverage` (ties: the lower false-positive rate).
pub fn calibrate(questions: &[Question], retrieved: &[Retrieved], min_coverage: f32) -> Guard {
    let mut best = (f64::MAX, f64::MAX, Guard::score(0.0));
    for t in cut_points(retrieved.iter().map(|r| r.best_score).collect()) {
        let guard = Guard {
            min_score: t,
            min_coverage,
        };
        let (fp, miss) = decision_rates(questions, retrieved, guard);
        if fp + miss < best.0 - 1e-12 || ((fp + miss - best.0).abs() < 1e-12 && fp < best.1) {
            best = (fp + miss, fp, guard);
        }
    }
    best.2
}

/// Both thresholds (cosine and coverage) that together minimise `false-positive rate +
/// miss rate` (ties: the lower false-positive rate, then the lower coverage threshold).
pub fn calibrate_both(questions: &[Question], retrieved: &[Retrieved]) -> Guard {
    let mut coverages = cut_points(retrieved.iter().map(|r| r.coverage).collect());
    coverages.retain(|c| *c > 0.0);
    coverages.push(0.0);
    coverages.sort_by(f32::total_cmp);
    let mut best = (f64::MAX, f64::MAX, Guard::score(0.0));
    for c in coverages {
        let g = calibrate(questions, retrieved, c);
        let (fp, miss) = decision_rates(questions, retrieved, g);
        if fp + miss < best.0 - 1e-12 || ((fp + miss - best.0).abs() < 1e-12 && fp < best.1) {
            best = (fp + miss, fp, g);
        }
    }
    best.2
}

/// The lowest cosine threshold whose false-positive rate is at most `target`, with the
/// coverage threshold fixed at `min_coverage`.
pub fn threshold_for_fp_rate(
    questions: &[Question],
    retrieved: &[Retrieved],
    target: f64,
    min_coverage: f32,
) -> f32 {
    let mut scores: Vec<f32> = retrieved.iter().map(|r| r.best_score).collect();
    scores.sort_by(f32::total_cmp);
    for &t in &scores {
        let guard = Guard {
            min_score: t,
            min_coverage,
        };
        if decision_rates(questions, retrieved, guard).0 <= target {
            return t;
        }
    }
    scores.last().map_or(1.0, |s| s + 1e-3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(relevant: &[&str], in_scope: bool) -> Question {
        Question {
            query: "x".into(),
            relevant: relevant.iter().map(|s| s.to_string()).collect(),
            in_scope,
            answers: Vec::new(),
        }
    }

    #[test]
    fn gold_answers_are_found_as_whole_words_whatever_the_accents() {
        let gold = vec!["22 días hábiles".to_string()];
        assert!(contains_answer(
            "Tienes derecho a 22 dias habiles de vacaciones. [1]",
            &gold
        ));
        assert!(!contains_answer("Son 122 días hábiles.", &gold));
        assert!(!contains_answer("Lo siento.", &[String::new()]));
        assert_eq!(
            first_sentence("El envío tarda 3 días. [1] Se rastrea en la app. [2]"),
            "El envío tarda 3 días."
        );
    }

    #[test]
    fn eval_lines_may_carry_gold_answers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        std::fs::write(
            &path,
            "{\"query\": \"¿Cuándo?\", \"relevant\": [\"a.md\"], \"answers\": [\"1901\"]}\n",
        )
        .unwrap();
        let qs = load_questions(&path).unwrap();
        assert_eq!(qs[0].answers, ["1901"]);
    }

    fn r(docs: &[&str], best: f32) -> Retrieved {
        Retrieved {
            docs: docs.iter().map(|s| s.to_string()).collect(),
            best_score: best,
            coverage: 1.0,
        }
    }

    #[test]
    fn ranking_metrics() {
        let qs = [q(&["faq/a.md"], true), q(&["b.md"], true), q(&[], false)];
        let rs = [
            r(&["faq/a.md", "x"], 0.9),
            r(&["x", "y", "manual/b.md"], 0.8),
            r(&["x"], 0.7),
        ];
        let rep = evaluate(&qs, &rs, 2, Guard::score(0.75));
        assert_eq!(rep.in_scope, 2);
        assert!((rep.hit_at_k - 0.5).abs() < 1e-9);
        assert!((rep.mrr - (1.0 + 1.0 / 3.0) / 2.0).abs() < 1e-9);
        assert_eq!(rep.false_positive_rate, 0.0);
        assert_eq!(rep.miss_rate, 0.0);
        let t = calibrate(&qs, &rs, 0.0).min_score;
        assert!(t > 0.7 && t <= 0.8, "{t}");
        assert!(threshold_for_fp_rate(&qs, &rs, 0.0, 0.0) > 0.7);
    }

    #[test]
    fn coverage_separates_what_the_cosine_cannot() {
        // The out-of-scope question scores as high as the in-scope ones, but its words are
        // absent from the documents.
        let qs = [q(&["a.md"], true), q(&["b.md"], true), q(&[], false)];
        let mut rs = [r(&["a.md"], 0.9), r(&["b.md"], 0.85), r(&["a.md"], 0.9)];
        rs[0].coverage = 0.8;
        rs[1].coverage = 0.6;
        rs[2].coverage = 0.2;
        let cosine_only = calibrate(&qs, &rs, 0.0);
        assert!(
            decision_rates(&qs, &rs, cosine_only).0 + decision_rates(&qs, &rs, cosine_only).1 > 0.0
        );
        let g = calibrate_both(&qs, &rs);
        assert_eq!(decision_rates(&qs, &rs, g), (0.0, 0.0));
        assert!(g.min_coverage > 0.2 && g.min_coverage < 0.6, "{g:?}");
    }

    #[test]
    fn both_file_formats_load_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("raymundo-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("q.jsonl");
        std::fs::write(
            &p,
            "{\"pregunta\":\"a\",\"fuentes_esperadas\":[\"faq/a.md\"],\"en_alcance\":true}\n\n{\"query\":\"b\",\"relevant\":[]}\n",
        )
        .unwrap();
        let qs = load_questions(&p).unwrap();
        assert_eq!(qs.len(), 2);
        assert!(!qs[1].in_scope);
        std::fs::write(&p, "{\"pregunta\":\"a\"}\n{\"preg\":1}\n").unwrap();
        let err = load_questions(&p).unwrap_err().to_string();
        assert!(err.contains(":2:"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
