//! Ollama's native API: `POST {base_url}/api/chat`, answered with one JSON object or
//! streamed as JSON lines, the last one carrying `"done": true` and the token counts.

use crate::chat::{ChatProvider, ChatRequest, Completion, LlmError};
use crate::http::EXCERPT_CHARS;
use crate::http::{
    api_key_from, count_field, excerpt, messages_json, Endpoint, RemoteModel, WireAnswer,
};
use raymundo_core::ProviderConfig;
use serde_json::{json, Value};
use std::time::Duration;

/// A provider speaking Ollama's `/api/chat`.
pub struct OllamaProvider {
    remote: RemoteModel,
}

impl OllamaProvider {
    /// A provider for `config`, sending `api_key` as `Authorization: Bearer` when given (an
    /// Ollama behind an authenticating proxy).
    ///
    /// The request's `temperature` and `max_tokens` are used unless `config` sets its own.
    pub fn new(config: &ProviderConfig, api_key: Option<String>) -> Self {
        Self {
            remote: RemoteModel::new(config, "/api/chat", api_key),
        }
    }

    /// A provider for `config` whose key (if `api_key_env` is set) is read with `lookup`; a
    /// [`LlmError::Config`] naming the variable when it is set but empty.
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
            "stream": self.remote.stream,
            "options": {
                "temperature": self.remote.temperature(request.temperature),
                "num_predict": self.remote.max_tokens(request.max_tokens),
            },
        })
    }
}

impl ChatProvider for OllamaProvider {
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
            if self.remote.stream {
                read_json_lines(endpoint, response, emit)
            } else {
                let body = endpoint.read_body(response)?;
                let mut answer = WireAnswer::default();
                apply_object(
                    endpoint,
                    &parse_object(endpoint, &body)?,
                    &mut answer,
                    &mut |_| {},
                )?;
                emit(&answer.text);
                Ok(answer)
            }
        })
    }
}

fn parse_object(endpoint: &Endpoint, text: &str) -> Result<Value, LlmError> {
    serde_json::from_str(text).map_err(|e| {
        endpoint.malformed(format!(
            "expected a JSON object from /api/chat ({e}), got: {}",
            excerpt(text, EXCERPT_CHARS)
        ))
    })
}

/// Adds one response object (a streamed line or the whole answer) to `answer`, passing its
/// text on; tells whether it was the last (`"done": true`).
fn apply_object(
    endpoint: &Endpoint,
    object: &Value,
    answer: &mut WireAnswer,
    emit: &mut dyn FnMut(&str),
) -> Result<bool, LlmError> {
    if let Some(error) = object.get("error").filter(|e| !e.is_null()) {
        let message = error
            .as_str()
            .map_or_else(|| error.to_string(), str::to_owned);
        return Err(endpoint.model_error(message));
    }
    let done = object.get("done").and_then(Value::as_bool).unwrap_or(false);
    match object.pointer("/message/content").and_then(Value::as_str) {
        Some(piece) => {
            answer.text.push_str(piece);
            emit(piece);
        }
        // The last object may carry only the counts.
        None if done => {}
        None => {
            return Err(endpoint.malformed(format!(
                "no text at message.content in: {}",
                excerpt(&object.to_string(), EXCERPT_CHARS)
            )))
        }
    }
    if let Some(model) = object.get("model").and_then(Value::as_str) {
        answer.model = Some(model.to_owned());
    }
    if done {
        answer.prompt_tokens = count_field(object, "prompt_eval_count");
        answer.completion_tokens = count_field(object, "eval_count");
        answer.truncated = object.get("done_reason").and_then(Value::as_str) == Some("length");
    }
    Ok(done)
}

/// A streamed answer, read line by line as the server writes it, up to `"done": true`.
fn read_json_lines(
    endpoint: &Endpoint,
    response: ureq::Response,
    emit: &mut dyn FnMut(&str),
) -> Result<WireAnswer, LlmError> {
    let mut answer = WireAnswer::default();
    for line in endpoint.lines(response) {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let object: Value = serde_json::from_str(&line).map_err(|e| {
            endpoint.malformed(format!(
                "a streamed line is not JSON ({e}): {}",
                excerpt(&line, EXCERPT_CHARS)
            ))
        })?;
        if apply_object(endpoint, &object, &mut answer, emit)? {
            return Ok(answer);
        }
    }
    Err(endpoint.malformed(format!(
        "the stream ended before `\"done\": true`, after {} characters of answer: {}",
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
            name: "ollama".into(),
            kind: ProviderKind::Ollama,
            base_url: "http://127.0.0.1:11434/".into(),
            model: "qwen2.5:3b".into(),
            api_key_env: None,
            temperature: Some(0.1),
            max_tokens: None,
            stream: true,
            timeout_secs: 1.0,
            retries: 0,
            context_tokens: 8192,
        }
    }

    fn endpoint() -> Endpoint {
        Endpoint::new(&config(), "/api/chat", None)
    }

    #[test]
    fn request_body_has_the_wire_fields() {
        let provider = OllamaProvider::new(&config(), None);
        let request = ChatRequest {
            messages: vec![ChatMessage::new(Role::User, "¿Qué días abren?")],
            max_tokens: 150,
            temperature: 0.0,
        };
        assert_eq!(
            provider.request_body(&request),
            json!({
                "model": "qwen2.5:3b",
                "messages": [{"role": "user", "content": "¿Qué días abren?"}],
                "stream": true,
                "options": {"temperature": 0.1, "num_predict": 150},
            })
        );
    }

    #[test]
    fn objects_add_text_and_the_last_one_counts() {
        let mut answer = WireAnswer::default();
        let mut pieces = Vec::new();
        let lines = [
            json!({"model":"q","message":{"role":"assistant","content":"Lu"},"done":false}),
            json!({"model":"q","message":{"role":"assistant","content":"nes"},"done":false}),
            json!({"model":"q","message":{"role":"assistant","content":""},"done":true,
                   "done_reason":"length","prompt_eval_count":30,"eval_count":2}),
        ];
        let done: Vec<bool> = lines
            .iter()
            .map(|o| {
                apply_object(&endpoint(), o, &mut answer, &mut |p| {
                    pieces.push(p.to_owned())
                })
                .unwrap()
            })
            .collect();
        assert_eq!(done, [false, false, true]);
        assert_eq!(pieces, ["Lu", "nes", ""]);
        assert_eq!(
            answer,
            WireAnswer {
                text: "Lunes".into(),
                model: Some("q".into()),
                prompt_tokens: Some(30),
                completion_tokens: Some(2),
                truncated: true,
            }
        );
    }

    #[test]
    fn errors_and_foreign_objects_are_named() {
        let cases = [
            (
                json!({"error": "model \"x\" not found"}),
                "model \"x\" not found",
            ),
            (json!({"done": false}), "message.content"),
            (json!({"response": "generate API"}), "message.content"),
        ];
        for (object, want) in cases {
            let err = apply_object(
                &endpoint(),
                &object,
                &mut WireAnswer::default(),
                &mut |_| {},
            )
            .unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
        let err = parse_object(&endpoint(), "not json at all").unwrap_err();
        assert!(
            matches!(&err, LlmError::Malformed { message, .. } if message.contains("not json at all")),
            "{err}"
        );
    }
}
