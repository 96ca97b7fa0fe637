//! The workers: take queued messages (one user's in order, different users in parallel),
//! produce the reply, send it, and record the outcome.
//!
//! The reply is saved with the job before the first part is sent, and every sent part is
//! recorded; so a crash or a failed send resumes with the same reply at the first unsent
//! part instead of answering twice. A reply that cannot be saved is not sent: the job is
//! failed for a retry.
//!
//! Just before the assistant runs (and with it the actions it may take: a webhook, a
//! hand-off, a written file) the job is marked as begun ([`raymundo_store::Store::start_answer`]).
//! A job found begun but without a saved reply (the server stopped between the answer and
//! saving it, or the reply could not be saved) is not answered again, since that could
//! repeat its actions: it gets the error reply, which asks the user to write again.
//!
//! The store calls around a side effect (saving the reply, recording a sent message, the
//! job's outcome) are tried [`STORE_TRIES`] times. An outcome that still cannot be recorded
//! is kept ([`Unsettled`]) and recorded by a later loop of a worker, so that a job whose
//! reply went out does not stay in progress, holding back its user's later messages, until
//! the next start.

use crate::app::Shared;
use crate::rate_limit::Verdict;
use crate::responder::{Channel, Incoming};
use crate::retry::SendError;
use raymundo_core::channel_text::{for_whatsapp, split_message, WHATSAPP_MAX_CHARS};
use raymundo_store::{Job, Outbound, StoreError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Twilio's longest message body, in characters.
pub(crate) const TWILIO_MAX_CHARS: usize = 1600;

/// Wakes idle workers when a message is queued.
#[derive(Default)]
pub(crate) struct Wake {
    generation: Mutex<u64>,
    cv: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        *self.generation.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.cv.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        let start = *g;
        let _ = self
            .cv
            .wait_timeout_while(g, timeout, |g| *g == start)
            .unwrap_or_else(|p| p.into_inner());
    }
}

/// One part of a reply as it will be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Part {
    /// A text message.
    Text(String),
    /// A file sent as a document.
    File(PathBuf),
}

/// A reply ready to send (saved with the job, so a resend sends the same thing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub parts: Vec<Part>,
    pub provider: Option<String>,
}

impl Plan {
    fn text(text: &str) -> Self {
        Self {
            parts: vec![Part::Text(text.to_string())],
            provider: None,
        }
    }
}

/// Tries of a store call around a side effect (the first included) before it is given up.
pub(crate) const STORE_TRIES: u32 = 3;

/// Wait before the second try of a store call, doubled before each further one.
const STORE_BACKOFF: Duration = Duration::from_millis(50);

/// How a finished job ended, to record in the store.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Answered ([`raymundo_store::Store::complete`]).
    Done,
    /// Failed ([`raymundo_store::Store::fail`]): queued again after `retry_after_secs`, or
    /// for good without.
    Failed {
        error: String,
        retry_after_secs: Option<u64>,
    },
}

/// Outcomes of finished jobs the store could not record yet (it failed [`STORE_TRIES`]
/// times): each worker tries them again before taking a job. Until then such a job stays in
/// progress in the store; if the server stops first, the next start queues it again and its
/// recorded parts are not sent again.
#[derive(Default)]
pub(crate) struct Unsettled(Mutex<Vec<(i64, Outcome)>>);

impl Unsettled {
    fn push(&self, job_id: i64, outcome: Outcome) {
        self.lock().push((job_id, outcome));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(i64, Outcome)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tries once more to record each kept outcome; keeps those the store still refuses.
    fn retry(&self, shared: &Shared) {
        let pending = std::mem::take(&mut *self.lock());
        for (job_id, outcome) in pending {
            match record(shared, job_id, &outcome) {
                Ok(()) => tracing::info!(job = job_id, "the job's outcome is recorded at last"),
                Err(e) if lost(&e) => {
                    tracing::warn!(job = job_id, "the job's outcome is not recorded: {e}")
                }
                Err(_) => self.push(job_id, outcome),
            }
        }
    }

    /// How many outcomes wait.
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Starts `server.workers` threads.
pub(crate) fn spawn(shared: Arc<Shared>) -> Vec<JoinHandle<()>> {
    (0..shared.settings.config.workers)
        .map(|i| {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("raymundo-worker-{i}"))
                .spawn(move || {
                    lower_priority();
                    run(&shared)
                })
                .expect("start a worker thread")
        })
        .collect()
}

/// Lowers this thread's scheduling priority (nice +10; Linux, best effort), so that
/// acknowledging webhooks on the async runtime never waits behind answer generation, which
/// can keep every core busy. Threads the answer starts inherit it.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Ok(link) = std::fs::read_link("/proc/thread-self") {
        if let Some(tid) = link.file_name().and_then(|t| t.to_str()) {
            let lowered = std::process::Command::new("renice")
                .args(["-n", "10", "-p", tid])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
            if !lowered.is_ok_and(|s| s.success()) {
                tracing::debug!("could not lower the worker's priority");
            }
        }
    }
}

