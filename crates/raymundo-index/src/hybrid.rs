//! Hybrid retrieval: dense and BM25 candidates, fused, optionally diversified (MMR).

use crate::lexical::{analyze, Filter};
use crate::search::dot;
use raymundo_core::Fusion;
use std::collections::{HashMap, HashSet};
use tantivy::tokenizer::TextAnalyzer;

/// How to search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    /// Results wanted.
    pub k: usize,
    /// How dense and BM25 results are combined.
    pub fusion: Fusion,
    /// Candidates taken from each list before fusion (at least `k`).
    pub candidates: usize,
    /// The `k` of reciprocal rank fusion.
    pub rrf_k: f32,
    /// Weight of the cosine in weighted fusion.
    pub dense_weight: f32,
    /// MMR lambda (`None`: no re-ranking).
    pub mmr_lambda: Option<f32>,
    /// HNSW search breadth, when the index has a graph (`None`: the index's default).
    pub ef_search: Option<usize>,
    /// The coverage signal is measured over this many of the best fused and BM25 passages
    /// (`None`: `k`).
    pub coverage_k: Option<usize>,
    /// Source / intent restriction.
    pub filter: Filter,
}

impl SearchParams {
    /// Dense-only search of the `k` best chunks, no filter.
    pub fn dense(k: usize) -> Self {
        Self {
            k,
            fusion: Fusion::Dense,
            candidates: k,
            rrf_k: 60.0,
            dense_weight: 1.0,
            mmr_lambda: None,
            ef_search: None,
            coverage_k: None,
            filter: Filter::default(),
        }
    }

    /// The project's retrieval settings, `k` results.
    pub fn from_config(c: &raymundo_core::RetrievalConfig, k: usize) -> Self {
        Self {
            k,
            fusion: c.fusion,
            candidates: c.candidates.max(k),
            rrf_k: c.rrf_k,
            dense_weight: c
                .dense_weight
                .unwrap_or(raymundo_core::DEFAULT_DENSE_WEIGHT),
            mmr_lambda: c.mmr_lambda,
            ef_search: c.ef_search,
            coverage_k: None,
            filter: Filter::default(),
        }
    }
}

/// One fused candidate (chunk row, scores).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub row: usize,
    pub score: f32,
    pub dense: f32,
    pub lexical: Option<f32>,
}

/// Fuses a dense list (rows with cosine, best first) and a lexical list (rows with BM25 and
/// cosine, best first) into one list, best first.
pub(crate) fn fuse(
    dense: &[(usize, f32)],
    lexical: &[(usize, f32, f32)],
    p: &SearchParams,
) -> Vec<Candidate> {
    let mut by_row: HashMap<usize, Candidate> = HashMap::new();
    let max_bm25 = lexical.iter().map(|l| l.1).fold(0.0f32, f32::max);
    for (rank, &(row, cos)) in dense.iter().enumerate() {
        let score = match p.fusion {
            Fusion::Rrf => 1.0 / (p.rrf_k + rank as f32 + 1.0),
            Fusion::Weighted => p.dense_weight * cos,
            Fusion::Dense => cos,
            Fusion::Bm25 => continue,
        };
        by_row.insert(
            row,
            Candidate {
                row,
                score,
                dense: cos,
                lexical: None,
            },
        );
    }
    if p.fusion != Fusion::Dense {
        for (rank, &(row, bm25, cos)) in lexical.iter().enumerate() {
            let add = match p.fusion {
                Fusion::Rrf => 1.0 / (p.rrf_k + rank as f32 + 1.0),
                Fusion::Weighted if max_bm25 > 0.0 => (1.0 - p.dense_weight) * bm25 / max_bm25,
                Fusion::Weighted => 0.0,
                Fusion::Bm25 => bm25,
                Fusion::Dense => 0.0,
            };
            let entry = by_row.entry(row).or_insert(Candidate {
                row,
                score: match p.fusion {
                    // A chunk BM25 found but dense did not still has its cosine.
                    Fusion::Weighted => p.dense_weight * cos,
                    _ => 0.0,
                },
                dense: cos,
                lexical: None,
            });
            entry.score += add;
            entry.lexical = Some(bm25);
        }
    }
    let mut out: Vec<Candidate> = by_row.into_values().collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.dense.total_cmp(&a.dense))
            .then(a.row.cmp(&b.row))
    });
    out
}

