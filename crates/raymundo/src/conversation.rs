//! One turn of a conversation: classify the message, let the dialog decide (answer, ask,
//! act, cancel), carry it out, and say what happened. The terminal chat uses it; the HTTP and
//! WhatsApp channels will too.

use crate::intent_engine::IntentEngine;
use crate::project::Assistant;
use anyhow::Result;
use raymundo_actions::{ActionError, ActionSettings, Actions, Knowledge, Outcome, Request};
use raymundo_core::{Answer, ConversationState, Hit};
use raymundo_index::Filter;
use raymundo_intents::classify::Classification;
use raymundo_intents::dialog::{Dialog, Step};
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
    /// `answer`, `ask`, `act` or `cancelled`.
    pub step: &'static str,
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
    /// Classification time (embedding + scoring), milliseconds.
    pub classify_ms: f64,
    /// Whole turn, milliseconds.
    pub total_ms: f64,
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

    fn answer(&self, message: &str) -> Result<String> {
        let (answer, _, _) = self.assistant.ask(message)?;
        Ok(crate::project::format_answer(
            &self.assistant.config,
            &answer,
        ))
    }

    /// Replies to `message` from `user`.
    pub fn reply(&self, user: &str, message: &str) -> Result<Turn> {
        let started = Instant::now();
        let mut turn = Turn {
            text: String::new(),
            step: "answer",
            intent: None,
            classification: None,
            values: None,
            action: None,
            files: Vec::new(),
            handed_off: false,
            classify_ms: 0.0,
            total_ms: 0.0,
        };
        let Some(engine) = self.engine else {
            turn.text = self.answer(message)?;
            turn.total_ms = started.elapsed().as_secs_f64() * 1000.0;
            return Ok(turn);
        };
        let (classification, embed_ms, score_ms) = engine.classify(self.assistant, message)?;
        turn.classify_ms = embed_ms + score_ms;
        let ttl = self.assistant.config.intents.pending_ttl_minutes * 60;
        let dialog = Dialog::new(&engine.set, self.state, ttl);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let today = chrono::Local::now().date_naive();
        let step = dialog.step(user, message, &classification, today, now)?;
        turn.classification = Some(classification);
        match step {
            Step::Answer { pending } => {
                let mut text = self.answer(message)?;
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
                    Ok(o) => self.fill(&mut turn, o),
                    Err(e) => {
                        tracing::warn!(intent, "action failed: {e}");
                        turn.action = Some(spec.action_name().to_string());
                        turn.text = self.assistant.config.intents.action_failed_reply.clone();
                    }
                }
            }
        }
        turn.total_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(turn)
    }

    fn fill(&self, turn: &mut Turn, o: Outcome) {
        turn.text = match &o.answer {
            Some(a) => crate::project::format_answer(&self.assistant.config, a),
            None => o.text,
        };
        turn.action = Some(o.action);
        turn.files = o.files;
        turn.handed_off = o.handed_off;
    }
}
