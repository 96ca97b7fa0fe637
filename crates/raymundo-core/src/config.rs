//! Layered project configuration: built-in defaults, then `raymundo.toml`, then `RAYMUNDO_*`
//! environment variables. Validated once, with errors that name the file and the field.

use crate::llm_config::LlmConfig;
use crate::server_config::ServerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Name of the configuration file at a project's root.
pub const CONFIG_FILE: &str = "raymundo.toml";

/// A configuration problem, naming where it was found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong or unknown field.
    #[error("invalid {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong, with line and column.
        message: String,
    },
    /// A value is out of its allowed range.
    #[error("invalid setting {field}: {message}")]
    Invalid {
        /// The dotted field name, e.g. `chunking.max_tokens`.
        field: String,
        /// What was expected.
        message: String,
    },
}

/// Which embedding model a project uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ModelChoice {
    /// Pick by the documents' language at build time (Spanish and other: e5; English: MiniLM).
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// `intfloat/multilingual-e5-small` (384-d, multilingual).
    #[serde(rename = "multilingual-e5-small")]
    MultilingualE5Small,
    /// `sentence-transformers/all-MiniLM-L6-v2` (384-d, English).
    #[serde(rename = "all-MiniLM-L6-v2")]
    AllMiniLmL6V2,
}

impl ModelChoice {
    /// Parses the names accepted in `raymundo.toml` and on the command line.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "multilingual-e5-small" | "e5" | "e5-small" | "intfloat/multilingual-e5-small" => {
                Some(Self::MultilingualE5Small)
            }
            "all-minilm-l6-v2" | "minilm" | "sentence-transformers/all-minilm-l6-v2" => {
                Some(Self::AllMiniLmL6V2)
            }
            _ => None,
        }
    }

    /// The canonical name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::MultilingualE5Small => "multilingual-e5-small",
            Self::AllMiniLmL6V2 => "all-MiniLM-L6-v2",
        }
    }
}

/// The arithmetic of the embedding model's matrix products (`embedding.precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingPrecision {
    /// 8-bit where the CPU has integer SIMD (AVX2 or AVX-512 VNNI), `f32` elsewhere.
    #[default]
    Auto,
    /// 8-bit weights and activations (faster; cosine to `f32` above 0.99).
    Int8,
    /// 32-bit floats throughout.
    F32,
}

impl EmbeddingPrecision {
    /// Parses `auto`, `int8` or `f32`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "int8" => Some(Self::Int8),
            "f32" => Some(Self::F32),
            _ => None,
        }
    }
}

/// Embedding settings (`[embedding]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingConfig {
    /// Model to use; `auto` picks by the documents' language.
    pub model: ModelChoice,
    /// Texts per forward pass.
    pub batch_size: usize,
    /// Threads for the model (0: one per physical core).
    pub threads: usize,
    /// Arithmetic of the matrix products: `auto`, `int8` or `f32`.
    pub precision: EmbeddingPrecision,
}

impl Default for EmbeddingConfig {
    fn default() -> Self {
        Self {
            model: ModelChoice::Auto,
            batch_size: 16,
            threads: 0,
            precision: EmbeddingPrecision::Auto,
        }
    }
}

/// Chunking settings (`[chunking]`), in the embedding model's tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChunkingConfig {
    /// Chunks shorter than this are merged with their neighbours when possible.
    pub min_tokens: usize,
    /// Hard upper bound of a chunk (also capped by the model's maximum input).
    pub max_tokens: usize,
    /// Tokens repeated from the end of one chunk at the start of the next when a section is split.
    pub overlap_tokens: usize,
}

impl Default for ChunkingConfig {
    fn default() -> Self {
        Self {
            min_tokens: 200,
            max_tokens: 500,
            overlap_tokens: 40,
        }
    }
}

/// The dense weight of `weighted` fusion when neither `raymundo.toml` nor the index's
/// build-time calibration gives one.
pub const DEFAULT_DENSE_WEIGHT: f32 = 0.7;