/// Maximal marginal relevance: picks `k` of `candidates` (best first), trading relevance
/// (the fused score, scaled to the best) against similarity to what was already picked.
pub(crate) fn mmr(
    candidates: Vec<Candidate>,
    k: usize,
    lambda: f32,
    vector: impl Fn(usize) -> Vec<f32>,
) -> Vec<Candidate> {
    if candidates.len() <= 1 || k == 0 {
        return candidates.into_iter().take(k).collect();
    }
    let best = candidates[0].score.max(f32::MIN_POSITIVE);
    let min = candidates
        .iter()
        .map(|c| c.score)
        .fold(f32::INFINITY, f32::min);
    let span = (best - min).max(f32::MIN_POSITIVE);
    let vectors: Vec<Vec<f32>> = candidates.iter().map(|c| vector(c.row)).collect();
    let mut picked: Vec<usize> = Vec::with_capacity(k);
    let mut max_sim = vec![f32::NEG_INFINITY; candidates.len()];
    while picked.len() < k.min(candidates.len()) {
        let mut choice = None;
        let mut choice_value = f32::NEG_INFINITY;
        for (i, c) in candidates.iter().enumerate() {
            if picked.contains(&i) {
                continue;
            }
            let relevance = (c.score - min) / span;
            let redundancy = if picked.is_empty() { 0.0 } else { max_sim[i] };
            let value = lambda * relevance - (1.0 - lambda) * redundancy;
            if value > choice_value {
                choice_value = value;
                choice = Some(i);
            }
        }
        let Some(chosen) = choice else { break };
        picked.push(chosen);
        for (i, v) in vectors.iter().enumerate() {
            max_sim[i] = max_sim[i].max(dot(v, &vectors[chosen]));
        }
    }
    picked.into_iter().map(|i| candidates[i]).collect()
}

/// The IDF-weighted share of the query `terms` (from `Lexical::query_terms`) that occur in
/// `texts` (1.0 when the query has no indexed terms at all: no evidence is no objection).
/// A term also counts as present when the passage has a form of it one letter longer or
/// shorter (`enciend` / `encend`, stems of at least five letters), so that an inflection the
/// stemmer keeps apart does not decide.
pub(crate) fn coverage<'a>(
    analyzer: &mut TextAnalyzer,
    terms: &[(String, f32)],
    texts: impl IntoIterator<Item = &'a str>,
) -> f32 {
    let total: f32 = terms.iter().map(|t| t.1).sum();
    if terms.is_empty() || total <= 0.0 {
        return 1.0;
    }
    let mut present: HashSet<String> = HashSet::new();
    for text in texts {
        present.extend(analyze(analyzer, text));
    }
    let found: f32 = terms
        .iter()
        .filter(|(t, _)| present.contains(t) || present.iter().any(|p| one_edit_apart(t, p)))
        .map(|t| t.1)
        .sum();
    found / total
}

