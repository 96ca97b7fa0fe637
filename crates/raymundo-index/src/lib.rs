//! Raymundo's retrieval index: vectors, BM25 and their fusion.
//!
//! A built index is an immutable artifact: the chunks with their metadata, one contiguous
//! block of L2-normalised `f32` vectors searched by inner product (cosine), and a BM25 index
//! of the same chunks (tantivy, Spanish or English analysis) in a folder named by the header.
//! A search fuses both lists (reciprocal rank fusion by default), can diversify the result
//! (MMR), filter by source or intent, and reports how much of the query the best passages
//! cover (an out-of-scope signal). The file format is versioned and records the embedding
//! model and the settings it was built with, so loading refuses an index that the configured
//! model cannot query. Writing goes to a new BM25 folder and a temporary file, synced, then
//! renamed over the old `index.rmx`: a crash mid-build leaves the previous index usable. The
//! builder reuses the chunks and vectors of unchanged documents from the previous index, and
//! the BM25 folder is updated the same way (incremental builds).

mod format;
mod hnsw;
mod hybrid;
mod lexical;
#[cfg(feature = "postgres")]
mod pg;
mod search;
mod simd;

pub use format::{Calibration, DocumentEntry, IndexError, IndexMeta, FORMAT_VERSION, INDEX_FILE};
pub use hnsw::{Hnsw, HnswParams, DEFAULT_SEED, HNSW_FORMAT_VERSION};
pub use hybrid::SearchParams;
pub use lexical::{
    analyze, analyzer, codes, Filter, Lexical, LexicalHit, LexicalLanguage, REQUEST_WORDS,
};
#[cfg(feature = "postgres")]
pub use pg::{PgIndex, CHANNEL, POSTINGS_PER_TERM};
pub use search::dot;
pub use search::{top_k, top_k_threads, PARALLEL_MIN_FLOATS};
pub use simd::{dot_portable, Kernel};

use lexical::LexicalWriter;
use raymundo_core::{Chunk, Hit};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Prefix of BM25 folders inside the index folder.
const LEXICAL_PREFIX: &str = "bm25-";

/// The result of a search: hits, and the signals that decide whether the question is in scope.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// The hits, best first.
    pub hits: Vec<Hit>,
    /// The best cosine similarity of any chunk passing the filter (the dense guard signal).
    pub best_dense: f32,
    /// The largest IDF-weighted share of the query's terms that one of the best passages
    /// contains (1.0 without BM25): low when the question is about something the documents
    /// don't mention.
    pub coverage: f32,
}

/// A loaded (or freshly built) index.
#[derive(Debug, Clone)]
pub struct Index {
    meta: IndexMeta,
    chunks: Vec<Chunk>,
    vectors: Vec<f32>,
    /// Each document's chunks are contiguous: path -> (first chunk, count).
    ranges: HashMap<String, (usize, usize)>,
    lexical: Option<Lexical>,
    /// The approximate-search graph, for large indexes.
    ann: Option<std::sync::Arc<Hnsw>>,
    /// The folder the index was loaded from or saved to.
    dir: Option<PathBuf>,
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
            lexical: None,
            ann: None,
            dir: None,
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

    /// The BM25 index, if the index has one (every saved index does).
    pub fn lexical(&self) -> Option<&Lexical> {
        self.lexical.as_ref()
    }

    /// The approximate-search graph, if the index has one.
    pub fn ann(&self) -> Option<&Hnsw> {
        self.ann.as_deref()
    }

    /// Builds the HNSW graph over the vectors (searches then use it), unless `previous` has
    /// one over exactly the same chunks, which is reused.
    pub fn build_ann(&mut self, params: &HnswParams, previous: Option<&Index>) {
        if let Some(prev) = previous {
            let same = prev.ann.is_some()
                && prev.meta.model_id == self.meta.model_id
                && prev.meta.documents == self.meta.documents
                && prev.len() == self.len();
            if same {
                self.ann = prev.ann.clone();
                return;
            }
        }
        self.ann = Some(std::sync::Arc::new(Hnsw::build(
            &self.vectors,
            self.meta.dim,
            params,
        )));
    }

