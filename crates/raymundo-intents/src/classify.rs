//! Which intent a message expresses, if any.
//!
//! Three methods over sentence embeddings (the project's embedding model, query side):
//! - [`Method::Trained`] (the default): a softmax regression over the intents plus a *no
//!   intent* class, trained on the intents' examples against background messages (a built-in
//!   set of greetings, small talk and questions, see `data/background.txt`) and sentences of
//!   the company's own documents. The no-intent class is what lets it reject questions that
//!   merely share words with an intent without losing the intents' recall.
//! - [`Method::Centroid`]: cosine to each intent's mean example.
//! - [`Method::Nearest`]: cosine to each intent's closest example.
//!
//! A message gets an intent only when the best intent's confidence reaches
//! [`Thresholds::min_confidence`] and leads the runner-up (another intent or, for the trained
//! method, *no intent*) by [`Thresholds::min_margin`]; otherwise it is "no intent" and goes to
//! the retrieval-augmented answer. Classifying costs one embedding plus a few thousand
//! multiply-adds.

use serde::{Deserialize, Serialize};

/// How messages are scored against the intents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Softmax regression with a no-intent class (probabilities).
    Trained,
    /// Cosine to each intent's centroid.
    Centroid,
    /// Cosine to each intent's nearest example.
    Nearest,
}

impl Method {
    /// Every method, for side-by-side comparisons.
    pub const ALL: [Method; 3] = [Method::Trained, Method::Centroid, Method::Nearest];

    /// The method's name in configuration and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trained => "trained",
            Self::Centroid => "centroid",
            Self::Nearest => "nearest",
        }
    }

    /// Parses a name written by [`Method::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The thresholds measured on the sample company (see the README): a probability for the
    /// trained method, a cosine (multilingual-e5-small) for the others.
    pub fn default_thresholds(self) -> Thresholds {
        match self {
            Self::Trained => Thresholds {
                min_confidence: 0.65,
                min_margin: 0.1,
            },
            Self::Centroid => Thresholds {
                min_confidence: 0.9,
                min_margin: 0.005,
            },
            Self::Nearest => Thresholds {
                min_confidence: 0.89,
                min_margin: 0.02,
            },
        }
    }
}

/// When a message counts as an intent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// The best intent's score must reach this.
    pub min_confidence: f32,
    /// ...and lead the runner-up by this much.
    pub min_margin: f32,
}

/// Training settings of [`Method::Trained`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    /// Scale applied to the logits (embeddings are unit vectors, so dot products are small).
    pub scale: f32,
    /// L2 penalty on the weights.
    pub l2: f32,
    /// Full-batch gradient steps.
    pub epochs: usize,
    /// Step size.
    pub learning_rate: f32,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            scale: 40.0,
            l2: 1e-4,
            epochs: 400,
            learning_rate: 0.5,
        }
    }
}

/// The verdict on one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The intent, or `None` when the message is no intent.
    pub intent: Option<String>,
    /// The best intent whether accepted or not.
    pub best: String,
    /// Its score (probability for the trained method, cosine otherwise).
    pub confidence: f32,
    /// Its lead over the runner-up.
    pub margin: f32,
    /// The no-intent class's probability (trained method only).
    pub no_intent: Option<f32>,
    /// Every intent's score, best first.
    pub ranking: Vec<(String, f32)>,
}

/// A classifier ready to score messages; serialisable so that it is trained once per change
/// of the intents, the model or the documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classifier {
    /// The method.
    pub method: Method,
    /// The intents, in class order.
    pub names: Vec<String>,
    /// Acceptance thresholds.
    pub thresholds: Thresholds,
    /// A digest of everything it was trained from (intents, model, negatives, settings).
    pub fingerprint: String,
    dim: usize,
    /// Trained: `dim x (names + 1)` weights, row-major by dimension, then biases.
    /// Centroid: `names x dim` unit centroids. Nearest: the examples, `dim` each.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Nearest: the class of each example.
    example_class: Vec<usize>,
    /// Thresholds chosen by cross-validation over the training set, when it was run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_validated: Option<cross_validation::CrossValidated>,
}

/// What a classifier is trained on: embeddings of the intents' examples and of messages that
/// are no intent.
pub struct TrainingSet<'a> {
    /// Intent names, in class order.
    pub names: &'a [String],
    /// `(class, unit vector)` per example.
    pub examples: &'a [(usize, Vec<f32>)],
    /// Unit vectors of no-intent messages (used by the trained method).
    pub negatives: &'a [Vec<f32>],
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

fn softmax(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0;
    for x in z.iter_mut() {
        *x = (*x - m).exp();
        s += *x;
    }
    z.iter_mut().for_each(|x| *x /= s);
}

