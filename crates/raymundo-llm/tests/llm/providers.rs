//! The HTTP providers against a real server on 127.0.0.1: what they send, what the user
//! gets (text, streamed pieces, counts), and how failures are named and retried.

use crate::support::{closed_port, Reply, ScriptedServer, Seen};
use raymundo_core::{ProviderConfig, ProviderKind};
use raymundo_llm::{
    ChatMessage, ChatProvider, ChatRequest, Completion, LlmError, OllamaProvider, OpenAiProvider,
    Role,
};
use serde_json::json;
use std::time::{Duration, Instant};

const FAST_RETRY: Duration = Duration::from_millis(5);
const PAUSE: Duration = Duration::from_millis(60);

fn config(kind: ProviderKind, base_url: String, stream: bool) -> ProviderConfig {
    ProviderConfig {
        name: "remoto".into(),
        kind,
        base_url,
        model: "modelo-de-prueba".into(),
        api_key_env: None,
        temperature: None,
        max_tokens: None,
        stream,
        timeout_secs: 2.0,
        retries: 2,
        context_tokens: 8192,
    }
}

/// An OpenAI-compatible provider for `server` (base URL with `/v1/`, trailing slash).
fn openai(server: &ScriptedServer, stream: bool, key: Option<&str>) -> OpenAiProvider {
    let config = config(
        ProviderKind::Openai,
        format!("{}/v1/", server.url()),
        stream,
    );
    OpenAiProvider::new(&config, key.map(str::to_owned)).with_retry_delay(FAST_RETRY)
}

fn ollama(server: &ScriptedServer, stream: bool) -> OllamaProvider {
    let config = config(ProviderKind::Ollama, server.url(), stream);
    OllamaProvider::new(&config, None).with_retry_delay(FAST_RETRY)
}

fn question() -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::new(Role::System, "Eres Raymundo; responde con las fuentes."),
            ChatMessage::new(Role::User, "¿Cuántos días de vacaciones tengo?"),
        ],
        max_tokens: 120,
        temperature: 0.2,
    }
}

/// What the user saw: the result and each streamed piece with its arrival time.
struct Outcome {
    result: Result<Completion, LlmError>,
    pieces: Vec<(String, Instant)>,
    elapsed: Duration,
}

impl Outcome {
    fn texts(&self) -> Vec<&str> {
        self.pieces.iter().map(|(p, _)| p.as_str()).collect()
    }

    fn error(self) -> LlmError {
        match self.result {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e,
        }
    }
}

fn ask(provider: &dyn ChatProvider) -> Outcome {
    ask_telling(provider, &Seen::default())
}

/// Like [`ask`], telling `seen` (and so a stepwise server) about every piece shown.
fn ask_telling(provider: &dyn ChatProvider, seen: &Seen) -> Outcome {
    let start = Instant::now();
    let mut pieces = Vec::new();
    let result = provider.chat(&question(), &mut |p| {
        pieces.push((p.to_owned(), Instant::now()));
        seen.piece();
    });
    Outcome {
        result,
        pieces,
        elapsed: start.elapsed(),
    }
}

/// One server-sent event carrying `text`.
fn event(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"model": "llama-3.1-8b", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    )
}

/// One Ollama line carrying `text`.
fn ollama_line(text: &str) -> String {
    format!(
        "{}\n",
        json!({"model": "qwen2.5:3b", "message": {"role": "assistant", "content": text}, "done": false})
    )
}

const COMPLETION: &str = r#"{"id":"c1","model":"llama-3.1-8b","choices":[{"index":0,"message":{"role":"assistant","content":"Tienes 22 días hábiles [1]."},"finish_reason":"stop"}],"usage":{"prompt_tokens":48,"completion_tokens":9,"total_tokens":57}}"#;

