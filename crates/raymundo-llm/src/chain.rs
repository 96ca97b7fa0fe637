//! The fallback chain: providers tried in order, the extractive answer last.
//!
//! A provider is passed over when it fails (timeout, refused connection, HTTP 429/5xx after
//! its own retries, malformed answer), answers nothing, or refuses ("no puedo ayudar con
//! eso"); every attempt is recorded. An answer saying the snippets do not hold the answer
//! (the system text asks for `NO_ENCONTRADO`) ends the chain as *unresolved*: the next
//! provider would read the same snippets. Citations `[n]` are checked against the snippets
//! sent (a number that was never sent is removed) and become the answer's sources.

use crate::chat::{ChatMessage, ChatProvider, Completion};
use crate::extractive::ExtractiveAnswerer;
use crate::prompt::{build, PromptInput, NOT_FOUND};
use raymundo_core::text::content_keys;
use raymundo_core::{Answer, Answerer, Hit, SourceRef};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

/// Texts and sizes of the chain.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    /// The system text.
    pub system: String,
    /// Longest answer in tokens.
    pub max_answer_tokens: usize,
    /// Sampling temperature.
    pub temperature: f32,
    /// Reply when the documents do not hold the answer.
    pub not_found_reply: String,
}

/// One provider's try.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// The provider.
    pub provider: String,
    /// `answered`, `not_found`, `empty`, `refused` or the error.
    pub outcome: String,
}

/// The chain's answer and how it got there.
#[derive(Debug, Clone)]
pub struct ChainAnswer {
    /// The answer (`answered_by` names the provider; `in_scope` is false when unresolved).
    pub answer: Answer,
    /// Every provider tried, in order.
    pub attempts: Vec<Attempt>,
    /// The model's completion, when a model answered.
    pub completion: Option<Completion>,
}

/// Providers in order, then the extractive answerer.
pub struct AnswerChain {
    providers: Vec<Arc<dyn ChatProvider>>,
    extractive: ExtractiveAnswerer,
    settings: ChainSettings,
}

/// Openings of a refusal to help (not a statement that the documents lack the answer).
const REFUSALS: &[&str] = &[
    "no puedo ayudar",
    "no puedo ayudarte",
    "no puedo asistir",
    "no puedo proporcionar",
    "no puedo responder a eso",
    "como modelo de lenguaje",
    "como inteligencia artificial",
    "i can't help",
    "i cannot help",
    "i can't assist",
    "i cannot assist",
    "i'm sorry, but i can",
    "as an ai",
];

/// Ways a model says the snippets do not contain the answer, besides the marker.
const NOT_IN_SNIPPETS: &[&str] = &[
    "no contienen información",
    "no contienen la información",
    "no contienen esa información",
    "no se menciona en los fragmentos",
    "no hay información sobre",
    "no tengo información sobre",
    "no tengo esa información",
    "no encuentro información",
    "the snippets do not contain",
    "the fragments do not contain",
];

/// Headings of the small-model prompt; a model that starts writing one has finished its
/// answer and is echoing the prompt.
const ECHOES: &[&str] = &["Pregunta del cliente", "Información de la empresa"];

/// Content words a small model's first shown sentence shares with the snippets.
const GROUNDED_WORDS: usize = 2;

/// Sentences (best by shared words) compared by meaning when a small model's snippets are
/// chosen.
const FOCUS_CANDIDATES: usize = 24;

/// Characters held back before streaming, so that a marker or a refusal at the start is
/// never shown.
const HOLD_BACK: usize = 48;

fn folded(text: &str) -> String {
    text.to_lowercase().replace('’', "'")
}

fn is_refusal(text: &str) -> bool {
    let start: String = folded(text).chars().take(120).collect();
    REFUSALS.iter().any(|r| start.contains(r))
}

fn is_not_found(text: &str) -> bool {
    let t = folded(text);
    text.contains(NOT_FOUND) || NOT_IN_SNIPPETS.iter().any(|p| t.contains(p))
}

/// Streams text once the start is known not to be a marker or a refusal. With `known`
/// numbers (a small model's answer), text is released a sentence at a time and a sentence
/// with a number outside `known` ends the answer before it is shown
/// ([`crate::grounding`]).
struct Gate<'a> {
    out: &'a mut dyn FnMut(&str),
    held: String,
    open: bool,
    closed: bool,
    known: Option<Vec<f64>>,
    /// Content words of the snippets (sentence mode).
    snippet_words: HashSet<String>,
    /// Sentences held until one shares words with the snippets ("¡Claro! ...").
    preamble: String,
    /// Text released so far (sentence mode).
    shown: String,
    /// The unsupported number that ended the answer.
    failed: Option<f64>,
}

