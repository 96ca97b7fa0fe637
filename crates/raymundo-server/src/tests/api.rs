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
    assert_eq!(call.user, "chat:ip/127.0.0.1/5215550001");
    assert_eq!(v["user_id"], "5215550001");
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
        vec!["chat:key/5215550001".to_string()]
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
    assert_eq!(
        s.responder.calls.lock().unwrap()[0].user,
        "openai:ip/127.0.0.1/u1"
    );
    assert_eq!(v["user"], "u1");

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

/// A `/chat` request from the local address `from` (127.0.0.x: another client).
fn chat_from(s: &TestServer, from: &str, body: &Value, headers: &[(&str, &str)]) -> Raw {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    request_from(
        from,
        s.addr,
        "POST",
        "/chat",
        &h,
        body.to_string().as_bytes(),
    )
}

fn users_asked(s: &TestServer) -> Vec<String> {
    s.responder
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.user.clone())
        .collect()
}

#[test]
fn each_caller_without_an_id_gets_a_conversation_of_its_own() {
    let (_d, _g, s) = server(None);
    let ask = |body: Value| {
        let (status, v) = post_json(&s, "/chat", &body, &[]);
        assert_eq!(status, 200, "{v}");
        v["user_id"]
            .as_str()
            .expect("the id to send back")
            .to_string()
    };
    let first = ask(json!({"mensaje": "hola"}));
    let second = ask(json!({"mensaje": "hola"}));
    assert_ne!(first, second, "two anonymous callers share a conversation");
    for id in [&first, &second] {
        assert!(
            id.len() >= 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "not an unguessable id: {id}"
        );
    }
    // Sending the id back continues that conversation.
    assert_eq!(
        ask(json!({"mensaje": "¿y luego?", "user_id": first})),
        first
    );
    let users = users_asked(&s);
    assert_ne!(users[0], users[1]);
    assert_eq!(users[0], users[2]);

    // The same on /v1: no `user`, a conversation of its own, its id in a header.
    let body = json!({"messages": [{"role": "user", "content": "hola"}]});
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let r = request_from(
                "127.0.0.1",
                s.addr,
                "POST",
                "/v1/chat/completions",
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            );
            assert_eq!(r.status, 200, "{r:?}");
            assert_eq!(r.json()["user"], r.header("x-raymundo-user").unwrap());
            r.header("x-raymundo-user").unwrap().to_string()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    let users = users_asked(&s);
    assert_ne!(users[3], users[4]);
}

#[test]
fn naming_another_callers_id_reaches_only_a_conversation_of_ones_own() {
    let (_d, _g, s) = server(None);
    let body = json!({"mensaje": "hola", "user_id": "5215550001"});
    // Two people on the internet, through a reverse proxy on this machine ...
    let (first, second) = (
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-For", "198.51.100.9"),
    );
    let (status, v) = post_json(&s, "/chat", &body, &[first]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["user_id"], "5215550001");
    assert_eq!(post_json(&s, "/chat", &body, &[second]).0, 200);
    // ... and two processes on this machine, from different addresses.
    assert_eq!(chat_from(&s, "127.0.0.1", &body, &[]).status, 200);
    assert_eq!(chat_from(&s, "127.0.0.2", &body, &[]).status, 200);
    let users = users_asked(&s);
    for (i, u) in users.iter().enumerate() {
        assert_eq!(
            users.iter().filter(|x| *x == u).count(),
            1,
            "caller {i} reached another's conversation: {users:?}"
        );
        assert!(u.starts_with("chat:"), "{u}");
    }
    // Clearing "5215550001" clears the caller's own conversation, not the first one's.
    let url = format!("{}/clear_history/5215550001", s.url);
    let (status, text) = request("DELETE", &url, &[second], b"");
    assert_eq!(status, 200, "{text}");
    assert_eq!(*s.responder.cleared.lock().unwrap(), vec![users[1].clone()]);

    // With an API key, the key holder's ids are its own, apart from open callers' ones.
    let (_d, _g, s) = server(Some("k-123"));
    let r = chat_from(&s, "127.0.0.1", &body, &[("X-API-Key", "k-123")]);
    assert_eq!(r.status, 200, "{r:?}");
    let r = chat_from(&s, "127.0.0.2", &body, &[("X-API-Key", "k-123")]);
    assert_eq!(r.status, 200, "{r:?}");
    let keyed = users_asked(&s);
    assert_eq!(keyed[0], keyed[1], "the key holder names its own users");
    assert!(!users.contains(&keyed[0]), "{keyed:?} {users:?}");
}

