//! Build-time self-calibration: the scope guard's thresholds and the fusion weight chosen on
//! the index's own documents (see `raymundo_eval::selfcal` for the method), recorded in the
//! index and printed by `raymundo build`.

use anyhow::Result;
use raymundo_core::{Fusion, RetrievalConfig};
use raymundo_embed::BertEmbedder;
use raymundo_eval::selfcal::{
    choose_fusion, choose_guard, out_of_domain_questions, pseudo_questions, Signals,
};
use raymundo_index::{Calibration, Index, SearchParams};
use std::collections::HashMap;

/// Pseudo-questions made per build (fewer when the documents have fewer sentences).
const PSEUDO_QUESTIONS: usize = 240;
/// Fixed seed: the same documents give the same values.
const SEED: u64 = 0x05ee_d0fc_a11b_4a7e;
/// Dense weights tried for weighted fusion, safest (dense only) first.
const WEIGHTS: [f32; 7] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
/// Results searched to find each pseudo-question's own passage.
const RANK_DEPTH: usize = 20;

/// Chooses the calibration for `index` (saved, with its BM25 part) with the model it was
/// built with. `None` when the documents give too few pseudo-questions to choose from.
pub fn calibrate(
    index: &Index,
    embedder: &BertEmbedder,
    retrieval: &RetrievalConfig,
) -> Result<Option<Calibration>> {
    let texts: Vec<&str> = index.chunks().iter().map(|c| c.text.as_str()).collect();
    let language = index.meta().language.as_str();
    let pseudo = pseudo_questions(&texts, language, PSEUDO_QUESTIONS, SEED);
    if pseudo.len() < 10 {
        return Ok(None);
    }
    let bank = out_of_domain_questions();
    let queries: Vec<&str> = pseudo
        .iter()
        .map(|q| q.text.as_str())
        .chain(bank.iter().copied())
        .collect();
    let vectors = embedder.embed_queries(&queries)?;
    let (pseudo_vectors, bank_vectors) = vectors.split_at(pseudo.len());
    let row_of: HashMap<(&str, usize), usize> = index
        .chunks()
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.doc.as_str(), c.position), i))
        .collect();
    let params_for = |weight: f32, k: usize| SearchParams {
        fusion: Fusion::Weighted,
        dense_weight: weight,
        coverage_k: Some(retrieval.top_k),
        ..SearchParams::from_config(retrieval, k)
    };

    // The fusion weight whose ranking puts each pseudo-question's own passage highest.
    let mut runs: Vec<(String, Vec<Option<usize>>)> = Vec::new();
    for weight in WEIGHTS {
        let params = params_for(weight, RANK_DEPTH);
        let mut ranks = Vec::with_capacity(pseudo.len());
        for (q, v) in pseudo.iter().zip(pseudo_vectors) {
            let result = index.hybrid_search(v, &q.text, &params)?;
            ranks.push(result.hits.iter().position(|h| {
                row_of.get(&(h.chunk.doc.as_str(), h.chunk.position)) == Some(&q.chunk)
            }));
            // Rank is 1-based.
            if let Some(r) = ranks.last_mut().and_then(|r| r.as_mut()) {
                *r += 1;
            }
        }
        runs.push((format!("{weight}"), ranks));
    }
    let fusion_mrr: Vec<(f32, f32)> = WEIGHTS
        .iter()
        .zip(&runs)
        .map(|(w, (_, ranks))| (*w, raymundo_eval::selfcal::mrr(ranks)))
        .collect();
    let (label, _) = choose_fusion(&runs).expect("weights tried");
    let dense_weight: f32 = label.parse().expect("a weight label");

    // The guard's signals as `ask` computes them, with that weight.
    let params = params_for(dense_weight, retrieval.top_k);
    let signals = |qs: &[&str], vs: &[Vec<f32>]| -> Result<Vec<Signals>> {
        qs.iter()
            .zip(vs)
            .map(|(q, v)| {
                let r = index.hybrid_search(v, q, &params)?;
                Ok(Signals {
                    cosine: r.best_dense,
                    coverage: r.coverage,
                })
            })
            .collect()
    };
    let pseudo_texts: Vec<&str> = pseudo.iter().map(|q| q.text.as_str()).collect();
    let positives = signals(&pseudo_texts, pseudo_vectors)?;
    let negatives = signals(&bank, bank_vectors)?;
    if let Some(path) = std::env::var_os("RAYMUNDO_CALIBRATION_DUMP") {
        // For studying the method: every question with its signals, one JSON line each.
        let mut out = String::new();
        for (side, qs, ss) in [
            ("pseudo", &pseudo_texts, &positives),
            ("out_of_domain", &bank, &negatives),
        ] {
            for (q, s) in qs.iter().zip(ss.iter()) {
                out.push_str(&serde_json::json!({"side": side, "text": q, "cosine": s.cosine, "coverage": s.coverage}).to_string());
                out.push('\n');
            }
        }
        std::fs::write(&path, out)?;
    }
    let Some(guard) = choose_guard(&positives, &negatives) else {
        return Ok(None);
    };
    Ok(Some(Calibration {
        min_score: guard.min_score,
        min_coverage: guard.min_coverage,
        dense_weight,
        pseudo_questions: pseudo.len(),
        out_of_domain: bank.len(),
        declined: guard.declined,
        answered_out_of_domain: guard.answered_out_of_domain,
        fusion_mrr,
        method: format!(
            "{} questions made from the documents: the fusion weight with the best MRR of \
             each one's own passage; {} built-in out-of-domain questions: the cosine \
             threshold at their {:.0}th percentile, the coverage threshold at their {:.0}th",
            pseudo.len(),
            bank.len(),
            raymundo_eval::selfcal::COSINE_QUANTILE * 100.0,
            raymundo_eval::selfcal::COVERAGE_QUANTILE * 100.0
        ),
    }))
}

/// The calibration for a person, one line.
pub fn describe(c: &Calibration) -> String {
    format!(
        "min_score {:.3}, min_coverage {:.3}, dense_weight {:.1} (on {} questions from the \
         documents: {:.1}% declined; {} out-of-domain questions: {:.1}% answered)",
        c.min_score,
        c.min_coverage,
        c.dense_weight,
        c.pseudo_questions,
        c.declined * 100.0,
        c.out_of_domain,
        c.answered_out_of_domain * 100.0
    )
}
