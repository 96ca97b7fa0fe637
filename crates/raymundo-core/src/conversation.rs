//! What Raymundo remembers of a conversation between messages: the intent waiting for its
//! parameters. It lives behind [`ConversationState`] so that the memory implementation used
//! by the terminal chat and the tests can be swapped for the interaction store.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// An intent recognised in an earlier message whose parameters are still being collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingIntent {
    /// The intent's name.
    pub intent: String,
    /// The message in which the intent was recognised.
    pub message: String,
    /// The parameters known so far (typed JSON values).
    pub values: BTreeMap<String, serde_json::Value>,
    /// The parameter whose question was just asked, if any.
    pub asking: Option<String>,
    /// When the intent was recognised (seconds since the Unix epoch).
    pub started_at: u64,
    /// When the conversation last moved (seconds since the Unix epoch).
    pub updated_at: u64,
}

/// A failure of the state's storage.
#[derive(Debug, thiserror::Error)]
#[error("conversation state: {0}")]
pub struct StateError(pub String);

/// Where pending intents are kept, per user (a phone number, a session id ...).
pub trait ConversationState: Send + Sync {
    /// The user's pending intent, if any.
    fn pending(&self, user: &str) -> Result<Option<PendingIntent>, StateError>;
    /// Stores (replaces) the user's pending intent.
    fn set_pending(&self, user: &str, pending: &PendingIntent) -> Result<(), StateError>;
    /// Forgets the user's pending intent (done or cancelled).
    fn clear(&self, user: &str) -> Result<(), StateError>;
}

/// Pending intents in memory (lost when the process ends).
#[derive(Debug, Default)]
pub struct MemoryState {
    users: Mutex<HashMap<String, PendingIntent>>,
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<String, PendingIntent>>, StateError> {
        self.users
            .lock()
            .map_err(|_| StateError("a thread panicked while holding the state".into()))
    }
}

impl ConversationState for MemoryState {
    fn pending(&self, user: &str) -> Result<Option<PendingIntent>, StateError> {
        Ok(self.lock()?.get(user).cloned())
    }

    fn set_pending(&self, user: &str, pending: &PendingIntent) -> Result<(), StateError> {
        self.lock()?.insert(user.to_string(), pending.clone());
        Ok(())
    }

    fn clear(&self, user: &str) -> Result<(), StateError> {
        self.lock()?.remove(user);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_state_keeps_one_pending_intent_per_user() {
        let s = MemoryState::new();
        let p = PendingIntent {
            intent: "crear_presentacion".into(),
            message: "hazme una presentación sobre riego".into(),
            values: BTreeMap::from([("tema".to_string(), serde_json::json!("riego"))]),
            asking: Some("num_diapos".into()),
            started_at: 1,
            updated_at: 2,
        };
        s.set_pending("5213312345678", &p).unwrap();
        assert_eq!(s.pending("5213312345678").unwrap(), Some(p));
        assert_eq!(s.pending("otro").unwrap(), None);
        s.clear("5213312345678").unwrap();
        assert_eq!(s.pending("5213312345678").unwrap(), None);
    }
}
