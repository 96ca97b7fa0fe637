//! The on-disk format (`index.rmx`).
//!
//! ```text
//! b"RMXINDEX"                 8 bytes magic
//! u32 format version          little-endian
//! u64 n, then n bytes         JSON header: IndexMeta and the chunks
//! u64 m, then m * f32         vectors, little-endian, row-major (chunks x dim)
//! u64 g, then g bytes         the approximate-search graph (HNSW), g = 0 when none
//! b"RMXEND\0\0"               8 bytes trailer: a truncated file is detected
//! ```
//! The BM25 index is a tantivy folder next to the file, named in the header (`lexical`).
//! Version 2 added the graph and the BM25 folder; version 1 indexes are rebuilt. A reader
//! refuses other versions with a message saying so.

use raymundo_core::Chunk;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Current format version.
pub const FORMAT_VERSION: u32 = 2;
/// File name of the index inside the index folder.
pub const INDEX_FILE: &str = "index.rmx";
const MAGIC: &[u8; 8] = b"RMXINDEX";
const TRAILER: &[u8; 8] = b"RMXEND\0\0";

/// Errors of the index crate.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No index has been built yet.
    #[error("no index at {0}; run `raymundo build` first")]
    Missing(PathBuf),
    /// I/O failure.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not an index, is truncated or corrupt.
    #[error("{path} is not a valid index: {message}; rebuild it with `raymundo build`")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The file was written by another format version.
    #[error("{path} has index format version {found}, this Raymundo reads version {expected}; rebuild it with `raymundo build`")]
    Version {
        /// The file.
        path: PathBuf,
        /// Version found.
        found: u32,
        /// Version supported.
        expected: u32,
    },
    /// The index was built with another embedding model than the one configured.
    #[error("{path} was built with model {built_with}, but the project is configured for {configured}; rebuild with `raymundo build`")]
    ModelMismatch {
        /// The file.
        path: PathBuf,
        /// Model in the index.
        built_with: String,
        /// Model configured.
        configured: String,
    },
    /// The index in PostgreSQL could not be reached (bad URL, refused login ...).
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Connect(#[from] raymundo_pg::PgError),
    /// The database holds no version of the index yet.
    #[error("the database holds no index yet; run `raymundo build`")]
    NoVersion,
    /// A query of the index in PostgreSQL failed.
    #[error("the index in PostgreSQL: {0}")]
    Database(String),
    /// Inconsistent input to the builder.
    #[error("invalid index data: {0}")]
    Invalid(String),
}

/// One indexed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentEntry {
    /// Path relative to `data/docs/`.
    pub path: String,
    /// SHA-256 of the raw file.
    pub content_hash: String,
    /// Source label.
    pub source: String,
    /// Title.
    pub title: String,
    /// Number of chunks.
    pub chunks: usize,
}

/// What an index was built from and with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Format version of the file.
    pub format_version: u32,
    /// Embedding model id (name and origin).
    pub model_id: String,
    /// Vector dimension.
    pub dim: usize,
    /// Fingerprint of the settings that shape chunks; a change forces a full rebuild.
    pub settings: String,
    /// Build time, seconds since the Unix epoch.
    pub built_at_unix: u64,
    /// The documents, sorted by path.
    pub documents: Vec<DocumentEntry>,
    /// Main language of the documents (ISO 639-1), which picks the BM25 text analysis.
    pub language: String,
    /// The BM25 folder (a sibling of `index.rmx`), if the index has one.
    pub lexical: Option<String>,
    /// The scope guard's thresholds and the fusion weight chosen on these documents at build
    /// time (absent in indexes built before self-calibration, or when it could not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// Values chosen on the index's own documents when it was built (`raymundo build`), with how
/// they were chosen: what decides what a user sees is not a constant tuned on one corpus.
/// Settings in `raymundo.toml` take precedence over these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Best-passage cosine below which a question is out of scope.
    pub min_score: f32,
    /// Coverage below which a question is out of scope.
    pub min_coverage: f32,
    /// Weight of the cosine in weighted fusion (1.0: dense only).
    pub dense_weight: f32,
    /// Pseudo-questions made from the documents.
    pub pseudo_questions: usize,
    /// Built-in out-of-domain questions.
    pub out_of_domain: usize,
    /// Share of the pseudo-questions the chosen guard declines.
    pub declined: f32,
    /// Share of the out-of-domain questions the chosen guard answers.
    pub answered_out_of_domain: f32,
    /// MRR of the pseudo-questions' own passage for each fusion weight tried.
    pub fusion_mrr: Vec<(f32, f32)>,
    /// How the values were chosen, in a sentence.
    pub method: String,
}