impl Gate<'_> {
    fn push(&mut self, piece: &str) {
        if self.closed {
            // Kept whole, in case the verdict at the end is an answer after all.
            self.held.push_str(piece);
            return;
        }
        if self.open && self.known.is_none() {
            (self.out)(piece);
            return;
        }
        self.held.push_str(piece);
        if !self.open && (self.held.trim_start().starts_with("NO_") || is_refusal(&self.held)) {
            self.closed = true;
            return;
        }
        if self.known.is_some() {
            while let Some(end) = crate::grounding::sentence_end(&self.held) {
                if !self.release(end) {
                    return;
                }
            }
        } else if self.held.chars().count() >= HOLD_BACK {
            self.open = true;
            (self.out)(&self.held);
        }
    }

    /// Sentence mode: shows the first `end` bytes held if their numbers are supported.
    fn release(&mut self, end: usize) -> bool {
        let sentence: String = self.held.drain(..end).collect();
        if ECHOES.iter().any(|e| sentence.contains(e)) {
            // The model began writing the prompt again: the answer is over.
            self.closed = true;
            self.held.clear();
            return false;
        }
        let known = self.known.as_deref().unwrap_or_default();
        if let Some(n) = crate::grounding::unsupported_number(&sentence, known) {
            self.failed = Some(n);
            self.closed = true;
            self.held.insert_str(0, &sentence);
            return false;
        }
        if self.shown.trim().is_empty() {
            // Nothing is shown before a sentence that says something the snippets say.
            let shared = content_keys(&sentence)
                .iter()
                .filter(|k| self.snippet_words.contains(*k))
                .count();
            if shared < GROUNDED_WORDS {
                self.preamble.push_str(&sentence);
                return true;
            }
            let first = std::mem::take(&mut self.preamble) + &sentence;
            self.open = true;
            (self.out)(&first);
            self.shown.push_str(&first);
            return true;
        }
        (self.out)(&sentence);
        self.shown.push_str(&sentence);
        true
    }

    /// Sentence mode, at the end of the answer: the last sentence (no space after it).
    fn finish(&mut self) {
        if self.known.is_some() && !self.closed && !self.held.is_empty() {
            let end = self.held.len();
            self.release(end);
        }
    }
}

impl AnswerChain {
    /// A chain over `providers` (tried in order) that ends with `extractive`.
    pub fn new(
        providers: Vec<Arc<dyn ChatProvider>>,
        extractive: ExtractiveAnswerer,
        settings: ChainSettings,
    ) -> Self {
        Self {
            providers,
            extractive,
            settings,
        }
    }