/// True when `a` and `b` (both of at least five characters) differ by one inserted or
/// deleted character (`enciend` / `encend`); a replaced one is left out, since it joins
/// different words (`carta` / `carga`).
fn one_edit_apart(a: &str, b: &str) -> bool {
    // Folded stems are almost always ASCII: compare bytes then, without allocating.
    if a.is_ascii() && b.is_ascii() {
        return one_insertion_apart(a.as_bytes(), b.as_bytes());
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    one_insertion_apart(&a, &b)
}

fn one_insertion_apart<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    if a.len().min(b.len()) < 5 || a.len().abs_diff(b.len()) != 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    // The common prefix and suffix leave only the extra element of the longer one.
    prefix + suffix >= a.len().min(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_joins_inflections_not_other_words() {
        assert!(one_edit_apart("enciend", "encend"));
        assert!(one_edit_apart("encend", "enciend"));
        assert!(one_edit_apart("factur", "facturs"));
        // A replaced letter makes another word; short stems are too ambiguous.
        assert!(!one_edit_apart("carta", "carga"));
        assert!(!one_edit_apart("cost", "costs"));
        assert!(!one_edit_apart("enviar", "enviar"));
        assert!(!one_edit_apart("pedido", "pedidos2"));
        assert!(one_edit_apart("añadid", "añadido"));
    }

    fn params(fusion: Fusion) -> SearchParams {
        SearchParams {
            fusion,
            candidates: 10,
            ..SearchParams::dense(3)
        }
    }

    #[test]
    fn rrf_prefers_agreement_of_both_lists() {
        // Row 7 is second in both lists; rows 1 and 2 are first in one list only.
        let dense = [(1, 0.9), (7, 0.8), (3, 0.7)];
        let lexical = [(2, 12.0, 0.5), (7, 11.0, 0.8), (4, 5.0, 0.4)];
        let fused = fuse(&dense, &lexical, &params(Fusion::Rrf));
        let rows: Vec<usize> = fused.iter().map(|c| c.row).collect();
        assert_eq!(rows[0], 7, "{rows:?}");
        // Ties between 1 and 2 (both first in one list) are broken by the cosine.
        assert_eq!(&rows[1..3], &[1, 2]);
        assert_eq!(fused[0].lexical, Some(11.0));
        assert_eq!(fused.len(), 5);
    }

    #[test]
    fn weighted_fusion_mixes_cosine_and_scaled_bm25() {
        let dense = [(1, 0.9), (2, 0.5)];
        let lexical = [(2, 10.0, 0.5), (3, 5.0, 0.2)];
        let p = SearchParams {
            dense_weight: 0.5,
            ..params(Fusion::Weighted)
        };
        let fused = fuse(&dense, &lexical, &p);
        let get = |row| fused.iter().find(|c| c.row == row).unwrap().score;
        assert!((get(1) - 0.45).abs() < 1e-6);
        assert!((get(2) - (0.25 + 0.5)).abs() < 1e-6);
        assert!((get(3) - (0.1 + 0.25)).abs() < 1e-6);
        assert_eq!(fused[0].row, 2);
    }

    #[test]
    fn dense_and_bm25_modes_use_one_list() {
        let dense = [(1, 0.9), (2, 0.5)];
        let lexical = [(3, 10.0, 0.1)];
        let d: Vec<usize> = fuse(&dense, &lexical, &params(Fusion::Dense))
            .iter()
            .map(|c| c.row)
            .collect();
        assert_eq!(d, [1, 2]);
        let b: Vec<usize> = fuse(&dense, &lexical, &params(Fusion::Bm25))
            .iter()
            .map(|c| c.row)
            .collect();
        assert_eq!(b, [3]);
    }

    #[test]
    fn mmr_skips_near_duplicates() {
        let vecs = [vec![1.0, 0.0], vec![0.999, 0.0447], vec![0.0, 1.0]];
        let cands = vec![
            Candidate {
                row: 0,
                score: 1.0,
                dense: 0.9,
                lexical: None,
            },
            Candidate {
                row: 1,
                score: 0.95,
                dense: 0.89,
                lexical: None,
            },
            Candidate {
                row: 2,
                score: 0.7,
                dense: 0.6,
                lexical: None,
            },
        ];
        let picked: Vec<usize> = mmr(cands.clone(), 2, 0.5, |r| vecs[r].clone())
            .iter()
            .map(|c| c.row)
            .collect();
        assert_eq!(picked, [0, 2]);
        let pure: Vec<usize> = mmr(cands, 2, 1.0, |r| vecs[r].clone())
            .iter()
            .map(|c| c.row)
            .collect();
        assert_eq!(pure, [0, 1]);
    }
}