#[test]
fn the_rate_limit_follows_the_callers_address_not_the_id_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, |c, _| {
        c.rate_limit_per_minute = 2;
    });
    // Someone on the internet (through the proxy) sending a new id each time.
    let someone = ("X-Forwarded-For", "203.0.113.7");
    let statuses: Vec<u16> = (0..3)
        .map(|n| {
            let body = json!({"mensaje": "hola", "user_id": format!("otro-{n}")});
            post_json(&s, "/chat", &body, &[someone]).0
        })
        .collect();
    assert_eq!(
        statuses,
        vec![200, 200, 429],
        "a new id each time evaded the limit"
    );
    // No id at all, or /v1, is the same caller too.
    assert_eq!(
        post_json(&s, "/chat", &json!({"mensaje": "hola"}), &[someone]).0,
        429
    );
    let v1 = json!({"messages": [{"role": "user", "content": "hola"}], "user": "x"});
    assert_eq!(
        post_json(&s, "/v1/chat/completions", &v1, &[someone]).0,
        429
    );
    // Someone else is not affected.
    let other = ("X-Forwarded-For", "198.51.100.9");
    assert_eq!(
        post_json(&s, "/chat", &json!({"mensaje": "hola"}), &[other]).0,
        200
    );
    // A process on this machine (a bot) speaks for the people it names: each has the limit.
    let local = |user: &str| {
        chat_from(
            &s,
            "127.0.0.1",
            &json!({"mensaje": "hola", "user_id": user}),
            &[],
        )
        .status
    };
    assert_eq!([local("a"), local("a"), local("a")], [200, 200, 429]);
    assert_eq!(local("b"), 200);
}

#[test]
fn a_key_holder_is_limited_per_user_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, |c, env| {
        c.rate_limit_per_minute = 2;
        env.push(("RAYMUNDO_API_KEY".into(), "k-123".into()));
    });
    let key = [("X-API-Key", "k-123")];
    let ask = |user: &str| {
        chat_from(
            &s,
            "127.0.0.1",
            &json!({"mensaje": "hola", "user_id": user}),
            &key,
        )
        .status
    };
    // A bot holding the key speaks for many people: each has the limit.
    assert_eq!([ask("a"), ask("a"), ask("a")], [200, 200, 429]);
    assert_eq!(ask("b"), 200);
}

#[test]
fn metrics_need_the_admin_token_unless_asked_on_this_machine() {
    const ADMIN: &str = "token-de-metricas-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, |_, env| {
        env.push(("RAYMUNDO_ADMIN_TOKEN".into(), ADMIN.into()));
    });
    // Asked on the machine itself: open, as a local Prometheus expects.
    assert_eq!(s.get("/metrics", &[]).0, 200);
    // Through a proxy (forwarded), the loopback address says nothing about the client.
    let proxied = ("X-Forwarded-For", "203.0.113.7");
    let (status, text) = s.get("/metrics", &[proxied]);
    assert_eq!(status, 401, "{text}");
    assert!(!text.contains("raymundo_"), "{text}");
    let (status, _) = s.get(
        "/metrics",
        &[proxied, ("Authorization", "Bearer equivocado-000")],
    );
    assert_eq!(status, 403);
    let bearer = format!("Bearer {ADMIN}");
    let (status, text) = s.get("/metrics", &[proxied, ("Authorization", &bearer)]);
    assert_eq!(status, 200);
    assert!(text.contains("raymundo_uptime_seconds"), "{text}");

    // Without an admin token, only the machine itself may read them.
    let (_d, _g, s) = server(None);
    assert_eq!(s.get("/metrics", &[]).0, 200);
    let (status, text) = s.get("/metrics", &[("Forwarded", "for=203.0.113.7")]);
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("RAYMUNDO_ADMIN_TOKEN"), "{text}");
}
