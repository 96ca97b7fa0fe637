//! The extractive answerer: the sentences of the top passages that answer the question, the
//! best first, with citations.
//!
//! Every usable sentence of the retrieved passages is a candidate. It is scored by meaning
//! (cosine to the question, rescaled over the candidates so that models with narrow cosine
//! ranges weigh the same), by the question's content words it contains, by its passage's
//! closeness to the best passage, and by whether it holds the kind of fact the question asks
//! for ([`crate::question::Kind`]: a number for `cuánto`, a date for `cuándo` ...). The reply
//! leads with the best sentence and adds the next best while it stays within
//! `max_sentences` and about `max_words`. A FAQ entry (a `¿...?` heading and the text under
//! it) is answered with its own answer, in its order, when its question is closer to the
//! user's than any sentence of the passages is, shares a word with it and asks the same kind
//! of thing: a question that was already asked and answered is answered the same way.
//! Quoted lines (`> `: what a customer or a supplier wrote in an e-mail thread, marked so
//! by the loader) are never an answer; nor are headings, header fields or questions.

use crate::question::{asked_words, Kind};
use raymundo_core::text::{content_keys, split_sentences};
use raymundo_core::{Answer, AnswerFailure, Answerer, Embedder, Hit, SourceRef};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Weights of the candidates' signals, chosen on the tuning half of DisflQA (see
/// `bench/quality/README.md`); without an embedder, meaning's weight goes to shared words.
mod weight {
    /// Cosine to the question, rescaled to 0..1 over the candidates.
    pub const MEANING: f32 = 0.45;
    /// Share of the question's content words in the sentence.
    pub const WORDS: f32 = 0.4;
    /// The passage's cosine, rescaled to 0..1 over the passages.
    pub const PASSAGE: f32 = 0.15;
    /// The sentence holds the kind of fact asked for (neutral on the tuning set, where 0.3
    /// cost a point and 0.5 eight; kept small).
    pub const KIND: f32 = 0.15;
}

/// Builds an answer from sentences of the retrieved passages (see the module's text).
pub struct ExtractiveAnswerer {
    embedder: Option<Arc<dyn Embedder>>,
    max_sentences: usize,
    max_words: usize,
}

impl ExtractiveAnswerer {
    /// An answerer returning at most `max_sentences` sentences (and no more than about 60
    /// words: [`Self::with_max_words`]); with an `embedder`, sentences are also compared
    /// with the question by meaning.
    pub fn new(embedder: Option<Arc<dyn Embedder>>, max_sentences: usize) -> Self {
        Self {
            embedder,
            max_sentences: max_sentences.max(1),
            max_words: 60,
        }
    }

    /// Sentences after the first are added only while the reply stays within `max_words`
    /// words (the first is always given whole).
    pub fn with_max_words(mut self, max_words: usize) -> Self {
        self.max_words = max_words.max(1);
        self
    }
}

/// A sentence of a retrieved passage and how well it matches the question.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Index of its passage.
    pub hit: usize,
    /// Position of the sentence in its passage.
    pub order: usize,
    /// The sentence without list markers or emphasis.
    pub text: String,
    /// Higher is better.
    pub score: f32,
    /// The question of the FAQ entry the sentence answers, if it is under one.
    entry: Option<Arc<str>>,
    /// It answers the FAQ entry that matches the question (see the module's text).
    faq: bool,
    /// Share of the question's content words it contains.
    overlap: f32,
    /// Its passage's closeness to the best passage (0..1).
    passage: f32,
    /// 1.0 when it holds the kind of fact the question asks for.
    kind: f32,
}

/// Email header fields: a line starting with one of these and a colon is not an answer.
const HEADER_FIELDS: &[&str] = &[
    "from", "to", "cc", "subject", "date", "de", "para", "asunto", "fecha", "enviado", "sent",
];

/// Headings, email headers, questions and short fragments are no answer.
fn usable(sentence: &str) -> bool {
    let header = sentence
        .split_once(':')
        .is_some_and(|(field, _)| HEADER_FIELDS.contains(&field.trim().to_lowercase().as_str()));
    !sentence.starts_with('#')
        && !header
        && !sentence.trim_end_matches(['*', '_', ' ']).ends_with('?')
        && sentence.split_whitespace().count() >= 4
}