#[test]
fn openai_sends_the_chat_request_and_reads_the_whole_answer() {
    let server = ScriptedServer::start(vec![Reply::json(COMPLETION)]);
    let outcome = ask(&openai(&server, false, Some("sk-prueba")));
    assert_eq!(outcome.texts(), ["Tienes 22 días hábiles [1]."]);
    let completion = outcome.result.unwrap();
    assert_eq!(completion.text, "Tienes 22 días hábiles [1].");
    assert_eq!(completion.provider, "remoto");
    assert_eq!(completion.model, "llama-3.1-8b");
    assert_eq!(
        (completion.prompt_tokens, completion.completion_tokens),
        (Some(48), Some(9))
    );
    assert!(!completion.truncated);
    assert!(completion.first_token.is_some());

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), Some("Bearer sk-prueba"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({
            "model": "modelo-de-prueba",
            "messages": [
                {"role": "system", "content": "Eres Raymundo; responde con las fuentes."},
                {"role": "user", "content": "¿Cuántos días de vacaciones tengo?"},
            ],
            "temperature": 0.2,
            "max_tokens": 120,
            "stream": false,
        })
    );
}

#[test]
fn openai_without_a_key_sends_no_authorization() {
    let server = ScriptedServer::start(vec![Reply::json(COMPLETION)]);
    ask(&openai(&server, false, None)).result.unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[test]
fn openai_key_comes_from_the_named_variable() {
    let server = ScriptedServer::start(vec![Reply::json(COMPLETION)]);
    let mut config = config(ProviderKind::Openai, server.url(), false);
    config.api_key_env = Some("GROQ_API_KEY".into());

    let missing = OpenAiProvider::from_config(&config, |_| Some(String::new()));
    match missing {
        Err(LlmError::Config { message, .. }) => assert!(message.contains("GROQ_API_KEY")),
        Err(other) => panic!("expected a Config error, got {other}"),
        Ok(_) => panic!("expected a Config error"),
    }

    let lookup = |name: &str| (name == "GROQ_API_KEY").then(|| "gsk-123".to_owned());
    let provider = OpenAiProvider::from_config(&config, lookup).unwrap();
    ask(&provider).result.unwrap();
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer gsk-123")
    );
}

#[test]
fn openai_stream_reaches_the_user_piece_by_piece() {
    let pieces = [
        ": keep-alive\n\n".to_owned(),
        format!(
            "data: {}\n\n",
            json!({"model": "llama-3.1-8b", "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        ),
        event("Tienes "),
        event("22 días"),
        "\n".to_owned(),
        event(" hábiles [1]."),
        format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
                   "usage": {"prompt_tokens": 48, "completion_tokens": 7}})
        ),
        "data: [DONE]\n\n".to_owned(),
    ];
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let seen = Seen::default();
    let server = ScriptedServer::start(vec![Reply::stepwise(
        "text/event-stream",
        &pieces,
        &[0, 0, 0, 1, 2, 2, 3, 3],
        PAUSE,
        &seen,
    )]);
    let outcome = ask_telling(&openai(&server, true, None), &seen);
    assert_eq!(outcome.texts(), ["Tienes ", "22 días", " hábiles [1]."]);
    assert!(
        !seen.server_gave_up(),
        "a piece was held back until the stream went on"
    );
    let first_arrival = outcome.pieces[0].1;
    let last_arrival = outcome.pieces[2].1;
    assert!(
        last_arrival - first_arrival >= PAUSE * 3,
        "the pieces arrived together: {:?}",
        last_arrival - first_arrival
    );
    let completion = outcome.result.unwrap();
    assert_eq!(completion.text, "Tienes 22 días hábiles [1].");
    assert_eq!(completion.model, "llama-3.1-8b");
    assert_eq!(
        (completion.prompt_tokens, completion.completion_tokens),
        (Some(48), Some(7))
    );
    assert!(completion.truncated);
    let first_token = completion.first_token.unwrap();
    assert!(
        first_token + PAUSE * 3 <= completion.total,
        "{completion:?}"
    );
    assert_eq!(server.requests()[0].json()["stream"], json!(true));
}

