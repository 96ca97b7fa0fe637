//! OpenAI-compatible servers: `POST {base_url}/chat/completions`, answered with one JSON
//! object or streamed as server-sent events (OpenAI, Groq, Mistral, GitHub Models, vLLM,
//! llama.cpp server, LM Studio, Ollama's `/v1`).

use crate::chat::{ChatProvider, ChatRequest, Completion, LlmError};
use crate::http::EXCERPT_CHARS;
use crate::http::{
    api_key_from, count_field, excerpt, messages_json, Endpoint, RemoteModel, WireAnswer,
};
use raymundo_core::ProviderConfig;
use serde_json::{json, Value};
use std::time::Duration;

/// A provider speaking the OpenAI chat-completions protocol.
pub struct OpenAiProvider {
    remote: RemoteModel,
}

impl OpenAiProvider {
    /// A provider for `config`, sending `api_key` as `Authorization: Bearer` when given.
    ///
    /// The request's `temperature` and `max_tokens` are used unless `config` sets its own.
    pub fn new(config: &ProviderConfig, api_key: Option<String>) -> Self {
        Self {
            remote: RemoteModel::new(config, "/chat/completions", api_key),
        }
    }

    /// A provider for `config` whose key is read with `lookup` (environment or `.env`) from
    /// `api_key_env`; a [`LlmError::Config`] naming the variable when it is set but empty.
    pub fn from_config(
        config: &ProviderConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, LlmError> {
        Ok(Self::new(config, api_key_from(config, lookup)?))
    }

    /// The same provider waiting `base_delay` (doubling) between retries instead of the
    /// default 250 ms; a server's `Retry-After` is still honoured.
    pub fn with_retry_delay(mut self, base_delay: Duration) -> Self {
        self.remote.retry = self.remote.retry.with_base_delay(base_delay);
        self
    }

    fn request_body(&self, request: &ChatRequest) -> Value {
        let messages = messages_json(request);
        json!({
            "model": self.remote.model,
            "messages": messages,
            "temperature": self.remote.temperature(request.temperature),
            "max_tokens": self.remote.max_tokens(request.max_tokens),
            "stream": self.remote.stream,
        })
    }
}

impl ChatProvider for OpenAiProvider {
    fn name(&self) -> &str {
        self.remote.endpoint.provider()
    }

    fn context_tokens(&self) -> usize {
        self.remote.context_tokens
    }

    fn chat(
        &self,
        request: &ChatRequest,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        let body = self.request_body(request);
        let endpoint = &self.remote.endpoint;
        self.remote.run(on_text, |emit| {
            let response = endpoint.post_json(&body)?;
            // A server that ignores `"stream": true` answers with one JSON object.
            let is_json = response.content_type().contains("json");
            if self.remote.stream && !is_json {
                read_event_stream(endpoint, response, emit)
            } else {
                let answer = parse_completion(endpoint, &endpoint.read_body(response)?)?;
                emit(&answer.text);
                Ok(answer)
            }
        })
    }
}

/// The message of an `"error"` member (`{"error": {"message": ...}}` or `{"error": "..."}`).
fn error_message(value: &Value) -> Option<String> {
    let error = value.get("error").filter(|e| !e.is_null())?;
    Some(match error.get("message").and_then(Value::as_str) {
        Some(message) => message.to_owned(),
        None => error
            .as_str()
            .map_or_else(|| error.to_string(), str::to_owned),
    })
}

/// Prompt and answer token counts from a `usage` member, when there is one.
fn read_usage(value: &Value, answer: &mut WireAnswer) {
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        answer.prompt_tokens = count_field(usage, "prompt_tokens");
        answer.completion_tokens = count_field(usage, "completion_tokens");
    }
}

/// A whole (non-streamed) chat completion.
fn parse_completion(endpoint: &Endpoint, body: &str) -> Result<WireAnswer, LlmError> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        endpoint.malformed(format!(
            "expected a JSON chat completion ({e}), got: {}",
            excerpt(body, EXCERPT_CHARS)
        ))
    })?;
    if let Some(message) = error_message(&value) {
        return Err(endpoint.model_error(message));
    }
    let choice = value.pointer("/choices/0");
    let Some(text) = choice
        .and_then(|c| c.pointer("/message/content"))
        .and_then(Value::as_str)
    else {
        return Err(endpoint.malformed(format!(
            "no text at choices[0].message.content in: {}",
            excerpt(body, EXCERPT_CHARS)
        )));
    };
    let mut answer = WireAnswer {
        text: text.to_owned(),
        model: value
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_owned),
        truncated: choice.and_then(|c| c.get("finish_reason")) == Some(&json!("length")),
        ..WireAnswer::default()
    };
    read_usage(&value, &mut answer);
    Ok(answer)
}

