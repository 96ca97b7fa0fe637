//! The backends every store test runs on: each test body written once, run on SQLite and
//! on PostgreSQL (a real server, see [`crate::testing`]), as `<test>::sqlite` and
//! `<test>::postgres`.

use crate::{Backend, SqliteStore, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// One database of either backend, reopened as often as a test likes.
pub(crate) enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        url: String,
    },
}

impl Db {
    /// A fresh SQLite file in a folder that does not exist yet.
    pub(crate) fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/raymundo.db");
        Db::Sqlite { _dir: dir, path }
    }

    /// A fresh database on the test server; `None` (the test passes on SQLite only) when
    /// PostgreSQL is not installed.
    pub(crate) fn postgres() -> Option<Self> {
        crate::testing::postgres().map(|pg| Db::Postgres {
            url: pg.fresh_database(),
        })
    }

    /// Another fresh database of the same backend.
    pub(crate) fn another(&self) -> Self {
        match self {
            Db::Sqlite { .. } => Db::sqlite(),
            Db::Postgres { .. } => Db::postgres().expect("PostgreSQL ran a moment ago"),
        }
    }

    /// Opens (again) the database.
    pub(crate) fn open(&self) -> Arc<dyn Backend> {
        self.try_open().unwrap()
    }

    /// Opens (again) the database, or the error.
    pub(crate) fn try_open(&self) -> Result<Arc<dyn Backend>, StoreError> {
        match self {
            Db::Sqlite { path, .. } => Ok(Arc::new(SqliteStore::open(path)?)),
            Db::Postgres { url } => crate::open(url, std::path::Path::new("/")),
        }
    }

    /// The text columns of `sql`'s rows (the same SQL on both backends), read directly.
    pub(crate) fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                let rows = stmt
                    .query_map([], |r| r.get::<_, Option<String>>(0))
                    .unwrap()
                    .map(|r| r.unwrap().unwrap_or_default())
                    .collect();
                rows
            }
            Db::Postgres { url } => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.query(sql, &[])
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
                    .collect()
            }
        }
    }

    /// The number `sql` (a `SELECT COUNT(*) ...`) counts.
    pub(crate) fn count(&self, sql: &str) -> i64 {
        let sql = format!("SELECT CAST(({sql}) AS TEXT)");
        self.strings(&sql)[0].parse().unwrap()
    }

    /// Marks the database as written by a Raymundo with schema version `version`.
    pub(crate) fn set_schema_version(&self, version: i64) {
        match self {
            Db::Sqlite { path, .. } => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                rusqlite::Connection::open(path)
                    .unwrap()
                    .pragma_update(None, "user_version", version)
                    .unwrap();
            }
            Db::Postgres { url } => {
                drop(self.open());
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.execute(
                    "INSERT INTO raymundo_migrations (version) VALUES ($1)",
                    &[&version],
                )
                .unwrap();
            }
        }
    }

    /// Creates the database with only the first `sqlite` (or `postgres`) migrations
    /// applied, as an older Raymundo left it.
    pub(crate) fn create_with_migrations(&self, sqlite: usize, postgres: usize) {
        match self {
            Db::Sqlite { path, .. } => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let conn = rusqlite::Connection::open(path).unwrap();
                for sql in &crate::sqlite::MIGRATIONS[..sqlite] {
                    conn.execute_batch(sql).unwrap();
                }
                conn.pragma_update(None, "user_version", sqlite as i64)
                    .unwrap();
            }
            Db::Postgres { url } => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute(
                    "CREATE TABLE raymundo_migrations (
                         version BIGINT PRIMARY KEY,
                         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                     )",
                )
                .unwrap();
                for (i, sql) in crate::postgres_store::MIGRATIONS[..postgres]
                    .iter()
                    .enumerate()
                {
                    c.batch_execute(sql).unwrap();
                    c.execute(
                        "INSERT INTO raymundo_migrations (version) VALUES ($1)",
                        &[&(i as i64 + 1)],
                    )
                    .unwrap();
                }
            }
        }
    }

    /// Runs `sql` (the same on both backends) directly.
    pub(crate) fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite { path, .. } => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }
            Db::Postgres { url } => {
                postgres::Client::connect(url, postgres::NoTls)
                    .unwrap()
                    .batch_execute(sql)
                    .unwrap();
            }
        }
    }

    /// Everything the database keeps: for SQLite the bytes of the file and its WAL (so
    /// deleted rows left in free pages would show), for PostgreSQL every row of every
    /// table as text (what a dump would hold; dead row versions are VACUUM's business).
    pub(crate) fn contents(&self) -> Vec<u8> {
        match self {
            Db::Sqlite { path, .. } => {
                let mut bytes = std::fs::read(path).unwrap();
                bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
                bytes
            }
            Db::Postgres { url } => {
                let text = crate::testing::dump(url);
                assert!(text.contains("salt"), "the dump reads the tables");
                text.into_bytes()
            }
        }
    }
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs each test body on SQLite and on PostgreSQL.
macro_rules! on_every_backend {
    ($( $(#[$meta:meta])* fn $name:ident($db:ident) $body:block )*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($db: &$crate::backends::Db) $body

            #[test]
            fn sqlite() {
                body(&$crate::backends::Db::sqlite());
            }

            #[test]
            fn postgres() {
                if let Some(db) = $crate::backends::Db::postgres() {
                    body(&db);
                }
            }
        }
    )*};
}
pub(crate) use on_every_backend;
