//! What Raymundo does once an intent and its parameters are known.
//!
//! Every action implements [`ActionRunner`]: it gets the [`Request`] (intent, typed parameter
//! values, the user and the message) and a [`Knowledge`] handle onto the company's documents,
//! and returns an [`Outcome`] (the reply, files written, sources, whether a person takes
//! over). [`Actions`] picks the runner an intent names:
//! - [`Responder`]: the retrieval-augmented answer (or the intent's fixed responses);
//! - [`Presentation`]: a `.pptx` about `tema` built from the retrieved passages;
//! - [`Handoff`]: records the hand-off to a person and tells the user;
//! - [`Webhook`]: POSTs the intent and parameters as JSON and relays the reply.
//!
//! The binary implements [`Knowledge`] over its index and answer writer, so that this crate
//! depends on the domain types only.

use raymundo_core::{Answer, Hit, SourceRef};
use raymundo_intents::{Action, IntentSpec};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod handoff;
mod presentation;
mod responder;
mod webhook;

pub use handoff::Handoff;
pub use presentation::Presentation;
pub use responder::Responder;
pub use webhook::Webhook;

/// Why an action failed; the user gets the configured apology, the log gets this.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// Searching or answering from the documents failed.
    #[error("documents: {0}")]
    Knowledge(String),
    /// Writing the presentation failed.
    #[error("presentation: {0}")]
    Presentation(#[from] raymundo_pptx::PptxError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The webhook did not answer well.
    #[error("webhook {url}: {message}")]
    Webhook {
        /// Where it was sent.
        url: String,
        /// What went wrong (timeout, status, body).
        message: String,
    },
}

/// What the actions may ask of the company's documents.
pub trait Knowledge: Send + Sync {
    /// The retrieval-augmented answer to `message`.
    fn answer(&self, message: &str) -> Result<Answer, ActionError>;
    /// Up to `k` passages about `topic`, best first, and whether the documents cover it (the
    /// same scope decision as for answers).
    fn passages(&self, topic: &str, k: usize) -> Result<(Vec<Hit>, bool), ActionError>;
    /// The file of a document named as in [`raymundo_core::Chunk::doc`].
    fn document_path(&self, doc: &str) -> PathBuf;
}

/// One request to act.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The intent.
    pub intent: &'a IntentSpec,
    /// Its parameter values (typed JSON: strings, numbers, booleans, `YYYY-MM-DD` dates).
    pub values: &'a BTreeMap<String, Value>,
    /// Who asked (phone number, session id ...).
    pub user: &'a str,
    /// The message in which the intent was recognised.
    pub message: &'a str,
}

impl Request<'_> {
    /// A text value.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    /// A whole-number value.
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.values.get(name).and_then(Value::as_i64)
    }

    /// A yes/no value.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.values.get(name).and_then(Value::as_bool)
    }
}

/// What an action did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The reply to send.
    pub text: String,
    /// Which action replied (`responder`, `crear_presentacion`, `derivar_humano`, `webhook`).
    pub action: String,
    /// Files the action wrote.
    pub files: Vec<PathBuf>,
    /// The documents the reply drew on.
    pub sources: Vec<SourceRef>,
    /// True when a person takes over the conversation.
    pub handed_off: bool,
    /// The answer, when the action answered from the documents.
    pub answer: Option<Answer>,
}

/// Runs one kind of action.
pub trait ActionRunner: Send + Sync {
    /// Carries out `request`.
    fn run(&self, request: &Request, knowledge: &dyn Knowledge) -> Result<Outcome, ActionError>;
}

/// Settings the actions need from the project.
#[derive(Debug, Clone)]
pub struct ActionSettings {
    /// Where presentations are written.
    pub output_dir: PathBuf,
    /// Where hand-offs are recorded (JSON lines).
    pub handoff_log: PathBuf,
    /// The hand-off reply.
    pub handoff_reply: String,
    /// Heading of the sources slide and of source lists.
    pub sources_heading: String,
}

/// The runners of a project, one per kind of action.
pub struct Actions {
    responder: Responder,
    presentation: Presentation,
    handoff: Handoff,
}

impl Actions {
    /// The runners configured by `settings`.
    pub fn new(settings: &ActionSettings) -> Self {
        Self {
            responder: Responder,
            presentation: Presentation::new(&settings.output_dir, &settings.sources_heading),
            handoff: Handoff::new(&settings.handoff_log, &settings.handoff_reply),
        }
    }

    /// Runs the action `request.intent` names.
    pub fn run(
        &self,
        request: &Request,
        knowledge: &dyn Knowledge,
    ) -> Result<Outcome, ActionError> {
        match &request.intent.action {
            Action::Responder => self.responder.run(request, knowledge),
            Action::CrearPresentacion => self.presentation.run(request, knowledge),
            Action::DerivarHumano => self.handoff.run(request, knowledge),
            Action::Webhook { url, timeout_ms } => {
                Webhook::new(url, *timeout_ms).run(request, knowledge)
            }
        }
    }
}

/// Seconds since the Unix epoch.
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ActionError + '_ {
    move |source| ActionError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests;