impl Classifier {
    /// Trains a classifier. Panics only on inconsistent input (an example's class out of
    /// range, vectors of different sizes), which callers build themselves.
    pub fn train(
        method: Method,
        set: &TrainingSet,
        thresholds: Thresholds,
        params: TrainParams,
        fingerprint: String,
    ) -> Self {
        let names = set.names.to_vec();
        let dim = set.examples.first().map_or(0, |(_, v)| v.len());
        assert!(set
            .examples
            .iter()
            .all(|(c, v)| *c < names.len() && v.len() == dim));
        let (weights, bias, example_class) = match method {
            Method::Trained => {
                let (w, b) = train_softmax(names.len(), dim, set, params);
                (w, b, Vec::new())
            }
            Method::Centroid => {
                let mut w = vec![0.0; names.len() * dim];
                for (c, v) in set.examples {
                    for (acc, x) in w[c * dim..(c + 1) * dim].iter_mut().zip(v) {
                        *acc += x;
                    }
                }
                for c in 0..names.len() {
                    normalise(&mut w[c * dim..(c + 1) * dim]);
                }
                (w, Vec::new(), Vec::new())
            }
            Method::Nearest => (
                set.examples.iter().flat_map(|(_, v)| v.clone()).collect(),
                Vec::new(),
                set.examples.iter().map(|(c, _)| *c).collect(),
            ),
        };
        Self {
            method,
            names,
            thresholds,
            fingerprint,
            dim,
            weights,
            bias,
            example_class,
            cross_validated: None,
        }
    }

    /// The vector size it expects.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Scores of every intent (and the no-intent probability for the trained method).
    fn scores(&self, v: &[f32]) -> (Vec<f32>, Option<f32>) {
        let k = self.names.len();
        let d = self.dim;
        match self.method {
            Method::Trained => {
                let mut z = self.bias.clone();
                for (i, x) in v.iter().enumerate() {
                    let row = &self.weights[i * (k + 1)..(i + 1) * (k + 1)];
                    for (zj, w) in z.iter_mut().zip(row) {
                        *zj += x * w;
                    }
                }
                // The scale is folded into the weights at training time.
                softmax(&mut z);
                let none = z.pop();
                (z, none)
            }
            Method::Centroid => (
                (0..k)
                    .map(|c| dot(v, &self.weights[c * d..(c + 1) * d]))
                    .collect(),
                None,
            ),
            Method::Nearest => {
                let mut best = vec![f32::NEG_INFINITY; k];
                for (e, &c) in self.example_class.iter().enumerate() {
                    let s = dot(v, &self.weights[e * d..(e + 1) * d]);
                    best[c] = best[c].max(s);
                }
                (best, None)
            }
        }
    }

    /// Classifies the embedding `v` of a message.
    pub fn classify(&self, v: &[f32]) -> Classification {
        self.classify_with(v, &self.thresholds)
    }

    /// Classifies with other thresholds (to sweep them).
    pub fn classify_with(&self, v: &[f32], thresholds: &Thresholds) -> Classification {
        if v.len() != self.dim || self.names.is_empty() {
            return Classification {
                intent: None,
                best: String::new(),
                confidence: 0.0,
                margin: 0.0,
                no_intent: None,
                ranking: Vec::new(),
            };
        }
        let (scores, no_intent) = self.scores(v);
        let mut ranking: Vec<(String, f32)> = self.names.iter().cloned().zip(scores).collect();
        ranking.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (best, confidence) = ranking[0].clone();
        let runner_up = ranking
            .get(1)
            .map_or(f32::NEG_INFINITY, |r| r.1)
            .max(no_intent.unwrap_or(f32::NEG_INFINITY));
        let margin = if runner_up.is_finite() {
            confidence - runner_up
        } else {
            confidence
        };
        let accepted = confidence >= thresholds.min_confidence && margin >= thresholds.min_margin;
        Classification {
            intent: accepted.then(|| best.clone()),
            best,
            confidence,
            margin,
            no_intent,
            ranking,
        }
    }

    /// Writes the classifier as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a classifier serialises")
    }

    /// Reads a classifier written by [`Classifier::to_json`]; `None` if it is not one.
    pub fn from_json(text: &str) -> Option<Self> {
        let c: Self = serde_json::from_str(text).ok()?;
        let k = c.names.len();
        let ok = match c.method {
            Method::Trained => c.weights.len() == c.dim * (k + 1) && c.bias.len() == k + 1,
            Method::Centroid => c.weights.len() == c.dim * k,
            Method::Nearest => {
                c.weights.len() == c.dim * c.example_class.len()
                    && c.example_class.iter().all(|&e| e < k)
            }
        };
        ok.then_some(c)
    }
}