    /// Names of the providers in order, `extractive` last.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .providers
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        names.push("extractive".into());
        names
    }

    /// Answers `question` from `hits` (judged in scope), with the conversation's earlier
    /// turns; `on_text` receives the answer as it is written (not for the extractive
    /// answer, which is whole at once and returned).
    pub fn answer(
        &self,
        question: &str,
        hits: &[Hit],
        history: &[ChatMessage],
        on_text: &mut dyn FnMut(&str),
    ) -> ChainAnswer {
        let mut attempts = Vec::new();
        // Sentences scored for a small model's snippets, computed once.
        let mut ranked: Option<Vec<crate::extractive::Candidate>> = None;
        for provider in &self.providers {
            let condensed = match provider.snippet_budget() {
                Some(budget) => {
                    let ranked = match &ranked {
                        Some(r) => r,
                        None => ranked.insert(
                            self.extractive
                                .ranked(question, hits, Some(FOCUS_CANDIDATES))
                                .unwrap_or_default(),
                        ),
                    };
                    Some(crate::focus::condense(ranked, hits, budget, &|s| {
                        provider.count_tokens(s)
                    }))
                }
                None => None,
            };
            let hits = match &condensed {
                Some(cut) if !cut.is_empty() => cut.as_slice(),
                _ => hits,
            };
            let prompt = build(
                &PromptInput {
                    system: &self.settings.system,
                    hits,
                    history,
                    question,
                    max_answer_tokens: self.settings.max_answer_tokens,
                    temperature: self.settings.temperature,
                },
                provider.as_ref(),
            );
            // Sizes only: the prompt holds the person's message as typed, personal data
            // included, and logs are kept and shipped where the store's scrubbing does not reach.
            tracing::debug!(
                provider = provider.name(),
                snippets = prompt.snippets,
                messages = prompt.request.messages.len(),
                chars = prompt
                    .request
                    .messages
                    .iter()
                    .map(|m| m.content.len())
                    .sum::<usize>(),
                "prompt built"
            );
            let small = provider.snippet_budget().is_some();
            let known = small.then(|| {
                let mut known = crate::grounding::numbers(question);
                for h in &hits[..prompt.snippets] {
                    known.extend(crate::grounding::numbers(&h.chunk.text));
                }
                known
            });
            let snippet_words: HashSet<String> = if small {
                hits[..prompt.snippets]
                    .iter()
                    .flat_map(|h| content_keys(&h.chunk.text))
                    .collect()
            } else {
                HashSet::new()
            };
            let mut gate = Gate {
                out: on_text,
                held: String::new(),
                open: false,
                closed: false,
                known,
                snippet_words,
                preamble: String::new(),
                shown: String::new(),
                failed: None,
            };
            let result = provider.chat(&prompt.request, &mut |piece| gate.push(piece));
            gate.finish();
            let (opened, held, shown, failed) = (gate.open, gate.held, gate.shown, gate.failed);
            let name = provider.name().to_string();
            let completion = match result {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("{e}");
                    attempts.push(Attempt {
                        provider: name,
                        outcome: e.to_string(),
                    });
                    continue;
                }
            };
            let whole = completion.text.trim();
            // A small model's answer ends before its first unsupported sentence.
            let text = if small { shown.trim() } else { whole };
            let verdict = if is_refusal(whole) {
                "refused"
            } else if is_not_found(whole) {
                "not_found"
            } else if text.is_empty() && small {
                // Cut at an unsupported number, or nothing it said is in the snippets.
                "unsupported"
            } else if text.is_empty() {
                "empty"
            } else {
                "answered"
            };
            let outcome = match (verdict, failed) {
                ("answered" | "unsupported", Some(n)) => {
                    format!("{verdict} (cut at a number not in the snippets: {n})")
                }
                _ => verdict.to_string(),
            };
            attempts.push(Attempt {
                provider: name.clone(),
                outcome,
            });
            match verdict {
                "empty" | "refused" | "unsupported" => continue,
                "not_found" => {
                    // A marker is replaced by the configured reply; a decline in the
                    // model's own words (already shown) is kept.
                    let text = if whole.contains(NOT_FOUND) {
                        self.settings.not_found_reply.clone()
                    } else {
                        whole.to_string()
                    };
                    return ChainAnswer {
                        answer: Answer {
                            text,
                            sources: Vec::new(),
                            in_scope: false,
                            answered_by: name,
                        },
                        attempts,
                        completion: Some(completion),
                    };
                }
                _ => {}
            }
            if !opened {
                // Short answers never reached the hold-back length.
                on_text(&held);
            }
            let (text, sources) = cite(text, &hits[..prompt.snippets]);
            return ChainAnswer {
                answer: Answer {
                    text,
                    sources,
                    in_scope: true,
                    answered_by: name,
                },
                attempts,
                completion: Some(completion),
            };
        }
        let answer = match self.extractive.answer(question, hits) {
            Ok(a) => a,
            Err(e) => {
                attempts.push(Attempt {
                    provider: "extractive".into(),
                    outcome: e.to_string(),
                });
                Answer {
                    text: self.settings.not_found_reply.clone(),
                    sources: Vec::new(),
                    in_scope: false,
                    answered_by: "extractive".into(),
                }
            }
        };
        ChainAnswer {
            answer,
            attempts,
            completion: None,
        }
    }
}

/// Keeps the citations `[n]` that point at a snippet sent, removes the others, and lists
/// the cited snippets' sources (all snippets sent when the answer cites none).
pub fn cite(text: &str, snippets: &[Hit]) -> (String, Vec<SourceRef>) {
    let mut out = String::with_capacity(text.len());
    let mut cited: Vec<usize> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find(']');
        let number = close.and_then(|c| after[..c].trim().parse::<usize>().ok());
        match (close, number) {
            (Some(c), Some(n)) => {
                if (1..=snippets.len()).contains(&n) {
                    out.push_str(&format!("[{n}]"));
                    if !cited.contains(&n) {
                        cited.push(n);
                    }
                } else {
                    // A citation of nothing: drop it and the space before it.
                    while out.ends_with(' ') {
                        out.pop();
                    }
                }
                rest = &after[c + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // An answer that cites nothing is attributed by the words it shares with the snippets.
    if cited.is_empty() {
        let texts: Vec<&str> = snippets.iter().map(|h| h.chunk.text.as_str()).collect();
        cited = crate::grounding::attribute(&out, &texts);
    }
    let numbers: Vec<usize> = if cited.is_empty() {
        (1..=snippets.len()).collect()
    } else {
        cited
    };
    let sources = numbers
        .into_iter()
        .map(|n| {
            let c = &snippets[n - 1].chunk;
            SourceRef {
                number: n,
                doc: c.doc.clone(),
                source: c.source.clone(),
                title: c.title.clone(),
                position: c.position,
                score: snippets[n - 1].dense,
            }
        })
        .collect();
    (out.trim().to_string(), sources)
}
