//! A project's intents, ready to classify: the intents file plus a classifier trained on its
//! examples with the index's embedding model, cached in the index folder and retrained when
//! the intents, the model, the documents or the settings change.

use crate::project::Assistant;
use anyhow::{Context, Result};
use raymundo_core::Embedder;
use raymundo_intents::classify::{
    background_messages, cross_validation, document_sentences, Classification, Classifier, Method,
    Thresholds, TrainParams, TrainingSet,
};
use raymundo_intents::IntentSet;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Instant;

/// Folds of the cross-validation that chooses thresholds for the intents file.
const CV_FOLDS: usize = 5;
/// Held-out no-intent messages the cross-validated thresholds may accept.
const CV_MAX_FP: f32 = 0.05;
/// Margins tried by the cross-validation.
const CV_MARGINS: [f32; 4] = [0.0, 0.05, 0.1, 0.2];

/// The intents of a project and their classifier.
pub struct IntentEngine {
    /// The intents file, parsed.
    pub set: IntentSet,
    /// The trained classifier.
    pub classifier: Classifier,
    /// Where the classifier is cached.
    pub cache: PathBuf,
    /// Whether it was trained now (rather than read from the cache).
    pub trained_now: bool,
    /// Training time (embedding the examples and negatives, then fitting), when trained now.
    pub train_ms: f64,
}

/// The classifier's method from the configuration or an override.
pub fn method_of(assistant: &Assistant, name: Option<&str>) -> Result<Method> {
    let name = name.unwrap_or(&assistant.config.intents.method);
    Method::parse(name).with_context(|| {
        format!("unknown classification method {name:?}; expected trained, centroid or nearest")
    })
}

/// The thresholds for `method`: the configured ones for the configured method, the measured
/// defaults otherwise.
pub fn thresholds_of(assistant: &Assistant, method: Method) -> Thresholds {
    let d = method.default_thresholds();
    if method.as_str() != assistant.config.intents.method {
        return d;
    }
    Thresholds {
        min_confidence: assistant
            .config
            .intents
            .min_confidence
            .unwrap_or(d.min_confidence),
        min_margin: assistant.config.intents.min_margin.unwrap_or(d.min_margin),
    }
}

