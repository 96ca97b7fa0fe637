//! The index in PostgreSQL: several servers answer from one index that any machine builds.
//!
//! The same index as the files of [`crate::Index`] (chunks, vectors, BM25 over body, title
//! and codes, the same text analysis), kept in tables ([`schema`]): vectors in a pgvector
//! column with an HNSW index, BM25 as an inverted index of postings ordered by impact, so a
//! search reads the best postings of each query term instead of every matching row. Scores
//! are tantivy's BM25 (same IDF, same quantised field lengths), fused, diversified and
//! checked for coverage by the same code as the file index: the two backends rank alike.
//!
//! Versioned: [`PgIndex::publish`] writes a new version in one transaction (rows of
//! unchanged documents are shared with the previous version, not copied), makes it current
//! and announces it on [`CHANNEL`]; a [`PgIndex`] answers from the version it was opened at
//! until [`PgIndex::reopen`] moves it to the current one. The version before the current
//! one stays readable (servers still on it keep answering); older ones are removed.

mod follow;
mod publish;
mod query;
mod schema;
mod vector;

#[cfg(test)]
mod tests;

pub use query::POSTINGS_PER_TERM;
pub use schema::CHANNEL;

use crate::{IndexError, IndexMeta};
use raymundo_core::Chunk;
use raymundo_pg::{describe, parse_url, Pool};
use std::sync::Arc;

/// Connections kept open per process.
const POOL_SIZE: usize = 8;

pub(crate) fn db_error(context: &str) -> impl Fn(postgres::Error) -> IndexError + '_ {
    move |e| IndexError::Database(format!("{context}: {}", describe(&e)))
}

/// One version of the index in a PostgreSQL database, ready to search.
#[derive(Clone)]
pub struct PgIndex {
    pool: Arc<Pool>,
    version: i64,
    meta: IndexMeta,
    chunks: u64,
    /// Average length of the body, title and codes fields (BM25).
    averages: [f32; 3],
}

impl std::fmt::Debug for PgIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgIndex")
            .field("version", &self.version)
            .field("model", &self.meta.model_id)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

/// Opens a pool of connections to `url` and makes sure the tables exist.
fn connect(url: &str) -> Result<Arc<Pool>, IndexError> {
    let pool = Pool::new(parse_url(url)?, POOL_SIZE)?;
    let mut client = pool.get()?;
    schema::ensure(&mut client).map_err(db_error("creating the index tables"))?;
    drop(client);
    Ok(Arc::new(pool))
}

impl PgIndex {
    /// Opens the current version of the index in the database at `url` (a `postgres://`
    /// URL), checking its model when `expected_model` is given.
    pub fn open(url: &str, expected_model: Option<&str>) -> Result<Self, IndexError> {
        let index = Self::current(connect(url)?)?;
        if let Some(model) = expected_model {
            if index.meta.model_id != model {
                return Err(IndexError::Invalid(format!(
                    "the index in PostgreSQL was built with model {}, but the project is \
                     configured for {model}; rebuild it with `raymundo build`",
                    index.meta.model_id
                )));
            }
        }
        Ok(index)
    }

    /// The database's current version (this one's connections are shared).
    pub fn reopen(&self) -> Result<Self, IndexError> {
        Self::current(self.pool.clone())
    }

    fn current(pool: Arc<Pool>) -> Result<Self, IndexError> {
        let mut c = pool.get()?;
        let row = c
            .query_opt(
                "SELECT v.version, v.meta::TEXT, v.chunks, v.body_avg, v.title_avg, v.codes_avg
                 FROM raymundo_index_current c JOIN raymundo_index_versions v USING (version)",
                &[],
            )
            .map_err(db_error("reading the current version"))?
            .ok_or(IndexError::NoVersion)?;
        let meta: IndexMeta = serde_json::from_str(row.get(1)).map_err(|e| {
            IndexError::Database(format!("the version's metadata cannot be read: {e}"))
        })?;
        let chunks: i64 = row.get(2);
        drop(c);
        Ok(Self {
            pool,
            version: row.get(0),
            meta,
            chunks: chunks.max(0) as u64,
            averages: [row.get(3), row.get(4), row.get(5)],
        })
    }

    /// The version this index answers from.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The database's current version number (`None` before the first build): differs from
    /// [`PgIndex::version`] once another process has published a newer one.
    pub fn latest(&self) -> Result<Option<i64>, IndexError> {
        let mut c = self.pool.get()?;
        Ok(
            c.query_opt("SELECT version FROM raymundo_index_current", &[])
                .map_err(db_error("reading the current version"))?
                .map(|r| r.get(0)),
        )
    }

    /// Metadata: model, settings, documents, calibration.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// Number of chunks in this version.
    pub fn len(&self) -> usize {
        self.chunks as usize
    }

    /// True when this version holds no chunk.
    pub fn is_empty(&self) -> bool {
        self.chunks == 0
    }

    /// This version as an in-memory [`crate::Index`] (chunks and vectors, no BM25 and no
    /// graph): what a build reuses of unchanged documents, or an export reads.
    pub fn to_index(&self) -> Result<crate::Index, IndexError> {
        let mut c = self.pool.get()?;
        let rows = c
            .query(
                &format!(
                    "SELECT {CHUNK_COLUMNS}, c.embedding FROM raymundo_index_chunks c
                     WHERE {} ORDER BY c.doc, c.position",
                    schema::visible("c", 1)
                ),
                &[&self.version],
            )
            .map_err(db_error("reading the chunks"))?;
        let d = self.meta.dim;
        let mut chunks = Vec::with_capacity(rows.len());
        let mut vectors = Vec::with_capacity(rows.len() * d);
        for row in &rows {
            let v: vector::PgVector = row.get(CHUNK_FIELDS);
            if v.0.len() != d {
                return Err(IndexError::Database(format!(
                    "a vector of dimension {} in an index of dimension {d}",
                    v.0.len()
                )));
            }
            chunks.push(chunk_of(row));
            vectors.extend_from_slice(&v.0);
        }
        Ok(crate::Index::new(self.meta.clone(), chunks, vectors))
    }

    /// The text of every chunk of this version, in document order.
    pub fn texts(&self) -> Result<Vec<String>, IndexError> {
        let mut c = self.client()?;
        Ok(c.query(
            &format!(
                "SELECT c.text FROM raymundo_index_chunks c WHERE {} ORDER BY c.doc, c.position",
                schema::visible("c", 1)
            ),
            &[&self.version],
        )
        .map_err(db_error("reading the chunks' text"))?
        .iter()
        .map(|r| r.get(0))
        .collect())
    }

    fn client(&self) -> Result<raymundo_pg::Conn<'_>, IndexError> {
        Ok(self.pool.get()?)
    }
}

/// The chunk columns [`chunk_of`] reads, in order (table alias `c`).
pub(crate) const CHUNK_COLUMNS: &str =
    "c.doc, c.position, c.source, c.intent, c.title, c.section, c.text, c.tokens";
/// How many columns [`CHUNK_COLUMNS`] has.
pub(crate) const CHUNK_FIELDS: usize = 8;

/// The chunk in the first [`CHUNK_FIELDS`] columns of `row`.
pub(crate) fn chunk_of(row: &postgres::Row) -> Chunk {
    let position: i32 = row.get(1);
    let tokens: i32 = row.get(7);
    Chunk {
        doc: row.get(0),
        position: position.max(0) as usize,
        source: row.get(2),
        intent: row.get(3),
        title: row.get(4),
        section: row.get(5),
        text: row.get(6),
        tokens: tokens.max(0) as usize,
    }
}
