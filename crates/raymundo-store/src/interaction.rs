//! What is kept of each answered turn, its human review, and how to select turns.

use crate::StoreError;
use std::collections::BTreeMap;

/// One retrieved chunk (document + position in it) with its ranking score.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievedChunk {
    /// The document's path under `data/docs/`.
    pub doc: String,
    /// The chunk's position in the document (0 first).
    pub position: u32,
    /// The ranking score (cosine or fused).
    pub score: f32,
}

/// A turn to record. Every text in it must already be scrubbed of personal data: the store
/// keeps what it is given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewInteraction {
    /// When (seconds since the Unix epoch).
    pub at: i64,
    /// `whatsapp`, `twilio`, `chat_api`, `openai_api` or `cli`.
    pub channel: String,
    /// The salted user key ([`crate::Store::user_key`]), never a phone number.
    pub user_key: String,
    /// The channel's id of the inbound message (links the turn to 👍/👎 on its reply).
    pub message_id: Option<String>,
    /// The user's message, scrubbed.
    pub message: String,
    /// The query searched for, when it differs from the message (a follow-up), scrubbed.
    pub query: Option<String>,
    /// `answer`, `ask`, `act`, `cancelled` or `reset`.
    pub step: String,
    /// The intent the turn was about.
    pub intent: Option<String>,
    /// The parameter values (a JSON object), when an action ran.
    pub parameters: Option<serde_json::Value>,
    /// The classifier's confidence in its best intent.
    pub confidence: Option<f32>,
    /// What retrieval found, best first.
    pub chunks: Vec<RetrievedChunk>,
    /// The reply, scrubbed.
    pub answer: String,
    /// Who wrote the answer (`local`, `extractive`, a provider, `out_of_scope`).
    pub provider: Option<String>,
    /// Whether the documents answered the question (`None`: no question was answered).
    pub in_scope: Option<bool>,
    /// Whether the turn did what was asked (an in-scope answer or a completed action).
    pub resolved: bool,
    /// Whether the conversation was handed to a person.
    pub handed_off: bool,
    /// Milliseconds per stage (`classify`, `embed`, `search`, `answer`, `first_token` ...).
    pub latency_ms: BTreeMap<String, f64>,
    /// Milliseconds for the whole turn.
    pub total_ms: f64,
}

/// A reviewer's verdict on a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The reply was right.
    Correct,
    /// The reply was wrong.
    Incorrect,
    /// The question was outside the documents, yet it was answered (a false positive).
    OutOfScope,
}

impl Verdict {
    /// The word stored (and typed by reviewers).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Incorrect => "incorrect",
            Verdict::OutOfScope => "out_of_scope",
        }
    }

    /// Parses `correct`, `incorrect` or `out_of_scope`.
    pub fn parse(word: &str) -> Result<Self, StoreError> {
        match word.trim() {
            "correct" => Ok(Verdict::Correct),
            "incorrect" => Ok(Verdict::Incorrect),
            "out_of_scope" => Ok(Verdict::OutOfScope),
            other => Err(StoreError::Invalid(format!(
                "verdict {other:?}: expected correct, incorrect or out_of_scope"
            ))),
        }
    }

    /// True unless the reply was right.
    pub fn is_wrong(self) -> bool {
        self != Verdict::Correct
    }
}

/// A human review of a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// The verdict.
    pub verdict: Verdict,
    /// The answer the reply should have been.
    pub corrected_answer: Option<String>,
    /// The intent the message really was (`none` for no intent).
    pub corrected_intent: Option<String>,
    /// Who reviewed.
    pub reviewer: String,
    /// When (seconds since the Unix epoch).
    pub at: i64,
}

/// A recorded turn with what was learnt about it afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// The interaction's id (increasing in recording order).
    pub id: i64,
    /// The turn as recorded.
    pub turn: NewInteraction,
    /// The user's reaction to the reply: -1 (👎) if any part got one, else +1 (👍), if any.
    pub feedback: Option<i8>,
    /// The review, once there is one.
    pub review: Option<Review>,
}

/// Which interactions to list; every condition set must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InteractionFilter {
    /// Only turns without a review.
    pub unreviewed: bool,
    /// Only turns declined as outside the documents.
    pub out_of_scope: bool,
    /// Only turns whose reply got a 👎.
    pub thumbs_down: bool,
    /// Only turns about this intent.
    pub intent: Option<String>,
    /// Only turns from this channel.
    pub channel: Option<String>,
    /// Only turns at or after this time (seconds since the Unix epoch).
    pub since: Option<i64>,
    /// At most this many, newest first (0: no limit).
    pub limit: usize,
}

/// The interaction log: one row per turn, reviews, and the queries the review and the
/// statistics need. Implemented once per backend, like [`crate::Store`].
pub trait Interactions: Send + Sync {
    /// Records a turn; returns its id.
    fn record_interaction(&self, turn: &NewInteraction) -> Result<i64, StoreError>;

    /// One interaction by id.
    fn interaction(&self, id: i64) -> Result<Option<Interaction>, StoreError>;

    /// The interactions matching `filter`, newest first.
    fn interactions(&self, filter: &InteractionFilter) -> Result<Vec<Interaction>, StoreError>;

    /// Stores (or replaces) the review of interaction `id`.
    fn review(&self, id: i64, review: &Review) -> Result<(), StoreError>;
}
