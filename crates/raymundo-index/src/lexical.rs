//! BM25 over the chunks, with `tantivy`.
//!
//! One tantivy document per chunk: its body, its title and section path, and a field of
//! *codes* (product codes, error numbers, model names such as `AX-200` or `E-17`, joined into
//! one token `ax200` so that a question naming a code finds exactly it). The text analysis is
//! per language: lower-casing, stop words, accent folding, then the Snowball stemmer, so that
//! `información`, `informacion` and `informaciones` meet. Folding comes before stemming
//! because people write on their phones without accents.
//!
//! The BM25 index lives in a folder of its own next to `index.rmx`, named in the index header,
//! and is rebuilt incrementally: a new folder starts as hard links to the previous one's
//! immutable segment files, the changed documents are deleted and re-added, and only then does
//! the new `index.rmx` point at it.

use raymundo_core::Chunk;
use std::collections::HashSet;
use std::path::Path;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
    TextAnalyzer,
};
use tantivy::{doc, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::IndexError;

/// Name of the analyzer registered in every lexical index.
const ANALYZER: &str = "raymundo";
/// Separator of a chunk's key (`path \u{1f} position`): cannot occur in a path.
const KEY_SEP: char = '\u{1f}';
/// Boost of a match in the codes field relative to the body.
const CODE_BOOST: f32 = 2.0;
/// Boost of a match in the title and section path.
const TITLE_BOOST: f32 = 0.6;
/// Heap given to tantivy's single indexing thread.
const WRITER_HEAP: usize = 32 * 1024 * 1024;

/// Language of the text analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexicalLanguage {
    /// Spanish stop words and stemmer.
    Spanish,
    /// English stop words and stemmer.
    English,
}

impl LexicalLanguage {
    /// The language for an ISO 639-1 code (`es`, `en`); Spanish for anything else.
    pub fn from_code(code: &str) -> Self {
        match code {
            "en" => Self::English,
            _ => Self::Spanish,
        }
    }

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Spanish => "es",
            Self::English => "en",
        }
    }

    fn tantivy(self) -> tantivy::tokenizer::Language {
        match self {
            Self::Spanish => tantivy::tokenizer::Language::Spanish,
            Self::English => tantivy::tokenizer::Language::English,
        }
    }
}

/// Words that ask rather than name what is asked about (question words, greetings, "I would
/// like to know", "please"), in Spanish and English, with and without accents (the stop-word
/// filter runs before accents are folded): left out of the coverage signal, whatever the corpus.
#[rustfmt::skip]
pub const REQUEST_WORDS: &[&str] = &[
    "qué", "que", "cuál", "cual", "cuáles", "cuales", "cuánto", "cuanto", "cuánta", "cuanta",
    "cuántos", "cuantos", "cuántas", "cuantas", "cómo", "como", "dónde", "donde", "cuándo",
    "cuando", "quién", "quien", "quiénes", "quienes",
    "hola", "buenas", "buenos", "gracias", "favor", "quiero", "quisiera", "quería", "queria",
    "necesito", "necesitaría", "saber", "preguntar", "pregunta", "duda", "ayuda", "ayudar",
    "ayudarme", "ayúdame", "ayudame", "puedo", "puede", "pueden", "podría", "podria", "podrían",
    "podrian", "gustaría", "gustaria", "decir", "dime", "dígame", "digame", "información",
    "informacion", "info", "explicar", "explícame", "explicame", "oiga", "disculpe", "disculpa",
    "what", "which", "how", "where", "when", "who", "why", "much", "many", "hi", "hello", "hey",
    "thanks", "please", "want", "wanted", "need", "know", "tell", "could", "would", "like",
    "help", "question", "information", "explain",
];

/// The text analysis used for both documents and queries.
pub fn analyzer(language: LexicalLanguage) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(
            StopWordFilter::new(language.tantivy())
                .unwrap_or_else(|| StopWordFilter::remove(Vec::<String>::new())),
        )
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(language.tantivy()));
    builder.build()
}

