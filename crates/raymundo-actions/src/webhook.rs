//! `webhook`: POST the intent and its parameters as JSON to the company's own service and
//! relay its reply.
//!
//! The body is `{"intent", "parameters", "user", "message"}`. The reply is taken from a JSON
//! object's `reply`, `respuesta`, `text` or `mensaje` field, a JSON string, or a plain-text
//! body; an empty body gets the intent's first fixed response. A timeout, a refused
//! connection, a non-2xx status or an unusable body is an [`ActionError::Webhook`] naming it.

use crate::{ActionError, ActionRunner, Knowledge, Outcome, Request};
use std::time::Duration;

/// The longest reply relayed to the user (characters).
const MAX_REPLY_CHARS: usize = 4000;

/// Calls one URL.
#[derive(Debug, Clone)]
pub struct Webhook {
    url: String,
    timeout: Duration,
}

impl Webhook {
    /// A webhook to `url` giving up after `timeout_ms`.
    pub fn new(url: &str, timeout_ms: u64) -> Self {
        Self {
            url: url.to_string(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    fn fail(&self, message: impl Into<String>) -> ActionError {
        ActionError::Webhook {
            url: self.url.clone(),
            message: message.into(),
        }
    }
}

fn reply_of(body: &str) -> Option<String> {
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(o)) => ["reply", "respuesta", "text", "mensaje"]
            .iter()
            .find_map(|k| o.get(*k).and_then(|v| v.as_str()))
            .map(str::to_string)?,
        Ok(serde_json::Value::String(s)) => s,
        Ok(_) => return None,
        Err(_) => body.to_string(),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_REPLY_CHARS).collect())
}

impl ActionRunner for Webhook {
    fn run(&self, request: &Request, _: &dyn Knowledge) -> Result<Outcome, ActionError> {
        let body = serde_json::json!({
            "intent": request.intent.name,
            "parameters": request.values,
            "user": request.user,
            "message": request.message,
        });
        let agent = ureq::AgentBuilder::new()
            .timeout(self.timeout)
            .redirects(0)
            .build();
        let started = std::time::Instant::now();
        let response = agent
            .post(&self.url)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string());
        let text = match response {
            Ok(r) => r
                .into_string()
                .map_err(|e| self.fail(format!("reading the reply: {e}")))?,
            Err(ureq::Error::Status(code, r)) => {
                let detail: String = r
                    .into_string()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                return Err(self.fail(format!("answered HTTP {code} {}", detail.trim())));
            }
            Err(ureq::Error::Transport(t)) => {
                let timed_out = started.elapsed() >= self.timeout
                    || t.to_string().to_lowercase().contains("timed out");
                return Err(if timed_out {
                    self.fail(format!("no reply within {} ms", self.timeout.as_millis()))
                } else {
                    self.fail(t.to_string())
                });
            }
        };
        let reply = match reply_of(&text) {
            Some(r) => r,
            None if text.trim().is_empty() => request
                .intent
                .responses
                .first()
                .map(|r| crate::responder::fill(r, request))
                .unwrap_or_else(|| "Listo, tu solicitud quedó registrada.".to_string()),
            None => {
                return Err(self.fail(
                    "the reply has no \"reply\", \"respuesta\", \"text\" or \"mensaje\" text",
                ))
            }
        };
        Ok(Outcome {
            text: reply,
            action: "webhook".into(),
            ..Outcome::default()
        })
    }
}
