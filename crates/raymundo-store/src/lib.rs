//! Raymundo's durable state.
//!
//! The server acknowledges a webhook only after the message is safely here, and answers it
//! later from here; so this crate holds what must survive a restart: the de-duplication keys
//! of inbound messages (channel + message id, so a retry, even after a restart, is
//! recognised), the queue of inbound jobs (accepting a message de-duplicates and enqueues it
//! in one transaction; jobs are claimed one user at a time in arrival order, different users
//! in parallel; jobs a crash left half-done are queued again at start, and given up once
//! they have stopped the server [`JOB_INTERRUPTIONS`] times), the ids of the
//! messages Raymundo sent (so a reaction to one of them can be stored as feedback), delivery
//! statuses and feedback.
//!
//! Everything is behind the [`Store`] trait (synchronous `&self` methods, `Send + Sync`),
//! implemented twice: [`SqliteStore`], the embedded one (one file, one server), and
//! [`PostgresStore`], a database several servers share (de-duplication across servers, claims
//! that never hand one job or one user's two jobs to two servers, leases so a dead server's
//! jobs are taken over). [`open`] picks one from the `[server] database` setting; one test
//! suite runs on both. Phone numbers are kept in clear only where the reply needs them (a queued job, until
//! it is answered); everywhere else a user is a salted SHA-256 key ([`Store::user_key`]).
//!
//! The interaction log ([`Interactions`]) keeps one row per answered turn (channel, scrubbed
//! message, intent, retrieved chunks, answer, provider, scope, latency per stage) with its
//! review, and links 👍/👎 to it through the reply Raymundo sent. The same database keeps
//! each user's conversation memory ([`raymundo_core::ConversationState`]), so a follow-up
//! is understood after a restart. Texts are scrubbed of personal data by the caller
//! (the scrubber lives in `raymundo-ingest`, which this crate does not depend on).

mod error;
mod interaction;
mod interaction_rows;
mod open;
mod postgres_conversation;
mod postgres_interactions;
mod postgres_store;
mod sqlite;
mod sqlite_conversation;
mod sqlite_interactions;
mod sqlite_snapshot;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod types;

pub use error::StoreError;
pub use interaction::{
    Interaction, InteractionFilter, Interactions, NewInteraction, RetrievedChunk, Review, Verdict,
};
pub use open::{open, Backend, DATABASE_URL_VAR};
pub use postgres_store::{PostgresOptions, PostgresStore};
pub use sqlite::SqliteStore;
pub use types::{
    Accepted, DeliveryStatus, Feedback, Job, JobState, NewJob, Outbound, QueueCounts, StoreStats,
};

/// How many times a job may be interrupted (the server answering it stopped, or, on a
/// shared database, lost its lease) before it is given up: failed with the error "the
/// server stopped while answering this message N times; given up" (N this number) instead
/// of being queued again. A message whose answer crashes the server would otherwise crash
/// it at every start.
pub const JOB_INTERRUPTIONS: u32 = 3;

/// The error a job given up after [`JOB_INTERRUPTIONS`] interruptions is failed with.
pub(crate) fn interrupted_error() -> String {
    format!("the server stopped while answering this message {JOB_INTERRUPTIONS} times; given up")
}

/// The state the server needs, implemented once per backend.
///
/// Every method is synchronous and may block on I/O: async callers run it on a blocking
/// thread.
pub trait Store: Send + Sync {
    /// The pseudonymous key of `user` on `channel`: a salted SHA-256, stable for this store.
    fn user_key(&self, channel: &str, user: &str) -> String;

    /// Records `job.message_id` as seen on `job.channel` and queues the job, in one
    /// transaction; a message id seen before (a retry) is not queued again.
    fn accept(&self, job: &NewJob) -> Result<Accepted, StoreError>;

    /// Takes the oldest queued job whose user has no job in progress and no older queued one,
    /// and marks it in progress; `None` when nothing can run now.
    fn claim_next(&self) -> Result<Option<Job>, StoreError>;

    /// Records that answering a job in progress has begun: from here the answer may have
    /// side effects (actions such as a webhook, a hand-off or a written file). A job that
    /// runs again without a saved reply after this (the server stopped, or the reply could
    /// not be saved) has [`Job::answer_started`] set, so its answer (and its actions) is not
    /// run a second time. On a shared database, fails with [`StoreError::TakenOver`] when
    /// another server took the job over.
    fn start_answer(&self, job_id: i64) -> Result<(), StoreError>;

    /// Keeps the reply generated for a job in progress, so that a crash before every part is
    /// sent resends the same reply instead of generating another.
    fn save_reply(&self, job_id: i64, reply: &str) -> Result<(), StoreError>;

    /// Records a message Raymundo sent (part `outbound.part` of a job's reply).
    fn record_outbound(&self, outbound: &Outbound) -> Result<(), StoreError>;

    /// The message Raymundo sent with this channel message id, if it is one of ours.
    fn outbound(&self, message_id: &str) -> Result<Option<Outbound>, StoreError>;

    /// Marks a job answered and forgets its personal data (address, name, text, reply).
    fn complete(&self, job_id: i64) -> Result<(), StoreError>;

    /// Marks a job failed with `error`. With `retry_after_secs`, the job is queued again
    /// (still before the user's later messages) once that many seconds have passed;
    /// without, it is failed for good and its personal data forgotten.
    fn fail(
        &self,
        job_id: i64,
        error: &str,
        retry_after_secs: Option<u64>,
    ) -> Result<(), StoreError>;

    /// Queues again the jobs left in progress (by a crash); returns how many. Each time
    /// counts as an interruption of the job (and as an attempt); a job interrupted
    /// [`JOB_INTERRUPTIONS`] times is failed for good instead (its personal data forgotten),
    /// so that a message that makes the server crash does not crash every start. Call once
    /// at start, before any worker runs.
    fn requeue_in_progress(&self) -> Result<usize, StoreError>;

    /// Records a delivery status of a message Raymundo sent.
    fn record_status(&self, status: &DeliveryStatus) -> Result<(), StoreError>;

    /// The delivery statuses recorded for a message, oldest first.
    fn statuses(&self, message_id: &str) -> Result<Vec<DeliveryStatus>, StoreError>;

    /// Stores (or replaces) a user's feedback on one of Raymundo's messages.
    fn set_feedback(&self, feedback: &Feedback) -> Result<(), StoreError>;

    /// Removes a user's feedback on a message (the reaction was withdrawn).
    fn clear_feedback(&self, message_id: &str, user_key: &str) -> Result<(), StoreError>;

    /// The feedback stored for a message.
    fn feedback(&self, message_id: &str) -> Result<Vec<Feedback>, StoreError>;

    /// Jobs by state.
    fn queue_counts(&self) -> Result<QueueCounts, StoreError>;

    /// Totals for `/stats`.
    fn stats(&self) -> Result<StoreStats, StoreError>;
}

#[cfg(test)]
mod backends;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod interaction_tests;

#[cfg(test)]
mod postgres_tests;
