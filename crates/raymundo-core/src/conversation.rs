//! What Raymundo remembers of a conversation between messages: the intent waiting for its
//! parameters and the recent turns (to understand a follow-up such as "¿y los sábados?").
//! It lives behind [`ConversationState`] so that the memory implementation used by the
//! terminal chat and the tests can be swapped for the interaction store.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
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

/// Who wrote a remembered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The person writing to Raymundo.
    User,
    /// Raymundo.
    Assistant,
}

/// One remembered message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remembered {
    /// Who wrote it.
    pub speaker: Speaker,
    /// The text (personal data already scrubbed where the store requires it).
    pub text: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
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
    /// The user's messages and Raymundo's replies since `since` (seconds since the Unix
    /// epoch), oldest first, at most `limit` of the most recent.
    fn recent(&self, user: &str, since: u64, limit: usize) -> Result<Vec<Remembered>, StateError>;
    /// Remembers one message of the user's conversation.
    fn remember(&self, user: &str, message: Remembered) -> Result<(), StateError>;
    /// Forgets everything about the user's conversation: its messages and any pending
    /// intent (`/reset`, "olvida todo").
    fn forget(&self, user: &str) -> Result<(), StateError>;
}

/// Messages kept per user by [`MemoryState`]; older ones are dropped.
const MEMORY_MESSAGES: usize = 64;

/// Pending intents in memory (lost when the process ends).
#[derive(Debug, Default)]
pub struct MemoryState {
    users: Mutex<HashMap<String, PendingIntent>>,
    messages: Mutex<HashMap<String, VecDeque<Remembered>>>,
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<String, PendingIntent>>, StateError> {
        self.users.lock().map_err(|_| poisoned())
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

    fn recent(&self, user: &str, since: u64, limit: usize) -> Result<Vec<Remembered>, StateError> {
        let messages = self.messages.lock().map_err(|_| poisoned())?;
        let Some(all) = messages.get(user) else {
            return Ok(Vec::new());
        };
        let kept: Vec<Remembered> = all.iter().filter(|m| m.at >= since).cloned().collect();
        Ok(kept[kept.len().saturating_sub(limit)..].to_vec())
    }

    fn remember(&self, user: &str, message: Remembered) -> Result<(), StateError> {
        let mut messages = self.messages.lock().map_err(|_| poisoned())?;
        let list = messages.entry(user.to_string()).or_default();
        list.push_back(message);
        while list.len() > MEMORY_MESSAGES {
            list.pop_front();
        }
        Ok(())
    }

    fn forget(&self, user: &str) -> Result<(), StateError> {
        self.messages.lock().map_err(|_| poisoned())?.remove(user);
        self.clear(user)
    }
}

fn poisoned() -> StateError {
    StateError("a thread panicked while holding the state".into())
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

    #[test]
    fn memory_keeps_recent_messages_per_user_and_forgets_on_request() {
        let s = MemoryState::new();
        let say = |speaker, text: &str, at| Remembered {
            speaker,
            text: text.into(),
            at,
        };
        s.remember("a", say(Speaker::User, "¿A qué hora abren?", 100))
            .unwrap();
        s.remember("a", say(Speaker::Assistant, "De 9 a 18 h.", 101))
            .unwrap();
        s.remember("a", say(Speaker::User, "¿y los sábados?", 200))
            .unwrap();
        s.remember("b", say(Speaker::User, "hola", 150)).unwrap();
        let recent = s.recent("a", 0, 2).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].text, "De 9 a 18 h.");
        assert_eq!(s.recent("a", 150, 10).unwrap().len(), 1);
        s.forget("a").unwrap();
        assert!(s.recent("a", 0, 10).unwrap().is_empty());
        assert_eq!(s.recent("b", 0, 10).unwrap().len(), 1);
    }
}