#[test]
fn openai_stream_ignored_by_the_server_still_answers() {
    let server = ScriptedServer::start(vec![Reply::json(COMPLETION)]);
    let outcome = ask(&openai(&server, true, None));
    assert_eq!(outcome.texts(), ["Tienes 22 días hábiles [1]."]);
    assert_eq!(outcome.result.unwrap().completion_tokens, Some(9));
}

#[test]
fn rate_limit_waits_as_long_as_the_server_asks() {
    let server = ScriptedServer::start(vec![
        Reply::with_headers(
            429,
            &[("Retry-After", "1"), ("Content-Type", "application/json")],
            r#"{"error":{"message":"Rate limit reached"}}"#,
        ),
        Reply::json(COMPLETION),
    ]);
    let outcome = ask(&openai(&server, false, None));
    assert!(
        outcome.elapsed >= Duration::from_millis(900),
        "{:?}",
        outcome.elapsed
    );
    assert_eq!(outcome.result.unwrap().text, "Tienes 22 días hábiles [1].");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn server_error_is_retried_and_then_answers() {
    let server = ScriptedServer::start(vec![
        Reply::body(500, "text/plain", "internal error"),
        Reply::json(COMPLETION),
    ]);
    let outcome = ask(&openai(&server, false, None));
    assert_eq!(outcome.result.unwrap().text, "Tienes 22 días hábiles [1].");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn persistent_server_errors_give_up_after_the_configured_retries() {
    let busy = || Reply::body(503, "text/plain", "overloaded");
    let server = ScriptedServer::start(vec![busy(), busy(), busy(), busy()]);
    match ask(&openai(&server, false, None)).error() {
        LlmError::Status { status, body, .. } => {
            assert_eq!(status, 503);
            assert_eq!(body, "overloaded");
        }
        other => panic!("expected a Status error, got {other}"),
    }
    assert_eq!(server.requests().len(), 3, "one attempt and two retries");
}

#[test]
fn wrong_key_is_not_retried_and_quotes_the_server() {
    let long_explanation = format!("Invalid API Key. {}", "x".repeat(1000));
    let server = ScriptedServer::start(vec![Reply::body(
        401,
        "application/json",
        &long_explanation,
    )]);
    let error = ask(&openai(&server, false, Some("mala"))).error();
    assert!(!error.retryable());
    match &error {
        LlmError::Status {
            status,
            body,
            url,
            retry_after,
            ..
        } => {
            assert_eq!(*status, 401);
            assert!(body.starts_with("Invalid API Key."));
            assert!(
                body.chars().count() <= 301,
                "{} chars",
                body.chars().count()
            );
            assert!(url.ends_with("/v1/chat/completions"));
            assert_eq!(*retry_after, None);
        }
        other => panic!("expected a Status error, got {other}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn slow_server_times_out_and_the_timeout_is_retried() {
    // Generous margins: a busy CI machine must not fail this; without the timeout the two
    // attempts would take 10 s.
    let slow = || Reply::json(COMPLETION).after(Duration::from_secs(5));
    let server = ScriptedServer::start(vec![slow(), slow()]);
    let mut config = config(ProviderKind::Openai, server.url(), false);
    config.timeout_secs = 0.3;
    config.retries = 1;
    let provider = OpenAiProvider::new(&config, None).with_retry_delay(FAST_RETRY);
    let outcome = ask(&provider);
    assert!(
        outcome.elapsed < Duration::from_millis(3000),
        "{:?}",
        outcome.elapsed
    );
    match outcome.error() {
        LlmError::Timeout { after, provider } => {
            assert_eq!(after, Duration::from_millis(300));
            assert_eq!(provider, "remoto");
        }
        other => panic!("expected a Timeout, got {other}"),
    }
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn stalled_stream_after_some_text_is_not_retried() {
    let first = event("Tienes ");
    let server = ScriptedServer::start(vec![
        Reply::chunked("text/event-stream", &[&first], Duration::ZERO, false)
            .then_stall(Duration::from_millis(1500)),
        Reply::json(COMPLETION),
    ]);
    let mut config = config(ProviderKind::Openai, server.url(), true);
    config.timeout_secs = 0.3;
    let provider = OpenAiProvider::new(&config, None).with_retry_delay(FAST_RETRY);
    let outcome = ask(&provider);
    assert_eq!(outcome.texts(), ["Tienes "]);
    assert!(matches!(outcome.error(), LlmError::Timeout { .. }));
    assert_eq!(server.requests().len(), 1, "a retry would repeat the text");
}

#[test]
fn stream_cut_in_its_framing_is_a_lost_connection_not_retried_after_text() {
    let (first, second) = (event("Tienes "), event("22"));
    let server = ScriptedServer::start(vec![
        Reply::chunked("text/event-stream", &[&first, &second], PAUSE, false),
        Reply::json(COMPLETION),
    ]);
    let outcome = ask(&openai(&server, true, None));
    assert_eq!(outcome.texts(), ["Tienes ", "22"]);
    match outcome.error() {
        LlmError::Connection { message, .. } => {
            assert!(message.contains("connection lost"), "{message}")
        }
        other => panic!("expected a Connection error, got {other}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn stream_ending_without_done_is_malformed() {
    let (first, second) = (event("Tienes "), event("22 días"));
    let server = ScriptedServer::start(vec![Reply::until_close(
        "text/event-stream",
        &[&first, &second],
        PAUSE,
    )]);
    let outcome = ask(&openai(&server, true, None));
    assert_eq!(outcome.texts(), ["Tienes ", "22 días"]);
    match outcome.error() {
        LlmError::Malformed { message, .. } => {
            assert!(message.contains("[DONE]"), "{message}");
            assert!(message.contains("Tienes 22 días"), "{message}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn stream_event_that_is_not_json_is_malformed_and_quoted() {
    let first = event("Hola");
    let server = ScriptedServer::start(vec![Reply::chunked(
        "text/event-stream",
        &[&first, "data: {\"choices\": [ roto\n\n", "data: [DONE]\n\n"],
        Duration::ZERO,
        true,
    )]);
    match ask(&openai(&server, true, None)).error() {
        LlmError::Malformed { message, .. } => {
            assert!(message.contains("not JSON"), "{message}");
            assert!(message.contains("{\"choices\": [ roto"), "{message}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[test]
fn body_that_is_not_json_is_malformed_and_quoted() {
    let server = ScriptedServer::start(vec![Reply::body(
        200,
        "text/html",
        "<html><body>Bienvenido al portal cautivo</body></html>",
    )]);
    match ask(&openai(&server, false, None)).error() {
        LlmError::Malformed { provider, message } => {
            assert_eq!(provider, "remoto");
            assert!(
                message.contains("expected a JSON chat completion"),
                "{message}"
            );
            assert!(message.contains("portal cautivo"), "{message}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn refused_connection_names_the_url_after_the_retries() {
    let port = closed_port();
    let config = config(
        ProviderKind::Openai,
        format!("http://127.0.0.1:{port}/v1"),
        true,
    );
    let outcome = ask(&OpenAiProvider::new(&config, None).with_retry_delay(FAST_RETRY));
    assert!(
        outcome.elapsed < Duration::from_secs(3),
        "{:?}",
        outcome.elapsed
    );
    match outcome.error() {
        LlmError::Connection { url, message, .. } => {
            assert_eq!(url, format!("http://127.0.0.1:{port}/v1/chat/completions"));
            assert!(message.contains("refused"), "{message}");
        }
        other => panic!("expected a Connection error, got {other}"),
    }
}

#[test]
fn ollama_streams_json_lines_and_reports_counts() {
    let done = format!(
        "{}\n",
        json!({"model": "qwen2.5:3b", "message": {"role": "assistant", "content": ""}, "done": true,
               "done_reason": "length", "prompt_eval_count": 61, "eval_count": 5})
    );
    let lines = [
        ollama_line("Son "),
        ollama_line("22 días"),
        ollama_line(" [1]."),
        done,
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let seen = Seen::default();
    let server = ScriptedServer::start(vec![Reply::stepwise(
        "application/x-ndjson",
        &lines,
        &[0, 1, 2, 3],
        PAUSE,
        &seen,
    )]);
    let outcome = ask_telling(&ollama(&server, true), &seen);
    assert_eq!(outcome.texts(), ["Son ", "22 días", " [1]."]);
    assert!(
        !seen.server_gave_up(),
        "a piece was held back until the stream went on"
    );
    assert!(outcome.pieces[2].1 - outcome.pieces[0].1 >= PAUSE * 2);
    let completion = outcome.result.unwrap();
    assert_eq!(completion.text, "Son 22 días [1].");
    assert_eq!(completion.model, "qwen2.5:3b");
    assert_eq!(
        (completion.prompt_tokens, completion.completion_tokens),
        (Some(61), Some(5))
    );
    assert!(completion.truncated);

    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/chat")
    );
    assert_eq!(
        request.json(),
        json!({
            "model": "modelo-de-prueba",
            "messages": [
                {"role": "system", "content": "Eres Raymundo; responde con las fuentes."},
                {"role": "user", "content": "¿Cuántos días de vacaciones tengo?"},
            ],
            "stream": true,
            "options": {"temperature": 0.2, "num_predict": 120},
        })
    );
}

#[test]
fn ollama_answers_in_one_object_without_streaming() {
    let body = json!({"model": "qwen2.5:3b", "message": {"role": "assistant", "content": "Son 22 días [1]."},
                      "done": true, "done_reason": "stop", "prompt_eval_count": 61, "eval_count": 8});
    let server = ScriptedServer::start(vec![Reply::json(&body.to_string())]);
    let outcome = ask(&ollama(&server, false));
    assert_eq!(outcome.texts(), ["Son 22 días [1]."]);
    let completion = outcome.result.unwrap();
    assert_eq!(completion.completion_tokens, Some(8));
    assert!(!completion.truncated);
    assert_eq!(server.requests()[0].json()["stream"], json!(false));
}

#[test]
fn ollama_error_object_in_the_stream_is_a_model_error() {
    let first = ollama_line("Son ");
    let server = ScriptedServer::start(vec![Reply::chunked(
        "application/x-ndjson",
        &[
            &first,
            "{\"error\":\"an unexpected error occurred: out of memory\"}\n",
        ],
        Duration::ZERO,
        true,
    )]);
    match ask(&ollama(&server, true)).error() {
        LlmError::Model { message, .. } => assert!(message.contains("out of memory"), "{message}"),
        other => panic!("expected a Model error, got {other}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn ollama_unknown_model_is_a_status_error_not_retried() {
    let server = ScriptedServer::start(vec![Reply::body(
        404,
        "application/json",
        r#"{"error":"model \"modelo-de-prueba\" not found, try pulling it first"}"#,
    )]);
    match ask(&ollama(&server, true)).error() {
        LlmError::Status { status, body, .. } => {
            assert_eq!(status, 404);
            assert!(body.contains("try pulling it first"), "{body}");
        }
        other => panic!("expected a Status error, got {other}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn ollama_stream_ending_without_done_is_malformed() {
    let (first, second) = (ollama_line("Son "), ollama_line("22"));
    let server = ScriptedServer::start(vec![Reply::until_close(
        "application/x-ndjson",
        &[&first, &second],
        Duration::ZERO,
    )]);
    let outcome = ask(&ollama(&server, true));
    assert_eq!(outcome.texts(), ["Son ", "22"]);
    match outcome.error() {
        LlmError::Malformed { message, .. } => {
            assert!(message.contains("\"done\": true"), "{message}");
            assert!(message.contains("Son 22"), "{message}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[test]
fn ollama_line_that_is_not_json_is_malformed_and_quoted() {
    let server = ScriptedServer::start(vec![Reply::until_close(
        "application/x-ndjson",
        &["esto no es JSON\n"],
        Duration::ZERO,
    )]);
    match ask(&ollama(&server, true)).error() {
        LlmError::Malformed { message, .. } => {
            assert!(message.contains("esto no es JSON"), "{message}")
        }
        other => panic!("expected Malformed, got {other}"),
    }
}