fn run(shared: &Shared) {
    loop {
        shared.unsettled.retry(shared);
        let stopping = shared.stopping.load(Ordering::SeqCst);
        if stopping && shared.drain_over() {
            break;
        }
        match shared.store.claim_next() {
            Ok(Some(job)) => {
                let span = tracing::info_span!("job", id = job.id, channel = %job.channel);
                span.in_scope(|| handle(shared, job));
            }
            Ok(None) if stopping => break,
            Ok(None) => shared.wake.wait(Duration::from_millis(500)),
            Err(e) => {
                tracing::error!("cannot read the queue: {e}");
                shared.metrics.inc(
                    "raymundo_errors_total",
                    &[("stage", "store"), ("kind", "claim")],
                );
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    shared.unsettled.retry(shared);
    let left = shared.unsettled.len();
    if left > 0 {
        tracing::error!(
            left,
            "finished messages the store could not record stay in progress; the next start \
             queues them again, without sending again what was sent"
        );
    }
}

fn handle(shared: &Shared, job: Job) {
    let saved = job
        .reply
        .as_deref()
        .and_then(|r| serde_json::from_str::<Plan>(r).ok());
    let plan = match saved {
        Some(plan) => plan,
        None => match prepare(shared, &job) {
            Some(plan) => plan,
            None => return,
        },
    };
    let started = Instant::now();
    let result = match job.channel.as_str() {
        "whatsapp" => deliver_whatsapp(shared, &job, &plan),
        "twilio" => crate::twilio::deliver(shared, &job, &plan),
        other => Err(SendError::Permanent {
            status: 0,
            code: 0,
            title: format!("no sender for channel {other:?}"),
        }),
    };
    shared.metrics.observe(
        "raymundo_send_seconds",
        &[("channel", &job.channel)],
        started.elapsed().as_secs_f64(),
    );
    let outcome = match result {
        Ok(()) => Outcome::Done,
        Err(e) => {
            let kind = match &e {
                SendError::Permanent { code, status, .. } => {
                    if *code != 0 {
                        code.to_string()
                    } else {
                        format!("http_{status}")
                    }
                }
                SendError::Transient { .. } => "transient".into(),
                SendError::File { .. } => "file".into(),
            };
            shared.metrics.inc(
                "raymundo_errors_total",
                &[("stage", "send"), ("kind", &kind)],
            );
            if matches!(e, SendError::Transient { .. }) {
                retry_later(shared, &job, e.to_string())
            } else {
                tracing::warn!("reply not sent, given up: {e}");
                Outcome::Failed {
                    error: e.to_string(),
                    retry_after_secs: None,
                }
            }
        }
    };
    settle(shared, &job, outcome);
}

/// Makes the reply of a job that has none saved and saves it; `None` when nothing is to be
/// sent now (another server has the job, or the job is failed for a retry).
fn prepare(shared: &Shared, job: &Job) -> Option<Plan> {
    if job.channel == "whatsapp" {
        if let Some(graph) = &shared.graph {
            if let Err(e) = graph.mark_read(&job.message_id) {
                tracing::debug!("mark as read failed: {e}");
            }
        }
    }
    let plan = if job.answer_started {
        // An earlier attempt began answering and its reply was never saved: running the
        // answer again could repeat its actions (a webhook, a hand-off, a file).
        tracing::warn!(
            "the answer to this message was interrupted; the error reply is sent instead of \
             answering again"
        );
        shared.metrics.inc(
            "raymundo_errors_total",
            &[("stage", "answer"), ("kind", "interrupted")],
        );
        Plan::text(&shared.settings.config.error_reply)
    } else {
        match make_plan(shared, job) {
            Ok(plan) => plan,
            Err(e) => {
                not_saved(shared, job, "record that the answer began", e);
                return None;
            }
        }
    };
    let json = serde_json::to_string(&plan).unwrap_or_default();
    match with_retries("save the reply", || shared.store.save_reply(job.id, &json)) {
        Ok(()) => Some(plan),
        Err(e) => {
            // Sending an unsaved reply would send it again after a crash.
            not_saved(shared, job, "save the reply", e);
            None
        }
    }
}

/// A store call needed before sending failed: nothing is sent. When another server took
/// the job over, it answers; otherwise the job is failed for a retry.
fn not_saved(shared: &Shared, job: &Job, what: &str, e: StoreError) {
    if lost(&e) {
        // Another server sharing the database answers it (this one stalled past its
        // lease): sending too would answer the user twice.
        tracing::warn!("reply dropped, not sent: {e}");
        shared.metrics.inc(
            "raymundo_errors_total",
            &[("stage", "store"), ("kind", "taken_over")],
        );
        return;
    }
    shared.metrics.inc(
        "raymundo_errors_total",
        &[("stage", "store"), ("kind", "save")],
    );
    let outcome = retry_later(shared, job, format!("cannot {what}, nothing sent: {e}"));
    settle(shared, job, outcome);
}

/// The outcome of a failure that may pass: queued again after a back-off, or given up once
/// the job has had its `server.job_attempts`.
fn retry_later(shared: &Shared, job: &Job, error: String) -> Outcome {
    let attempts = shared.settings.config.job_attempts;
    if job.attempts + 1 < attempts {
        let wait = 30u64 << job.attempts.min(6);
        tracing::warn!(wait_secs = wait, "not answered, will retry: {error}");
        Outcome::Failed {
            error,
            retry_after_secs: Some(wait),
        }
    } else {
        tracing::warn!("not answered, given up: {error}");
        Outcome::Failed {
            error,
            retry_after_secs: None,
        }
    }
}

/// Records a finished job's outcome (tried [`STORE_TRIES`] times); an outcome the store
/// still refuses is kept in [`Unsettled`] for a later try.
fn settle(shared: &Shared, job: &Job, outcome: Outcome) {
    match with_retries("record the job's outcome", || {
        record(shared, job.id, &outcome)
    }) {
        Ok(()) => {}
        Err(e) if lost(&e) => tracing::warn!("the job's outcome is not recorded: {e}"),
        Err(e) => {
            tracing::error!("cannot record the job's outcome, will try again: {e}");
            shared.metrics.inc(
                "raymundo_errors_total",
                &[("stage", "store"), ("kind", "outcome")],
            );
            shared.unsettled.push(job.id, outcome);
        }
    }
}

/// One store call recording `outcome`.
fn record(shared: &Shared, job_id: i64, outcome: &Outcome) -> Result<(), StoreError> {
    match outcome {
        Outcome::Done => shared.store.complete(job_id),
        Outcome::Failed {
            error,
            retry_after_secs,
        } => shared.store.fail(job_id, error, *retry_after_secs),
    }
}

/// True for the errors that trying again cannot fix: the job is no longer this server's
/// (taken over, or not in progress).
fn lost(e: &StoreError) -> bool {
    matches!(e, StoreError::TakenOver(_) | StoreError::NoSuchJob(_))
}

/// Runs the store call `call`, up to [`STORE_TRIES`] times with a short back-off while it
/// fails with an error that may pass.
fn with_retries<T>(
    what: &str,
    mut call: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut wait = STORE_BACKOFF;
    let mut tries = 1;
    loop {
        match call() {
            Err(e) if tries < STORE_TRIES && !lost(&e) => {
                tracing::warn!(tries, "cannot {what}, trying again: {e}");
                std::thread::sleep(wait);
                wait *= 2;
                tries += 1;
            }
            result => return result,
        }
    }
}

/// The reply to a job: the assistant's answer, or a fixed reply (unsupported message,
/// rate limit, failure). Fails when the store cannot record that the answer began (then
/// the assistant did not run).
fn make_plan(shared: &Shared, job: &Job) -> Result<Plan, StoreError> {
    let config = &shared.settings.config;
    let channel = if job.channel == "twilio" {
        Channel::Twilio
    } else {
        Channel::WhatsApp
    };
    if let Verdict::Limited { first } = shared.limiter.check(&job.user_key, Instant::now()) {
        shared.metrics.inc(
            "raymundo_rate_limited_total",
            &[("channel", channel.as_str())],
        );
        return Ok(if first {
            Plan::text(&config.rate_limited_reply)
        } else {
            Plan::default()
        });
    }
    let choice = job.kind.strip_prefix("choice:");
    if job.kind != "text" && choice.is_none() {
        return Ok(Plan::text(&config.unsupported_reply));
    }
    let incoming = Incoming {
        channel,
        user: format!("{}:{}", channel.as_str(), job.user_key),
        user_name: job.user_name.clone(),
        text: job.text.clone(),
        choice: choice.map(str::to_string),
        reply_to: job.reply_to.clone(),
        message_id: Some(job.message_id.clone()),
    };
    // From here the answer may act (a webhook, a hand-off, a file): recorded first, so that
    // an interrupted job is not answered, nor its actions run, twice.
    with_retries("record that the answer began", || {
        shared.store.start_answer(job.id)
    })?;
    let started = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        shared.responder.reply(&incoming, &mut |_| {})
    }));
    shared.metrics.observe(
        "raymundo_answer_seconds",
        &[("channel", channel.as_str())],
        started.elapsed().as_secs_f64(),
    );
    let reply = match result {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => {
            tracing::error!("the answer failed: {e:#}");
            shared.metrics.inc(
                "raymundo_errors_total",
                &[("stage", "answer"), ("kind", "error")],
            );
            return Ok(Plan::text(&config.error_reply));
        }
        Err(_) => {
            tracing::error!("the answer panicked");
            shared.metrics.inc(
                "raymundo_errors_total",
                &[("stage", "answer"), ("kind", "panic")],
            );
            return Ok(Plan::text(&config.error_reply));
        }
    };
    let provider = reply.provider.clone().unwrap_or_else(|| "unknown".into());
    shared.metrics.inc(
        "raymundo_replies_total",
        &[("channel", channel.as_str()), ("provider", &provider)],
    );
    let max = if channel == Channel::Twilio {
        TWILIO_MAX_CHARS
    } else {
        WHATSAPP_MAX_CHARS
    };
    let text = for_whatsapp(&reply.text);
    let mut parts: Vec<Part> = if text.trim().is_empty() {
        Vec::new()
    } else {
        split_message(&text, max)
            .into_iter()
            .map(Part::Text)
            .collect()
    };
    parts.extend(reply.files.into_iter().map(Part::File));
    Ok(Plan {
        parts,
        provider: reply.provider,
    })
}

