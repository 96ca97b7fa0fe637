//! The assistant a running server answers with, replaced without downtime when the index is
//! rebuilt: each message takes the current version (an `Arc`) when it starts and keeps it to
//! the end, while a reload builds the next version beside it and swaps the pointer. The new
//! index goes in first, with the intents classifier as it was; the classifier trained again
//! (its negatives come from the documents, which takes seconds) follows in a second swap. A
//! reload that fails (a broken intents file, an index being written) leaves the current
//! version answering and says why.

use crate::intent_engine::IntentEngine;
use crate::project::Assistant;
use anyhow::{Context, Result};
use raymundo_intents::classify::Method;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// One consistent version: the index, the intents and their classifier.
pub struct Loaded {
    /// The assistant over one index.
    pub assistant: Arc<Assistant>,
    /// The intents and classifier trained for that index's model.
    pub engine: Option<Arc<IntentEngine>>,
}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reloaded {
    /// Chunks in the index before and after.
    pub chunks: (usize, usize),
    /// Intents before and after.
    pub intents: (usize, usize),
    /// How long until the new index answered, milliseconds.
    pub ms: f64,
    /// How long until the intents classifier trained for it answered too, milliseconds.
    pub intents_ms: f64,
}

/// The current version, swappable.
pub struct LiveAssistant {
    current: RwLock<Arc<Loaded>>,
    method: Method,
    /// One reload at a time (a signal during a scheduled rebuild waits for it).
    reloading: Mutex<()>,
}

impl LiveAssistant {
    /// Starts with `loaded`; reloads train the intent classifier with `method`.
    pub fn new(loaded: Loaded, method: Method) -> Self {
        Self {
            current: RwLock::new(Arc::new(loaded)),
            method,
            reloading: Mutex::new(()),
        }
    }

    fn swap(&self, loaded: Loaded) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
    }

    /// The version to answer one message with.
    pub fn current(&self) -> Arc<Loaded> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Loads the index and intents as they are on disk now and makes them current; messages
    /// being answered finish on the version they started with.
    pub fn reload(&self) -> Result<Reloaded> {
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        let old = self.current();
        let assistant = Arc::new(
            old.assistant
                .with_current_index()
                .context("reloading the index (the previous one still answers)")?,
        );
        // The new index at once, with the classifier as it was (same model: the reload
        // refuses another one).
        self.swap(Loaded {
            assistant: assistant.clone(),
            engine: old.engine.clone(),
        });
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let engine = IntentEngine::load(&assistant, self.method).context(
            "reloading the intents (the new index answers, with the intents as they were)",
        )?;
        let intents = |l: Option<&IntentEngine>| l.map_or(0, |e| e.set.intents.len());
        let report = Reloaded {
            chunks: (old.assistant.index.len(), assistant.index.len()),
            intents: (intents(old.engine.as_deref()), intents(engine.as_ref())),
            ms,
            intents_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        self.swap(Loaded {
            assistant,
            engine: engine.map(Arc::new),
        });
        Ok(report)
    }
}
