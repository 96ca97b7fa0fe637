//! The assistant a running server answers with, replaced without downtime when the index is
//! rebuilt: each message takes the current version (an `Arc`) when it starts and keeps it to
//! the end, while a reload builds the next version beside it and swaps the pointer. A reload
//! that fails (a broken intents file, an index being written) leaves the current version
//! answering and says why.

use crate::intent_engine::IntentEngine;
use crate::project::Assistant;
use anyhow::{Context, Result};
use raymundo_intents::classify::Method;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// One consistent version: the index, the intents and their classifier.
pub struct Loaded {
    /// The assistant over one index.
    pub assistant: Assistant,
    /// The intents and classifier trained for that index's model.
    pub engine: Option<IntentEngine>,
}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reloaded {
    /// Chunks in the index before and after.
    pub chunks: (usize, usize),
    /// Intents before and after.
    pub intents: (usize, usize),
    /// How long loading the new version took, milliseconds.
    pub ms: f64,
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
        let assistant = old
            .assistant
            .with_current_index()
            .context("reloading the index")?;
        let engine =
            IntentEngine::load(&assistant, self.method).context("reloading the intents")?;
        let intents = |l: &Option<IntentEngine>| l.as_ref().map_or(0, |e| e.set.intents.len());
        let report = Reloaded {
            chunks: (old.assistant.index.len(), assistant.index.len()),
            intents: (intents(&old.engine), intents(&engine)),
            ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(Loaded { assistant, engine });
        Ok(report)
    }
}
