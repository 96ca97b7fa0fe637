//! What the HTTP providers share: the agent with the configured timeouts, posting JSON,
//! turning transport failures and error statuses into [`LlmError`]s, reading bodies, and the
//! request loop (retries, timing, streamed text) around one provider's wire format.

use crate::chat::{Completion, LlmError};
use crate::retry::{with_retries, FailedAttempt, RetryPolicy};
use raymundo_core::ProviderConfig;
use std::io::{self, BufRead, BufReader, Read};
use std::time::{Duration, Instant};

/// Longest excerpt (in characters) of a server's text quoted in an error.
pub(crate) const EXCERPT_CHARS: usize = 300;

/// Largest non-streamed body read, in bytes; a chat answer is far smaller.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Largest part of an error body read, in bytes (only its start is quoted).
const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;

/// Longest timeout used, whatever the configuration says (sockets reject absurd values).
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The API key of a provider: `None` when it needs none (`api_key_env` unset), a
/// [`LlmError::Config`] naming the variable when it is set but `lookup` finds it missing or
/// empty. `lookup` reads the environment (or a `.env` file) by variable name.
pub fn api_key_from(
    config: &ProviderConfig,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, LlmError> {
    let Some(variable) = config.api_key_env.as_deref() else {
        return Ok(None);
    };
    match lookup(variable).map(|key| key.trim().to_owned()) {
        Some(key) if !key.is_empty() => Ok(Some(key)),
        _ => Err(LlmError::Config {
            provider: config.name.clone(),
            message: format!(
                "the API key variable {variable} is not set or empty (set it in the environment or in .env)"
            ),
        }),
    }
}

/// The configured timeout as a [`Duration`] (non-finite or huge values are capped).
fn timeout_of(config: &ProviderConfig) -> Duration {
    Duration::try_from_secs_f64(config.timeout_secs)
        .unwrap_or(MAX_TIMEOUT)
        .min(MAX_TIMEOUT)
}

/// `text` cut to `max_chars` characters, with `…` when something was cut.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A `Retry-After` value in seconds; an HTTP date (or anything else) gives `None`.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Whether an error (or one of its causes) is a socket timeout. A read timeout shows up as
/// `WouldBlock` on Unix when it comes straight from the socket.
fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<io::Error>() {
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        cause = error.source();
    }
    false
}

/// The innermost cause of an error in words.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut error = error;
    while let Some(source) = error.source() {
        error = source;
    }
    error.to_string()
}

/// Where a provider posts its requests and how failures there are named.
pub(crate) struct Endpoint {
    provider: String,
    url: String,
    api_key: Option<String>,
    timeout: Duration,
    agent: ureq::Agent,
}

impl Endpoint {
    /// The endpoint `path` (e.g. `/chat/completions`) under the provider's `base_url`, with
    /// the configured timeout for connecting and for each read of the response.
    pub(crate) fn new(config: &ProviderConfig, path: &str, api_key: Option<String>) -> Self {
        let timeout = timeout_of(config);
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout_read(timeout)
            .timeout_write(timeout)
            .user_agent(concat!("raymundo/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            provider: config.name.clone(),
            url: format!("{}{path}", config.base_url.trim_end_matches('/')),
            api_key,
            timeout,
            agent,
        }
    }

    /// The provider's configured name.
    pub(crate) fn provider(&self) -> &str {
        &self.provider
    }

    /// Posts `body` as JSON (with `Authorization: Bearer` when there is a key). Statuses of
    /// 400 and above become [`LlmError::Status`]; the response of any other status is
    /// returned with its body unread.
    pub(crate) fn post_json(&self, body: &serde_json::Value) -> Result<ureq::Response, LlmError> {
        let mut request = self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json");
        if let Some(key) = &self.api_key {
            request = request.set("Authorization", &format!("Bearer {key}"));
        }
        let bytes = serde_json::to_vec(body).map_err(|e| self.malformed(e.to_string()))?;
        request
            .send_bytes(&bytes)
            .map_err(|e| self.request_error(e))
    }

    /// The whole body of a (non-streamed) response as text.
    pub(crate) fn read_body(&self, response: ureq::Response) -> Result<String, LlmError> {
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(MAX_BODY_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| self.read_error(e))?;
        String::from_utf8(bytes).map_err(|e| {
            self.malformed(format!(
                "the response is not UTF-8 text: {}",
                excerpt(&String::from_utf8_lossy(e.as_bytes()), EXCERPT_CHARS)
            ))
        })
    }

    /// The lines of a streamed response, each read as soon as the server sends it.
    pub(crate) fn lines(
        &self,
        response: ureq::Response,
    ) -> impl Iterator<Item = Result<String, LlmError>> + '_ {
        BufReader::new(response.into_reader())
            .lines()
            .map(|line| line.map_err(|e| self.read_error(e)))
    }

    /// A [`LlmError::Malformed`] of this provider.
    pub(crate) fn malformed(&self, message: impl Into<String>) -> LlmError {
        LlmError::Malformed {
            provider: self.provider.clone(),
            message: message.into(),
        }
    }

