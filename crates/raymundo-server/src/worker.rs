//! The workers: take queued messages (one user's in order, different users in parallel),
//! produce the reply, send it, and record the outcome.
//!
//! The reply is saved with the job before the first part is sent, and every sent part is
//! recorded; so a crash or a failed send resumes with the same reply at the first unsent
//! part instead of answering twice.

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
}

fn handle(shared: &Shared, job: Job) {
    let saved = job
        .reply
        .as_deref()
        .and_then(|r| serde_json::from_str::<Plan>(r).ok());
    let plan = match saved {
        Some(plan) => plan,
        None => {
            if job.channel == "whatsapp" {
                if let Some(graph) = &shared.graph {
                    if let Err(e) = graph.mark_read(&job.message_id) {
                        tracing::debug!("mark as read failed: {e}");
                    }
                }
            }
            let plan = make_plan(shared, &job);
            let json = serde_json::to_string(&plan).unwrap_or_default();
            match shared.store.save_reply(job.id, &json) {
                Ok(()) => {}
                // Another server sharing the database answers it (this one stalled past
                // its lease): sending too would answer the user twice.
                Err(e @ (StoreError::TakenOver(_) | StoreError::NoSuchJob(_))) => {
                    tracing::warn!("reply dropped, not sent: {e}");
                    shared.metrics.inc(
                        "raymundo_errors_total",
                        &[("stage", "store"), ("kind", "taken_over")],
                    );
                    return;
                }
                Err(e) => tracing::warn!("cannot save the reply before sending: {e}"),
            }
            plan
        }
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
        Ok(()) => shared.store.complete(job.id),
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
            let attempts = shared.settings.config.job_attempts;
            let retry = matches!(e, SendError::Transient { .. }) && job.attempts + 1 < attempts;
            if retry {
                let wait = 30u64 << job.attempts.min(6);
                tracing::warn!(wait_secs = wait, "reply not sent, will retry: {e}");
                shared.store.fail(job.id, &e.to_string(), Some(wait))
            } else {
                tracing::warn!("reply not sent, given up: {e}");
                shared.store.fail(job.id, &e.to_string(), None)
            }
        }
    };
    if let Err(e) = outcome {
        tracing::error!("cannot record the job's outcome: {e}");
    }
}

/// The reply to a job: the assistant's answer, or a fixed reply (unsupported message,
/// rate limit, failure).
fn make_plan(shared: &Shared, job: &Job) -> Plan {
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
        return if first {
            Plan::text(&config.rate_limited_reply)
        } else {
            Plan::default()
        };
    }
    let choice = job.kind.strip_prefix("choice:");
    if job.kind != "text" && choice.is_none() {
        return Plan::text(&config.unsupported_reply);
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
            return Plan::text(&config.error_reply);
        }
        Err(_) => {
            tracing::error!("the answer panicked");
            shared.metrics.inc(
                "raymundo_errors_total",
                &[("stage", "answer"), ("kind", "panic")],
            );
            return Plan::text(&config.error_reply);
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
    Plan {
        parts,
        provider: reply.provider,
    }
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

/// Records a sent part (a failure here is logged: the message did go out).
pub(crate) fn record_sent(shared: &Shared, job: &Job, part: usize, message_id: String) {
    let out = Outbound {
        message_id,
        channel: job.channel.clone(),
        user_key: job.user_key.clone(),
        job_id: job.id,
        part: part as u32,
        in_reply_to: job.message_id.clone(),
    };
    if let Err(e) = shared.store.record_outbound(&out) {
        tracing::error!("sent, but cannot record the sent message: {e}");
    }
}