/// The terms `text` analyses to, in order (repeats kept).
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Codes in `text`: words made of letters and digits joined by `-`, `.`, `/` or `_`, with at
/// least one digit and one separator or letter-digit mix (`AX-200`, `E-17`, `RB5000`), lower-cased
/// and joined (`ax200`, `e17`, `rb5000`).
pub fn codes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || ",;:()[]{}¿?¡!\"'«»".contains(c)) {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        if word.is_empty() || word.len() > 40 {
            continue;
        }
        let joined: String = word
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let has_digit = joined.chars().any(|c| c.is_ascii_digit());
        let has_alpha = joined.chars().any(|c| c.is_alphabetic());
        let only_allowed = word
            .chars()
            .all(|c| c.is_alphanumeric() || "-./_".contains(c));
        if only_allowed && has_digit && has_alpha && joined.len() >= 2 {
            out.push(joined);
        }
    }
    out
}

/// The text fields BM25 scores, each with its own statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextField {
    /// The chunk's text.
    Body,
    /// The document title and the section path.
    Title,
    /// The codes of [`codes`].
    Codes,
}

impl TextField {
    /// The three fields, in the order of [`field_texts`].
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) const ALL: [TextField; 3] = [Self::Body, Self::Title, Self::Codes];

    /// Weight of a match in this field relative to the body.
    pub(crate) fn boost(self) -> f32 {
        match self {
            Self::Body => 1.0,
            Self::Title => TITLE_BOOST,
            Self::Codes => CODE_BOOST,
        }
    }
}

/// What each field of [`TextField::ALL`] indexes of `chunk` (before analysis).
pub(crate) fn field_texts(chunk: &Chunk) -> [String; 3] {
    let title = match &chunk.section {
        Some(s) => format!("{} {}", chunk.title, s),
        None => chunk.title.clone(),
    };
    let codes = codes(&format!("{title} {}", chunk.text)).join(" ");
    [chunk.text.clone(), title, codes]
}

/// The query's BM25 clauses: each analysed term (once) in the body and the title, and each
/// code (once, as written by [`codes`]) in the codes field.
pub(crate) fn query_clauses(analyzer: &mut TextAnalyzer, query: &str) -> Vec<(TextField, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in analyze(analyzer, query) {
        if seen.insert(t.clone()) {
            out.push((TextField::Body, t.clone()));
            out.push((TextField::Title, t));
        }
    }
    for code in codes(query) {
        if seen.insert(format!("code:{code}")) {
            out.push((TextField::Codes, code));
        }
    }
    out
}

/// The analysed query terms the coverage signal weighs, repeats and [`REQUEST_WORDS`] removed.
pub(crate) fn coverage_terms(analyzer: &mut TextAnalyzer, query: &str) -> Vec<String> {
    let mut seen: HashSet<String> = REQUEST_WORDS
        .iter()
        .flat_map(|w| analyze(analyzer, w))
        .collect();
    analyze(analyzer, query)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// BM25's inverse document frequency, as tantivy computes it: `ln(1 + (N - df + 0.5) / (df + 0.5))`.
pub(crate) fn bm25_idf(df: u64, n: u64) -> f32 {
    let df = df.min(n) as f32;
    (1.0 + (n as f32 - df + 0.5) / (df + 0.5)).ln()
}

/// A chunk's key in the lexical index.
fn key(doc: &str, position: usize) -> String {
    format!("{doc}{KEY_SEP}{position}")
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    key: Field,
    doc: Field,
    source: Field,
    intent: Field,
    title: Field,
    body: Field,
    codes: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        doc: b.add_text_field("doc", STRING),
        source: b.add_text_field("source", STRING),
        intent: b.add_text_field("intent", STRING),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text.clone()),
        codes: b.add_text_field("codes", text),
    };
    (b.build(), fields)
}

fn fields_of(schema: &Schema) -> Result<Fields, String> {
    let get = |name: &str| {
        schema
            .get_field(name)
            .map_err(|_| format!("the BM25 index has no `{name}` field"))
    };
    Ok(Fields {
        key: get("key")?,
        doc: get("doc")?,
        source: get("source")?,
        intent: get("intent")?,
        title: get("title")?,
        body: get("body")?,
        codes: get("codes")?,
    })
}

fn corrupt(dir: &Path, e: impl std::fmt::Display) -> IndexError {
    IndexError::Corrupt {
        path: dir.to_path_buf(),
        message: format!("BM25 index: {e}"),
    }
}

/// Restricts a search to chunks of one source label and/or one intent label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only chunks with this source label (`faq`, `manual` ...).
    pub source: Option<String>,
    /// Only chunks with this intent label.
    pub intent: Option<String>,
}