/// The question of a FAQ entry opened by `line`: a `#` heading or a lone line (bold or not)
/// that ends with `?`.
fn entry_question(line: &str) -> Option<&str> {
    let text = line
        .trim_start_matches('#')
        .trim()
        .trim_matches(['*', '_'])
        .trim();
    let is_question = text.ends_with('?') && text.split_whitespace().count() >= 2;
    let heading = line.starts_with('#');
    (is_question && (heading || line.trim_start().starts_with(['¿', '*']))).then_some(text)
}

/// The text of a sentence without a leading list marker or Markdown emphasis.
fn clean(sentence: &str) -> String {
    sentence
        .trim_start_matches(['-', '*', '•', ' '])
        .replace("**", "")
        .replace("__", "")
}

/// `value` rescaled to 0..1 between `min` and `max` (1.0 when they are equal).
fn rescale(value: f32, min: f32, max: f32) -> f32 {
    if max - min <= f32::EPSILON {
        1.0
    } else {
        ((value - min) / (max - min)).clamp(0.0, 1.0)
    }
}

/// Share of `keys` found in `text`'s content words.
fn share(keys: &HashSet<String>, text: &str) -> f32 {
    if keys.is_empty() {
        return 0.0;
    }
    let other: HashSet<String> = content_keys(text).into_iter().collect();
    keys.intersection(&other).count() as f32 / keys.len() as f32
}

/// Whether a FAQ entry's question asks the same kind of thing as the user's (or either asks
/// nothing in particular): "¿Cómo pido mi factura?" is not "¿Hasta cuándo puedo facturar?".
fn same_kind(kind: Kind, entry: &str) -> bool {
    let other = Kind::of(entry);
    kind == other || kind == Kind::Other || other == Kind::Other
}

/// Marks the sentences of the FAQ entry that answers the question: among the entries that
/// share a word with it and ask the same kind of thing, the one closest to it (`closeness`),
/// if closer than every sentence (`sentence_best`); only its first passage's copy.
fn mark_faq(
    candidates: &mut [Candidate],
    question: &str,
    closeness: &dyn Fn(&Arc<str>) -> f32,
    sentence_best: f32,
) {
    let q_keys: HashSet<String> = content_keys(question).into_iter().collect();
    let kind = Kind::of(question);
    // Each entry is judged once, however many of its sentences are candidates.
    let mut eligible: HashMap<Arc<str>, bool> = HashMap::new();
    let mut best: Option<(f32, Arc<str>, usize)> = None;
    for c in candidates.iter() {
        let Some(e) = &c.entry else { continue };
        let ok = *eligible
            .entry(e.clone())
            .or_insert_with(|| share(&q_keys, e) > 0.0 && same_kind(kind, e));
        if !ok {
            continue;
        }
        let close = closeness(e);
        if best.as_ref().is_none_or(|(b, _, _)| close > *b) {
            best = Some((close, e.clone(), c.hit));
        }
    }
    for c in candidates.iter_mut() {
        c.faq = matches!(&best, Some((close, e, hit))
            if *close > sentence_best && c.hit == *hit && c.entry.as_ref() == Some(e));
    }
}

