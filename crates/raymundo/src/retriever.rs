//! The index a project answers from: the files under `[paths] index` (the embedded default)
//! or the current version in PostgreSQL (`[index] backend = "postgres"`), behind one type so
//! that search, answers and reloads work the same on both.

use anyhow::{bail, Context, Result};
use raymundo_core::{Config, Hit, IndexBackend};
use raymundo_index::{Index, IndexError, IndexMeta, PgIndex, SearchParams, SearchResult};
use std::path::Path;

/// An opened index.
#[derive(Debug, Clone)]
pub enum Retriever {
    /// The files of `[paths] index`.
    File(Index),
    /// One version of the index in PostgreSQL.
    Postgres(PgIndex),
}

/// The PostgreSQL URL of the index: `[index] database`, else the project's database when that
/// is a `postgres://` URL.
pub fn index_url(root: &Path, config: &Config) -> Result<String> {
    if let Some(url) = config
        .index
        .database
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        return Ok(url.trim().to_string());
    }
    let spec = crate::database::spec(root, &config.server);
    if crate::database::is_file(&spec) {
        bail!(
            "[index] backend = \"postgres\" needs a PostgreSQL URL: set [index] database, or \
             RAYMUNDO_DATABASE_URL / [server] database to a postgres:// URL"
        );
    }
    Ok(spec)
}

/// The configured index's chunks and vectors in memory (what an export reads).
pub fn load_index(config: &Config) -> Result<Index> {
    match Retriever::open(config)? {
        Retriever::File(i) => Ok(i),
        Retriever::Postgres(p) => Ok(p.to_index()?),
    }
}

impl Retriever {
    /// Opens the project's index as configured.
    pub fn open(config: &Config) -> Result<Self> {
        match config.index.backend {
            IndexBackend::File => Ok(Self::File(Index::load(&config.index_dir(), None)?)),
            IndexBackend::Postgres => {
                let url = index_url(&config.root, config)?;
                Ok(Self::Postgres(
                    PgIndex::open(&url, None).context("opening the index in PostgreSQL")?,
                ))
            }
        }
    }

    /// The index as it is now (after a rebuild): the files read again, or the database's
    /// current version (connections shared).
    pub fn reopen(&self, config: &Config) -> Result<Self> {
        match self {
            Self::File(_) => Self::open(config),
            Self::Postgres(pg) => Ok(Self::Postgres(pg.reopen()?)),
        }
    }

    /// Metadata: model, settings, documents, calibration.
    pub fn meta(&self) -> &IndexMeta {
        match self {
            Self::File(i) => i.meta(),
            Self::Postgres(p) => p.meta(),
        }
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        match self {
            Self::File(i) => i.len(),
            Self::Postgres(p) => p.len(),
        }
    }

    /// Where the index is, for messages: `files` or `PostgreSQL version N`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(_) => "files".into(),
            Self::Postgres(p) => format!("PostgreSQL version {}", p.version()),
        }
    }

    /// Hybrid search (see [`Index::hybrid_search`]).
    pub fn hybrid_search(
        &self,
        query_vector: &[f32],
        query_text: &str,
        params: &SearchParams,
    ) -> Result<SearchResult, IndexError> {
        match self {
            Self::File(i) => i.hybrid_search(query_vector, query_text, params),
            Self::Postgres(p) => p.hybrid_search(query_vector, query_text, params),
        }
    }

    /// Each hit with its `radius` neighbouring chunks (see [`Index::with_neighbours`]).
    pub fn with_neighbours(
        &self,
        hits: Vec<Hit>,
        radius: usize,
        query: &[f32],
    ) -> Result<Vec<Hit>, IndexError> {
        match self {
            Self::File(i) => Ok(i.with_neighbours(hits, radius, query)),
            Self::Postgres(p) => p.with_neighbours(hits, radius, query),
        }
    }

    /// Every chunk's text, in storage order.
    pub fn texts(&self) -> Result<Vec<String>, IndexError> {
        match self {
            Self::File(i) => Ok(i.chunks().iter().map(|c| c.text.clone()).collect()),
            Self::Postgres(p) => p.texts(),
        }
    }
}
