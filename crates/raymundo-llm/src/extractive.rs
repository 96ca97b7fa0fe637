//! The extractive answerer: the most relevant sentences of the top passages, with citations.

use raymundo_core::text::{content_keys, split_sentences};
use raymundo_core::{Answer, AnswerFailure, Answerer, Embedder, Hit, SourceRef};
use std::collections::HashSet;
use std::sync::Arc;

/// Builds an answer from sentences of the retrieved passages.
///
/// Sentences are scored by their meaning (cosine to the question, when an embedder is given)
/// and by the question's content words they contain, weighted by the passage's own score;
/// the best are returned in document order, each followed by the number of its source.
pub struct ExtractiveAnswerer {
    embedder: Option<Arc<dyn Embedder>>,
    max_sentences: usize,
}

impl ExtractiveAnswerer {
    /// An answerer returning at most `max_sentences` sentences; with an `embedder`, sentences
    /// are also compared with the question by meaning.
    pub fn new(embedder: Option<Arc<dyn Embedder>>, max_sentences: usize) -> Self {
        Self {
            embedder,
            max_sentences: max_sentences.max(1),
        }
    }
}

/// A sentence of a retrieved passage and how well it matches the question.
pub(crate) struct Candidate {
    /// Index of its passage.
    pub hit: usize,
    /// Position of the sentence in its passage.
    pub order: usize,
    /// The sentence without list markers or emphasis.
    pub text: String,
    /// Higher is better.
    pub score: f32,
}

/// Email header fields: a line starting with one of these and a colon is not an answer.
const HEADER_FIELDS: &[&str] = &[
    "from", "to", "cc", "subject", "date", "de", "para", "asunto", "fecha", "enviado", "sent",
];

/// Headings, email headers and short fragments carry no answer on their own.
fn usable(sentence: &str) -> bool {
    let header = sentence
        .split_once(':')
        .is_some_and(|(field, _)| HEADER_FIELDS.contains(&field.trim().to_lowercase().as_str()));
    !sentence.starts_with('#') && !header && sentence.split_whitespace().count() >= 4
}

/// The text of a sentence without a leading list marker or Markdown emphasis.
fn clean(sentence: &str) -> String {
    sentence
        .trim_start_matches(['-', '*', '•', '>', ' '])
        .replace("**", "")
        .replace("__", "")
}

/// Every usable sentence of `hits`, scored by the question's content words it contains and by
/// its passage's closeness to the best passage (no model involved).
pub(crate) fn lexical_candidates(question: &str, hits: &[Hit]) -> Vec<Candidate> {
    let q_keys: HashSet<String> = content_keys(question).into_iter().collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    // Passages are judged by their cosine to the question (the fused rank score of hybrid
    // search is not on that scale).
    let best = hits.iter().map(|h| h.dense).fold(0.0f32, f32::max);
    for (h, hit) in hits.iter().enumerate() {
        for (order, s) in split_sentences(&hit.chunk.text).into_iter().enumerate() {
            if !usable(s) {
                continue;
            }
            let keys: HashSet<String> = content_keys(s).into_iter().collect();
            let overlap = if q_keys.is_empty() {
                0.0
            } else {
                q_keys.intersection(&keys).count() as f32 / q_keys.len() as f32
            };
            // Passages far below the best one contribute only if they match well.
            let prior = 1.0 - (best - hit.dense).max(0.0) * 4.0;
            candidates.push(Candidate {
                hit: h,
                order,
                text: clean(s),
                score: overlap * 0.5 + prior * 0.5,
            });
        }
    }
    candidates
}

impl ExtractiveAnswerer {
    /// The usable sentences of `hits` scored against `question`: by shared words, then (with
    /// an embedder) by meaning too. With `limit`, only the best `limit` by shared words are
    /// embedded and returned (embedding every sentence of five passages takes a few hundred
    /// milliseconds on two cores).
    pub(crate) fn ranked(
        &self,
        question: &str,
        hits: &[Hit],
        limit: Option<usize>,
    ) -> Result<Vec<Candidate>, AnswerFailure> {
        let mut candidates = lexical_candidates(question, hits);
        if let Some(n) = limit {
            candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
            candidates.truncate(n);
        }
        if let (Some(embedder), false) = (&self.embedder, candidates.is_empty()) {
            let q = embedder
                .embed_query(question)
                .map_err(|e| AnswerFailure(e.to_string()))?;
            let texts: Vec<&str> = candidates.iter().map(|c| c.text.as_str()).collect();
            let vectors = embedder
                .embed_passages(&texts)
                .map_err(|e| AnswerFailure(e.to_string()))?;
            for (c, v) in candidates.iter_mut().zip(vectors) {
                let cos: f32 = v.iter().zip(&q).map(|(a, b)| a * b).sum();
                c.score = c.score * 0.4 + cos * 0.6;
            }
        }
        Ok(candidates)
    }
}

