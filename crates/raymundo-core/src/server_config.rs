//! Settings of `raymundo serve` (`[server]`). Secrets (tokens, the app secret, API keys) are
//! not here: they come from the environment or `.env`.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How the server listens, queues, answers and sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Path of the WhatsApp Cloud API webhook.
    pub webhook_path: String,
    /// Graph API base URL (the `GRAPH_URL` environment variable overrides it).
    pub graph_url: String,
    /// Graph API version in the sending URL.
    pub graph_version: String,
    /// The database (queue, de-duplication keys, sent messages, feedback, interaction log,
    /// conversation memory): a SQLite file path relative to the project root, or a
    /// `postgres://user@host:port/database` URL for a database several servers share. The
    /// `RAYMUNDO_DATABASE_URL` environment variable (or `.env` key) overrides it, so a
    /// password need not be written here.
    pub database: PathBuf,
    /// Threads answering queued messages (different users in parallel, one user in order).
    pub workers: usize,
    /// Largest webhook body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Attempts to send one message when the channel answers 5xx/429 or cannot be reached.
    pub send_attempts: u32,
    /// First wait between send attempts, milliseconds (doubled each time).
    pub send_backoff_ms: u64,
    /// Times a queued message is taken up again after its sending failed for a passing
    /// reason, before it is given up (recorded as failed).
    pub job_attempts: u32,
    /// Messages one sender may have answered per minute; above it they get
    /// `rate_limited_reply` (once) and are not answered. 0: no limit.
    pub rate_limit_per_minute: u32,
    /// Seconds the server keeps answering queued messages after a stop signal.
    pub drain_secs: u64,
    /// Seconds `/twilio` waits for the answer to reply with TwiML; a later answer is sent
    /// through Twilio's REST API.
    pub twilio_wait_secs: u64,
    /// Twilio REST API base URL.
    pub twilio_api_url: String,
    /// The public URL the server is reached at (`https://bot.example.com`), used to check
    /// Twilio's signature; by default taken from the request's `Host` and
    /// `X-Forwarded-Proto`.
    pub public_url: Option<String>,
    /// Name of the environment (or `.env`) variable holding the API key of `/chat`, `/stats`,
    /// `/clear_history` and `/v1/*`; when it is unset, those are open (bind to 127.0.0.1).
    pub api_key_env: String,
    /// Name of the environment (or `.env`) variable holding the token of the review pages
    /// (`/admin`); when it is unset, `/admin` is disabled.
    pub admin_token_env: String,
    /// The reply to images, audio, documents, locations and other messages Raymundo cannot
    /// read.
    pub unsupported_reply: String,
    /// The reply (once per minute) to a sender above the rate limit.
    pub rate_limited_reply: String,
    /// The reply when the answer could not be produced.
    pub error_reply: String,
    /// Hours between rebuilds of the index by the running server (new documents, curated
    /// answers and intent examples), each followed by a reload without downtime; 0: never
    /// (then run `raymundo reindex`, which tells the server to reload). 168 is the weekly
    /// reindex.
    pub reindex_every_hours: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            webhook_path: "/webhook".into(),
            graph_url: "https://graph.facebook.com".into(),
            graph_version: "v21.0".into(),
            database: "data/raymundo.db".into(),
            workers: 2,
            max_body_bytes: 3 * 1024 * 1024,
            send_attempts: 5,
            send_backoff_ms: 500,
            job_attempts: 3,
            rate_limit_per_minute: 20,
            drain_secs: 30,
            twilio_wait_secs: 10,
            twilio_api_url: "https://api.twilio.com".into(),
            public_url: None,
            api_key_env: "RAYMUNDO_API_KEY".into(),
            admin_token_env: "RAYMUNDO_ADMIN_TOKEN".into(),
            unsupported_reply: "Por ahora solo puedo leer mensajes de texto: no puedo ver \
                imágenes, escuchar audios ni abrir documentos o ubicaciones. Escríbeme tu \
                pregunta y te respondo con la información de la empresa, o pídeme, por \
                ejemplo, una presentación."
                .into(),
            rate_limited_reply: "Estoy recibiendo muchos mensajes tuyos seguidos. Dame un \
                momento y vuelve a escribirme en un minuto, por favor."
                .into(),
            error_reply: "Lo siento, tuve un problema al preparar la respuesta. Inténtalo \
                de nuevo en un momento, por favor."
                .into(),
            reindex_every_hours: 0,
        }
    }
}

impl ServerConfig {
    /// Checks ranges and forms; the error names the field.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        let field = |f: &str| format!("server.{f}");
        if !self.webhook_path.starts_with('/') || self.webhook_path.len() < 2 {
            return Err((
                field("webhook_path"),
                format!(
                    "expected a path such as /webhook, got {:?}",
                    self.webhook_path
                ),
            ));
        }
        for (name, url) in [
            ("graph_url", Some(&self.graph_url)),
            ("twilio_api_url", Some(&self.twilio_api_url)),
            ("public_url", self.public_url.as_ref()),
        ] {
            if let Some(url) = url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err((
                        field(name),
                        format!("expected an http:// or https:// URL, got {url:?}"),
                    ));
                }
            }
        }
        if !(1..=64).contains(&self.workers) {
            return Err((
                field("workers"),
                format!("must be 1..=64, got {}", self.workers),
            ));
        }
        if self.max_body_bytes < 1024 {
            return Err((
                field("max_body_bytes"),
                format!("must be at least 1024, got {}", self.max_body_bytes),
            ));
        }
        if self.send_attempts == 0 || self.job_attempts == 0 {
            return Err((
                field(if self.send_attempts == 0 {
                    "send_attempts"
                } else {
                    "job_attempts"
                }),
                "must be at least 1".into(),
            ));
        }
        if self.api_key_env.trim().is_empty() {
            return Err((field("api_key_env"), "must name a variable".into()));
        }
        if self.admin_token_env.trim().is_empty() {
            return Err((field("admin_token_env"), "must name a variable".into()));
        }
        for (name, text) in [
            ("unsupported_reply", &self.unsupported_reply),
            ("rate_limited_reply", &self.rate_limited_reply),
            ("error_reply", &self.error_reply),
        ] {
            if text.trim().is_empty() {
                return Err((field(name), "must not be empty".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    #[test]
    fn server_settings_parse_and_bad_ones_are_named() {
        let c = Config::parse("[server]\nworkers = 4\nwebhook_path = \"/wa\"\n").unwrap();
        assert_eq!(
            (c.server.workers, c.server.webhook_path.as_str()),
            (4, "/wa")
        );
        let mut c = Config::default();
        c.server.graph_url = "graph.facebook.com".into();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("server.graph_url"), "{err}");
        assert!(Config::parse("[server]\nworkerz = 4\n")
            .unwrap_err()
            .contains("workerz"));
    }
}