fn deliver_whatsapp(shared: &Shared, job: &Job, plan: &Plan) -> Result<(), SendError> {
    let Some(graph) = &shared.graph else {
        return Err(SendError::Permanent {
            status: 0,
            code: 0,
            title: "WhatsApp Cloud API is not configured".into(),
        });
    };
    for (i, part) in plan.parts.iter().enumerate().skip(job.parts_sent as usize) {
        let context = (i == 0).then_some(job.message_id.as_str());
        let sent = match part {
            Part::Text(text) => graph.send_text(&job.address, text, context),
            Part::File(path) => graph.send_document(&job.address, path, context),
        };
        let message_id = match sent {
            Ok(id) => id,
            Err(e @ SendError::File { .. }) => {
                tracing::warn!("a file of the reply is skipped: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        record_sent(shared, job, i, message_id);
    }
    Ok(())
}

/// Records a sent part, so that a resend skips it (tried [`STORE_TRIES`] times; a failure
/// is logged: the message did go out).
pub(crate) fn record_sent(shared: &Shared, job: &Job, part: usize, message_id: String) {
    let out = Outbound {
        message_id,
        channel: job.channel.clone(),
        user_key: job.user_key.clone(),
        job_id: job.id,
        part: part as u32,
        in_reply_to: job.message_id.clone(),
    };
    if let Err(e) = with_retries("record the sent message", || {
        shared.store.record_outbound(&out)
    }) {
        tracing::error!("sent, but cannot record the sent message: {e}");
    }
}
