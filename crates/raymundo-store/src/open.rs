//! One way to open either backend from the `[server] database` setting.

use crate::{Interactions, PostgresStore, SqliteStore, Store, StoreError};
use raymundo_core::ConversationState;
use std::path::Path;
use std::sync::Arc;

/// The environment variable (or `.env` key) whose URL overrides `[server] database`, so a
/// password need not be written in `raymundo.toml`.
pub const DATABASE_URL_VAR: &str = "RAYMUNDO_DATABASE_URL";

/// Everything the binary needs of a store: the queue, the interaction log and the
/// conversation memory.
pub trait Backend: Store + Interactions + ConversationState {}

impl<T: Store + Interactions + ConversationState + ?Sized> Backend for T {}

/// Opens the store `spec` names: a `postgres://` or `postgresql://` URL, or else a SQLite
/// file path (relative paths are under `root`, the project folder).
pub fn open(spec: &str, root: &Path) -> Result<Arc<dyn Backend>, StoreError> {
    let spec = spec.trim();
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        return Ok(Arc::new(PostgresStore::open(spec)?));
    }
    if spec.contains("://") {
        return Err(raymundo_pg::PgError::BadUrl {
            url: raymundo_pg::redact(spec),
            reason: "the database is a SQLite file path or a postgres:// URL".into(),
        }
        .into());
    }
    Ok(Arc::new(SqliteStore::open(&root.join(spec))?))
}