    /// A [`LlmError::Model`] of this provider (the server reported the model's failure).
    pub(crate) fn model_error(&self, message: impl Into<String>) -> LlmError {
        LlmError::Model {
            provider: self.provider.clone(),
            message: message.into(),
        }
    }

    /// A failure while reading the body: a timeout, text that is not UTF-8, or a lost
    /// connection (a response cut off in the middle of its framing).
    fn read_error(&self, error: io::Error) -> LlmError {
        if is_timeout(&error) {
            self.timeout_error()
        } else if error.kind() == io::ErrorKind::InvalidData && error.get_ref().is_none() {
            self.malformed(format!("the response is not UTF-8 text: {error}"))
        } else {
            self.connection_error(format!(
                "connection lost while reading the response: {}",
                root_cause(&error)
            ))
        }
    }

    fn timeout_error(&self) -> LlmError {
        LlmError::Timeout {
            provider: self.provider.clone(),
            after: self.timeout,
        }
    }

    fn connection_error(&self, message: String) -> LlmError {
        LlmError::Connection {
            provider: self.provider.clone(),
            url: self.url.clone(),
            message,
        }
    }

    fn request_error(&self, error: ureq::Error) -> LlmError {
        match error {
            ureq::Error::Status(status, response) => self.status_error(status, response),
            ureq::Error::Transport(transport) => self.transport_error(&transport),
        }
    }

    fn status_error(&self, status: u16, response: ureq::Response) -> LlmError {
        let retry_after = response.header("Retry-After").and_then(parse_retry_after);
        let mut bytes = Vec::new();
        // The body only explains the status: a failure to read it leaves it empty.
        let _ = response
            .into_reader()
            .take(MAX_ERROR_BODY_BYTES)
            .read_to_end(&mut bytes);
        LlmError::Status {
            provider: self.provider.clone(),
            url: self.url.clone(),
            status,
            body: excerpt(&String::from_utf8_lossy(&bytes), EXCERPT_CHARS),
            retry_after,
        }
    }

    fn transport_error(&self, transport: &ureq::Transport) -> LlmError {
        if is_timeout(transport) {
            return self.timeout_error();
        }
        let cause = std::error::Error::source(transport)
            .map(root_cause)
            .or_else(|| transport.message().map(str::to_owned))
            .unwrap_or_default();
        let what = transport.kind().to_string().to_lowercase();
        match transport.kind() {
            ureq::ErrorKind::InvalidUrl | ureq::ErrorKind::UnknownScheme => LlmError::Config {
                provider: self.provider.clone(),
                message: format!("invalid URL {}: {cause}", self.url),
            },
            ureq::ErrorKind::BadStatus | ureq::ErrorKind::BadHeader => {
                self.malformed(format!("not an HTTP response ({what}): {cause}"))
            }
            _ => self.connection_error(format!("{what}: {cause}")),
        }
    }
}

/// What one successful exchange with a server produced, before timing is added.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct WireAnswer {
    /// The whole answer.
    pub(crate) text: String,
    /// The model that answered, when the server says.
    pub(crate) model: Option<String>,
    /// Prompt tokens, when reported.
    pub(crate) prompt_tokens: Option<usize>,
    /// Answer tokens, when reported.
    pub(crate) completion_tokens: Option<usize>,
    /// Whether the answer stopped at the token limit.
    pub(crate) truncated: bool,
}

/// The settings an HTTP provider sends with every request.
pub(crate) struct RemoteModel {
    /// Where requests go.
    pub(crate) endpoint: Endpoint,
    /// The model name sent to the server.
    pub(crate) model: String,
    /// The provider's own temperature, overriding the request's.
    pub(crate) temperature: Option<f32>,
    /// The provider's own answer limit, overriding the request's.
    pub(crate) max_tokens: Option<usize>,
    /// Whether to stream.
    pub(crate) stream: bool,
    /// The model's context window.
    pub(crate) context_tokens: usize,
    /// How failures are retried.
    pub(crate) retry: RetryPolicy,
}

/// The request's messages in the `{"role", "content"}` form both wire formats share.
pub(crate) fn messages_json(request: &crate::chat::ChatRequest) -> Vec<serde_json::Value> {
    request
        .messages
        .iter()
        .map(|m| serde_json::json!({"role": m.role.as_str(), "content": m.content}))
        .collect()
}

impl RemoteModel {
    /// The settings of `config`, posting to `path` under its base URL.
    pub(crate) fn new(config: &ProviderConfig, path: &str, api_key: Option<String>) -> Self {
        Self {
            endpoint: Endpoint::new(config, path, api_key),
            model: config.model.clone(),
            temperature: config.temperature,
            max_tokens: config.max_tokens,
            stream: config.stream,
            context_tokens: config.context_tokens,
            retry: RetryPolicy::new(config.retries),
        }
    }

    /// The temperature to send: the provider's own, else the request's, as the short decimal
    /// a person would write (an `f32` widened as is would read `0.699999988...`).
    pub(crate) fn temperature(&self, requested: f32) -> f64 {
        let t = f64::from(self.temperature.unwrap_or(requested));
        (t * 10_000.0).round() / 10_000.0
    }