    /// The `k` chunks most similar to `query` (normalised, `dim` long) by cosine alone, best
    /// first; chunks the filter rejects are skipped. Uses the graph when there is one.
    pub fn search(&self, query: &[f32], k: usize, filter: &Filter) -> Vec<Hit> {
        self.dense_candidates(query, k, None, filter)
            .into_iter()
            .map(|(i, score)| Hit::dense(self.chunks[i].clone(), score))
            .collect()
    }

    /// The graph's search breadth when none is configured: measured to keep recall@10
    /// against exact search at 0.98 or more (160 up to a few hundred thousand vectors; 1M
    /// needed 384).
    pub fn default_ef(&self) -> usize {
        if self.len() <= 300_000 {
            160
        } else {
            384
        }
    }

    fn dense_candidates(
        &self,
        query: &[f32],
        n: usize,
        ef: Option<usize>,
        filter: &Filter,
    ) -> Vec<(usize, f32)> {
        assert_eq!(query.len(), self.meta.dim, "query dimension");
        let keep = |i: usize| filter.matches(&self.chunks[i]);
        if let Some(graph) = &self.ann {
            // A filter that keeps few chunks makes the graph walk long: scan those exactly.
            let selective = !filter.is_empty() && {
                let kept = self.chunks.iter().filter(|c| filter.matches(c)).count();
                kept * 10 < self.len()
            };
            if !selective {
                let ef = ef.unwrap_or_else(|| self.default_ef()).max(n);
                return graph.search(&self.vectors, query, n, ef, &keep);
            }
        }
        search::top_k(&self.vectors, self.meta.dim, query, n, keep)
    }

    /// Hybrid search: dense and BM25 candidates for the query (its vector and its text),
    /// fused as `params` say, optionally MMR re-ranked, filtered.
    pub fn hybrid_search(
        &self,
        query_vector: &[f32],
        query_text: &str,
        params: &SearchParams,
    ) -> Result<SearchResult, IndexError> {
        let n = params.candidates.max(params.k);
        let dense = self.dense_candidates(query_vector, n, params.ef_search, &params.filter);
        let best_dense = dense.first().map_or(-1.0, |d| d.1);
        // BM25 runs in every mode: its best passages feed the coverage signal.
        let lexical: Vec<(usize, f32, f32)> = match &self.lexical {
            Some(lex) => lex
                .search(query_text, n, &params.filter)?
                .into_iter()
                .filter_map(|h| {
                    let row = self.row(&h.doc, h.position)?;
                    Some((row, h.score, dot(self.vector(row), query_vector)))
                })
                .collect(),
            None => Vec::new(),
        };
        let mut fused = hybrid::fuse(&dense, &lexical, params);
        // Coverage is judged on the passages an answer would come from, before MMR.
        let ck = params.coverage_k.unwrap_or(params.k);
        let cover_rows: Vec<usize> = fused.iter().take(ck).map(|c| c.row).collect();
        if let Some(lambda) = params.mmr_lambda {
            fused.truncate(n);
            fused = hybrid::mmr(fused, params.k, lambda, |row| self.vector(row).to_vec());
        }
        fused.truncate(params.k);
        let hits: Vec<Hit> = fused
            .into_iter()
            .map(|c| Hit {
                score: c.score,
                dense: c.dense,
                lexical: c.lexical,
                neighbour: false,
                chunk: self.chunks[c.row].clone(),
            })
            .collect();
        // One passage must cover the question: an out-of-scope question's words tend to be
        // scattered over several passages (measured: the best single passage separates
        // in-scope from out-of-scope questions better than the union of the top passages).
        let coverage = match &self.lexical {
            Some(lex) => {
                let terms = lex.query_terms(query_text);
                // One analyzer for all passages (building one compiles its stop-word set).
                let mut analyzer = lex.analyzer();
                cover_rows
                    .iter()
                    .map(|&r| {
                        let c = &self.chunks[r];
                        let texts = [c.text.as_str(), c.title.as_str()];
                        hybrid::coverage(&mut analyzer, &terms, texts)
                    })
                    .fold(0.0, f32::max)
            }
            None => 1.0,
        };
        Ok(SearchResult {
            hits,
            best_dense,
            coverage,
        })
    }

