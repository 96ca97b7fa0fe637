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
    /// is then compacted so that the erased bytes are gone from the file.
    pub fn snapshot_to(&self, path: &Path) -> Result<(), StoreError> {
        let target = path.to_string_lossy().to_string();
        self.conn().execute("VACUUM INTO ?1", [&target])?;
        let copy = Connection::open(path)?;
        copy.pragma_update(None, "secure_delete", "ON")?;
        copy.execute_batch(
            "UPDATE jobs SET state = 'failed', error = 'left out of the snapshot'
                 WHERE state IN ('queued', 'working');
             UPDATE jobs SET address = NULL, user_name = NULL, text = NULL, reply = NULL;
             VACUUM;",
        )?;
        let mode: String = copy.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            copy.pragma_update(None, "journal_mode", "DELETE")?;
        }
        Ok(())
    }
}
