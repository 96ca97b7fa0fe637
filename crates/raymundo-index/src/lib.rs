//! Raymundo's vector index.
//!
//! A built index is an immutable artifact: the chunks with their metadata and one contiguous
//! block of L2-normalised `f32` vectors, searched by exact inner product (cosine). The file
//! format is versioned and records the embedding model and the settings it was built with, so
//! loading refuses an index that the configured model cannot query. Writing goes to a
//! temporary file in the same folder, is synced, then renamed over the old one: a crash
//! mid-build leaves the previous index usable. The builder reuses the chunks and vectors of
//! unchanged documents from the previous index (incremental builds).

mod format;
mod hnsw;
mod search;
mod simd;

pub use format::{DocumentEntry, IndexError, IndexMeta, FORMAT_VERSION, INDEX_FILE};
pub use hnsw::{Hnsw, HnswParams, DEFAULT_SEED, HNSW_FORMAT_VERSION};
pub use search::dot;
pub use search::{top_k, top_k_threads, PARALLEL_MIN_FLOATS};
pub use simd::{dot_portable, Kernel};

use raymundo_core::{Chunk, Hit};
use std::collections::HashMap;
use std::path::Path;

/// A loaded (or freshly built) index.
#[derive(Debug, Clone)]
pub struct Index {
    meta: IndexMeta,
    chunks: Vec<Chunk>,
    vectors: Vec<f32>,
    /// Each document's chunks are contiguous: path -> (first chunk, count).
    ranges: HashMap<String, (usize, usize)>,
}

impl Index {
    fn new(meta: IndexMeta, chunks: Vec<Chunk>, vectors: Vec<f32>) -> Self {
        let mut ranges: HashMap<String, (usize, usize)> = HashMap::new();
        for (i, c) in chunks.iter().enumerate() {
            ranges
                .entry(c.doc.clone())
                .and_modify(|r| r.1 += 1)
                .or_insert((i, 1));
        }
        Self {
            meta,
            chunks,
            vectors,
            ranges,
        }
    }

    /// Metadata: model, settings, documents.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// All chunks, in storage order.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// True when the index holds no chunk.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The vector of chunk `i`.
    pub fn vector(&self, i: usize) -> &[f32] {
        let d = self.meta.dim;
        &self.vectors[i * d..(i + 1) * d]
    }

    /// The `k` chunks most similar to `query` (normalised, `dim` long), best first; chunks
    /// for which `keep` returns false are skipped.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        keep: Option<&dyn Fn(&Chunk) -> bool>,
    ) -> Vec<Hit> {
        assert_eq!(query.len(), self.meta.dim, "query dimension");
        let top = search::top_k(&self.vectors, self.meta.dim, query, k, |i| {
            keep.is_none_or(|f| f(&self.chunks[i]))
        });
        top.into_iter()
            .map(|(i, score)| Hit {
                score,
                chunk: self.chunks[i].clone(),
            })
            .collect()
    }

    /// Writes the index atomically to `dir/index.rmx`.
    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        format::write_atomic(dir, &self.meta, &self.chunks, &self.vectors)
    }

    /// Loads `dir/index.rmx`, checking the format version and, if given, the model.
    pub fn load(dir: &Path, expected_model: Option<&str>) -> Result<Self, IndexError> {
        let (meta, chunks, vectors) = format::read(dir)?;
        if let Some(model) = expected_model {
            if meta.model_id != model {
                return Err(IndexError::ModelMismatch {
                    path: dir.join(INDEX_FILE),
                    built_with: meta.model_id.clone(),
                    configured: model.to_string(),
                });
            }
        }
        Ok(Self::new(meta, chunks, vectors))
    }

    /// The chunks and vectors of one document, if present.
    pub fn document_parts(&self, path: &str) -> Option<(Vec<Chunk>, Vec<f32>)> {
        let &(start, count) = self.ranges.get(path)?;
        let d = self.meta.dim;
        let chunks = self.chunks[start..start + count].to_vec();
        let vectors = self.vectors[start * d..(start + count) * d].to_vec();
        Some((chunks, vectors))
    }
}

/// Assembles a new index, document by document.
#[derive(Debug)]
pub struct IndexBuilder {
    meta: IndexMeta,
    chunks: Vec<Chunk>,
    vectors: Vec<f32>,
}

impl IndexBuilder {
    /// Starts an empty index for `model_id` vectors of `dim`, built with `settings` (a string
    /// that changes whenever chunks would come out differently).
    pub fn new(model_id: &str, dim: usize, settings: &str) -> Self {
        Self {
            meta: IndexMeta {
                format_version: FORMAT_VERSION,
                model_id: model_id.to_string(),
                dim,
                settings: settings.to_string(),
                built_at_unix: 0,
                documents: Vec::new(),
            },
            chunks: Vec::new(),
            vectors: Vec::new(),
        }
    }

    /// Adds a document with its chunks and their vectors (`chunks.len() * dim` floats).
    pub fn add_document(
        &mut self,
        entry: DocumentEntry,
        chunks: Vec<Chunk>,
        vectors: Vec<f32>,
    ) -> Result<(), IndexError> {
        if vectors.len() != chunks.len() * self.meta.dim {
            return Err(IndexError::Invalid(format!(
                "{}: {} chunks but {} floats of vectors (dim {})",
                entry.path,
                chunks.len(),
                vectors.len(),
                self.meta.dim
            )));
        }
        self.chunks.extend(chunks);
        self.vectors.extend(vectors);
        self.meta.documents.push(entry);
        Ok(())
    }

    /// Finishes the index (documents sorted by path for a stable artifact).
    pub fn finish(mut self) -> Index {
        self.meta.documents.sort_by(|a, b| a.path.cmp(&b.path));
        self.meta.built_at_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Index::new(self.meta, self.chunks, self.vectors)
    }
}

/// Previous documents by path, to decide what an incremental build can reuse.
pub fn documents_by_path(index: &Index) -> HashMap<&str, &DocumentEntry> {
    index
        .meta
        .documents
        .iter()
        .map(|d| (d.path.as_str(), d))
        .collect()
}

#[cfg(test)]
mod tests;
