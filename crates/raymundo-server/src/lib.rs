//! Raymundo's HTTP server.
//!
//! Channels in, one queue, workers out. The WhatsApp Cloud API webhook and Twilio's are
//! verified (HMAC signatures over the raw bytes, in constant time), parsed, and their
//! messages de-duplicated and queued in the [`raymundo_store::Store`] in one transaction
//! before the 200 goes back, so an acknowledged message survives a crash and a retried one
//! is answered once. Worker threads take the queue one user at a time in arrival order
//! (different users in parallel), ask the [`Responder`] (the assistant, wired in by the
//! binary), and send the reply through the Graph API (split at 4,096 characters, in
//! thread, retried with backoff on 5xx/429, permanent refusals recorded) or Twilio. The
//! HTTP APIs (`/chat`, compatible with the existing WhatsApp bot, and the OpenAI-compatible
//! `/v1/chat/completions`) answer synchronously on blocking threads. Every request gets an
//! id, a log line without personal data and its metrics (`/metrics`, for this machine or
//! the admin token). The review pages (`/admin`, behind an admin token) show the interaction
//! log and store reviews.
//!
//! Facing the internet: connections are accepted within [`Limits`] (header and body read
//! timeouts, a cap on connections, in all and per address); the HTTP APIs give each caller
//! conversations of its own and rate-limit by address (see `identity.rs`); wrong admin tokens
//! make only their address wait, with a back-off that expires; admin sessions end at
//! logout on the server too; secrets are compared in constant time, length included.

mod admin;
mod api;
mod app;
mod body;
mod error;
mod identity;
pub mod metrics;
pub mod openai;
mod peer;
pub mod rate_limit;
mod responder;
mod retry;
mod secret;
mod serve;
mod settings;
pub use raymundo_channels::signature;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod twilio;
pub mod whatsapp;
mod worker;

pub use admin::{html_escape, AdminSetup};
pub use app::{shutdown_signal, Server};
pub use error::ApiError;
pub use responder::{Channel, Incoming, Reply, Responder};
pub use secret::Secret;
pub use serve::{
    Limits, BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP,
};
pub use settings::{Settings, SettingsError, TwilioSettings, WhatsAppSettings, WHATSAPP_VARIABLES};

#[cfg(test)]
mod tests;