impl Filter {
    /// True when the filter lets every chunk through.
    pub fn is_empty(&self) -> bool {
        self.source.is_none() && self.intent.is_none()
    }

    /// True when `chunk` passes.
    pub fn matches(&self, chunk: &Chunk) -> bool {
        self.source.as_ref().is_none_or(|s| &chunk.source == s)
            && self
                .intent
                .as_ref()
                .is_none_or(|i| chunk.intent.as_ref() == Some(i))
    }
}

/// A BM25 match: the chunk's document path and position, and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalHit {
    /// Document path.
    pub doc: String,
    /// Chunk position in the document.
    pub position: usize,
    /// BM25 score (summed over fields), higher is better.
    pub score: f32,
}

/// An opened BM25 index, ready to search.
#[derive(Clone)]
pub struct Lexical {
    reader: IndexReader,
    fields: Fields,
    language: LexicalLanguage,
}

impl std::fmt::Debug for Lexical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexical")
            .field("language", &self.language)
            .field("chunks", &self.reader.searcher().num_docs())
            .finish()
    }
}

fn register(index: &tantivy::Index, language: LexicalLanguage) {
    index.tokenizers().register(ANALYZER, analyzer(language));
}

impl Lexical {
    /// Opens the BM25 index in `dir`, analysed in `language`.
    pub fn open(dir: &Path, language: LexicalLanguage) -> Result<Self, IndexError> {
        if !dir.join("meta.json").is_file() {
            return Err(corrupt(dir, "missing (meta.json not found)"));
        }
        let index = tantivy::Index::open_in_dir(dir).map_err(|e| corrupt(dir, e))?;
        register(&index, language);
        let fields = fields_of(&index.schema()).map_err(|e| corrupt(dir, e))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| corrupt(dir, e))?;
        Ok(Self {
            reader,
            fields,
            language,
        })
    }

    /// Number of chunks indexed.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// True when no chunk is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The analyzer of this index.
    pub fn analyzer(&self) -> TextAnalyzer {
        analyzer(self.language)
    }

    /// The analysed query terms with their inverse document frequency in the body field
    /// (`ln(1 + (N - df + 0.5) / (df + 0.5))`, as BM25 weighs them), repeats removed. Words
    /// of asking rather than of the topic (`cuánto`, `quisiera`, `saber`, `please`:
    /// [`REQUEST_WORDS`]) are left out: they are not what the question is about.
    pub fn query_terms(&self, query: &str) -> Vec<(String, f32)> {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs();
        coverage_terms(&mut self.analyzer(), query)
            .into_iter()
            .map(|t| {
                let term = Term::from_field_text(self.fields.body, &t);
                let df = searcher.doc_freq(&term).unwrap_or(0);
                let idf = bm25_idf(df, n);
                (t, idf)
            })
            .collect()
    }

    /// The `n` best chunks for `query` by BM25 over body, title and codes; `filter` applies.
    pub fn search(
        &self,
        query: &str,
        n: usize,
        filter: &Filter,
    ) -> Result<Vec<LexicalHit>, IndexError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let should: Vec<(Occur, Box<dyn Query>)> = query_clauses(&mut self.analyzer(), query)
            .into_iter()
            .map(|(field, text)| {
                let tantivy_field = match field {
                    TextField::Body => f.body,
                    TextField::Title => f.title,
                    TextField::Codes => f.codes,
                };
                let q = TermQuery::new(
                    Term::from_field_text(tantivy_field, &text),
                    IndexRecordOption::WithFreqs,
                );
                (Occur::Should, boost_query(Box::new(q), field.boost()))
            })
            .collect();
        if should.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        // Filters restrict without scoring: a filtered search ranks and scores the chunks it
        // keeps as the unfiltered one does.
        if let Some(s) = &filter.source {
            clauses.push((Occur::Must, filter_query(f.source, s)));
        }
        if let Some(i) = &filter.intent {
            clauses.push((Occur::Must, filter_query(f.intent, i)));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(n).order_by_score())
            .map_err(|e| IndexError::Invalid(format!("BM25 search failed: {e}")))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let stored: TantivyDocument = searcher
                .doc(address)
                .map_err(|e| IndexError::Invalid(format!("BM25 stored document: {e}")))?;
            let Some(key) = stored.get_first(f.key).and_then(|v| v.as_str()) else {
                continue;
            };
            let Some((doc, pos)) = key.rsplit_once(KEY_SEP) else {
                continue;
            };
            let Ok(position) = pos.parse() else { continue };
            out.push(LexicalHit {
                doc: doc.to_string(),
                position,
                score,
            });
        }
        Ok(out)
    }
}