/// One line of a server-sent event stream, as far as chat completions go.
#[derive(Debug, PartialEq, Eq)]
enum EventLine<'a> {
    /// `data: {...}`: one chunk of the answer.
    Data(&'a str),
    /// `data: [DONE]`: the end of the answer.
    Done,
    /// Blank lines, `: comments` and the `event`, `id` and `retry` fields.
    Ignored,
    /// Anything else: the server is not sending events.
    Unexpected,
}

fn event_line(line: &str) -> EventLine<'_> {
    let line = line.trim_end_matches('\r');
    if line.trim().is_empty() || line.starts_with(':') {
        return EventLine::Ignored;
    }
    let (field, value) = line.split_once(':').unwrap_or((line, ""));
    match field {
        "data" if value.trim() == "[DONE]" => EventLine::Done,
        "data" => EventLine::Data(value.strip_prefix(' ').unwrap_or(value)),
        "event" | "id" | "retry" => EventLine::Ignored,
        _ => EventLine::Unexpected,
    }
}

/// Adds one streamed chunk to `answer`, passing its text on; tells whether the chunk carried
/// a `finish_reason` (the answer is complete).
fn apply_chunk(
    endpoint: &Endpoint,
    chunk: &Value,
    answer: &mut WireAnswer,
    emit: &mut dyn FnMut(&str),
) -> Result<bool, LlmError> {
    if let Some(message) = error_message(chunk) {
        return Err(endpoint.model_error(message));
    }
    if let Some(model) = chunk.get("model").and_then(Value::as_str) {
        answer.model = Some(model.to_owned());
    }
    read_usage(chunk, answer);
    let Some(choice) = chunk.pointer("/choices/0") else {
        return Ok(false);
    };
    if let Some(piece) = choice.pointer("/delta/content").and_then(Value::as_str) {
        answer.text.push_str(piece);
        emit(piece);
    }
    match choice.get("finish_reason").and_then(Value::as_str) {
        Some(reason) => {
            answer.truncated |= reason == "length";
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A streamed chat completion, read event by event as the server writes it.
///
/// The stream is complete at `data: [DONE]`; a stream that ends without it is accepted
/// only when a chunk carried a `finish_reason` (some servers omit `[DONE]`).
fn read_event_stream(
    endpoint: &Endpoint,
    response: ureq::Response,
    emit: &mut dyn FnMut(&str),
) -> Result<WireAnswer, LlmError> {
    let mut answer = WireAnswer::default();
    let mut finished = false;
    for line in endpoint.lines(response) {
        let line = line?;
        match event_line(&line) {
            EventLine::Ignored => {}
            EventLine::Done => return Ok(answer),
            EventLine::Unexpected => {
                return Err(endpoint.malformed(format!(
                    "expected server-sent events (`data: {{...}}`), got the line: {}",
                    excerpt(&line, EXCERPT_CHARS)
                )))
            }
            EventLine::Data(data) => {
                let chunk: Value = serde_json::from_str(data).map_err(|e| {
                    endpoint.malformed(format!(
                        "a streamed event is not JSON ({e}): {}",
                        excerpt(data, EXCERPT_CHARS)
                    ))
                })?;
                finished |= apply_chunk(endpoint, &chunk, &mut answer, emit)?;
            }
        }
    }
    if finished {
        return Ok(answer);
    }
    Err(endpoint.malformed(format!(
        "the stream ended before `data: [DONE]`, after {} characters of answer: {}",
        answer.text.chars().count(),
        excerpt(&answer.text, EXCERPT_CHARS)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{ChatMessage, Role};
    use raymundo_core::ProviderKind;

    fn config() -> ProviderConfig {
        ProviderConfig {
            name: "groq".into(),
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "llama-3.1-8b-instant".into(),
            api_key_env: None,
            temperature: None,
            max_tokens: Some(64),
            stream: false,
            timeout_secs: 1.0,
            retries: 0,
            context_tokens: 8192,
        }
    }

    fn endpoint() -> Endpoint {
        Endpoint::new(&config(), "/chat/completions", None)
    }

    #[test]
    fn event_lines_are_classified() {
        let cases = [
            ("data: {\"a\":1}", EventLine::Data("{\"a\":1}")),
            ("data:{\"a\":1}\r", EventLine::Data("{\"a\":1}")),
            ("data: [DONE]", EventLine::Done),
            ("data:[DONE]\r", EventLine::Done),
            ("", EventLine::Ignored),
            ("\r", EventLine::Ignored),
            (": keep-alive", EventLine::Ignored),
            ("event: message", EventLine::Ignored),
            ("id: 7", EventLine::Ignored),
            ("retry: 1000", EventLine::Ignored),
            ("<html>", EventLine::Unexpected),
            ("{\"choices\":[]}", EventLine::Unexpected),
        ];
        for (line, want) in cases {
            assert_eq!(event_line(line), want, "{line:?}");
        }
    }

    #[test]
    fn request_body_has_the_wire_fields() {
        let provider = OpenAiProvider::new(&config(), None);
        let request = ChatRequest {
            messages: vec![
                ChatMessage::new(Role::System, "Eres Raymundo."),
                ChatMessage::new(Role::User, "¿Horario?"),
            ],
            max_tokens: 200,
            temperature: 0.3,
        };
        assert_eq!(
            provider.request_body(&request),
            json!({
                "model": "llama-3.1-8b-instant",
                "messages": [
                    {"role": "system", "content": "Eres Raymundo."},
                    {"role": "user", "content": "¿Horario?"},
                ],
                "temperature": 0.3,
                "max_tokens": 64,
                "stream": false,
            })
        );
    }

    #[test]
    fn completions_are_parsed_or_named_malformed() {
        let ok = r#"{"model":"m1","choices":[{"message":{"role":"assistant","content":"Hola"},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#;
        let answer = parse_completion(&endpoint(), ok).unwrap();
        assert_eq!(
            answer,
            WireAnswer {
                text: "Hola".into(),
                model: Some("m1".into()),
                prompt_tokens: Some(12),
                completion_tokens: Some(3),
                truncated: true,
            }
        );
        let cases = [
            (
                "<html>Bad gateway</html>",
                "expected a JSON chat completion",
            ),
            ("{\"choices\":[]}", "choices[0].message.content"),
            (
                "{\"choices\":[{\"message\":{\"content\":null}}]}",
                "content",
            ),
        ];
        for (body, want) in cases {
            match parse_completion(&endpoint(), body) {
                Err(LlmError::Malformed { message, .. }) => {
                    assert!(message.contains(want), "{message}");
                    assert!(message.contains(&excerpt(body, 20)[..10]), "{message}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let error = r#"{"error":{"message":"model overloaded","type":"server_error"}}"#;
        assert!(matches!(
            parse_completion(&endpoint(), error),
            Err(LlmError::Model { message, .. }) if message == "model overloaded"
        ));
    }

    #[test]
    fn chunks_add_text_usage_and_finish() {
        let mut answer = WireAnswer::default();
        let mut pieces = Vec::new();
        let chunks = [
            json!({"model":"m","choices":[{"delta":{"role":"assistant"}}]}),
            json!({"choices":[{"delta":{"content":"Ho"}}]}),
            json!({"choices":[{"delta":{"content":"la"},"finish_reason":null}]}),
            json!({"choices":[{"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}),
        ];
        let finished: Vec<bool> = chunks
            .iter()
            .map(|c| {
                apply_chunk(&endpoint(), c, &mut answer, &mut |p| {
                    pieces.push(p.to_owned())
                })
                .unwrap()
            })
            .collect();
        assert_eq!(finished, [false, false, false, true]);
        assert_eq!(pieces, ["Ho", "la"]);
        assert_eq!(answer.text, "Hola");
        assert_eq!(answer.model.as_deref(), Some("m"));
        assert_eq!(
            (answer.prompt_tokens, answer.completion_tokens),
            (Some(5), Some(2))
        );
        assert!(answer.truncated);
    }
}
