//! Which database the project uses, and opening it: `RAYMUNDO_DATABASE_URL` from the
//! environment or `.env` (so a PostgreSQL password need not be in `raymundo.toml`), else
//! `[server] database` (a SQLite path under the project folder, or a `postgres://` URL).

use anyhow::{Context, Result};
use raymundo_core::ServerConfig;
use raymundo_store::{Backend, DATABASE_URL_VAR};
use std::path::Path;
use std::sync::Arc;

/// The database setting in force for the project at `root`.
pub fn spec(root: &Path, server: &ServerConfig) -> String {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .or_else(|| {
            crate::answer_chain::dotenv(root)
                .into_iter()
                .find(|(k, _)| k == DATABASE_URL_VAR)
                .map(|(_, v)| v)
        })
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| server.database.to_string_lossy().into_owned())
}

/// Whether the setting names a SQLite file (not a URL).
pub fn is_file(spec: &str) -> bool {
    !spec.contains("://")
}

/// Opens the project's database (either backend).
pub fn open(root: &Path, server: &ServerConfig) -> Result<Arc<dyn Backend>> {
    let spec = spec(root, server);
    raymundo_store::open(&spec, root).with_context(|| {
        if is_file(&spec) {
            format!("the database {spec} ([server] database)")
        } else {
            format!("the database ({DATABASE_URL_VAR} or [server] database)")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_in_dotenv_overrides_the_path_in_raymundo_toml() {
        let dir = tempfile::tempdir().unwrap();
        let server = ServerConfig::default();
        if std::env::var(DATABASE_URL_VAR).is_err() {
            assert_eq!(spec(dir.path(), &server), "data/raymundo.db");
            std::fs::write(
                dir.path().join(".env"),
                format!("{DATABASE_URL_VAR}=postgres://r:pw@127.0.0.1:5432/raymundo\n"),
            )
            .unwrap();
            assert_eq!(
                spec(dir.path(), &server),
                "postgres://r:pw@127.0.0.1:5432/raymundo"
            );
        }
        assert!(is_file("data/raymundo.db") && !is_file("postgres://h/d"));
    }
}