/// Retrieval settings (`[retrieval]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrievalConfig {
    /// Passages retrieved for an answer.
    pub top_k: usize,
    /// A question whose best passage scores below this is out of scope. `None`: the model's
    /// calibrated default.
    pub min_score: Option<f32>,
    /// How dense (vector) and BM25 results are combined.
    pub fusion: Fusion,
    /// Candidates taken from each of dense and BM25 search before fusion.
    pub candidates: usize,
    /// The `k` of reciprocal rank fusion: `score = sum 1 / (rrf_k + rank)`.
    pub rrf_k: f32,
    /// Weight of the dense score in `weighted` fusion (BM25 gets `1 - dense_weight`).
    /// `None`: the weight chosen on the documents at build time (else
    /// [`DEFAULT_DENSE_WEIGHT`]).
    pub dense_weight: Option<f32>,
    /// Maximal marginal relevance re-ranking: `None` off, else lambda in [0, 1] (1 = pure
    /// relevance, lower = more diverse results).
    pub mmr_lambda: Option<f32>,
    /// Neighbouring chunks (before and after) added to each answer passage, for answers that
    /// straddle a chunk boundary. 0 = none.
    pub neighbours: usize,
    /// A question whose terms are mostly absent from the best passages is out of scope: the
    /// IDF-weighted share of its terms that one of the top passages contains must reach
    /// this. `None`: the model's calibrated default; 0 disables the check.
    pub min_coverage: Option<f32>,
    /// Use the scope thresholds that `raymundo build` chose on the documents (recorded in the
    /// index) instead of the model's defaults when `min_score` / `min_coverage` are unset.
    /// Off by default while that choice is still measured to answer more out-of-scope
    /// questions than the defaults on the sample company (see the README).
    pub guard_from_documents: bool,
    /// Above this many chunks, vectors are searched with an HNSW graph instead of exactly.
    pub ann_threshold: usize,
    /// HNSW search breadth (higher: better recall, slower). `None`: 160 up to 300k chunks,
    /// 384 above (recall@10 >= 0.98 against exact search, measured).
    pub ef_search: Option<usize>,
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        Self {
            top_k: 4,
            min_score: None,
            fusion: Fusion::Weighted,
            candidates: 40,
            rrf_k: 60.0,
            dense_weight: None,
            mmr_lambda: None,
            neighbours: 0,
            min_coverage: None,
            guard_from_documents: false,
            ann_threshold: 20_000,
            ef_search: None,
        }
    }
}

/// How dense and BM25 results are combined (`[retrieval] fusion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fusion {
    /// Reciprocal rank fusion of both lists.
    Rrf,
    /// `dense_weight * cosine + (1 - dense_weight) * BM25 / best BM25`.
    Weighted,
    /// Vectors only.
    Dense,
    /// BM25 only.
    Bm25,
}

impl Fusion {
    /// Parses `rrf`, `weighted`, `dense` or `bm25`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rrf" => Some(Self::Rrf),
            "weighted" => Some(Self::Weighted),
            "dense" => Some(Self::Dense),
            "bm25" => Some(Self::Bm25),
            _ => None,
        }
    }

    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rrf => "rrf",
            Self::Weighted => "weighted",
            Self::Dense => "dense",
            Self::Bm25 => "bm25",
        }
    }
}

/// Answer settings (`[answer]`); user-facing text is Spanish by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnswerConfig {
    /// Reply when the question is out of scope.
    pub out_of_scope: String,
    /// Heading printed before the list of sources.
    pub sources_heading: String,
    /// Sentences in an extractive answer.
    pub max_sentences: usize,
    /// Words in an extractive answer: sentences after the first are added only while the
    /// reply stays within this many.
    pub max_words: usize,
    /// Reply after `/reset` or "olvida todo" cleared the conversation.
    pub forgotten: String,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        Self {
            out_of_scope: "Lo siento, no tengo esa información en los documentos de la empresa. \
                           ¿Quieres que te comunique con una persona del equipo?"
                .to_string(),
            sources_heading: "Fuentes".to_string(),
            max_sentences: 3,
            max_words: 60,
            forgotten: "Listo, olvidé nuestra conversación. ¿En qué te puedo ayudar?".to_string(),
        }
    }
}