#[derive(Serialize, Deserialize)]
struct Header<'a> {
    meta: std::borrow::Cow<'a, IndexMeta>,
    chunks: std::borrow::Cow<'a, [Chunk]>,
}

pub(crate) fn write_atomic(
    dir: &Path,
    meta: &IndexMeta,
    chunks: &[Chunk],
    vectors: &[f32],
    graph: &[u8],
) -> Result<(), IndexError> {
    let io = |context: String| move |source| IndexError::Io { context, source };
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let target = dir.join(INDEX_FILE);
    let tmp = dir.join(format!(".{INDEX_FILE}.{}.tmp", std::process::id()));
    let header = Header {
        meta: std::borrow::Cow::Borrowed(meta),
        chunks: chunks.into(),
    };
    let json = serde_json::to_vec(&header).map_err(|e| IndexError::Invalid(e.to_string()))?;
    let result = (|| {
        let file =
            std::fs::File::create(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let werr = io(format!("writing {}", tmp.display()));
        let mut bytes = Vec::with_capacity(vectors.len() * 4);
        for v in vectors {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        (|| {
            w.write_all(MAGIC)?;
            w.write_all(&FORMAT_VERSION.to_le_bytes())?;
            w.write_all(&(json.len() as u64).to_le_bytes())?;
            w.write_all(&json)?;
            w.write_all(&(vectors.len() as u64).to_le_bytes())?;
            w.write_all(&bytes)?;
            w.write_all(&(graph.len() as u64).to_le_bytes())?;
            w.write_all(graph)?;
            w.write_all(TRAILER)?;
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()
        })()
        .map_err(werr)?;
        std::fs::rename(&tmp, &target).map_err(io(format!("replacing {}", target.display())))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What `index.rmx` holds.
pub(crate) struct Parts {
    pub meta: IndexMeta,
    pub chunks: Vec<Chunk>,
    pub vectors: Vec<f32>,
    pub graph: Vec<u8>,
}

pub(crate) fn read(dir: &Path) -> Result<Parts, IndexError> {
    let path = dir.join(INDEX_FILE);
    if !path.exists() {
        return Err(IndexError::Missing(path));
    }
    let bytes = std::fs::read(&path).map_err(|source| IndexError::Io {
        context: format!("reading {}", path.display()),
        source,
    })?;
    let corrupt = |message: &str| IndexError::Corrupt {
        path: path.clone(),
        message: message.into(),
    };
    if bytes.len() < 8 + 4 + 8 || &bytes[..8] != MAGIC {
        return Err(corrupt("not a Raymundo index (bad magic)"));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(IndexError::Version {
            path,
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    if bytes.len() < 8 + 4 + 8 + 8 + 8 || &bytes[bytes.len() - 8..] != TRAILER {
        return Err(corrupt("truncated (trailer missing)"));
    }
    let mut pos = 12;
    let take_u64 = |pos: &mut usize| -> Result<usize, IndexError> {
        let b = bytes
            .get(*pos..*pos + 8)
            .ok_or_else(|| corrupt("truncated"))?;
        *pos += 8;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
    };
    let json_len = take_u64(&mut pos)?;
    let json = bytes
        .get(pos..pos.saturating_add(json_len))
        .ok_or_else(|| corrupt("truncated header"))?;
    pos += json_len;
    let header: Header =
        serde_json::from_slice(json).map_err(|e| corrupt(&format!("header: {e}")))?;
    let n = take_u64(&mut pos)?;
    let end = n
        .checked_mul(4)
        .and_then(|b| pos.checked_add(b))
        .ok_or_else(|| corrupt("bad vector count"))?;
    if end + 8 + 8 > bytes.len() {
        return Err(corrupt("vector block size does not match the file size"));
    }
    let vectors: Vec<f32> = bytes[pos..end]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    pos = end;
    let graph_len = take_u64(&mut pos)?;
    if pos.checked_add(graph_len).and_then(|e| e.checked_add(8)) != Some(bytes.len()) {
        return Err(corrupt("graph block size does not match the file size"));
    }
    let graph = bytes[pos..pos + graph_len].to_vec();
    let meta = header.meta.into_owned();
    let chunks = header.chunks.into_owned();
    if meta.dim == 0 || vectors.len() != chunks.len() * meta.dim {
        return Err(corrupt("chunk count and vectors disagree"));
    }
    Ok(Parts {
        meta,
        chunks,
        vectors,
        graph,
    })
}
