//! A consistent copy of the SQLite store for a snapshot, without the personal data that the
//! live store keeps only until a message is answered.

use crate::{SqliteStore, StoreError};
use rusqlite::Connection;
use std::path::Path;

impl SqliteStore {
    /// Writes a consistent copy of the database to `path` (which must not exist), taken in
    /// one transaction while the server may keep writing. In the copy, the messages still
    /// queued or being answered are marked failed ("left out of the snapshot") and every
    /// job's address, name, text and reply is erased, so the copy holds no phone number; it
    /// is then compacted so that the erased bytes are gone from the file. The salt of the
    /// user keys is left out too: with it, a key could be turned back into its phone number
    /// by hashing every number (10^10 candidates). A restored store draws a new salt, so a
    /// person who writes again after a restore starts under a new key.
    pub fn snapshot_to(&self, path: &Path) -> Result<(), StoreError> {
        let target = path.to_string_lossy().to_string();
        self.conn().execute("VACUUM INTO ?1", [&target])?;
        let copy = Connection::open(path)?;
        copy.pragma_update(None, "secure_delete", "ON")?;
        copy.execute_batch(
            "UPDATE jobs SET state = 'failed', error = 'left out of the snapshot'
                 WHERE state IN ('queued', 'working');
             UPDATE jobs SET address = NULL, user_name = NULL, text = NULL, reply = NULL;
             DELETE FROM meta WHERE key = 'salt';
             VACUUM;",
        )?;
        let mode: String = copy.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            copy.pragma_update(None, "journal_mode", "DELETE")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Accepted, NewJob, SqliteStore, Store};

    #[test]
    fn a_snapshot_holds_no_salt_to_turn_keys_back_into_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("live.db")).unwrap();
        let accepted = store
            .accept(&NewJob {
                channel: "whatsapp".into(),
                message_id: "wamid.1".into(),
                address: "5215550001".into(),
                user_name: None,
                kind: "text".into(),
                text: "hola".into(),
                reply_to: None,
            })
            .unwrap();
        assert!(matches!(accepted, Accepted::Queued(_)));
        let copy = dir.path().join("copy.db");
        store.snapshot_to(&copy).unwrap();
        let conn = rusqlite::Connection::open(&copy).unwrap();
        let salts: i64 = conn
            .query_row("SELECT count(*) FROM meta WHERE key = 'salt'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(salts, 0);
        drop(conn);
        let raw = std::fs::read(&copy).unwrap();
        let salt_of = |s: &SqliteStore| s.user_key("x", "y");
        let restored = SqliteStore::open(&copy).unwrap();
        assert_ne!(salt_of(&restored), salt_of(&store), "a new salt");
        assert!(!String::from_utf8_lossy(&raw).contains("5215550001"));
    }
}