/// Intent settings (`[intents]`): recognition, conversation and actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntentsConfig {
    /// The intents file, relative to the project root.
    pub file: PathBuf,
    /// Classification method: `trained` (default), `centroid` or `nearest`.
    pub method: String,
    /// Confidence a message needs to count as an intent (default: the method's measured one).
    pub min_confidence: Option<f32>,
    /// Lead over the runner-up a message needs (default: the method's measured one).
    pub min_margin: Option<f32>,
    /// Use the thresholds chosen by cross-validation over the intents' own examples (shown
    /// by `raymundo eval intents`) when `min_confidence` / `min_margin` are unset, instead of
    /// the method's fixed defaults. Off by default until measured on public intent sets.
    pub thresholds_from_examples: bool,
    /// Document sentences used as no-intent training messages.
    pub document_negatives: usize,
    /// Where actions write files (presentations), relative to the project root.
    pub output_dir: PathBuf,
    /// Where hand-offs to a person are recorded (JSON lines), relative to the project root.
    pub handoff_log: PathBuf,
    /// Reply when the conversation is handed to a person.
    pub handoff_reply: String,
    /// Reply when the user cancels a pending request.
    pub cancelled_reply: String,
    /// Reply when an action fails (the cause goes to the log).
    pub action_failed_reply: String,
    /// A pending request older than this many minutes is forgotten.
    pub pending_ttl_minutes: u64,
}

impl Default for IntentsConfig {
    fn default() -> Self {
        Self {
            file: "data/intents.json".into(),
            method: "trained".into(),
            min_confidence: None,
            min_margin: None,
            thresholds_from_examples: false,
            document_negatives: 200,
            output_dir: "data/output".into(),
            handoff_log: "data/logs/handoffs.jsonl".into(),
            handoff_reply:
                "Te comunico con una persona del equipo; te escribirá por este medio en \
                            cuanto esté disponible."
                    .to_string(),
            cancelled_reply: "Listo, lo cancelé. ¿En qué más te puedo ayudar?".to_string(),
            action_failed_reply: "No pude completar tu solicitud en este momento. Inténtalo más \
                                  tarde o pide hablar con una persona."
                .to_string(),
            pending_ttl_minutes: 30,
        }
    }
}

/// Personal-data scrubbing settings (`[pii]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiConfig {
    /// The company's own public contacts that must not be scrubbed: phone numbers in any
    /// format, e-mail addresses, or `@domain` for every address of a domain.
    pub allow: Vec<String>,
}

/// Paths of a project (`[paths]`), relative to the project root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    /// The company's documents.
    pub docs: PathBuf,
    /// Built index artifacts.
    pub index: PathBuf,
}

impl Default for PathsConfig {
    fn default() -> Self {
        Self {
            docs: "data/docs".into(),
            index: "data/index".into(),
        }
    }
}

/// Where the index lives (`[index] backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexBackend {
    /// Files under `[paths] index` (the embedded default).
    #[default]
    File,
    /// Tables in PostgreSQL with pgvector, shared by every server of the database.
    Postgres,
}

impl IndexBackend {
    /// Parses `file` or `postgres`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "file" => Some(Self::File),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

/// The index's backend (`[index]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    /// `file` (default) or `postgres`.
    pub backend: IndexBackend,
    /// The PostgreSQL URL of the index; `None`: the project's database (`RAYMUNDO_DATABASE_URL`
    /// or `[server] database`), which must then be a `postgres://` URL.
    pub database: Option<String>,
}

/// A project's configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Embedding model settings.
    pub embedding: EmbeddingConfig,
    /// Chunk sizes.
    pub chunking: ChunkingConfig,
    /// Retrieval settings.
    pub retrieval: RetrievalConfig,
    /// Answer texts and sizes.
    pub answer: AnswerConfig,
    /// Personal-data scrubbing.
    pub pii: PiiConfig,
    /// Where documents and the index live.
    pub paths: PathsConfig,
    /// The index's backend: files (default) or PostgreSQL.
    pub index: IndexConfig,
    /// Intents, conversation and actions.
    pub intents: IntentsConfig,
    /// Language models: the answer chain, prompt and memory.
    pub llm: LlmConfig,
    /// `raymundo serve`: webhook, queue, sending, replies of the channels.
    pub server: ServerConfig,
    /// Project root (not read from the file; set by [`Config::load`]).
    #[serde(skip)]
    pub root: PathBuf,
}

