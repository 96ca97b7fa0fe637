//! One turn of a conversation: classify the message, let the dialog decide (answer, ask,
//! act, cancel), carry it out, and say what happened. The terminal chat uses it, and so do
//! the HTTP and WhatsApp channels.
//!
//! The recent turns of each user (`[llm] history_turns` within `history_minutes`) are
//! remembered: a follow-up ("¿y los sábados?") is searched for together with the question
//! before it, the answer chain sees the earlier turns, and `/reset` or "olvida todo" forgets
//! them along with any pending request.

use crate::intent_engine::IntentEngine;
use crate::project::{Assistant, Timings};
use anyhow::Result;
use raymundo_actions::{ActionError, ActionSettings, Actions, Knowledge, Outcome, Request};
use raymundo_core::followup::{is_reset, standalone_query};
use raymundo_core::{Answer, ConversationState, Hit, Remembered, Speaker};
use raymundo_index::Filter;
use raymundo_intents::classify::Classification;
use raymundo_intents::dialog::{Dialog, Step};
use raymundo_llm::{ChatMessage, Role};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// The documents as the actions see them.
pub struct AssistantKnowledge<'a>(pub &'a Assistant);

impl Knowledge for AssistantKnowledge<'_> {
    fn answer(&self, message: &str) -> Result<Answer, ActionError> {
        self.0
            .ask(message)
            .map(|(a, _, _)| a)
            .map_err(|e| ActionError::Knowledge(format!("{e:#}")))
    }

    fn passages(&self, topic: &str, k: usize) -> Result<(Vec<Hit>, bool), ActionError> {
        let (result, _) = self
            .0
            .search(topic, k, &Filter::default())
            .map_err(|e| ActionError::Knowledge(format!("{e:#}")))?;
        let in_scope = self.0.in_scope(&result);
        Ok((result.hits, in_scope))
    }

    fn document_path(&self, doc: &str) -> PathBuf {
        self.0.config.docs_dir().join(doc)
    }
}

/// What happened in one turn.
#[derive(Debug, Clone, Serialize)]
pub struct Turn {
    /// The reply to send.
    pub text: String,
    /// `answer`, `ask`, `act`, `cancelled` or `reset`.
    pub step: &'static str,
    /// The query searched for, when the message was a follow-up joined to the question
    /// before it.
    pub query: Option<String>,
    /// Who wrote the answer (`local`, `extractive`, a provider, `out_of_scope`), for answers.
    pub answered_by: Option<String>,
    /// Whether the documents answered the question (false: declined), for answers.
    pub in_scope: Option<bool>,
    /// Documents the answer was taken from.
    pub sources: Vec<String>,
    /// The intent the turn was about (recognised now or pending).
    pub intent: Option<String>,
    /// The classifier's verdict on the message.
    pub classification: Option<Classification>,
    /// Parameter values when the action ran.
    pub values: Option<serde_json::Value>,
    /// Which action replied, files it wrote, whether a person takes over.
    pub action: Option<String>,
    /// Files written by the action.
    pub files: Vec<PathBuf>,
    /// True when the conversation was handed to a person.
    pub handed_off: bool,
    /// True when the action failed (the reply says so).
    pub action_failed: bool,
    /// The chunks retrieval found for an answer (neighbours added for context excluded),
    /// best first.
    pub retrieved: Vec<Retrieved>,
    /// Time per step of answering from the documents, when the turn did.
    pub timings: Option<Timings>,
    /// Classification time (embedding + scoring), milliseconds.
    pub classify_ms: f64,
    /// Whole turn, milliseconds.
    pub total_ms: f64,
    /// The reply as remembered for the next turns (an answer without its list of sources).
    #[serde(skip)]
    remembered: Option<String>,
}

/// A chunk retrieval found: which document, where in it, how well it matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retrieved {
    /// The document's path under `data/docs/`.
    pub doc: String,
    /// The chunk's position in the document (0 first).
    pub position: usize,
    /// The ranking score.
    pub score: f32,
}

/// Runs turns for any number of users.
pub struct Conversation<'a> {
    assistant: &'a Assistant,
    engine: Option<&'a IntentEngine>,
    state: &'a dyn ConversationState,
    actions: Actions,
}

impl<'a> Conversation<'a> {
    /// Conversations over `assistant`'s documents and `engine`'s intents (none: every message
    /// is answered from the documents), keeping pending requests in `state`.
    pub fn new(
        assistant: &'a Assistant,
        engine: Option<&'a IntentEngine>,
        state: &'a dyn ConversationState,
    ) -> Self {
        let c = &assistant.config;
        let actions = Actions::new(&ActionSettings {
            output_dir: c.output_dir(),
            handoff_log: c.root.join(&c.intents.handoff_log),
            handoff_reply: c.intents.handoff_reply.clone(),
            sources_heading: c.answer.sources_heading.clone(),
        });
        Self {
            assistant,
            engine,
            state,
            actions,
        }
    }