impl IntentEngine {
    /// Loads the project's intents and their classifier (training it if the cache is stale).
    /// `None` when the project has no intents file.
    pub fn load(assistant: &Assistant, method: Method) -> Result<Option<Self>> {
        let path = assistant.config.intents_file();
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let set = IntentSet::parse(&text, &path)?;
        if set.intents.is_empty() {
            return Ok(None);
        }
        let params = TrainParams::default();
        let negatives_max = assistant.config.intents.document_negatives;
        let mut h = Sha256::new();
        h.update(text.as_bytes());
        h.update(assistant.index.meta().model_id.as_bytes());
        // Examples embedded in 8 bits and in f32 differ slightly: train again on a switch.
        h.update(assistant.embedder.precision().as_bytes());
        h.update(method.as_str().as_bytes());
        h.update(serde_json::to_string(&params)?.as_bytes());
        // Version of what the cache holds (2: with the cross-validated thresholds; 3: with
        // intents left out as no intent in the cross-validation).
        h.update(b"classifier-cache-3");
        h.update(negatives_max.to_le_bytes());
        for m in background_messages() {
            h.update(m.as_bytes());
        }
        for d in &assistant.index.meta().documents {
            h.update(d.path.as_bytes());
            h.update(d.content_hash.as_bytes());
        }
        let fingerprint = format!("{:x}", h.finalize());
        let thresholds = thresholds_of(assistant, method);
        let i = &assistant.config.intents;
        let use_cross_validated = i.thresholds_from_examples
            && method.as_str() == i.method
            && i.min_confidence.is_none()
            && i.min_margin.is_none();
        let cache = assistant
            .config
            .index_dir()
            .join(format!("intents-{}.json", method.as_str()));
        if let Some(mut c) = std::fs::read_to_string(&cache)
            .ok()
            .and_then(|t| Classifier::from_json(&t))
            .filter(|c| c.fingerprint == fingerprint && c.dim() == assistant.embedder.dim())
        {
            c.thresholds = match (use_cross_validated, c.cross_validated) {
                (true, Some(cv)) => cv.thresholds,
                _ => thresholds,
            };
            return Ok(Some(Self {
                set,
                classifier: c,
                cache,
                trained_now: false,
                train_ms: 0.0,
            }));
        }
        let started = Instant::now();
        let names: Vec<String> = set.intents.iter().map(|i| i.name.clone()).collect();
        // Everything is embedded in one batched call (query side: messages, not passages).
        let mut texts: Vec<String> = Vec::new();
        let mut classes: Vec<usize> = Vec::new();
        for (c, intent) in set.intents.iter().enumerate() {
            for e in &intent.examples {
                texts.push(e.clone());
                classes.push(c);
            }
        }
        if method == Method::Trained {
            texts.extend(background_messages().into_iter().map(str::to_string));
            let chunks = assistant
                .index
                .texts()
                .context("reading the documents' text")?;
            texts.extend(document_sentences(
                chunks.iter().map(String::as_str),
                negatives_max,
            ));
        }
        let prefix = assistant.embedder.spec().query_prefix;
        let prefixed: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let mut vectors = assistant
            .embedder
            .embed_raw(&prefixed)
            .context("embedding the intents' examples")?
            .into_iter();
        let examples: Vec<(usize, Vec<f32>)> = classes
            .iter()
            .map(|&c| (c, vectors.next().expect("one vector per text")))
            .collect();
        let negatives: Vec<Vec<f32>> = vectors.collect();
        let set_for_training = TrainingSet {
            names: &names,
            examples: &examples,
            negatives: &negatives,
        };
        let mut classifier =
            Classifier::train(method, &set_for_training, thresholds, params, fingerprint);
        // Thresholds that suit this many intents and examples, chosen on held-out folds.
        let held = cross_validation::held_out(method, &set_for_training, params, CV_FOLDS);
        classifier.cross_validated =
            cross_validation::choose(&held, names.len(), CV_MAX_FP, &CV_MARGINS, CV_FOLDS);
        if let (true, Some(cv)) = (use_cross_validated, classifier.cross_validated) {
            classifier.thresholds = cv.thresholds;
        }
        let train_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            method = method.as_str(),
            examples = examples.len(),
            negatives = negatives.len(),
            ms = train_ms,
            "trained the intent classifier"
        );
        // The cache is an optimisation: failing to write it is logged, not fatal.
        let tmp = cache.with_extension("json.tmp");
        // (With the index in PostgreSQL the index folder may not exist yet.)
        let folder = cache
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()));
        if let Err(e) = folder
            .and_then(|_| std::fs::write(&tmp, classifier.to_json()))
            .and_then(|_| std::fs::rename(&tmp, &cache))
        {
            tracing::warn!(
                "cannot cache the intent classifier in {}: {e}",
                cache.display()
            );
        }
        Ok(Some(Self {
            set,
            classifier,
            cache,
            trained_now: true,
            train_ms,
        }))
    }

    /// Classifies `message`: the embedding time and the classification time are returned
    /// apart (milliseconds).
    pub fn classify(
        &self,
        assistant: &Assistant,
        message: &str,
    ) -> Result<(Classification, f64, f64)> {
        let t0 = Instant::now();
        let v = assistant.embedder.embed_query(message)?;
        let t1 = Instant::now();
        let c = self.classifier.classify(&v);
        let t2 = Instant::now();
        Ok((
            c,
            (t1 - t0).as_secs_f64() * 1000.0,
            (t2 - t1).as_secs_f64() * 1000.0,
        ))
    }
}
