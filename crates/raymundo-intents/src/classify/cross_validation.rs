//! Thresholds chosen on the intents' own examples by k-fold cross-validation.
//!
//! A fixed probability threshold cannot fit every intents file: with 5 intents a softmax
//! gives its best class most of the mass, with 60 intents the same confidence is spread over
//! many classes and a threshold of 0.65 rejects most requests (measured on BANKING77: 80% of
//! the intents missed). Here each fold of the examples and of the no-intent messages is held
//! out in turn, a classifier is trained on the rest with the same method and settings, and the
//! held-out messages are classified; the threshold that gives the best held-out macro-F1
//! while accepting at most `max_fp` of the held-out no-intent messages is the choice.
//!
//! The built-in no-intent messages (greetings, questions about the documents) are unlike the
//! requests a company did not define ("add this song to my playlist" next to `play_music`),
//! which are what a many-intent file mostly has to turn away. So a second round leaves whole
//! intents out in turn (every k-th intent): a classifier trained on the others sees their
//! examples, and each it accepts is a false positive too. The folds are fixed (every k-th
//! example of each intent, every k-th intent), so the result is reproducible.

use super::{Classifier, Method, Thresholds, TrainParams, TrainingSet};
use serde::{Deserialize, Serialize};

/// One held-out message's verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOut {
    /// Its class (`None`: a no-intent message).
    pub truth: Option<usize>,
    /// The best intent's class, `None` when the no-intent class won.
    pub best: Option<usize>,
    /// The best intent's confidence.
    pub confidence: f32,
    /// Its lead over the runner-up.
    pub margin: f32,
}

/// Thresholds chosen by cross-validation, with what they did on the held-out messages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CrossValidated {
    /// The chosen thresholds.
    pub thresholds: Thresholds,
    /// Held-out macro-F1 over the intents at those thresholds.
    pub macro_f1: f32,
    /// Held-out no-intent messages accepted as an intent.
    pub false_positive_rate: f32,
    /// Folds used.
    pub folds: usize,
}

/// Every example and negative of `set` classified by a classifier trained without its fold.
pub fn held_out(
    method: Method,
    set: &TrainingSet,
    params: TrainParams,
    folds: usize,
) -> Vec<HeldOut> {
    let folds = folds.max(2);
    // Fold of each example: its position among its intent's examples, modulo `folds`.
    let mut seen = vec![0usize; set.names.len()];
    let example_fold: Vec<usize> = set
        .examples
        .iter()
        .map(|(c, _)| {
            seen[*c] += 1;
            (seen[*c] - 1) % folds
        })
        .collect();
    let mut out = Vec::with_capacity(set.examples.len() + set.negatives.len());
    for fold in 0..folds {
        let examples: Vec<(usize, Vec<f32>)> = set
            .examples
            .iter()
            .zip(&example_fold)
            .filter(|(_, f)| **f != fold)
            .map(|(e, _)| e.clone())
            .collect();
        let negatives: Vec<Vec<f32>> = set
            .negatives
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds != fold)
            .map(|(_, v)| v.clone())
            .collect();
        if examples.is_empty() {
            continue;
        }
        let classifier = Classifier::train(
            method,
            &TrainingSet {
                names: set.names,
                examples: &examples,
                negatives: &negatives,
            },
            method.default_thresholds(),
            params,
            String::new(),
        );
        let mut judge = |truth: Option<usize>, v: &[f32]| {
            out.push(verdict(&classifier, set.names, truth, v));
        };
        for ((c, v), _) in set
            .examples
            .iter()
            .zip(&example_fold)
            .filter(|(_, f)| **f == fold)
        {
            judge(Some(*c), v);
        }
        for (_, v) in set
            .negatives
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds == fold)
        {
            judge(None, v);
        }
    }
    out.extend(unknown_intents(method, set, params, folds));
    out
}

