//! Domain types that flow through the pipeline.

use serde::{Deserialize, Serialize};

/// A loaded, normalised and PII-scrubbed document, ready to be chunked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Path relative to `data/docs/`, with `/` separators (e.g. `faq/envios.md`). Unique.
    pub path: String,
    /// Source label: the first folder under `data/docs/` or the front matter's `source`.
    pub source: String,
    /// Intent label from front matter, if any.
    pub intent: Option<String>,
    /// Title from front matter, the first heading, or the file name.
    pub title: String,
    /// Normalised, scrubbed text; paragraphs separated by blank lines, headings as `# ...` lines.
    pub text: String,
    /// SHA-256 (hex) of the raw file bytes: unchanged files are not re-embedded.
    pub content_hash: String,
}

/// A piece of a document small enough to embed, with the metadata needed to cite it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Document path relative to `data/docs/`.
    pub doc: String,
    /// Zero-based position of the chunk within its document.
    pub position: usize,
    /// Source label (faq, manual, email, other ...).
    pub source: String,
    /// Intent label, if the document carries one.
    pub intent: Option<String>,
    /// Document title.
    pub title: String,
    /// The heading path the chunk sits under, if any (e.g. `Envíos > Tiempos de entrega`).
    pub section: Option<String>,
    /// The chunk's text.
    pub text: String,
    /// Length in the embedding model's tokens.
    pub tokens: usize,
}

impl Chunk {
    /// A stable id: `doc#position`.
    pub fn id(&self) -> String {
        format!("{}#{}", self.doc, self.position)
    }
}

/// One search result: a chunk and how well it matches the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The ranking score, higher is better: the cosine similarity for dense search, the fused
    /// score for hybrid search.
    pub score: f32,
    /// Cosine similarity of the chunk's vector to the query's.
    pub dense: f32,
    /// BM25 score, when the chunk was among the lexical matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical: Option<f32>,
    /// True for a neighbour of a retrieved chunk, added for context.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub neighbour: bool,
    /// The matched chunk.
    pub chunk: Chunk,
}

impl Hit {
    /// A hit of dense search only.
    pub fn dense(chunk: Chunk, cosine: f32) -> Self {
        Self {
            score: cosine,
            dense: cosine,
            lexical: None,
            neighbour: false,
            chunk,
        }
    }
}

/// A numbered source cited by an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    /// The citation number used in the answer text (`[1]`, `[2]` ...).
    pub number: usize,
    /// Document path relative to `data/docs/`.
    pub doc: String,
    /// Source label.
    pub source: String,
    /// Document title.
    pub title: String,
    /// Chunk position within the document.
    pub position: usize,
    /// Retrieval score of the chunk.
    pub score: f32,
}

/// The reply to a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Reply text shown to the user, with `[n]` citations when grounded.
    pub text: String,
    /// The sources cited, in citation order.
    pub sources: Vec<SourceRef>,
    /// Whether the question was judged answerable from the documents.
    pub in_scope: bool,
    /// Which answerer wrote the text (`extractive`, `out_of_scope`, an LLM provider ...).
    pub answered_by: String,
}
