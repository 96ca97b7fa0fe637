//! `/chat`, `/health`, `/stats`, `/clear_history`, `/metrics` and `/v1/*`.

use super::harness::*;
use crate::testing::FakeChannel;
use serde_json::{json, Value};

fn server(api_key: Option<&str>) -> (tempfile::TempDir, FakeChannel, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let key = api_key.map(str::to_string);
    let server = TestServer::start(&dir.path().join("raymundo.db"), &graph, move |_, env| {
        if let Some(k) = key {
            env.push(("RAYMUNDO_API_KEY".into(), k));
        }
    });
    (dir, graph, server)
}

fn post_json(s: &TestServer, path: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    let (status, text) = request(
        "POST",
        &format!("{}{path}", s.url),
        &h,
        body.to_string().as_bytes(),
    );
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn chat_answers_like_the_flask_server_did() {
    let (_d, _g, s) = server(None);
    let (status, v) = post_json(
        &s,
        "/chat",
        &json!({"mensaje": "¿Hacen envíos a Mérida?", "user_id": "5215550001", "user_name": "Ana"}),
        &[],
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["respuesta"], "Respuesta a: ¿Hacen envíos a Mérida?");
    assert!(v.get("archivo").is_none());
    let call = s.responder.calls.lock().unwrap()[0].clone();
    assert_eq!(call.user, "chat:5215550001");
    assert_eq!(call.user_name.as_deref(), Some("Ana"));

    let (status, v) = post_json(
        &s,
        "/chat",
        &json!({"mensaje": "una presentación", "user_id": 7}),
        &[],
    );
    assert_eq!(status, 200);
    assert!(v["archivo"].as_str().unwrap().ends_with("deck.pptx"), "{v}");
    assert_eq!(v["tipo_archivo"], "pptx");
}

#[test]
fn chat_names_what_is_wrong_with_a_bad_request() {
    let (_d, _g, s) = server(None);
    let (status, v) = post_json(&s, "/chat", &json!({"user_id": "1"}), &[]);
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("mensaje"), "{v}");
    let (status, v) = post_json(&s, "/chat", &json!({"mensaje": 5}), &[]);
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("string"), "{v}");
    let (status, text) = request("POST", &format!("{}/chat", s.url), &[], b"mensaje=hola");
    assert_eq!(status, 400);
    assert!(text.contains("not valid JSON"), "{text}");
    assert!(s.asked().is_empty());
}

#[test]
fn the_api_key_protects_chat_stats_and_clear_history_but_not_health() {
    let (_d, _g, s) = server(Some("k-123"));
    let body = json!({"mensaje": "hola", "user_id": "1"});
    assert_eq!(post_json(&s, "/chat", &body, &[]).0, 401);
    assert_eq!(
        post_json(&s, "/chat", &body, &[("Authorization", "Bearer nope")]).0,
        403
    );
    assert_eq!(
        post_json(&s, "/chat", &body, &[("Authorization", "Bearer k-123")]).0,
        200
    );
    assert_eq!(
        post_json(&s, "/chat", &body, &[("X-API-Key", "k-123")]).0,
        200
    );
    assert_eq!(s.get("/stats", &[]).0, 401);
    assert_eq!(s.get("/stats", &[("X-API-Key", "k-123")]).0, 200);
    let (status, health) = s.get("/health", &[]);
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["channels"]["whatsapp_cloud"], true);
    let url = format!("{}/clear_history/5215550001", s.url);
    assert_eq!(request("DELETE", &url, &[], b"").0, 401);
    let (status, text) = request("DELETE", &url, &[("X-API-Key", "k-123")], b"");
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        *s.responder.cleared.lock().unwrap(),
        vec!["chat:5215550001".to_string()]
    );
}

#[test]
fn openai_clients_get_a_completion_whole_or_streamed() {
    let (_d, _g, s) = server(None);
    let (status, models) = s.get("/v1/models", &[]);
    assert_eq!(status, 200);
    assert!(models.contains("\"raymundo\""));

    let req = json!({"model": "raymundo", "messages": [
        {"role": "system", "content": "Eres útil."},
        {"role": "user", "content": [{"type": "text", "text": "¿horario?"}]}
    ], "user": "u1"});
    let (status, v) = post_json(&s, "/v1/chat/completions", &req, &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Respuesta a: ¿horario?"
    );
    assert_eq!(v["sources"], json!(["faq/envios.md"]));
    assert_eq!(s.responder.calls.lock().unwrap()[0].user, "openai:u1");

    let mut stream_req = req.clone();
    stream_req["stream"] = json!(true);
    stream_req["messages"][1]["content"] = json!("stream esto");
    let (status, text) = request(
        "POST",
        &format!("{}/v1/chat/completions", s.url),
        &[("Content-Type", "application/json")],
        stream_req.to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    let events: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("SSE data lines"))
        .collect();
    assert_eq!(*events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "Respuesta a: stream esto");
    assert!(
        chunks.len() >= 4,
        "role, streamed pieces, rest, stop: {chunks:#?}"
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );

    let (status, v) = post_json(&s, "/v1/chat/completions", &json!({"messages": []}), &[]);
    assert_eq!(status, 400);
    assert!(
        v["error"].as_str().unwrap().contains("role \"user\""),
        "{v}"
    );
}

#[test]
fn metrics_expose_requests_latency_and_the_queue() {
    let (_d, graph, s) = server(None);
    s.webhook(&text_message("wamid.m1", "5215550001", "hola"));
    graph.wait_sent("the answer", |m| !m.is_empty());
    s.wait_idle();
    let (status, text) = s.get("/metrics", &[]);
    assert_eq!(status, 200);
    for needle in [
        "raymundo_http_requests_total{route=\"/webhook\",status=\"200\"} 1",
        "raymundo_http_request_seconds_count{route=\"/webhook\"} 1",
        "raymundo_webhook_events_total{channel=\"whatsapp\",kind=\"message\"} 1",
        "raymundo_replies_total{channel=\"whatsapp\",provider=\"fake\"} 1",
        "raymundo_answer_seconds_count{channel=\"whatsapp\"} 1",
        "# TYPE raymundo_queue_depth gauge\nraymundo_queue_depth 0",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    assert!(!text.contains("5215550001"), "no personal data in metrics");
}
