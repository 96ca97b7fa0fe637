//! Self-calibration: the scope guard's thresholds and the fusion weight chosen on the
//! project's own documents at build time, without labelled questions.
//!
//! Two sets of questions stand in for the labelled ones a company does not have:
//! - **pseudo-questions** made from the documents ([`pseudo_questions`]): the question
//!   headings the documents already have (FAQ entries), and sentences turned into short
//!   queries by keeping a random part of their content words, sometimes with a word the
//!   documents do not use, behind a question opener (people ask with fewer and other words
//!   than the answer uses);
//! - a built-in bank of **out-of-domain questions** ([`out_of_domain_questions`]): chit-chat,
//!   general knowledge, sport, health and a spread of other industries, Spanish and English.
//!
//! Each is searched like a user's question; [`choose_guard`] then picks the cosine and
//! coverage thresholds that decline few pseudo-questions and answer few out-of-domain ones,
//! and [`choose_fusion`] the dense weight whose fused ranking finds each pseudo-question's
//! own passage best. Everything is deterministic (a fixed-seed generator), so two builds of
//! the same documents choose the same values.

use raymundo_core::text::{fold, is_stop_word, split_sentences};
use serde::{Deserialize, Serialize};

/// The built-in out-of-domain questions (one per line of `data/out_of_domain.txt`).
pub fn out_of_domain_questions() -> Vec<&'static str> {
    include_str!("../data/out_of_domain.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Where a pseudo-question came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PseudoKind {
    /// A question the document asks itself (a heading or a line ending in `?`).
    Heading,
    /// A sentence reduced to some of its content words behind a question opener.
    Masked,
}

/// A question made from one chunk, which is its right answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PseudoQuestion {
    /// The question text.
    pub text: String,
    /// The chunk (index into the slice given to [`pseudo_questions`]) it was made from.
    pub chunk: usize,
    /// How it was made.
    pub kind: PseudoKind,
}

/// A small deterministic generator (SplitMix64), so builds are reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

const OPENERS_ES: &[&str] = &[
    "¿Qué",
    "¿Cómo",
    "¿Cuál es",
    "¿Cuánto",
    "¿Dónde",
    "¿Cuándo",
    "¿Por qué",
    "¿Me dices",
];
const OPENERS_EN: &[&str] = &[
    "What",
    "How",
    "Which",
    "How much",
    "Where",
    "When",
    "Why",
    "Can you tell me",
];
/// Words people add that documents seldom contain (they stand for the synonyms and
/// inflections a real question brings: "¿cuántos días me tocan?").
const FILLERS_ES: &[&str] = &[
    "necesito", "quisiera", "ocupo", "me toca", "conviene", "checar", "aplica", "sale",
];
const FILLERS_EN: &[&str] = &[
    "need",
    "wanna",
    "reckon",
    "figure out",
    "supposed",
    "gotta",
    "folks",
    "stuff",
];

