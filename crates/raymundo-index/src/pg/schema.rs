//! The tables of the index in PostgreSQL, created (idempotently) on first use.
//!
//! - `raymundo_index_versions`: one row per built version: its [`IndexMeta`] as JSON (model,
//!   settings, language, documents, calibration), its chunk count and average field lengths.
//! - `raymundo_index_current`: one row, the version servers answer from.
//! - `raymundo_index_chunks`: chunks with their metadata and vector (`pgvector`), visible in
//!   the versions `first_version ..= last_version` (`NULL`: up to the newest), so that an
//!   unchanged document's rows serve every version that contains it.
//! - `raymundo_index_postings`: the inverted index: (field-prefixed term, chunk, term
//!   frequency, quantised field length, impact, and the chunk's versions, so that a term's
//!   best postings are read from the index alone), ordered by impact per term.
//! - `raymundo_index_terms`: document frequency of each term per version (BM25's IDF).
//!
//! Vectors of every dimension share one column; each dimension gets a partial HNSW index
//! over `embedding::vector(dim)` ([`ensure_hnsw`]).
//!
//! [`IndexMeta`]: crate::IndexMeta

use postgres::Client;

/// Advisory-lock key held while the schema is created or a version is written.
pub(crate) const LOCK: i64 = 0x5241_594d_4958; // "RAYMIX"
/// The channel every new current version is announced on (payload: the version).
pub const CHANNEL: &str = "raymundo_index";

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS raymundo_index_versions (
    version BIGINT PRIMARY KEY,
    meta JSONB NOT NULL,
    chunks BIGINT NOT NULL,
    body_avg REAL NOT NULL,
    title_avg REAL NOT NULL,
    codes_avg REAL NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS raymundo_index_current (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    version BIGINT NOT NULL REFERENCES raymundo_index_versions (version)
);
CREATE TABLE IF NOT EXISTS raymundo_index_chunks (
    id BIGINT PRIMARY KEY,
    first_version BIGINT NOT NULL,
    last_version BIGINT,
    doc TEXT NOT NULL,
    position INTEGER NOT NULL,
    source TEXT NOT NULL,
    intent TEXT,
    title TEXT NOT NULL,
    section TEXT,
    text TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    body_len INTEGER NOT NULL,
    title_len INTEGER NOT NULL,
    codes_len INTEGER NOT NULL,
    dim INTEGER NOT NULL,
    embedding vector NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS raymundo_index_chunk_ids OWNED BY raymundo_index_chunks.id;
CREATE INDEX IF NOT EXISTS raymundo_index_chunks_doc
    ON raymundo_index_chunks (doc, position);
CREATE INDEX IF NOT EXISTS raymundo_index_chunks_last
    ON raymundo_index_chunks (last_version);
CREATE TABLE IF NOT EXISTS raymundo_index_postings (
    term TEXT NOT NULL,
    chunk BIGINT NOT NULL,
    tf INTEGER NOT NULL,
    len INTEGER NOT NULL,
    impact REAL NOT NULL,
    first_version BIGINT NOT NULL,
    last_version BIGINT
);
CREATE INDEX IF NOT EXISTS raymundo_index_postings_term
    ON raymundo_index_postings (term, impact DESC)
    INCLUDE (chunk, tf, len, first_version, last_version);
CREATE INDEX IF NOT EXISTS raymundo_index_postings_chunk
    ON raymundo_index_postings (chunk);
CREATE TABLE IF NOT EXISTS raymundo_index_terms (
    version BIGINT NOT NULL,
    term TEXT NOT NULL,
    df INTEGER NOT NULL,
    PRIMARY KEY (version, term)
);
";

/// Creates the extension (when it is not there yet) and the tables, under the advisory lock
/// so that servers starting together do not race.
pub(crate) fn ensure(client: &mut Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])?;
    let has_vector = tx
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'vector'", &[])?
        .is_some();
    if !has_vector {
        tx.batch_execute("CREATE EXTENSION IF NOT EXISTS vector")?;
    }
    tx.batch_execute(TABLES)?;
    tx.commit()
}

/// The partial HNSW index (inner product) over the vectors of dimension `dim`, created when
/// missing (inside the caller's transaction).
pub(crate) fn ensure_hnsw(
    tx: &mut postgres::Transaction<'_>,
    dim: usize,
) -> Result<(), postgres::Error> {
    tx.batch_execute(&format!(
        "CREATE INDEX IF NOT EXISTS raymundo_index_hnsw_{dim} ON raymundo_index_chunks
         USING hnsw ((embedding::vector({dim})) vector_ip_ops)
         WITH (m = 16, ef_construction = 100) WHERE dim = {dim}"
    ))
}

/// The SQL condition "chunk `alias` is part of version `$n`".
pub(crate) fn visible(alias: &str, param: usize) -> String {
    format!(
        "{alias}.first_version <= ${param} AND ({alias}.last_version IS NULL OR {alias}.last_version >= ${param})"
    )
}
