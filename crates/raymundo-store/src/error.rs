//! The store's errors.

use std::path::PathBuf;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open the database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The database was written by a newer Raymundo.
    #[error("the database {database} has schema version {found}; this Raymundo knows up to {known}: upgrade Raymundo")]
    TooNew {
        /// The database (a file, or a URL without its password).
        database: String,
        /// Version in the database.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// A SQLite query failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database setting is a URL that cannot be used, or PostgreSQL could not be reached
    /// or refused the login (the password is never shown).
    #[error(transparent)]
    Connection(#[from] raymundo_pg::PgError),
    /// A PostgreSQL query failed.
    #[error("PostgreSQL error: {}", raymundo_pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    /// A job id that does not exist (or is not in the expected state).
    #[error("job {0} not found")]
    NoSuchJob(i64),
    /// A job this server claimed was taken over by another server sharing the database,
    /// because this one held it past its lease (stalled, or cut off from the database): the
    /// other server answers it, this one must not.
    #[error("job {0} was taken over by another server (this one held it past its lease)")]
    TakenOver(i64),
    /// An interaction id that does not exist.
    #[error("interaction {0} not found")]
    NoSuchInteraction(i64),
    /// Input the store refuses, with what was wrong.
    #[error("{0}")]
    Invalid(String),
    /// A stored value that cannot be read back (a corrupted row).
    #[error("unreadable stored value: {0}")]
    Corrupt(String),
}
