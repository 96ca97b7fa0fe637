//! Slot filling over turns: what to do with a user's message given the intent it expresses
//! and the request that may be pending from earlier messages.
//!
//! [`Dialog::step`] is pure decision-making over a [`ConversationState`]: it reads and writes
//! the user's [`PendingIntent`], and returns a [`Step`] for the caller to carry out (answer
//! from the documents, ask a question, run the intent's action, confirm a cancellation).
//! Rules:
//! - A recognised intent takes every parameter value the message gives; missing required
//!   parameters are asked for one at a time, in the file's order.
//! - While a request is pending, a message may cancel it ("olvídalo"), correct or add values
//!   ("mejor que sean 8", "sin imágenes"), or answer the question just asked. A message that
//!   does none of these but is another intent starts that intent instead; a question about
//!   something else is answered from the documents and the request stays pending.
//! - A request left alone longer than the time to live is forgotten.

use crate::extract::{extract, is_cancel, is_correction, parse_answer};
use crate::spec::{IntentSet, IntentSpec, ParamSpec};
use crate::Classification;
use chrono::NaiveDate;
use raymundo_core::{ConversationState, PendingIntent, StateError};
use serde_json::Value;
use std::collections::BTreeMap;

/// What the caller should do with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Answer the message from the documents. `pending` names the intent still waiting for a
    /// parameter (the reply may remind the user of `question`).
    Answer {
        /// The pending intent and the question that is still open, if any.
        pending: Option<(String, String)>,
    },
    /// Ask for a parameter.
    Ask {
        /// The intent.
        intent: String,
        /// The parameter.
        param: String,
        /// The text to send: the question, after what was wrong with the last answer if
        /// anything was.
        text: String,
    },
    /// Every required parameter is known: run the intent's action with these values
    /// (defaults filled in).
    Act {
        /// The intent.
        intent: String,
        /// Parameter values by name.
        values: BTreeMap<String, Value>,
        /// The message in which the intent was recognised.
        message: String,
    },
    /// The user cancelled the pending request.
    Cancelled {
        /// The intent that was pending.
        intent: String,
    },
}

/// What one turn brings: who, what they said, what the classifier made of it, and when.
struct Turn<'m> {
    user: &'m str,
    message: &'m str,
    classification: &'m Classification,
    today: NaiveDate,
    now: u64,
}

/// Decides each turn of the conversations about `set`'s intents.
pub struct Dialog<'a> {
    set: &'a IntentSet,
    state: &'a dyn ConversationState,
    ttl_secs: u64,
}

fn looks_like_a_question(message: &str) -> bool {
    let m = message.trim().to_lowercase();
    m.contains('?')
        || [
            "qué ", "que ", "cómo ", "como ", "cuánto", "cuanto", "cuál", "cual ", "dónde",
            "donde ", "por qué", "cuándo", "cuando ", "tienen ", "hay ",
        ]
        .iter()
        .any(|w| m.starts_with(w))
}

impl<'a> Dialog<'a> {
    /// A dialog over `set`, keeping pending requests in `state` for `ttl_secs` seconds.
    pub fn new(set: &'a IntentSet, state: &'a dyn ConversationState, ttl_secs: u64) -> Self {
        Self {
            set,
            state,
            ttl_secs,
        }
    }

    /// Decides what to do with `message` from `user`. `classification` is the classifier's
    /// verdict on the message; `today` resolves relative dates; `now` is the time in seconds
    /// since the Unix epoch.
    pub fn step(
        &self,
        user: &str,
        message: &str,
        classification: &Classification,
        today: NaiveDate,
        now: u64,
    ) -> Result<Step, StateError> {
        let turn = Turn {
            user,
            message,
            classification,
            today,
            now,
        };
        let stored = self.state.pending(user)?;
        let had_one = stored.is_some();
        let pending = stored
            .filter(|p| now.saturating_sub(p.updated_at) <= self.ttl_secs)
            .and_then(|p| self.set.get(&p.intent).map(|spec| (p, spec)));
        if let Some((pending, spec)) = pending {
            return self.continue_pending(&turn, pending, spec);
        }
        if had_one {
            // A stale request, or one for an intent the file no longer has, is dropped.
            self.state.clear(user)?;
        }
        match classification
            .intent
            .as_deref()
            .and_then(|name| self.set.get(name))
        {
            Some(spec) => self.start(&turn, spec),
            None => Ok(Step::Answer { pending: None }),
        }
    }