/// Every usable sentence of `hits`, with its signals and a score from those alone (no model
/// involved: shared words, passage, kind of fact; a FAQ entry by shared words).
pub(crate) fn lexical_candidates(question: &str, hits: &[Hit]) -> Vec<Candidate> {
    let q_keys: HashSet<String> = content_keys(question).into_iter().collect();
    let kind = Kind::of(question);
    let asked = asked_words(question);
    let mut candidates: Vec<Candidate> = Vec::new();
    // Passages are judged by their cosine to the question (the fused rank score of hybrid
    // search is not on that scale), rescaled over the passages.
    let best = hits.iter().map(|h| h.dense).fold(f32::MIN, f32::max);
    let worst = hits.iter().map(|h| h.dense).fold(f32::MAX, f32::min);
    for (h, hit) in hits.iter().enumerate() {
        let passage = rescale(hit.dense, worst, best);
        // A chunk that starts inside a FAQ entry carries the entry's heading as its section.
        let mut entry: Option<Arc<str>> = hit
            .chunk
            .section
            .as_deref()
            .and_then(|s| s.rsplit(" > ").next())
            .and_then(|s| entry_question(&format!("# {s}")).map(Arc::from));
        let mut order = 0;
        for line in hit.chunk.text.lines() {
            // A quoted line (`> `) is what someone else wrote in an e-mail thread (the
            // loader marks it so): searched, never given as the answer.
            let quoted = line.trim_start().starts_with('>');
            for s in split_sentences(line) {
                order += 1;
                if s.starts_with('#') {
                    entry = entry_question(s).map(Arc::from);
                    continue;
                }
                if let Some(q) = entry_question(s) {
                    entry = Some(Arc::from(q));
                    continue;
                }
                if quoted || !usable(s) {
                    continue;
                }
                let text = clean(s);
                let overlap = share(&q_keys, &text);
                let evidence = kind.evidence(&text, &asked);
                candidates.push(Candidate {
                    hit: h,
                    order,
                    score: (weight::WORDS + weight::MEANING) * overlap
                        + weight::PASSAGE * passage
                        + weight::KIND * evidence,
                    entry: entry.clone(),
                    faq: false,
                    overlap,
                    passage,
                    kind: evidence,
                    text,
                });
            }
        }
    }
    let best_overlap = candidates.iter().map(|c| c.overlap).fold(0.0, f32::max);
    mark_faq(
        &mut candidates,
        question,
        &|e| share(&q_keys, e),
        // Without meaning, an entry's words must match at least as well as any sentence's.
        best_overlap - f32::EPSILON,
    );
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
        let Some(embedder) = &self.embedder else {
            return Ok(candidates);
        };
        if candidates.is_empty() {
            return Ok(candidates);
        }
        let failure = |e: raymundo_core::EmbedFailure| AnswerFailure(e.to_string());
        let q = embedder.embed_query(question).map_err(failure)?;
        // The sentences, then each FAQ entry's question once, in one batch.
        let mut entries: Vec<Arc<str>> = Vec::new();
        for e in candidates.iter().filter_map(|c| c.entry.as_ref()) {
            if !entries.contains(e) {
                entries.push(e.clone());
            }
        }
        let texts: Vec<&str> = candidates
            .iter()
            .map(|c| c.text.as_str())
            .chain(entries.iter().map(|e| &**e))
            .collect();
        let vectors = embedder.embed_passages(&texts).map_err(failure)?;
        let cosines: Vec<f32> = vectors
            .iter()
            .map(|v| v.iter().zip(&q).map(|(a, b)| a * b).sum())
            .collect();
        let (sentences, entry_cosines) = cosines.split_at(candidates.len());
        let min = sentences.iter().copied().fold(f32::MAX, f32::min);
        let max = sentences.iter().copied().fold(f32::MIN, f32::max);
        for (c, &cos) in candidates.iter_mut().zip(sentences) {
            c.score = weight::MEANING * rescale(cos, min, max)
                + weight::WORDS * c.overlap
                + weight::PASSAGE * c.passage
                + weight::KIND * c.kind;
        }
        let entry_cos: HashMap<&Arc<str>, f32> =
            entries.iter().zip(entry_cosines.iter().copied()).collect();
        mark_faq(&mut candidates, question, &|e| entry_cos[e], max);
        Ok(candidates)
    }

    /// The sentences of the reply, in the order given: the FAQ entry that answers the
    /// question (its answer in its own order), else the best sentence and then the next
    /// best in reading order, within `max_sentences` and `max_words`.
    fn choose<'a>(&self, candidates: &'a [Candidate]) -> Vec<&'a Candidate> {
        let mut pool: Vec<&Candidate> = candidates.iter().filter(|c| c.faq).collect();
        let faq = !pool.is_empty();
        if faq {
            pool.sort_by_key(|c| c.order);
        } else {
            pool = candidates.iter().collect();
            pool.sort_by(|a, b| b.score.total_cmp(&a.score));
        }
        let mut chosen: Vec<&Candidate> = Vec::new();
        let mut seen = HashSet::new();
        let (mut words, mut sentences) = (0, 0);
        for c in pool {
            // The rows of an entry's table are read whole, within the word limit.
            let row = faq && c.text.starts_with('|');
            if sentences == self.max_sentences && !row {
                break;
            }
            let n = c.text.split_whitespace().count();
            if !chosen.is_empty() && words + n > self.max_words {
                // An entry's answer is read in order: it stops at the first that does not fit.
                if faq {
                    break;
                }
                continue;
            }
            if seen.insert(c.text.to_lowercase()) {
                words += n;
                sentences += usize::from(!row);
                chosen.push(c);
            }
        }
        // The first stays first; the rest are read in the documents' order.
        if chosen.len() > 2 {
            chosen[1..].sort_by_key(|c| (c.hit, c.order));
        }
        chosen
    }
}