    /// Adds to each hit its `radius` neighbouring chunks of the same document (before and
    /// after, in document order), marked as neighbours and scored by cosine to the query.
    pub fn with_neighbours(&self, hits: Vec<Hit>, radius: usize, query: &[f32]) -> Vec<Hit> {
        if radius == 0 {
            return hits;
        }
        let mut seen: std::collections::HashSet<(String, usize)> = hits
            .iter()
            .map(|h| (h.chunk.doc.clone(), h.chunk.position))
            .collect();
        let mut out = Vec::with_capacity(hits.len() * (1 + 2 * radius));
        for hit in hits {
            let (doc, pos) = (hit.chunk.doc.clone(), hit.chunk.position);
            let first = pos.saturating_sub(radius);
            let mut around = Vec::new();
            for p in first..=pos + radius {
                if p == pos || !seen.insert((doc.clone(), p)) {
                    continue;
                }
                if let Some(row) = self.row(&doc, p) {
                    let cos = dot(self.vector(row), query);
                    around.push((
                        p,
                        Hit {
                            score: hit.score,
                            dense: cos,
                            lexical: None,
                            neighbour: true,
                            chunk: self.chunks[row].clone(),
                        },
                    ));
                }
            }
            // Keep document order: earlier neighbours, the hit, later neighbours.
            let (before, after): (Vec<_>, Vec<_>) = around.into_iter().partition(|(p, _)| *p < pos);
            out.extend(before.into_iter().map(|(_, h)| h));
            out.push(hit);
            out.extend(after.into_iter().map(|(_, h)| h));
        }
        out
    }

    /// The row of chunk `position` of document `doc`.
    fn row(&self, doc: &str, position: usize) -> Option<usize> {
        let &(start, count) = self.ranges.get(doc)?;
        (position < count).then_some(start + position)
    }

    /// Sets the documents' main language (ISO 639-1), which picks the BM25 analysis.
    pub fn set_language(&mut self, code: &str) {
        self.meta.language = code.to_string();
    }

