//! Measuring intent classification.
//!
//! A labelled file is JSONL (`{"texto": "...", "intent": "crear_presentacion"}`, `"intent":
//! null` for a message that asks for no action; `"text"`/`"label"` are accepted too) or TSV
//! (`text<TAB>label`, with an empty label, `none`, `null` or `-` for no intent). [`score`]
//! compares predictions with the labels: accuracy, macro-F1 over the intents, per-intent
//! precision/recall/F1, the most frequent confusions and the rate at which messages of no
//! intent are taken as one (the false positives that would hijack a question).

use crate::EvalError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One labelled message.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledMessage {
    /// The message.
    pub text: String,
    /// Its intent, `None` for no intent.
    pub intent: Option<String>,
}

fn is_none_label(label: &str) -> bool {
    matches!(
        label.trim().to_lowercase().as_str(),
        "" | "none" | "null" | "-" | "ninguna" | "ninguno"
    )
}

/// Reads a labelled file (JSONL, or TSV when a line is not JSON). Blank lines and lines
/// starting with `#` or `//` are skipped.
pub fn load_labelled(path: &Path) -> Result<Vec<LabelledMessage>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let err = |line: usize, message: String| EvalError::Line {
        path: path.display().to_string(),
        line,
        message,
    };
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(trimmed)
                .map_err(|e| err(i + 1, format!("not valid JSON: {e}")))?;
            let obj = v.as_object().expect("starts with {");
            for key in obj.keys() {
                if !["texto", "text", "intent", "label"].contains(&key.as_str()) {
                    return Err(err(
                        i + 1,
                        format!("unknown field {key:?}; expected \"texto\" and \"intent\""),
                    ));
                }
            }
            let text = obj
                .get("texto")
                .or_else(|| obj.get("text"))
                .and_then(|t| t.as_str())
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| err(i + 1, "expected a non-empty string \"texto\"".into()))?;
            let label = obj.get("intent").or_else(|| obj.get("label"));
            let intent = match label {
                None => return Err(err(i + 1, "missing \"intent\" (null for no intent)".into())),
                Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) if is_none_label(s) => None,
                Some(serde_json::Value::String(s)) => Some(s.trim().to_string()),
                Some(x) => {
                    return Err(err(
                        i + 1,
                        format!("\"intent\" must be a string or null, got {x}"),
                    ))
                }
            };
            out.push(LabelledMessage {
                text: text.trim().to_string(),
                intent,
            });
        } else {
            let (text, label) = line.rsplit_once('\t').ok_or_else(|| {
                err(
                    i + 1,
                    "expected a JSON object or `text<TAB>label`".to_string(),
                )
            })?;
            if text.trim().is_empty() {
                return Err(err(i + 1, "empty text before the tab".into()));
            }
            out.push(LabelledMessage {
                text: text.trim().to_string(),
                intent: (!is_none_label(label)).then(|| label.trim().to_string()),
            });
        }
    }
    if out.is_empty() {
        return Err(err(0, "no labelled messages".into()));
    }
    Ok(out)
}

/// Precision, recall and F1 of one intent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentScore {
    /// The intent.
    pub intent: String,
    /// Messages labelled with it.
    pub support: usize,
    /// Messages predicted as it.
    pub predicted: usize,
    /// Of those predicted, the share that were right.
    pub precision: f64,
    /// Of those labelled, the share found.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

/// A kind of mistake and how often it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    /// The label (`None` = no intent).
    pub expected: Option<String>,
    /// The prediction (`None` = no intent).
    pub predicted: Option<String>,
    /// How many messages.
    pub count: usize,
}