impl Answerer for ExtractiveAnswerer {
    fn name(&self) -> &str {
        "extractive"
    }

    fn answer(&self, question: &str, hits: &[Hit]) -> Result<Answer, AnswerFailure> {
        let candidates = self.ranked(question, hits, None)?;
        let chosen = self.choose(&candidates);
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
    fn the_sentence_with_the_asked_fact_comes_first() {
        let hits = [hit(
            "faq/planes.md",
            0.9,
            "El plan Pro es para huertas y viveros con varias zonas de riego. \
             Incluye reportes semanales del consumo de agua por zona. \
             El plan Pro cuesta $249.00 MXN al mes o $2,490.00 MXN al año.",
        )];
        let a = ExtractiveAnswerer::new(None, 3)
            .answer("¿Cuánto cuesta el plan Pro?", &hits)
            .unwrap();
        assert!(
            a.text.starts_with("El plan Pro cuesta $249.00 MXN"),
            "{}",
            a.text
        );
    }

    #[test]
    fn a_customers_quoted_words_are_never_the_answer() {
        let hits = [hit(
            "email/pedido.txt",
            0.9,
            "Tu pedido salió el lunes por Estafeta y llega el martes.\n\
             > -----Mensaje original-----\n\
             > Buenas tardes, hice un pedido hace más de una semana y no llega a Monterrey.",
        )];
        let a = ExtractiveAnswerer::new(None, 3)
            .answer("¿Cuánto tarda mi pedido a Monterrey?", &hits)
            .unwrap();
        assert!(!a.text.contains("Buenas tardes"), "{}", a.text);
        assert!(a.text.starts_with("Tu pedido salió el lunes"), "{}", a.text);
    }

    #[test]
    fn a_matching_faq_entry_is_answered_with_its_own_answer_within_the_word_limit() {
        let hits = [hit(
            "faq/facturacion.md",
            0.9,
            "## ¿Cuándo llega mi factura?\nLa factura llega por correo el mismo día del pago. \
             Si no la recibes, revisa la carpeta de spam.\n\
             ## ¿Cómo solicito la factura?\nEntra a axoloit.mx/facturacion con tu número de pedido. \
             Llena tus datos fiscales y elige el uso de CFDI. \
             Recibirás el PDF y el XML en tu correo en unos minutos, sin costo alguno para ti.",
        )];
        let answerer = ExtractiveAnswerer::new(None, 3).with_max_words(20);
        let a = answerer
            .answer("¿Cómo solicito mi factura?", &hits)
            .unwrap();
        assert!(
            a.text.starts_with("Entra a axoloit.mx/facturacion con tu número de pedido. [1] Llena tus datos fiscales"),
            "{}",
            a.text
        );
        // The third sentence would pass 20 words.
        assert!(!a.text.contains("Recibirás"), "{}", a.text);
        assert!(!a.text.contains("spam"), "{}", a.text);
    }

    #[test]
    fn no_usable_sentence_is_an_error_not_an_empty_answer() {
        let answerer = ExtractiveAnswerer::new(None, 3);
        assert!(answerer
            .answer("hola", &[hit("a.md", 0.9, "# Título")])
            .is_err());
    }
}
