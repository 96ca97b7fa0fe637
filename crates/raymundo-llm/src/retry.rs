//! Trying a request again after a failure that may pass (timeouts, refused connections,
//! 429 and 5xx), waiting longer each time or as long as the server asks.

use crate::chat::LlmError;
use std::time::Duration;

/// The first wait between attempts, doubled after every retry.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(250);

/// The longest wait of the exponential backoff.
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The longest wait honoured from a server's `Retry-After`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// How many times, and after how long, a failed request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: a single attempt).
    pub retries: u32,
    /// The wait before the first retry; each further retry waits twice as long, up to
    /// [`MAX_BACKOFF`].
    pub base_delay: Duration,
}

impl RetryPolicy {
    /// `retries` retries after [`DEFAULT_BASE_DELAY`], doubling.
    pub fn new(retries: u32) -> Self {
        Self {
            retries,
            base_delay: DEFAULT_BASE_DELAY,
        }
    }

    /// The same policy waiting `base_delay` before the first retry (tests use milliseconds).
    pub fn with_base_delay(self, base_delay: Duration) -> Self {
        Self { base_delay, ..self }
    }

    /// The wait before retry number `retry` (0 for the first retry) after `error`: the
    /// server's `Retry-After` when it sent one (up to [`MAX_RETRY_AFTER`]), else the
    /// exponential backoff.
    pub fn delay(&self, retry: u32, error: &LlmError) -> Duration {
        if let LlmError::Status {
            retry_after: Some(wait),
            ..
        } = error
        {
            return (*wait).min(MAX_RETRY_AFTER);
        }
        let factor = 2u32.saturating_pow(retry);
        self.base_delay.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

/// A failed attempt, and whether it had already delivered text to the caller (then it is
/// never retried: the caller would see that text twice).
#[derive(Debug)]
pub struct FailedAttempt {
    /// What went wrong.
    pub error: LlmError,
    /// Whether some of the answer had already been streamed.
    pub text_streamed: bool,
}

/// Calls `attempt` (with the attempt number, 0 first) until it succeeds, the error is not
/// [`LlmError::retryable`], text was already streamed, or `policy.retries` retries are
/// spent; returns the last error then. `provider` names the provider in the log.
pub fn with_retries<T>(
    policy: &RetryPolicy,
    provider: &str,
    mut attempt: impl FnMut(u32) -> Result<T, FailedAttempt>,
) -> Result<T, LlmError> {
    let mut number = 0;
    loop {
        let failed = match attempt(number) {
            Ok(value) => return Ok(value),
            Err(failed) => failed,
        };
        let error = failed.error;
        if failed.text_streamed || !error.retryable() || number >= policy.retries {
            return Err(error);
        }
        let wait = policy.delay(number, &error);
        tracing::warn!(
            provider,
            attempt = number + 1,
            wait_ms = wait.as_millis() as u64,
            %error,
            "retrying the request"
        );
        std::thread::sleep(wait);
        number += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<u64>) -> LlmError {
        LlmError::Status {
            provider: "p".into(),
            url: "http://x".into(),
            status,
            body: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    fn timeout() -> LlmError {
        LlmError::Timeout {
            provider: "p".into(),
            after: Duration::from_secs(1),
        }
    }

    #[test]
    fn delays_double_up_to_the_cap_unless_the_server_says() {
        let policy = RetryPolicy::new(10);
        let ms = Duration::from_millis;
        let cases = [
            (0, timeout(), ms(250)),
            (1, timeout(), ms(500)),
            (2, status(500, None), ms(1000)),
            (5, timeout(), ms(8000)),
            (40, timeout(), ms(8000)),
            (3, status(429, Some(1)), ms(1000)),
            (0, status(503, Some(3600)), MAX_RETRY_AFTER),
        ];
        for (retry, error, want) in cases {
            assert_eq!(policy.delay(retry, &error), want, "retry {retry}: {error}");
        }
    }

    /// What one scripted attempt returns.
    type Outcome = Result<&'static str, FailedAttempt>;

    /// Runs `with_retries` over scripted outcomes; returns the result and the attempts made.
    fn run(retries: u32, outcomes: Vec<Outcome>) -> (String, u32) {
        let policy = RetryPolicy::new(retries).with_base_delay(Duration::from_millis(1));
        let mut outcomes = outcomes.into_iter();
        let mut attempts = 0;
        let result = with_retries(&policy, "p", |number| {
            assert_eq!(number, attempts);
            attempts += 1;
            outcomes.next().expect("an attempt too many")
        });
        let shown = match result {
            Ok(text) => text.to_owned(),
            Err(error) => format!("error: {error}"),
        };
        (shown, attempts)
    }

    fn fails(error: LlmError) -> Outcome {
        Err(FailedAttempt {
            error,
            text_streamed: false,
        })
    }

    #[test]
    fn retries_only_what_may_pass_and_never_after_streamed_text() {
        let streamed = || {
            Err(FailedAttempt {
                error: timeout(),
                text_streamed: true,
            })
        };
        let cases: Vec<(&str, u32, Vec<Outcome>, &str, u32)> = vec![
            ("first try", 2, vec![Ok("hola")], "hola", 1),
            (
                "5xx then ok",
                2,
                vec![fails(status(500, None)), Ok("hola")],
                "hola",
                2,
            ),
            (
                "retries spent",
                2,
                vec![fails(timeout()), fails(timeout()), fails(timeout())],
                "error: p: no response",
                3,
            ),
            (
                "no retries configured",
                0,
                vec![fails(timeout())],
                "error: p: no response",
                1,
            ),
            (
                "401 is final",
                2,
                vec![fails(status(401, None))],
                "error: p: HTTP 401",
                1,
            ),
            (
                "text already streamed",
                2,
                vec![streamed()],
                "error: p: no response",
                1,
            ),
        ];
        for (name, retries, outcomes, want, want_attempts) in cases {
            let (got, attempts) = run(retries, outcomes);
            assert!(got.starts_with(want), "{name}: {got}");
            assert_eq!(attempts, want_attempts, "{name}");
        }
    }
}
