//! [`ConversationState`] on PostgreSQL: the pending intent and the recent messages of each
//! user, keyed by the salted user key, shared by every server on the database.

use crate::{PostgresStore, Store};
use raymundo_core::{ConversationState, PendingIntent, Remembered, Speaker, StateError};

/// Messages kept per user; older ones are deleted as new ones arrive.
const KEPT_MESSAGES: i64 = 64;

fn state_err(e: impl std::fmt::Display) -> StateError {
    StateError(e.to_string())
}

impl PostgresStore {
    fn conversation_key(&self, user: &str) -> String {
        self.user_key("conversation", user)
    }

    fn client(&self) -> Result<raymundo_pg::Conn<'_>, StateError> {
        self.conn().map_err(state_err)
    }
}

impl ConversationState for PostgresStore {
    fn pending(&self, user: &str) -> Result<Option<PendingIntent>, StateError> {
        let json: Option<String> = self
            .client()?
            .query_opt(
                "SELECT pending FROM conversation_pending WHERE user_key = $1",
                &[&self.conversation_key(user)],
            )
            .map_err(state_err)?
            .map(|r| r.get(0));
        json.map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| StateError(format!("a stored pending intent is unreadable: {e}")))
    }

    fn set_pending(&self, user: &str, pending: &PendingIntent) -> Result<(), StateError> {
        let json = serde_json::to_string(pending).map_err(state_err)?;
        self.client()?
            .execute(
                "INSERT INTO conversation_pending (user_key, pending) VALUES ($1, $2)
                 ON CONFLICT (user_key) DO UPDATE SET pending = EXCLUDED.pending",
                &[&self.conversation_key(user), &json],
            )
            .map_err(state_err)?;
        Ok(())
    }

    fn clear(&self, user: &str) -> Result<(), StateError> {
        self.client()?
            .execute(
                "DELETE FROM conversation_pending WHERE user_key = $1",
                &[&self.conversation_key(user)],
            )
            .map_err(state_err)?;
        Ok(())
    }

    fn recent(&self, user: &str, since: u64, limit: usize) -> Result<Vec<Remembered>, StateError> {
        let rows = self
            .client()?
            .query(
                "SELECT speaker, text, at FROM conversation_messages
                 WHERE user_key = $1 AND at >= $2 ORDER BY id DESC LIMIT $3",
                &[
                    &self.conversation_key(user),
                    &(since.min(i64::MAX as u64) as i64),
                    &(limit.min(i64::MAX as usize) as i64),
                ],
            )
            .map_err(state_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows.iter().rev() {
            let speaker = match r.get::<_, &str>(0) {
                "user" => Speaker::User,
                "assistant" => Speaker::Assistant,
                other => return Err(StateError(format!("unknown speaker {other:?} stored"))),
            };
            out.push(Remembered {
                speaker,
                text: r.get(1),
                at: r.get::<_, i64>(2).max(0) as u64,
            });
        }
        Ok(out)
    }

    fn remember(&self, user: &str, message: Remembered) -> Result<(), StateError> {
        let key = self.conversation_key(user);
        let speaker = match message.speaker {
            Speaker::User => "user",
            Speaker::Assistant => "assistant",
        };
        let mut conn = self.client()?;
        let mut tx = conn.transaction().map_err(state_err)?;
        tx.execute(
            "INSERT INTO conversation_messages (user_key, speaker, text, at)
             VALUES ($1, $2, $3, $4)",
            &[
                &key,
                &speaker,
                &message.text,
                &(message.at.min(i64::MAX as u64) as i64),
            ],
        )
        .map_err(state_err)?;
        tx.execute(
            "DELETE FROM conversation_messages WHERE user_key = $1 AND id <=
                 (SELECT id FROM conversation_messages WHERE user_key = $1
                  ORDER BY id DESC LIMIT 1 OFFSET $2)",
            &[&key, &KEPT_MESSAGES],
        )
        .map_err(state_err)?;
        tx.commit().map_err(state_err)
    }

    fn forget(&self, user: &str) -> Result<(), StateError> {
        let key = self.conversation_key(user);
        let mut conn = self.client()?;
        let mut tx = conn.transaction().map_err(state_err)?;
        tx.execute(
            "DELETE FROM conversation_messages WHERE user_key = $1",
            &[&key],
        )
        .map_err(state_err)?;
        tx.execute(
            "DELETE FROM conversation_pending WHERE user_key = $1",
            &[&key],
        )
        .map_err(state_err)?;
        tx.commit().map_err(state_err)
    }
}