    /// Writes the index to `dir`: a BM25 folder (derived from `previous`'s when that index was
    /// built with the same settings and language, so only changed documents are re-indexed),
    /// then `index.rmx` atomically; finally removes BM25 folders no longer referenced.
    pub fn save(&mut self, dir: &Path, previous: Option<&Index>) -> Result<(), IndexError> {
        let language = LexicalLanguage::from_code(&self.meta.language);
        // A name no other build uses, so the folder the current index.rmx names is never
        // touched while the new one is written.
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(
            "{LEXICAL_PREFIX}{nanos:x}-{}-{}",
            std::process::id(),
            SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let lex_dir = dir.join(&name);
        if lex_dir.exists() {
            std::fs::remove_dir_all(&lex_dir).map_err(|source| IndexError::Io {
                context: format!("clearing {}", lex_dir.display()),
                source,
            })?;
        }
        let base = previous.and_then(|p| {
            let same = p.meta.settings == self.meta.settings
                && p.meta.language == self.meta.language
                && p.meta.model_id == self.meta.model_id;
            let prev_dir = p.dir.as_ref()?.join(p.meta.lexical.as_ref()?);
            (same && p.lexical.is_some() && prev_dir.join("meta.json").is_file())
                .then_some((p, prev_dir))
        });
        let result = (|| {
            let writer = match &base {
                Some((prev, prev_dir)) => {
                    let mut w = LexicalWriter::derive(prev_dir, &lex_dir, language)?;
                    let prev_docs = documents_by_path(prev);
                    let new_docs = documents_by_path(self);
                    let same = |a: Option<&&DocumentEntry>, b: &DocumentEntry| {
                        a.is_some_and(|a| a.content_hash == b.content_hash)
                    };
                    for d in &prev.meta.documents {
                        if !same(new_docs.get(d.path.as_str()), d) {
                            w.remove_document(&d.path);
                        }
                    }
                    for d in &self.meta.documents {
                        if !same(prev_docs.get(d.path.as_str()), d) {
                            self.add_document_chunks(&mut w, &d.path)?;
                        }
                    }
                    w
                }
                None => {
                    let mut w = LexicalWriter::create(&lex_dir, language)?;
                    for c in &self.chunks {
                        w.add_chunk(c)?;
                    }
                    w
                }
            };
            writer.commit()?;
            self.meta.lexical = Some(name.clone());
            let graph = self.ann.as_ref().map(|g| g.to_bytes()).unwrap_or_default();
            format::write_atomic(dir, &self.meta, &self.chunks, &self.vectors, &graph)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&lex_dir);
            return Err(e);
        }
        // The new index is in place: older BM25 folders are garbage (open readers keep
        // their files until they close them).
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let n = entry.file_name().to_string_lossy().to_string();
                if n.starts_with(LEXICAL_PREFIX) && n != name {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        self.lexical = Some(Lexical::open(&lex_dir, language)?);
        self.dir = Some(dir.to_path_buf());
        Ok(())
    }

    /// Records `calibration` in the index saved at its folder (the header is rewritten; the
    /// BM25 folder stays), atomically like [`Index::save`].
    pub fn save_calibration(&mut self, calibration: Calibration) -> Result<(), IndexError> {
        let dir = self
            .dir
            .clone()
            .ok_or_else(|| IndexError::Invalid("the index has not been saved yet".into()))?;
        self.meta.calibration = Some(calibration);
        let graph = self.ann.as_ref().map(|g| g.to_bytes()).unwrap_or_default();
        format::write_atomic(&dir, &self.meta, &self.chunks, &self.vectors, &graph)
    }

    fn add_document_chunks(&self, w: &mut LexicalWriter, path: &str) -> Result<(), IndexError> {
        if let Some(&(start, count)) = self.ranges.get(path) {
            for c in &self.chunks[start..start + count] {
                w.add_chunk(c)?;
            }
        }
        Ok(())
    }

    /// Loads `dir/index.rmx` and its BM25 folder, checking the format version and, if given,
    /// the model.
    pub fn load(dir: &Path, expected_model: Option<&str>) -> Result<Self, IndexError> {
        let parts = format::read(dir)?;
        let meta = parts.meta;
        if let Some(model) = expected_model {
            if meta.model_id != model {
                return Err(IndexError::ModelMismatch {
                    path: dir.join(INDEX_FILE),
                    built_with: meta.model_id.clone(),
                    configured: model.to_string(),
                });
            }
        }
        let lexical = match &meta.lexical {
            Some(name) => Some(Lexical::open(
                &dir.join(name),
                LexicalLanguage::from_code(&meta.language),
            )?),
            None => None,
        };
        let ann = match parts.graph.is_empty() {
            true => None,
            false => Some(std::sync::Arc::new(
                Hnsw::from_bytes(&parts.graph, parts.chunks.len()).map_err(|message| {
                    IndexError::Corrupt {
                        path: dir.join(INDEX_FILE),
                        message: format!("HNSW graph: {message}"),
                    }
                })?,
            )),
        };
        let mut index = Self::new(meta, parts.chunks, parts.vectors);
        index.ann = ann;
        index.lexical = lexical;
        index.dir = Some(dir.to_path_buf());
        Ok(index)
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
                language: "es".into(),
                lexical: None,
                calibration: None,
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
