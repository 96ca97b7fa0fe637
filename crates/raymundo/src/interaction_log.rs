//! What the binary keeps of a conversation, scrubbed of personal data first: each turn in
//! the interaction log ([`record`]) and the conversation memory ([`ScrubbedState`]). The
//! store keeps what it is given, and the scrubber lives in `raymundo-ingest`, so both are
//! scrubbed here, where both crates are seen.

use crate::conversation::Turn;
use raymundo_core::{ConversationState, PendingIntent, Remembered, StateError};
use raymundo_store::{Interactions, NewInteraction, RetrievedChunk};
use std::collections::BTreeMap;

/// The project's store (either backend), for commands that read what `serve` and `chat`
/// recorded; fails, saying so, when a SQLite file does not exist yet (nothing recorded).
pub fn open_recorded(
    config: &raymundo_core::Config,
) -> anyhow::Result<std::sync::Arc<dyn raymundo_store::Backend>> {
    let spec = crate::database::spec(&config.root, &config.server);
    if crate::database::is_file(&spec) && !config.root.join(&spec).exists() {
        anyhow::bail!(
            "no database at {}: nothing has been recorded yet (run `raymundo serve` or `raymundo chat`)",
            config.root.join(&spec).display()
        );
    }
    crate::database::open(&config.root, &config.server)
}

/// `text` with e-mail addresses, phone numbers, ids and card numbers replaced by
/// placeholders.
pub fn scrub(text: &str) -> String {
    raymundo_ingest::scrub_pii(text).0
}

/// A JSON value with every string in it scrubbed (intent parameters: a `correo` or a
/// `telefono` given to an action is kept in the log as a placeholder).
pub fn scrub_values(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(scrub(s)),
        Value::Array(items) => Value::Array(items.iter().map(scrub_values).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), scrub_values(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Where a turn came from, and what identifies it there.
pub struct Origin<'a> {
    /// `whatsapp`, `twilio`, `chat_api`, `openai_api` or `cli`.
    pub channel: &'a str,
    /// The salted user key.
    pub user_key: String,
    /// The channel's id of the inbound message, if it has one.
    pub message_id: Option<&'a str>,
}

/// The row the log keeps for `turn`, an answer to `message`: texts scrubbed, latency per
/// stage.
pub fn new_interaction(origin: &Origin<'_>, message: &str, turn: &Turn) -> NewInteraction {
    let mut latency_ms = BTreeMap::new();
    if turn.classification.is_some() {
        latency_ms.insert("classify".to_string(), turn.classify_ms);
    }
    if let Some(t) = &turn.timings {
        latency_ms.insert("embed".to_string(), t.embed_ms);
        latency_ms.insert("search".to_string(), t.search_ms);
        if turn.in_scope == Some(true) {
            latency_ms.insert("answer".to_string(), t.answer_ms);
        }
        if let Some(first) = t.first_token_ms {
            latency_ms.insert("first_token".to_string(), first);
        }
    }
    let resolved = match turn.step {
        "answer" => turn.in_scope == Some(true),
        "act" => !turn.action_failed && !turn.handed_off,
        _ => false,
    };
    NewInteraction {
        at: unix_now(),
        channel: origin.channel.to_string(),
        user_key: origin.user_key.clone(),
        message_id: origin.message_id.map(str::to_string),
        message: scrub(message),
        query: turn.query.as_deref().map(scrub),
        step: turn.step.to_string(),
        intent: turn
            .intent
            .clone()
            .or_else(|| turn.classification.as_ref().and_then(|c| c.intent.clone())),
        parameters: turn.values.as_ref().map(scrub_values),
        confidence: turn.classification.as_ref().map(|c| c.confidence),
        chunks: turn
            .retrieved
            .iter()
            .map(|r| RetrievedChunk {
                doc: r.doc.clone(),
                position: r.position as u32,
                score: r.score,
            })
            .collect(),
        answer: scrub(&turn.text),
        provider: turn.answered_by.clone(),
        in_scope: turn.in_scope,
        resolved,
        handed_off: turn.handed_off,
        latency_ms,
        total_ms: turn.total_ms,
    }
}

/// Records `turn` in `log`; a failure is logged, never lost silently, and never fails the
/// reply (the person still gets their answer). A reset is not a turn worth keeping.
pub fn record(log: &dyn Interactions, origin: &Origin<'_>, message: &str, turn: &Turn) {
    if turn.step == "reset" {
        return;
    }
    let row = new_interaction(origin, message, turn);
    if let Err(e) = log.record_interaction(&row) {
        tracing::error!(channel = origin.channel, "cannot record the turn: {e}");
    }
}

/// A [`ConversationState`] that scrubs what it remembers before passing it on (the
/// messages of the conversation and the message that started a pending request; the
/// parameter values a pending action needs are kept as given, and forgotten when it ends).
pub struct ScrubbedState<'a>(pub &'a dyn ConversationState);

impl ConversationState for ScrubbedState<'_> {
    fn pending(&self, user: &str) -> Result<Option<PendingIntent>, StateError> {
        self.0.pending(user)
    }

    fn set_pending(&self, user: &str, pending: &PendingIntent) -> Result<(), StateError> {
        let mut pending = pending.clone();
        pending.message = scrub(&pending.message);
        self.0.set_pending(user, &pending)
    }

    fn clear(&self, user: &str) -> Result<(), StateError> {
        self.0.clear(user)
    }

    fn recent(&self, user: &str, since: u64, limit: usize) -> Result<Vec<Remembered>, StateError> {
        self.0.recent(user, since, limit)
    }

    fn remember(&self, user: &str, mut message: Remembered) -> Result<(), StateError> {
        message.text = scrub(&message.text);
        self.0.remember(user, message)
    }

    fn forget(&self, user: &str) -> Result<(), StateError> {
        self.0.forget(user)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_logged_scrubbed() {
        let values = serde_json::json!({
            "correo": "ana.perez@example.com",
            "contacto": {"telefono": "55 1234 5678", "notas": ["llamar al 5512345678"]},
            "num_diapos": 5,
            "tema": "ventas del sensor H2",
        });
        let scrubbed = scrub_values(&values);
        let text = scrubbed.to_string();
        assert!(!text.contains("ana.perez"), "{text}");
        assert!(!text.contains("1234"), "{text}");
        assert_eq!(scrubbed["num_diapos"], 5);
        assert_eq!(scrubbed["tema"], "ventas del sensor H2");
    }
}
