//! [`ConversationState`] on SQLite: the pending intent and the recent messages of each
//! user, keyed by the salted user key, so that a conversation survives a restart. The
//! caller scrubs the texts it remembers (the store keeps what it is given).

use crate::{SqliteStore, Store};
use raymundo_core::{ConversationState, PendingIntent, Remembered, Speaker, StateError};
use rusqlite::{params, OptionalExtension};

/// Messages kept per user; older ones are deleted as new ones arrive.
const KEPT_MESSAGES: i64 = 64;

fn state_err(e: impl std::fmt::Display) -> StateError {
    StateError(e.to_string())
}

impl SqliteStore {
    fn conversation_key(&self, user: &str) -> String {
        self.user_key("conversation", user)
    }
}

impl ConversationState for SqliteStore {
    fn pending(&self, user: &str) -> Result<Option<PendingIntent>, StateError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT pending FROM conversation_pending WHERE user_key = ?1",
                params![self.conversation_key(user)],
                |r| r.get(0),
            )
            .optional()
            .map_err(state_err)?;
        json.map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| StateError(format!("a stored pending intent is unreadable: {e}")))
    }

    fn set_pending(&self, user: &str, pending: &PendingIntent) -> Result<(), StateError> {
        let json = serde_json::to_string(pending).map_err(state_err)?;
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO conversation_pending (user_key, pending) VALUES (?1, ?2)",
                params![self.conversation_key(user), json],
            )
            .map_err(state_err)?;
        Ok(())
    }

    fn clear(&self, user: &str) -> Result<(), StateError> {
        self.conn()
            .execute(
                "DELETE FROM conversation_pending WHERE user_key = ?1",
                params![self.conversation_key(user)],
            )
            .map_err(state_err)?;
        Ok(())
    }

    fn recent(&self, user: &str, since: u64, limit: usize) -> Result<Vec<Remembered>, StateError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT speaker, text, at FROM conversation_messages
                 WHERE user_key = ?1 AND at >= ?2 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(state_err)?;
        let rows = stmt
            .query_map(
                params![
                    self.conversation_key(user),
                    since as i64,
                    limit.min(i64::MAX as usize) as i64
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .map_err(state_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (speaker, text, at) = row.map_err(state_err)?;
            let speaker = match speaker.as_str() {
                "user" => Speaker::User,
                "assistant" => Speaker::Assistant,
                other => return Err(StateError(format!("unknown speaker {other:?} stored"))),
            };
            out.push(Remembered {
                speaker,
                text,
                at: at.max(0) as u64,
            });
        }
        out.reverse();
        Ok(out)
    }

    fn remember(&self, user: &str, message: Remembered) -> Result<(), StateError> {
        let key = self.conversation_key(user);
        let speaker = match message.speaker {
            Speaker::User => "user",
            Speaker::Assistant => "assistant",
        };
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(state_err)?;
        tx.execute(
            "INSERT INTO conversation_messages (user_key, speaker, text, at)
             VALUES (?1, ?2, ?3, ?4)",
            params![key, speaker, message.text, message.at as i64],
        )
        .map_err(state_err)?;
        tx.execute(
            "DELETE FROM conversation_messages WHERE user_key = ?1 AND id <=
                 (SELECT id FROM conversation_messages WHERE user_key = ?1
                  ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            params![key, KEPT_MESSAGES],
        )
        .map_err(state_err)?;
        tx.commit().map_err(state_err)
    }

    fn forget(&self, user: &str) -> Result<(), StateError> {
        let key = self.conversation_key(user);
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(state_err)?;
        tx.execute(
            "DELETE FROM conversation_messages WHERE user_key = ?1",
            params![key],
        )
        .map_err(state_err)?;
        tx.execute(
            "DELETE FROM conversation_pending WHERE user_key = ?1",
            params![key],
        )
        .map_err(state_err)?;
        tx.commit().map_err(state_err)
    }
}