/// Full-batch gradient descent on the class-balanced cross-entropy. Returns weights
/// (`dim x (k + 1)`, scale folded in) and biases.
fn train_softmax(k: usize, dim: usize, set: &TrainingSet, p: TrainParams) -> (Vec<f32>, Vec<f32>) {
    let classes = k + 1;
    let rows: Vec<(usize, &[f32])> = set
        .examples
        .iter()
        .map(|(c, v)| (*c, v.as_slice()))
        .chain(
            set.negatives
                .iter()
                .filter(|v| v.len() == dim)
                .map(|v| (k, v.as_slice())),
        )
        .collect();
    let n = rows.len() as f32;
    // Each class weighs the same in the loss, however many rows it has.
    let mut count = vec![0usize; classes];
    rows.iter().for_each(|(c, _)| count[*c] += 1);
    let present = count.iter().filter(|&&c| c > 0).count() as f32;
    let weight: Vec<f32> = count
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                n / (present * c as f32)
            }
        })
        .collect();
    let mut w = vec![0.0f32; dim * classes];
    let mut b = vec![0.0f32; classes];
    let mut z = vec![0.0f32; classes];
    let mut gw = vec![0.0f32; dim * classes];
    let mut gb = vec![0.0f32; classes];
    for _ in 0..p.epochs {
        gw.iter_mut().for_each(|g| *g = 0.0);
        gb.iter_mut().for_each(|g| *g = 0.0);
        for (c, x) in &rows {
            z.copy_from_slice(&b);
            for (i, xi) in x.iter().enumerate() {
                for (zj, wj) in z.iter_mut().zip(&w[i * classes..(i + 1) * classes]) {
                    *zj += xi * wj;
                }
            }
            z.iter_mut().for_each(|v| *v *= p.scale);
            softmax(&mut z);
            z[*c] -= 1.0;
            let s = weight[*c] / n;
            z.iter_mut().for_each(|v| *v *= s);
            for (i, xi) in x.iter().enumerate() {
                for (g, zj) in gw[i * classes..(i + 1) * classes].iter_mut().zip(&z) {
                    *g += xi * zj;
                }
            }
            gb.iter_mut().zip(&z).for_each(|(g, zj)| *g += zj);
        }
        for (wi, g) in w.iter_mut().zip(&gw) {
            *wi -= p.learning_rate * (g + p.l2 * *wi);
        }
        for (bi, g) in b.iter_mut().zip(&gb) {
            *bi -= p.learning_rate * g;
        }
    }
    // Fold the scale in so that scoring is a plain affine map.
    w.iter_mut().for_each(|x| *x *= p.scale);
    b.iter_mut().for_each(|x| *x *= p.scale);
    (w, b)
}

/// The built-in no-intent messages (one per line of `data/background.txt`).
pub fn background_messages() -> Vec<&'static str> {
    include_str!("../data/background.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Up to `max` sentences of the company's documents, evenly spread over them, to teach the
/// classifier the documents' vocabulary as *no intent*: a question about a topic is answered
/// from the documents, it does not ask for an action. Quoted lines (`> `: what customers wrote
/// in e-mail threads) are left out: they are requests as often as not.
pub fn document_sentences<'a>(texts: impl IntoIterator<Item = &'a str>, max: usize) -> Vec<String> {
    let mut all = Vec::new();
    for text in texts {
        for line in text.lines().filter(|l| !l.trim_start().starts_with('>')) {
            for s in split_sentences(line) {
                let s = s.trim_matches(|c: char| c.is_whitespace() || "#*->|".contains(c));
                let len = s.chars().count();
                let letters = s.chars().filter(|c| c.is_alphabetic()).count();
                if (25..=200).contains(&len) && letters * 2 > len && !s.contains(':') {
                    all.push(s.to_string());
                }
            }
        }
    }
    if all.len() <= max {
        return all;
    }
    if max == 0 {
        return Vec::new();
    }
    let step = all.len() as f64 / max as f64;
    (0..max)
        .map(|i| all[(i as f64 * step) as usize].clone())
        .collect()
}

fn split_sentences(line: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let bytes = line.as_bytes();
    let mut cuts = Vec::new();
    for (i, &c) in bytes.iter().enumerate() {
        if matches!(c, b'.' | b'?' | b'!')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace())
        {
            cuts.push((start, i + 1));
            start = i + 1;
        }
    }
    cuts.push((start, line.len()));
    cuts.into_iter().map(move |(a, b)| &line[a..b])
}

pub mod cross_validation;

#[cfg(test)]
mod tests;