    /// The answer limit to send: the provider's own, else the request's.
    pub(crate) fn max_tokens(&self, requested: usize) -> usize {
        self.max_tokens.unwrap_or(requested)
    }

    /// Runs `exchange` (one request and its response, streaming text to the callback it is
    /// given) with retries, and times the whole: `first_token` and `total` count from this
    /// call, retries included. Empty pieces are not passed on. Once text has reached
    /// `on_text`, a failure is returned as is: a retry would repeat that text.
    pub(crate) fn run(
        &self,
        on_text: &mut dyn FnMut(&str),
        mut exchange: impl FnMut(&mut dyn FnMut(&str)) -> Result<WireAnswer, LlmError>,
    ) -> Result<Completion, LlmError> {
        let start = Instant::now();
        let mut first_token = None;
        let answer = with_retries(&self.retry, self.endpoint.provider(), |_attempt| {
            let mut streamed = false;
            let result = exchange(&mut |piece: &str| {
                if piece.is_empty() {
                    return;
                }
                streamed = true;
                first_token.get_or_insert_with(|| start.elapsed());
                on_text(piece);
            });
            result.map_err(|error| FailedAttempt {
                error,
                text_streamed: streamed,
            })
        })?;
        Ok(Completion {
            text: answer.text,
            provider: self.endpoint.provider().to_owned(),
            model: answer.model.unwrap_or_else(|| self.model.clone()),
            prompt_tokens: answer.prompt_tokens,
            completion_tokens: answer.completion_tokens,
            first_token,
            total: start.elapsed(),
            truncated: answer.truncated,
        })
    }
}

/// A JSON number field as a count, when present and a non-negative integer.
pub(crate) fn count_field(value: &serde_json::Value, field: &str) -> Option<usize> {
    value
        .get(field)
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use raymundo_core::ProviderKind;

    fn config(api_key_env: Option<&str>) -> ProviderConfig {
        ProviderConfig {
            name: "groq".into(),
            kind: ProviderKind::Openai,
            base_url: "https://api.example.invalid/v1/".into(),
            model: "m".into(),
            api_key_env: api_key_env.map(str::to_owned),
            temperature: None,
            max_tokens: None,
            stream: true,
            timeout_secs: 2.5,
            retries: 2,
            context_tokens: 8192,
        }
    }

    #[test]
    fn api_key_is_looked_up_only_when_a_variable_is_named() {
        /// The key found, or the variable the error names.
        type Expected = Result<Option<&'static str>, &'static str>;
        let cases: &[(Option<&str>, Option<&str>, Expected)] = &[
            (None, Some("ignored"), Ok(None)),
            (Some("GROQ_API_KEY"), Some(" sk-1 "), Ok(Some("sk-1"))),
            (Some("GROQ_API_KEY"), Some("  "), Err("GROQ_API_KEY")),
            (Some("GROQ_API_KEY"), None, Err("GROQ_API_KEY")),
        ];
        for (variable, value, expected) in cases {
            let got = api_key_from(&config(*variable), |name| {
                assert_eq!(Some(name), *variable);
                value.map(str::to_owned)
            });
            match (got, expected) {
                (Ok(key), Ok(want)) => assert_eq!(key.as_deref(), *want),
                (Err(LlmError::Config { provider, message }), Err(name)) => {
                    assert_eq!(provider, "groq");
                    assert!(message.contains(name), "{message}");
                }
                (got, want) => panic!("{variable:?}={value:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn endpoint_url_joins_base_and_path_without_double_slash() {
        let endpoint = Endpoint::new(&config(None), "/chat/completions", None);
        assert_eq!(
            endpoint.url,
            "https://api.example.invalid/v1/chat/completions"
        );
        assert_eq!(endpoint.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn timeouts_are_capped() {
        let mut c = config(None);
        for secs in [f64::INFINITY, 1e300] {
            c.timeout_secs = secs;
            assert_eq!(timeout_of(&c), MAX_TIMEOUT);
        }
    }

    #[test]
    fn excerpts_count_characters() {
        let cases = [
            ("  corto  ", 10, "corto"),
            ("añadió él", 5, "añadi…"),
            ("ñññ", 3, "ñññ"),
        ];
        for (text, max, want) in cases {
            assert_eq!(excerpt(text, max), want);
        }
    }

    #[test]
    fn retry_after_accepts_seconds_only() {
        let cases = [
            ("1", Some(Duration::from_secs(1))),
            (" 120 ", Some(Duration::from_secs(120))),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
            ("-3", None),
            ("", None),
        ];
        for (value, want) in cases {
            assert_eq!(parse_retry_after(value), want, "{value:?}");
        }
    }

    #[test]
    fn temperature_is_sent_as_written() {
        let mut model = RemoteModel::new(&config(None), "/x", None);
        assert_eq!(model.temperature(0.7), 0.7);
        model.temperature = Some(0.2);
        assert_eq!(model.temperature(0.7), 0.2);
        assert_eq!(model.max_tokens(200), 200);
        model.max_tokens = Some(50);
        assert_eq!(model.max_tokens(200), 50);
    }
}