    fn start(&self, turn: &Turn, spec: &IntentSpec) -> Result<Step, StateError> {
        let found = extract(turn.message, &spec.parameters, turn.today);
        let mut pending = PendingIntent {
            intent: spec.name.clone(),
            message: turn.message.to_string(),
            values: found.values,
            asking: None,
            started_at: turn.now,
            updated_at: turn.now,
        };
        let problem = found.problems.into_iter().next();
        self.next(
            turn.user,
            spec,
            &mut pending,
            problem.map(|p| (p.param, p.message)),
        )
    }

    fn continue_pending(
        &self,
        turn: &Turn,
        mut pending: PendingIntent,
        spec: &IntentSpec,
    ) -> Result<Step, StateError> {
        let message = turn.message;
        if is_cancel(message) {
            self.state.clear(turn.user)?;
            return Ok(Step::Cancelled {
                intent: pending.intent,
            });
        }
        pending.updated_at = turn.now;
        let found = extract(message, &spec.parameters, turn.today);
        let changed = !found.values.is_empty();
        pending.values.extend(found.values);
        let mut problem = found
            .problems
            .into_iter()
            .next()
            .map(|p| (p.param, p.message));
        let asking = pending
            .asking
            .clone()
            .and_then(|name| spec.parameters.iter().find(|p| p.name == name).cloned());
        if let Some(param) = asking.filter(|p| !pending.values.contains_key(&p.name)) {
            let other_intent = turn
                .classification
                .intent
                .as_deref()
                .filter(|name| *name != spec.name)
                .and_then(|name| self.set.get(name));
            let elsewhere = other_intent.is_some() || looks_like_a_question(message);
            match parse_answer(message, &param, turn.today) {
                // A free-text answer is anything, so a message that is plainly something
                // else (another intent, a question) is not taken as one.
                Ok(_) if is_free_text(&param) && elsewhere && !changed => {
                    return self.detour(turn, other_intent, pending, &param);
                }
                Ok(value) => {
                    pending.values.insert(param.name.clone(), value);
                }
                Err(_) if changed || is_correction(message) => {}
                Err(_) if elsewhere => return self.detour(turn, other_intent, pending, &param),
                Err(why) => problem = Some((param.name.clone(), why)),
            }
        }
        self.next(turn.user, spec, &mut pending, problem)
    }

    /// The message is not about the pending request: another intent replaces it, a question
    /// is answered while it waits.
    fn detour(
        &self,
        turn: &Turn,
        other: Option<&IntentSpec>,
        pending: PendingIntent,
        param: &ParamSpec,
    ) -> Result<Step, StateError> {
        if let Some(spec) = other {
            self.state.clear(turn.user)?;
            return self.start(turn, spec);
        }
        self.state.set_pending(turn.user, &pending)?;
        Ok(Step::Answer {
            pending: Some((pending.intent, param.question.clone())),
        })
    }

    /// Asks for the first problem or missing required parameter, or acts.
    fn next(
        &self,
        user: &str,
        spec: &IntentSpec,
        pending: &mut PendingIntent,
        problem: Option<(String, String)>,
    ) -> Result<Step, StateError> {
        if let Some((param, text)) = problem {
            pending.values.remove(&param);
            pending.asking = Some(param.clone());
            self.state.set_pending(user, pending)?;
            return Ok(Step::Ask {
                intent: spec.name.clone(),
                param,
                text,
            });
        }
        if let Some(missing) = spec
            .parameters
            .iter()
            .find(|p| p.required && !pending.values.contains_key(&p.name))
        {
            pending.asking = Some(missing.name.clone());
            self.state.set_pending(user, pending)?;
            return Ok(Step::Ask {
                intent: spec.name.clone(),
                param: missing.name.clone(),
                text: missing.question.clone(),
            });
        }
        self.state.clear(user)?;
        let mut values = std::mem::take(&mut pending.values);
        for p in &spec.parameters {
            if let (false, Some(d)) = (values.contains_key(&p.name), &p.default) {
                values.insert(p.name.clone(), d.clone());
            }
        }
        Ok(Step::Act {
            intent: spec.name.clone(),
            values,
            message: std::mem::take(&mut pending.message),
        })
    }
}

fn is_free_text(param: &ParamSpec) -> bool {
    matches!(param.kind, crate::spec::ParamType::Text)
}

#[cfg(test)]
mod tests;
