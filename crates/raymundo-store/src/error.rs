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
    #[error("the database {path} has schema version {found}; this Raymundo knows up to {known}: upgrade Raymundo")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A job id that does not exist (or is not in the expected state).
    #[error("job {0} not found")]
    NoSuchJob(i64),
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