/// The examples of every k-th intent, left out of training in turn, judged by a classifier
/// trained on the other intents (and the no-intent messages): all of them are no intent for
/// it. Nothing with fewer than two intents.
fn unknown_intents(
    method: Method,
    set: &TrainingSet,
    params: TrainParams,
    folds: usize,
) -> Vec<HeldOut> {
    let intents = set.names.len();
    let mut out = Vec::new();
    if intents < 2 {
        return out;
    }
    for fold in 0..folds.min(intents) {
        let kept: Vec<usize> = (0..intents).filter(|c| c % folds != fold).collect();
        if kept.is_empty() {
            continue;
        }
        let names: Vec<String> = kept.iter().map(|&c| set.names[c].clone()).collect();
        let examples: Vec<(usize, Vec<f32>)> = set
            .examples
            .iter()
            .filter_map(|(c, v)| {
                let k = kept.iter().position(|k| k == c)?;
                Some((k, v.clone()))
            })
            .collect();
        let classifier = Classifier::train(
            method,
            &TrainingSet {
                names: &names,
                examples: &examples,
                negatives: set.negatives,
            },
            method.default_thresholds(),
            params,
            String::new(),
        );
        // Whatever intent it names is wrong: a false positive for that intent.
        for (_, v) in set.examples.iter().filter(|(c, _)| c % folds == fold) {
            out.push(verdict(&classifier, set.names, None, v));
        }
    }
    out
}

/// How `classifier` judges `v` at no threshold, its best intent as an index into `names`
/// (the full list, whatever subset the classifier was trained on).
fn verdict(classifier: &Classifier, names: &[String], truth: Option<usize>, v: &[f32]) -> HeldOut {
    let c = classifier.classify_with(
        v,
        &Thresholds {
            min_confidence: f32::NEG_INFINITY,
            min_margin: f32::NEG_INFINITY,
        },
    );
    let best = names.iter().position(|n| *n == c.best);
    // The trained method's no-intent class winning means no intent at any threshold.
    let none_won = c.no_intent.is_some_and(|p| p > c.confidence);
    HeldOut {
        truth,
        best: best.filter(|_| !none_won),
        confidence: c.confidence,
        margin: c.margin,
    }
}

/// Macro-F1 over `intents` classes and the no-intent false-positive rate of `predicted`
/// against the held-out truth.
fn rates(held: &[HeldOut], predicted: &[Option<usize>], intents: usize) -> (f32, f32) {
    let mut tp = vec![0usize; intents];
    let mut predicted_n = vec![0usize; intents];
    let mut support = vec![0usize; intents];
    let (mut negatives, mut fp) = (0usize, 0usize);
    for (h, p) in held.iter().zip(predicted) {
        if let Some(t) = h.truth {
            support[t] += 1;
        } else {
            negatives += 1;
            fp += usize::from(p.is_some());
        }
        if let Some(p) = p {
            predicted_n[*p] += 1;
            tp[*p] += usize::from(h.truth == Some(*p));
        }
    }
    let mut f1_sum = 0.0;
    let mut classes = 0;
    for c in 0..intents {
        if support[c] == 0 {
            continue;
        }
        classes += 1;
        let precision = if predicted_n[c] == 0 {
            0.0
        } else {
            tp[c] as f32 / predicted_n[c] as f32
        };
        let recall = tp[c] as f32 / support[c] as f32;
        if precision + recall > 0.0 {
            f1_sum += 2.0 * precision * recall / (precision + recall);
        }
    }
    let macro_f1 = if classes == 0 {
        0.0
    } else {
        f1_sum / classes as f32
    };
    let fp_rate = if negatives == 0 {
        0.0
    } else {
        fp as f32 / negatives as f32
    };
    (macro_f1, fp_rate)
}

/// The confidence threshold (margins from `margins`) with the best held-out macro-F1 whose
/// no-intent false-positive rate is at most `max_fp`; among equal F1 the higher threshold
/// (fewer surprises on messages unlike the training negatives). `None` without held-out
/// intent messages.
pub fn choose(
    held: &[HeldOut],
    intents: usize,
    max_fp: f32,
    margins: &[f32],
    folds: usize,
) -> Option<CrossValidated> {
    if !held.iter().any(|h| h.truth.is_some()) {
        return None;
    }
    let mut confidences: Vec<f32> = held.iter().map(|h| h.confidence).collect();
    confidences.sort_by(f32::total_cmp);
    confidences.dedup();
    let mut best: Option<CrossValidated> = None;
    for &m in margins {
        for &t in &confidences {
            let predicted: Vec<Option<usize>> = held
                .iter()
                .map(|h| h.best.filter(|_| h.confidence >= t && h.margin >= m))
                .collect();
            let (f1, fp) = rates(held, &predicted, intents);
            if fp > max_fp {
                continue;
            }
            if best.is_none_or(|b| f1 >= b.macro_f1) {
                best = Some(CrossValidated {
                    thresholds: Thresholds {
                        min_confidence: t,
                        min_margin: m,
                    },
                    macro_f1: f1,
                    false_positive_rate: fp,
                    folds,
                });
            }
        }
    }
    best
}