fn boost_query(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if (boost - 1.0).abs() < f32::EPSILON {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

fn filter_query(field: Field, value: &str) -> Box<dyn Query> {
    let term = TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    );
    Box::new(ConstScoreQuery::new(Box::new(term), 0.0))
}

/// Writes a BM25 index folder: a fresh one, or one derived from a previous build.
pub struct LexicalWriter {
    index: tantivy::Index,
    writer: IndexWriter,
    fields: Fields,
    dir: std::path::PathBuf,
}

impl std::fmt::Debug for LexicalWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexicalWriter")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl LexicalWriter {
    /// Starts an empty BM25 index in `dir` (created; must not hold an index yet).
    pub fn create(dir: &Path, language: LexicalLanguage) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir).map_err(|source| IndexError::Io {
            context: format!("creating {}", dir.display()),
            source,
        })?;
        let (schema, fields) = schema();
        let index = tantivy::Index::create_in_dir(dir, schema).map_err(|e| corrupt(dir, e))?;
        Self::with_index(index, fields, dir, language)
    }

    /// Starts `dir` as a copy of the BM25 index in `previous` (hard links to its immutable
    /// files where the file system allows, copies otherwise), to be updated incrementally.
    pub fn derive(
        previous: &Path,
        dir: &Path,
        language: LexicalLanguage,
    ) -> Result<Self, IndexError> {
        let io = |context: String| move |source| IndexError::Io { context, source };
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let entries =
            std::fs::read_dir(previous).map_err(io(format!("reading {}", previous.display())))?;
        for entry in entries {
            let entry = entry.map_err(io(format!("reading {}", previous.display())))?;
            let name = entry.file_name();
            let name_str = name.to_string_lossy();
            // Lock files belong to a writer of the previous folder, never shared.
            if name_str.starts_with(".tantivy-") || !entry.path().is_file() {
                continue;
            }
            let target = dir.join(&name);
            if std::fs::hard_link(entry.path(), &target).is_err() {
                std::fs::copy(entry.path(), &target)
                    .map_err(io(format!("copying {}", entry.path().display())))?;
            }
        }
        let index = tantivy::Index::open_in_dir(dir).map_err(|e| corrupt(previous, e))?;
        let fields = fields_of(&index.schema()).map_err(|e| corrupt(previous, e))?;
        Self::with_index(index, fields, dir, language)
    }

    fn with_index(
        index: tantivy::Index,
        fields: Fields,
        dir: &Path,
        language: LexicalLanguage,
    ) -> Result<Self, IndexError> {
        register(&index, language);
        let writer = index
            .writer_with_num_threads(1, WRITER_HEAP)
            .map_err(|e| corrupt(dir, e))?;
        Ok(Self {
            index,
            writer,
            fields,
            dir: dir.to_path_buf(),
        })
    }

    /// Removes every chunk of the document at `path`.
    pub fn remove_document(&mut self, path: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.doc, path));
    }

    /// Adds one chunk.
    pub fn add_chunk(&mut self, chunk: &Chunk) -> Result<(), IndexError> {
        let f = self.fields;
        let [body, title, codes] = field_texts(chunk);
        let mut d = doc!(
            f.key => key(&chunk.doc, chunk.position),
            f.doc => chunk.doc.as_str(),
            f.source => chunk.source.as_str(),
            f.title => title,
            f.body => body,
            f.codes => codes,
        );
        if let Some(i) = &chunk.intent {
            d.add_text(f.intent, i);
        }
        self.writer
            .add_document(d)
            .map_err(|e| IndexError::Invalid(format!("BM25 indexing {}: {e}", chunk.id())))?;
        Ok(())
    }

    /// Commits everything, waits for merges, and syncs the folder.
    pub fn commit(mut self) -> Result<(), IndexError> {
        let dir = self.dir.clone();
        self.writer.commit().map_err(|e| corrupt(&dir, e))?;
        self.writer
            .wait_merging_threads()
            .map_err(|e| corrupt(&dir, e))?;
        // Drop files of merged-away segments so the folder holds one generation only.
        if let Ok(w) = self
            .index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_HEAP)
        {
            let _ = w.garbage_collect_files().wait();
        }
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
