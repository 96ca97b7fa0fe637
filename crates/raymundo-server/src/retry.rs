//! Outgoing HTTP calls with retries: 5xx, 429 and connection failures are tried again
//! with exponential backoff (honouring `Retry-After`, at most 30 s); other refusals are
//! permanent.

use serde_json::Value;
use std::time::Duration;

/// Why a send failed after its retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Refused for a reason a retry does not fix.
    #[error("refused with HTTP {status}, error {code}: {title}")]
    Permanent {
        /// HTTP status.
        status: u16,
        /// Meta's error code (0 when the body had none).
        code: i64,
        /// Meta's error title or message.
        title: String,
    },
    /// Still failing after every attempt (server errors, rate limits, network).
    #[error("failed after {attempts} attempts: {last}")]
    Transient {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// A file to send could not be read.
    #[error("cannot read {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
}

/// Calls `call` up to `attempts` times; `error_of` reads the API's error code and title
/// from an error body. Returns the JSON of the successful answer (`null` if it had none).
pub(crate) fn with_retries(
    attempts: u32,
    backoff: Duration,
    call: impl Fn() -> Result<ureq::Response, Box<ureq::Error>>,
    error_of: fn(&Value) -> (i64, String),
) -> Result<Value, SendError> {
    let attempts = attempts.max(1);
    let mut wait = backoff;
    let mut last = String::new();
    for attempt in 1..=attempts {
        let retry_after = match call().map_err(|e| *e) {
            Ok(resp) => return Ok(resp.into_json::<Value>().unwrap_or(Value::Null)),
            Err(ureq::Error::Status(status, resp)) => {
                let retry_after = resp
                    .header("Retry-After")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let body: Value = resp.into_json().unwrap_or(Value::Null);
                let (code, title) = error_of(&body);
                if !(status == 429 || status >= 500) {
                    return Err(SendError::Permanent {
                        status,
                        code,
                        title,
                    });
                }
                last = format!("HTTP {status}, error {code}: {title}");
                retry_after
            }
            Err(ureq::Error::Transport(t)) => {
                last = t.to_string();
                None
            }
        };
        if attempt < attempts {
            tracing::debug!(attempt, "call failed, retrying: {last}");
            std::thread::sleep(retry_after.unwrap_or(wait).min(Duration::from_secs(30)));
            wait *= 2;
        }
    }
    Err(SendError::Transient { attempts, last })
}