    /// Answers `message` from the documents in the light of the user's recent turns.
    fn answer(
        &self,
        user: &str,
        message: &str,
        turn: &mut Turn,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<String> {
        let llm = &self.assistant.config.llm;
        let since = unix_now().saturating_sub(llm.history_minutes * 60);
        let recent = self.state.recent(user, since, llm.history_turns * 2)?;
        let previous = recent
            .iter()
            .rev()
            .find(|m| m.speaker == Speaker::User)
            .map(|m| m.text.as_str());
        let query = standalone_query(message, previous);
        let history: Vec<ChatMessage> = recent
            .iter()
            .map(|m| {
                let role = match m.speaker {
                    Speaker::User => Role::User,
                    Speaker::Assistant => Role::Assistant,
                };
                ChatMessage::new(role, m.text.clone())
            })
            .collect();
        if query != message.trim() {
            turn.query = Some(query.clone());
        }
        let asked = self.assistant.ask_with(&query, &query, &history, on_text)?;
        turn.answered_by = Some(asked.answer.answered_by.clone());
        turn.remembered = Some(asked.answer.text.clone());
        turn.sources = asked.answer.sources.iter().map(|s| s.doc.clone()).collect();
        turn.in_scope = Some(asked.answer.in_scope);
        turn.retrieved = asked
            .result
            .hits
            .iter()
            .filter(|h| !h.neighbour)
            .map(|h| Retrieved {
                doc: h.chunk.doc.clone(),
                position: h.chunk.position,
                score: h.score,
            })
            .collect();
        turn.timings = Some(asked.timings.clone());
        Ok(crate::project::format_answer(
            &self.assistant.config,
            &asked.answer,
        ))
    }

    /// Remembers the user's message (as searched for) and the reply.
    fn remember(&self, user: &str, turn: &Turn, message: &str) -> Result<()> {
        let at = unix_now();
        let asked = turn.query.as_deref().unwrap_or(message).trim().to_string();
        self.state.remember(
            user,
            Remembered {
                speaker: Speaker::User,
                text: asked,
                at,
            },
        )?;
        self.state.remember(
            user,
            Remembered {
                speaker: Speaker::Assistant,
                text: turn.remembered.clone().unwrap_or_else(|| turn.text.clone()),
                at,
            },
        )?;
        Ok(())
    }

    /// Forgets the user's conversation: remembered turns and any pending request.
    pub fn forget(&self, user: &str) -> Result<()> {
        Ok(self.state.forget(user)?)
    }

    /// Replies to `message` from `user`.
    pub fn reply(&self, user: &str, message: &str) -> Result<Turn> {
        self.reply_streaming(user, message, &mut |_| {})
    }

    /// Replies to `message` from `user`; an answer written by an LLM is also passed to
    /// `on_text` as it is written (the returned turn holds the whole reply).
    pub fn reply_streaming(
        &self,
        user: &str,
        message: &str,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Turn> {
        let started = Instant::now();
        let mut turn = Turn {
            text: String::new(),
            step: "answer",
            query: None,
            answered_by: None,
            in_scope: None,
            sources: Vec::new(),
            intent: None,
            classification: None,
            values: None,
            action: None,
            files: Vec::new(),
            handed_off: false,
            action_failed: false,
            retrieved: Vec::new(),
            timings: None,
            classify_ms: 0.0,
            total_ms: 0.0,
            remembered: None,
        };
        if is_reset(message) {
            self.forget(user)?;
            turn.step = "reset";
            turn.text = self.assistant.config.answer.forgotten.clone();
            turn.total_ms = started.elapsed().as_secs_f64() * 1000.0;
            return Ok(turn);
        }
        self.run_turn(user, message, &mut turn, on_text)?;
        self.remember(user, &turn, message)?;
        turn.total_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(turn)
    }

    fn run_turn(
        &self,
        user: &str,
        message: &str,
        turn: &mut Turn,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let Some(engine) = self.engine else {
            turn.text = self.answer(user, message, turn, on_text)?;
            return Ok(());
        };
        let (classification, embed_ms, score_ms) = engine.classify(self.assistant, message)?;
        turn.classify_ms = embed_ms + score_ms;
        let ttl = self.assistant.config.intents.pending_ttl_minutes * 60;
        let dialog = Dialog::new(&engine.set, self.state, ttl);
        let now = unix_now();
        let today = chrono::Local::now().date_naive();
        let step = dialog.step(user, message, &classification, today, now)?;
        turn.classification = Some(classification);
        match step {
            Step::Answer { pending } => {
                let mut text = self.answer(user, message, turn, on_text)?;
                if let Some((intent, question)) = pending {
                    text.push_str(&format!("\n\n(Sigo con tu solicitud. {question})"));
                    turn.intent = Some(intent);
                }
                turn.text = text;
            }
            Step::Ask { intent, text, .. } => {
                turn.step = "ask";
                turn.intent = Some(intent);
                turn.text = text;
            }
            Step::Cancelled { intent } => {
                turn.step = "cancelled";
                turn.intent = Some(intent);
                turn.text = self.assistant.config.intents.cancelled_reply.clone();
            }
            Step::Act {
                intent,
                values,
                message: first,
            } => {
                turn.step = "act";
                let spec = engine
                    .set
                    .get(&intent)
                    .expect("the dialog only acts on known intents");
                let request = Request {
                    intent: spec,
                    values: &values,
                    user,
                    message: &first,
                };
                let outcome = self
                    .actions
                    .run(&request, &AssistantKnowledge(self.assistant));
                turn.intent = Some(intent.clone());
                turn.values = Some(serde_json::to_value(&values)?);
                match outcome {
                    Ok(o) => self.fill(turn, o),
                    Err(e) => {
                        tracing::warn!(intent, "action failed: {e}");
                        turn.action = Some(spec.action_name().to_string());
                        turn.action_failed = true;
                        turn.text = self.assistant.config.intents.action_failed_reply.clone();
                    }
                }
            }
        }
        Ok(())
    }

    fn fill(&self, turn: &mut Turn, o: Outcome) {
        if let Some(a) = &o.answer {
            turn.answered_by = Some(a.answered_by.clone());
            turn.in_scope = Some(a.in_scope);
            turn.sources = a.sources.iter().map(|s| s.doc.clone()).collect();
        }
        turn.text = match &o.answer {
            Some(a) => crate::project::format_answer(&self.assistant.config, a),
            None => o.text,
        };
        turn.action = Some(o.action);
        turn.files = o.files;
        turn.handed_off = o.handed_off;
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