/// How well predictions match the labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentReport {
    /// Messages scored.
    pub messages: usize,
    /// Of them, labelled no intent.
    pub no_intent_messages: usize,
    /// Share of messages whose prediction equals the label (no intent included).
    pub accuracy: f64,
    /// Mean F1 over the intents (a no-intent message taken as an intent lowers that intent's
    /// precision; an intent message missed lowers its recall).
    pub macro_f1: f64,
    /// Share of no-intent messages taken as some intent.
    pub no_intent_fp_rate: f64,
    /// Share of intent messages sent to no intent.
    pub intent_miss_rate: f64,
    /// Per intent, sorted by name.
    pub per_intent: Vec<IntentScore>,
    /// Mistakes, most frequent first.
    pub confusions: Vec<Confusion>,
}

/// Scores `predicted` against `expected` (same order). `intents` lists the intents to report
/// (those of the intents file), so that an intent never predicted still counts in macro-F1.
pub fn score(
    expected: &[Option<String>],
    predicted: &[Option<String>],
    intents: &[String],
) -> IntentReport {
    assert_eq!(expected.len(), predicted.len());
    let mut names: Vec<String> = intents.to_vec();
    for l in expected.iter().flatten() {
        if !names.contains(l) {
            names.push(l.clone());
        }
    }
    names.sort();
    let per_intent: Vec<IntentScore> = names
        .iter()
        .map(|name| {
            let is = |x: &Option<String>| x.as_deref() == Some(name.as_str());
            let support = expected.iter().filter(|e| is(e)).count();
            let pred = predicted.iter().filter(|p| is(p)).count();
            let tp = expected
                .iter()
                .zip(predicted)
                .filter(|(e, p)| is(e) && is(p))
                .count();
            let precision = if pred == 0 {
                0.0
            } else {
                tp as f64 / pred as f64
            };
            let recall = if support == 0 {
                0.0
            } else {
                tp as f64 / support as f64
            };
            let f1 = if tp == 0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            IntentScore {
                intent: name.clone(),
                support,
                predicted: pred,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    let scored: Vec<&IntentScore> = per_intent.iter().filter(|s| s.support > 0).collect();
    let macro_f1 = if scored.is_empty() {
        0.0
    } else {
        scored.iter().map(|s| s.f1).sum::<f64>() / scored.len() as f64
    };
    let n = expected.len();
    let none = expected.iter().filter(|e| e.is_none()).count();
    let fp = expected
        .iter()
        .zip(predicted)
        .filter(|(e, p)| e.is_none() && p.is_some())
        .count();
    let missed = expected
        .iter()
        .zip(predicted)
        .filter(|(e, p)| e.is_some() && p.is_none())
        .count();
    let right = expected
        .iter()
        .zip(predicted)
        .filter(|(e, p)| e == p)
        .count();
    let mut counts: BTreeMap<(Option<String>, Option<String>), usize> = BTreeMap::new();
    for (e, p) in expected.iter().zip(predicted) {
        if e != p {
            *counts.entry((e.clone(), p.clone())).or_default() += 1;
        }
    }
    let mut confusions: Vec<Confusion> = counts
        .into_iter()
        .map(|((expected, predicted), count)| Confusion {
            expected,
            predicted,
            count,
        })
        .collect();
    confusions.sort_by_key(|c| std::cmp::Reverse(c.count));
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    IntentReport {
        messages: n,
        no_intent_messages: none,
        accuracy: ratio(right, n),
        macro_f1,
        no_intent_fp_rate: ratio(fp, none),
        intent_miss_rate: ratio(missed, n - none),
        per_intent,
        confusions,
    }
}

/// A scored candidate: the best intent for a message, its confidence and its margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The best intent (`None` when the classifier itself said no intent, e.g. the trained
    /// method's no-intent class won).
    pub best: Option<String>,
    /// Its confidence.
    pub confidence: f32,
    /// Its lead over the runner-up.
    pub margin: f32,
}

/// The confidence threshold (at a fixed margin) that gives the best macro-F1 while keeping the
/// no-intent false-positive rate at or below `max_fp_rate`; `None` if no threshold does.
/// Returns the threshold and the report at it.
pub fn calibrate_threshold(
    expected: &[Option<String>],
    candidates: &[Candidate],
    intents: &[String],
    min_margin: f32,
    max_fp_rate: f64,
) -> Option<(f32, IntentReport)> {
    let mut thresholds: Vec<f32> = candidates.iter().map(|c| c.confidence).collect();
    thresholds.push(f32::INFINITY);
    thresholds.sort_by(f32::total_cmp);
    thresholds.dedup();
    let mut best: Option<(f32, IntentReport)> = None;
    for t in thresholds {
        let predicted: Vec<Option<String>> = candidates
            .iter()
            .map(|c| {
                c.best
                    .clone()
                    .filter(|_| c.confidence >= t && c.margin >= min_margin)
            })
            .collect();
        let r = score(expected, &predicted, intents);
        if r.no_intent_fp_rate <= max_fp_rate
            && best.as_ref().is_none_or(|(_, b)| r.macro_f1 > b.macro_f1)
        {
            best = Some((t, r));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn scores_count_false_positives_misses_and_confusions() {
        let expected = [s("a"), s("a"), s("b"), None, None, None, None];
        let predicted = [s("a"), None, s("a"), None, s("b"), None, None];
        let r = score(&expected, &predicted, &["a".into(), "b".into(), "c".into()]);
        assert_eq!(r.messages, 7);
        assert!((r.accuracy - 4.0 / 7.0).abs() < 1e-9);
        assert!((r.no_intent_fp_rate - 0.25).abs() < 1e-9);
        assert!((r.intent_miss_rate - 1.0 / 3.0).abs() < 1e-9);
        let a = &r.per_intent[0];
        assert_eq!((a.support, a.predicted), (2, 2));
        assert!((a.precision - 0.5).abs() < 1e-9 && (a.recall - 0.5).abs() < 1e-9);
        // b: predicted once (wrongly), c: never labelled, so not in the macro average.
        assert_eq!(r.per_intent[1].f1, 0.0);
        assert!((r.macro_f1 - 0.25).abs() < 1e-9);
        assert_eq!(r.confusions.len(), 3);
    }

    #[test]
    fn calibration_keeps_false_positives_under_the_target() {
        let expected = [s("a"), s("a"), None, None];
        let c = |best: &str, confidence| Candidate {
            best: s(best),
            confidence,
            margin: 1.0,
        };
        let candidates = [c("a", 0.9), c("a", 0.6), c("a", 0.7), c("a", 0.3)];
        let (t, r) = calibrate_threshold(&expected, &candidates, &["a".into()], 0.0, 0.0).unwrap();
        assert_eq!(t, 0.9);
        assert_eq!(r.no_intent_fp_rate, 0.0);
        let (t, _) = calibrate_threshold(&expected, &candidates, &["a".into()], 0.0, 0.5).unwrap();
        assert_eq!(t, 0.6);
    }

    #[test]
    fn both_file_forms_load_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.jsonl");
        std::fs::write(
            &p,
            "{\"texto\": \"hazme unas slides\", \"intent\": \"crear_presentacion\"}\n\n\
             {\"texto\": \"hola\", \"intent\": null}\n",
        )
        .unwrap();
        let m = load_labelled(&p).unwrap();
        assert_eq!(m[0].intent.as_deref(), Some("crear_presentacion"));
        assert_eq!(m[1].intent, None);
        let t = dir.path().join("m.tsv");
        std::fs::write(
            &t,
            "# comment\nhazme unas slides\tcrear_presentacion\nhola\t\nqué tal\tnone\n",
        )
        .unwrap();
        let m = load_labelled(&t).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[1].intent, None);
        assert_eq!(m[2].intent, None);
        std::fs::write(&p, "{\"texto\": \"x\", \"intnt\": null}\n").unwrap();
        let e = load_labelled(&p).unwrap_err().to_string();
        assert!(e.contains(":1:") && e.contains("intnt"), "{e}");
        std::fs::write(&p, "hola sin tabulador\n").unwrap();
        assert!(load_labelled(&p).unwrap_err().to_string().contains("TAB"));
    }
}