impl Answerer for ExtractiveAnswerer {
    fn name(&self) -> &str {
        "extractive"
    }

    fn answer(&self, question: &str, hits: &[Hit]) -> Result<Answer, AnswerFailure> {
        let candidates = self.ranked(question, hits, None)?;
        let mut ranked: Vec<&Candidate> = candidates.iter().collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut chosen: Vec<&Candidate> = Vec::new();
        let mut seen = HashSet::new();
        for c in ranked {
            if chosen.len() == self.max_sentences {
                break;
            }
            if seen.insert(c.text.to_lowercase()) {
                chosen.push(c);
            }
        }
        // Present in reading order: by passage rank, then position in the passage.
        chosen.sort_by_key(|c| (c.hit, c.order));

        let mut sources: Vec<SourceRef> = Vec::new();
        let mut parts = Vec::new();
        for c in &chosen {
            let hit = &hits[c.hit];
            let number = match sources.iter().find(|s| s.doc == hit.chunk.doc) {
                Some(s) => s.number,
                None => {
                    let n = sources.len() + 1;
                    sources.push(SourceRef {
                        number: n,
                        doc: hit.chunk.doc.clone(),
                        source: hit.chunk.source.clone(),
                        title: hit.chunk.title.clone(),
                        position: hit.chunk.position,
                        score: hit.dense,
                    });
                    n
                }
            };
            parts.push(format!("{} [{number}]", c.text));
        }
        if parts.is_empty() {
            return Err(AnswerFailure(
                "the retrieved passages contain no usable sentence".into(),
            ));
        }
        Ok(Answer {
            text: parts.join(" "),
            sources,
            in_scope: true,
            answered_by: self.name().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raymundo_core::Chunk;

    fn hit(doc: &str, score: f32, text: &str) -> Hit {
        Hit::dense(
            Chunk {
                doc: doc.into(),
                position: 0,
                source: "faq".into(),
                intent: None,
                title: doc.into(),
                section: None,
                text: text.into(),
                tokens: 10,
            },
            score,
        )
    }

    #[test]
    fn picks_matching_sentences_and_cites_their_sources() {
        let hits = [
            hit(
                "faq/envios.md",
                0.9,
                "## ¿Cuánto tarda el envío?\nEl envío estándar tarda de 3 a 5 días hábiles. \
                 Los pedidos se empacan en Guadalajara cada mañana. Puedes rastrear tu paquete en la app.",
            ),
            hit("faq/pagos.md", 0.85, "Aceptamos tarjeta, transferencia y pago en OXXO para todos los pedidos."),
        ];
        let answerer = ExtractiveAnswerer::new(None, 2);
        let a = answerer
            .answer("¿Cuánto tarda en llegar el envío?", &hits)
            .unwrap();
        assert!(
            a.text
                .starts_with("El envío estándar tarda de 3 a 5 días hábiles. [1]"),
            "{}",
            a.text
        );
        assert_eq!(a.sources[0].doc, "faq/envios.md");
        assert!(!a.text.contains("##"));
        let email = hit("email/queja.txt", 0.9, "Subject: RE: Sensor con error E-104 otra vez\nEl sensor muestra el código E-104 desde el lunes por la mañana.");
        let a = answerer.answer("error E-104 del sensor", &[email]).unwrap();
        assert!(!a.text.contains("Subject"), "{}", a.text);
        assert_eq!(a.answered_by, "extractive");
    }

    #[test]
    fn no_usable_sentence_is_an_error_not_an_empty_answer() {
        let answerer = ExtractiveAnswerer::new(None, 3);
        assert!(answerer
            .answer("hola", &[hit("a.md", 0.9, "# Título")])
            .is_err());
    }
}