impl Config {
    /// Loads `raymundo.toml` from `root` (defaults if absent), then applies `RAYMUNDO_*`
    /// environment overrides, then validates.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        let path = root.join(CONFIG_FILE);
        let mut config = if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            Self::parse(&text).map_err(|message| ConfigError::Parse {
                path: path.clone(),
                message,
            })?
        } else {
            Self::default()
        };
        config.root = root.to_path_buf();
        config.apply_env(|k| std::env::var(k).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text; the message names the line, column and field on error.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Applies `RAYMUNDO_EMBEDDING_MODEL`, `RAYMUNDO_EMBEDDING_PRECISION`, `RAYMUNDO_TOP_K`,
    /// `RAYMUNDO_MIN_SCORE` and `RAYMUNDO_FUSION`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("RAYMUNDO_EMBEDDING_PRECISION") {
            self.embedding.precision =
                EmbeddingPrecision::parse(&v).ok_or_else(|| ConfigError::Invalid {
                    field: "RAYMUNDO_EMBEDDING_PRECISION".into(),
                    message: format!("unknown precision {v:?}; expected auto, int8 or f32"),
                })?;
        }
        if let Some(v) = var("RAYMUNDO_EMBEDDING_MODEL") {
            self.embedding.model = ModelChoice::parse(&v).ok_or_else(|| ConfigError::Invalid {
                field: "RAYMUNDO_EMBEDDING_MODEL".into(),
                message: format!(
                    "unknown model {v:?}; expected auto, multilingual-e5-small or all-MiniLM-L6-v2"
                ),
            })?;
        }
        if let Some(v) = var("RAYMUNDO_TOP_K") {
            self.retrieval.top_k = v.parse().map_err(|_| ConfigError::Invalid {
                field: "RAYMUNDO_TOP_K".into(),
                message: format!("expected a positive integer, got {v:?}"),
            })?;
        }
        if let Some(v) = var("RAYMUNDO_MIN_SCORE") {
            let score: f32 = v.parse().map_err(|_| ConfigError::Invalid {
                field: "RAYMUNDO_MIN_SCORE".into(),
                message: format!("expected a number between -1 and 1, got {v:?}"),
            })?;
            self.retrieval.min_score = Some(score);
        }
        if let Some(v) = var("RAYMUNDO_INDEX_BACKEND") {
            self.index.backend = IndexBackend::parse(&v).ok_or_else(|| ConfigError::Invalid {
                field: "RAYMUNDO_INDEX_BACKEND".into(),
                message: format!("unknown index backend {v:?}; expected file or postgres"),
            })?;
        }
        if let Some(v) = var("RAYMUNDO_FUSION") {
            self.retrieval.fusion = Fusion::parse(&v).ok_or_else(|| ConfigError::Invalid {
                field: "RAYMUNDO_FUSION".into(),
                message: format!("unknown fusion {v:?}; expected rrf, weighted, dense or bm25"),
            })?;
        }
        Ok(())
    }

    /// Checks ranges and relations between settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| {
            Err(ConfigError::Invalid {
                field: field.to_string(),
                message,
            })
        };
        let c = &self.chunking;
        if c.max_tokens < 16 {
            return invalid(
                "chunking.max_tokens",
                format!("must be at least 16, got {}", c.max_tokens),
            );
        }
        if c.min_tokens > c.max_tokens {
            return invalid(
                "chunking.min_tokens",
                format!(
                    "{} is larger than chunking.max_tokens ({})",
                    c.min_tokens, c.max_tokens
                ),
            );
        }
        if c.overlap_tokens * 2 > c.max_tokens {
            return invalid(
                "chunking.overlap_tokens",
                format!(
                    "{} must be at most half of chunking.max_tokens",
                    c.overlap_tokens
                ),
            );
        }
        if self.retrieval.top_k == 0 || self.retrieval.top_k > 100 {
            return invalid(
                "retrieval.top_k",
                format!("must be 1..=100, got {}", self.retrieval.top_k),
            );
        }
        if let Some(s) = self.retrieval.min_score {
            if !(-1.0..=1.0).contains(&s) {
                return invalid(
                    "retrieval.min_score",
                    format!("must be in [-1, 1], got {s}"),
                );
            }
        }
        let r = &self.retrieval;
        if r.candidates < r.top_k || r.candidates > 10_000 {
            return invalid(
                "retrieval.candidates",
                format!(
                    "must be between retrieval.top_k ({}) and 10000, got {}",
                    r.top_k, r.candidates
                ),
            );
        }
        if r.rrf_k.is_nan() || r.rrf_k <= 0.0 {
            return invalid(
                "retrieval.rrf_k",
                format!("must be positive, got {}", r.rrf_k),
            );
        }
        for (field, value) in [
            ("retrieval.dense_weight", r.dense_weight),
            ("retrieval.mmr_lambda", r.mmr_lambda),
            ("retrieval.min_coverage", r.min_coverage),
        ] {
            if let Some(v) = value {
                if !(0.0..=1.0).contains(&v) {
                    return invalid(field, format!("must be in [0, 1], got {v}"));
                }
            }
        }
        if r.neighbours > 5 {
            return invalid(
                "retrieval.neighbours",
                format!("must be 0..=5, got {}", r.neighbours),
            );
        }
        if r.ef_search == Some(0) {
            return invalid("retrieval.ef_search", "must be at least 1".into());
        }
        let i = &self.intents;
        if !["trained", "centroid", "nearest"].contains(&i.method.as_str()) {
            return invalid(
                "intents.method",
                format!(
                    "unknown method {:?}; expected trained, centroid or nearest",
                    i.method
                ),
            );
        }
        for (field, value) in [
            ("intents.min_confidence", i.min_confidence),
            ("intents.min_margin", i.min_margin),
        ] {
            if let Some(v) = value {
                if !(0.0..=1.0).contains(&v) {
                    return invalid(field, format!("must be in [0, 1], got {v}"));
                }
            }
        }
        if self.embedding.batch_size == 0 {
            return invalid("embedding.batch_size", "must be at least 1".into());
        }
        if let Err((field, message)) = self.llm.check() {
            return invalid(&field, message);
        }
        if let Err((field, message)) = self.server.check() {
            return invalid(&field, message);
        }
        Ok(())
    }

    /// Absolute path of the documents folder.
    pub fn docs_dir(&self) -> PathBuf {
        self.root.join(&self.paths.docs)
    }

    /// Absolute path of the index folder.
    pub fn index_dir(&self) -> PathBuf {
        self.root.join(&self.paths.index)
    }

    /// Absolute path of the intents file.
    pub fn intents_file(&self) -> PathBuf {
        self.root.join(&self.intents.file)
    }

    /// Absolute path of the actions' output folder.
    pub fn output_dir(&self) -> PathBuf {
        self.root.join(&self.intents.output_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_named() {
        let err = Config::parse("[chunking]\nmax_tokenz = 3\n").unwrap_err();
        assert!(err.contains("max_tokenz"), "{err}");
    }

    #[test]
    fn model_names_parse() {
        let c = Config::parse("[embedding]\nmodel = \"all-MiniLM-L6-v2\"\n").unwrap();
        assert_eq!(c.embedding.model, ModelChoice::AllMiniLmL6V2);
        assert!(Config::parse("[embedding]\nmodel = \"gpt\"\n").is_err());
    }

    #[test]
    fn env_overrides_and_validation() {
        let mut c = Config::default();
        c.apply_env(|k| (k == "RAYMUNDO_MIN_SCORE").then(|| "0.8".to_string()))
            .unwrap();
        assert_eq!(c.retrieval.min_score, Some(0.8));
        c.chunking.min_tokens = 900;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("chunking.min_tokens"), "{err}");
    }

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.retrieval.top_k, 4);
        assert_eq!(c.docs_dir(), dir.path().join("data/docs"));
    }
}