/// The words of a sentence (letters and digits), in order.
fn words(s: &str) -> Vec<&str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(|w| w.trim_matches('-'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A usable source sentence: prose of 8 to 40 words, mostly letters, not a header field.
fn prose(s: &str) -> bool {
    let n = words(s).len();
    let len = s.chars().count().max(1);
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    (8..=40).contains(&n)
        && letters * 10 >= len * 6
        && !s.starts_with('|')
        && !s
            .split_once(':')
            .is_some_and(|(f, _)| f.split_whitespace().count() == 1 && f.len() < 12)
}

/// A question line of a chunk: a heading or a line of 3-25 words ending in `?`.
fn question_line(line: &str) -> Option<String> {
    let t = line
        .trim()
        .trim_start_matches(['#', '*', '-', ' '])
        .trim_end_matches(['*', ' ']);
    let n = words(t).len();
    (t.ends_with('?') && (3..=25).contains(&n)).then(|| t.to_string())
}

/// Up to `max` pseudo-questions made from `chunks` (their texts), spread evenly over them,
/// in `language` (`en` for English openers and fillers, anything else Spanish).
/// At most a third are question headings, so a FAQ-only corpus is still judged mostly on
/// questions worded unlike its text.
pub fn pseudo_questions(
    chunks: &[&str],
    language: &str,
    max: usize,
    seed: u64,
) -> Vec<PseudoQuestion> {
    let (openers, fillers) = if language == "en" {
        (OPENERS_EN, FILLERS_EN)
    } else {
        (OPENERS_ES, FILLERS_ES)
    };
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    if chunks.is_empty() || max == 0 {
        return out;
    }
    // Visit chunks in a shuffled order, several rounds if there are few chunks.
    let mut order: Vec<usize> = (0..chunks.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let max_headings = max.div_ceil(3);
    let mut headings = 0;
    let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
    for round in 0..4 {
        for &c in &order {
            if out.len() >= max {
                return out;
            }
            let text = chunks[c];
            if round == 0 && headings < max_headings {
                if let Some(q) = text.lines().find_map(question_line) {
                    if used.insert(fold(&q)) {
                        out.push(PseudoQuestion {
                            text: q,
                            chunk: c,
                            kind: PseudoKind::Heading,
                        });
                        headings += 1;
                        continue;
                    }
                }
            }
            let sentences: Vec<&str> = split_sentences(text)
                .into_iter()
                .filter(|s| prose(s))
                .collect();
            if sentences.is_empty() {
                continue;
            }
            let s = sentences[rng.below(sentences.len())];
            // A stretch of the sentence (people ask about a part of it), with some of its
            // content words dropped or swapped for a word the documents may not use.
            let all = words(s);
            let width = (5 + rng.below(5)).min(all.len());
            let start = rng.below(all.len() - width + 1);
            let window = &all[start..start + width];
            let content = window
                .iter()
                .filter(|w| w.chars().count() > 2 && !is_stop_word(&fold(w)))
                .count();
            if content < 2 {
                continue;
            }
            let mut kept: Vec<&str> = Vec::with_capacity(width + 1);
            let mut dropped = 0;
            for &w in window {
                let is_content = w.chars().count() > 2 && !is_stop_word(&fold(w));
                if is_content && dropped + 2 < content && rng.unit() < 0.25 {
                    dropped += 1;
                    continue;
                }
                kept.push(w);
            }
            if rng.unit() < 0.4 {
                kept.insert(rng.below(kept.len() + 1), fillers[rng.below(fillers.len())]);
            }
            let opener = openers[rng.below(openers.len())];
            let body = kept
                .iter()
                .map(|w| w.to_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            let q = format!("{opener} {body}?");
            if used.insert(fold(&q)) {
                out.push(PseudoQuestion {
                    text: q,
                    chunk: c,
                    kind: PseudoKind::Masked,
                });
            }
        }
    }
    out
}

/// The scope signals of one searched question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    /// Best cosine of any passage.
    pub cosine: f32,
    /// Best IDF-weighted coverage of the question's terms by one top passage.
    pub coverage: f32,
}

/// The guard thresholds chosen by [`choose_guard`], with what they do on the questions they
/// were chosen on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GuardChoice {
    /// Cosine threshold.
    pub min_score: f32,
    /// Coverage threshold.
    pub min_coverage: f32,
    /// Share of the pseudo-questions it declines.
    pub declined: f32,
    /// Share of the out-of-domain questions it answers.
    pub answered_out_of_domain: f32,
}

fn in_scope(s: &Signals, t_cos: f32, t_cov: f32) -> bool {
    s.cosine >= t_cos && s.coverage >= t_cov
}

/// Quantile of the out-of-domain questions' best cosine taken as the cosine threshold.
pub const COSINE_QUANTILE: f32 = 0.8;
/// Quantile of their coverage taken as the coverage threshold.
pub const COVERAGE_QUANTILE: f32 = 0.9;

/// The value at quantile `q` of `values` (nearest rank).
fn quantile(mut values: Vec<f32>, q: f32) -> f32 {
    values.sort_by(f32::total_cmp);
    let rank = ((q * values.len() as f32).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Chooses the guard from where the out-of-domain questions fall on this corpus: the cosine
/// threshold at their [`COSINE_QUANTILE`] and the coverage threshold at their
/// [`COVERAGE_QUANTILE`] (both must be reached, so together they answer only a few of them).
/// Made-up questions are worded unlike real ones (measured: their cosines sit well below
/// real questions' on both a Spanish company corpus and English Wikipedia), so they only
/// report what the guard declines; the noise floor of unrelated questions is what carries
/// from corpus to corpus and model to model (e5's cosines sit near 0.8, MiniLM's near 0.2).
/// The quantiles were chosen on SQuAD v1.1 dev (bench/quality/README.md). `None` without
/// out-of-domain questions.
pub fn choose_guard(positives: &[Signals], negatives: &[Signals]) -> Option<GuardChoice> {
    if negatives.is_empty() {
        return None;
    }
    let min_score = quantile(
        negatives.iter().map(|s| s.cosine).collect(),
        COSINE_QUANTILE,
    );
    let min_coverage = quantile(
        negatives.iter().map(|s| s.coverage).collect(),
        COVERAGE_QUANTILE,
    );
    let share = |set: &[Signals], inside: bool| {
        if set.is_empty() {
            return 0.0;
        }
        set.iter()
            .filter(|s| in_scope(s, min_score, min_coverage) == inside)
            .count() as f32
            / set.len() as f32
    };
    Some(GuardChoice {
        min_score,
        min_coverage,
        declined: share(positives, false),
        answered_out_of_domain: share(negatives, true),
    })
}

/// Mean reciprocal rank of each pseudo-question's own chunk (`ranks[i]`: its 1-based rank,
/// `None` when not retrieved).
pub fn mrr(ranks: &[Option<usize>]) -> f32 {
    if ranks.is_empty() {
        return 0.0;
    }
    ranks
        .iter()
        .map(|r| r.map_or(0.0, |r| 1.0 / r as f32))
        .sum::<f32>()
        / ranks.len() as f32
}

/// Chooses among fusion settings (their label and the ranks they gave) the one with the best
/// MRR; the first listed wins ties, so list the safest first.
pub fn choose_fusion(runs: &[(String, Vec<Option<usize>>)]) -> Option<(&str, f32)> {
    let mut best: Option<(&str, f32)> = None;
    for (label, ranks) in runs {
        let m = mrr(ranks);
        if best.is_none_or(|(_, b)| m > b + 1e-4) {
            best = Some((label.as_str(), m));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAQ: &str = "## ¿Cuántos días de vacaciones tengo al año?\nTodo colaborador tiene \
        derecho a 22 días hábiles de vacaciones al año, que se pueden tomar en dos periodos \
        a partir del sexto mes de antigüedad.";
    const MANUAL: &str = "El controlador se reinicia manteniendo presionado el botón de \
        encendido durante diez segundos hasta que la luz verde parpadee tres veces. Después \
        la aplicación vuelve a encontrar el equipo en la red del hogar.";

    #[test]
    fn pseudo_questions_come_from_headings_and_masked_sentences() {
        let qs = pseudo_questions(&[FAQ, MANUAL], "es", 6, 7);
        assert!(qs.len() >= 3, "{qs:?}");
        let heading = qs.iter().find(|q| q.kind == PseudoKind::Heading).unwrap();
        assert_eq!(heading.text, "¿Cuántos días de vacaciones tengo al año?");
        assert_eq!(heading.chunk, 0);
        for q in qs.iter().filter(|q| q.kind == PseudoKind::Masked) {
            assert!(
                q.text.starts_with('¿') && q.text.ends_with('?'),
                "{}",
                q.text
            );
            // Shorter than the sentence it came from: some words were dropped.
            assert!(words(&q.text).len() <= 14, "{}", q.text);
        }
        // Reproducible.
        assert_eq!(qs, pseudo_questions(&[FAQ, MANUAL], "es", 6, 7));
        assert_ne!(qs, pseudo_questions(&[FAQ, MANUAL], "es", 6, 8));
    }

    #[test]
    fn the_out_of_domain_bank_is_bilingual_and_large_enough() {
        let bank = out_of_domain_questions();
        assert!(bank.len() >= 100, "{}", bank.len());
        assert!(bank.iter().any(|q| q.starts_with('¿')));
        assert!(bank.iter().any(|q| q.starts_with("What")));
    }

    #[test]
    fn guard_sits_above_most_out_of_domain_questions_whatever_the_scale() {
        // Two models with different cosine scales: the thresholds follow each one's
        // out-of-domain questions, not a constant.
        for base in [0.15f32, 0.78] {
            let neg: Vec<Signals> = (0..100)
                .map(|i| Signals {
                    cosine: base + i as f32 * 0.001,
                    coverage: (i % 50) as f32 / 100.0,
                })
                .collect();
            let pos: Vec<Signals> = (0..100)
                .map(|i| Signals {
                    cosine: base + 0.1 + i as f32 * 0.001,
                    coverage: 0.7,
                })
                .collect();
            let g = choose_guard(&pos, &neg).unwrap();
            assert!((g.min_score - (base + 0.079)).abs() < 1e-4, "{g:?}");
            assert!((g.min_coverage - 0.44).abs() < 1e-4, "{g:?}");
            assert_eq!(g.declined, 0.0);
            assert!(g.answered_out_of_domain <= 0.1, "{g:?}");
        }
        assert!(choose_guard(&[], &[]).is_none());
    }

    #[test]
    fn fusion_choice_prefers_the_first_on_ties() {
        let runs = vec![
            ("dense".to_string(), vec![Some(1), Some(2)]),
            ("w0.5".to_string(), vec![Some(1), Some(2)]),
            ("w0.3".to_string(), vec![Some(1), Some(1)]),
        ];
        assert_eq!(choose_fusion(&runs), Some(("w0.3", 1.0)));
        assert_eq!(choose_fusion(&runs[..2]).unwrap().0, "dense");
    }
}
