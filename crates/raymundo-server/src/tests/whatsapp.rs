//! The WhatsApp Cloud API webhook.

use super::harness::*;
use crate::testing::FakeChannel;
use serde_json::Value;

fn server() -> (tempfile::TempDir, FakeChannel, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let server = TestServer::start(&dir.path().join("raymundo.db"), &graph, |_, _| {});
    (dir, graph, server)
}

#[test]
fn meta_subscription_check_echoes_the_challenge_only_with_the_right_token() {
    let (_d, _g, s) = server();
    let ok = s.get(
        &format!(
            "/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        ),
        &[],
    );
    assert_eq!(ok, (200, "1158201444".to_string()));
    let (status, body) = s.get(
        "/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
        &[],
    );
    assert_eq!(status, 403);
    assert!(body.contains("VERIFY_TOKEN"), "{body}");
    assert_eq!(s.get("/webhook?hub.challenge=1", &[]).0, 403);
}

#[test]
fn unsigned_or_tampered_bodies_are_refused_and_nothing_is_processed() {
    let (_d, graph, s) = server();
    let body = with_id(&fixture("message__text"), "wamid.sig1");
    let url = format!("{}/webhook", s.url);
    let (status, text) = request("POST", &url, &[], &body);
    assert_eq!(status, 401);
    assert!(text.contains("X-Hub-Signature-256"), "{text}");
    let good = crate::signature::meta_signature(APP_SECRET, &body);
    let mut tampered = body.clone();
    let pos = tampered.iter().position(|b| *b == b'B').unwrap();
    tampered[pos] = b'b';
    assert_eq!(
        request("POST", &url, &[("X-Hub-Signature-256", &good)], &tampered).0,
        403
    );
    let wrong = crate::signature::meta_signature("another-secret", &body);
    assert_eq!(
        request("POST", &url, &[("X-Hub-Signature-256", &wrong)], &body).0,
        403
    );
    assert_eq!(
        request(
            "POST",
            &url,
            &[("X-Hub-Signature-256", "sha256=xyz")],
            &body
        )
        .0,
        403
    );
    let stats = s.stats();
    assert_eq!(stats["messages_seen"], 0, "{stats}");
    assert!(s.asked().is_empty());
    assert!(graph.sent().is_empty());
}

#[test]
fn malformed_and_oversized_bodies_get_400_and_413() {
    let (_d, _g, s) = server();
    let (status, text) = s.webhook(b"{\"object\": \"whatsapp_business_account\", \"entry\": [");
    assert_eq!(status, 400);
    assert!(text.contains("not valid JSON"), "{text}");
    let (status, text) = s.webhook(b"{\"object\": \"page\"}");
    assert_eq!(status, 400);
    assert!(text.contains("entry"), "{text}");

    // A declared length over 3 MB is refused before any of the body is sent.
    let addr = s.url.trim_start_matches("http://").to_string();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: sha256=00\r\nContent-Length: {}\r\n\r\n",
        3 * 1024 * 1024 + 1
    );
    assert!(raw_exchange(&addr, head.as_bytes(), &[]).starts_with("HTTP/1.1 413"));
    // Without a declared length (chunked), it is refused once the limit is passed.
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: sha256=00\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
    let response = raw_exchange(&addr, head.as_bytes(), chunk.as_bytes());
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert_eq!(s.stats()["messages_seen"], 0);
}

/// Sends `head`, then `chunk` repeatedly (up to 4 MB) until the server answers; returns
/// the answer's first bytes.
fn raw_exchange(addr: &str, head: &[u8], chunk: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(head).unwrap();
    if !chunk.is_empty() {
        stream.set_nonblocking(true).unwrap();
        let mut sent = 0;
        let mut buf = [0u8; 512];
        while sent < 4 * 1024 * 1024 {
            match stream.read(&mut buf) {
                Ok(n) if n > 0 => return String::from_utf8_lossy(&buf[..n]).into_owned(),
                _ => {}
            }
            match stream.write_all(chunk) {
                Ok(()) => sent += chunk.len(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                Err(_) => break,
            }
        }
        stream.set_nonblocking(false).unwrap();
    }
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn every_fixture_gets_200_and_the_right_behaviour() {
    let (_d, graph, s) = server();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../raymundo-channels/fixtures/whatsapp-cloud");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 39);
    for (i, name) in names.iter().enumerate() {
        let body = with_id(&fixture(name), &format!("wamid.fixture.{i}"));
        let (status, text) = s.webhook(&body);
        assert_eq!(status, 200, "{name}: {text}");
    }
    // Text (5) and buttons/list rows (5) are answered; 15 media and other unreadable
    // messages get the polite reply; statuses, reactions, system notices, deletions and
    // edits get nothing.
    let sent = graph.wait_sent("25 replies", |s| s.len() >= 25);
    let stats = s.wait_idle();
    assert_eq!(graph.sent().len(), 25, "{sent:#?}");
    assert_eq!(stats["queue"]["answered"], 25, "{stats}");
    let asked = s.responder.calls.lock().unwrap().clone();
    assert_eq!(asked.len(), 10);
    let choices: Vec<_> = asked.iter().filter_map(|c| c.choice.clone()).collect();
    assert_eq!(choices, vec!["callback_data"; 5]);
    assert!(asked.iter().any(|c| c.text == "Body Text"));
    assert!(asked
        .iter()
        .all(|c| c.user.starts_with("whatsapp:") && !c.user.contains("972987654321")));
    let unsupported = sent
        .iter()
        .filter(|m| {
            m["text"]["body"]
                .as_str()
                .unwrap()
                .starts_with("Por ahora solo puedo leer")
        })
        .count();
    assert_eq!(unsupported, 15);
    for m in &sent {
        assert_eq!(m["messaging_product"], "whatsapp");
        assert_eq!(m["to"], "972987654321");
        assert_eq!(m["type"], "text");
        assert!(m["context"]["message_id"]
            .as_str()
            .unwrap()
            .starts_with("wamid.fixture."));
    }
    // The failed status was recorded with its error code.
    assert_eq!(stats["delivery_failures_by_code"]["130472"], 1, "{stats}");
    // Mark-as-read with the typing indicator went out for the answered messages.
    let reads = graph
        .requests()
        .iter()
        .filter(|r| {
            r.json
                .as_ref()
                .is_some_and(|j| j["status"] == "read" && j["typing_indicator"]["type"] == "text")
        })
        .count();
    assert_eq!(reads, 25);
    assert!(graph.requests().iter().all(|r| r.authorization.as_deref()
        == Some("Bearer test-whatsapp-token")
        && r.path == "/v21.0/1122334455667/messages"));
}

#[test]
fn a_retried_delivery_is_answered_once_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("raymundo.db");
    let graph = FakeChannel::start();
    let body = text_message("wamid.dup", "5215550001", "¿Cuánto tarda un envío?");
    let s = TestServer::start(&db, &graph, |_, _| {});
    assert_eq!(s.webhook(&body).0, 200);
    assert_eq!(s.webhook(&body).0, 200);
    s.wait_idle();
    s.stop();
    let s = TestServer::start(&db, &graph, |_, _| {});
    assert_eq!(
        s.webhook(&body).0,
        200,
        "a retry after a restart is still acknowledged"
    );
    // A new message from the same user is answered after anything queued before it, so
    // once it is answered a wrongly queued duplicate would have been too.
    assert_eq!(
        s.webhook(&text_message("wamid.next", "5215550001", "gracias"))
            .0,
        200
    );
    let sent = graph.wait_sent("the second answer", |m| {
        m.iter().any(|m| m["context"]["message_id"] == "wamid.next")
    });
    let bodies: Vec<&str> = sent
        .iter()
        .map(|m| m["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "Respuesta a: ¿Cuánto tarda un envío?",
            "Respuesta a: gracias"
        ]
    );
}

#[test]
fn one_users_messages_are_answered_in_order() {
    let (_d, graph, s) = server();
    let texts = [
        "uno lento",
        "dos",
        "tres lento",
        "cuatro",
        "cinco lento",
        "seis",
    ];
    for (i, t) in texts.iter().enumerate() {
        assert_eq!(
            s.webhook(&text_message(&format!("wamid.o{i}"), "5215550001", t))
                .0,
            200
        );
        // Another user's messages in between run in parallel and do not disturb the order.
        assert_eq!(
            s.webhook(&text_message(&format!("wamid.p{i}"), "5215550002", t))
                .0,
            200
        );
    }
    let sent = graph.wait_sent("12 answers", |m| m.len() >= 12);
    for user in ["5215550001", "5215550002"] {
        let got: Vec<&str> = sent
            .iter()
            .filter(|m| m["to"] == user)
            .map(|m| {
                m["text"]["body"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("Respuesta a: ")
            })
            .collect();
        assert_eq!(got, texts, "{user}");
    }
}

#[test]
fn a_long_reply_is_split_and_only_the_first_part_quotes_the_question() {
    let (_d, graph, s) = server();
    s.webhook(&text_message(
        "wamid.long",
        "5215550001",
        "la respuesta en largo, por favor",
    ));
    s.wait_idle();
    let sent = graph.sent();
    assert!(
        sent.len() >= 4,
        "16,000 characters in parts of at most 4,096"
    );
    let parts: Vec<&str> = sent
        .iter()
        .map(|m| m["text"]["body"].as_str().unwrap())
        .collect();
    assert!(
        parts.iter().all(|p| p.chars().count() <= 4096),
        "a part is too long"
    );
    assert!(parts[0].starts_with("Frase número 0 "));
    assert!(parts
        .last()
        .unwrap()
        .ends_with("Frase número 399 de una respuesta larga."));
    assert_eq!(sent[0]["context"]["message_id"], "wamid.long");
    assert!(sent[1..].iter().all(|m| m.get("context").is_none()));
}

#[test]
fn server_errors_are_retried_and_the_reply_sent_once() {
    let (_d, graph, s) = server();
    s.webhook(&text_message("wamid.r1", "5215550001", "hola"));
    graph.wait_sent("the answer", |m| !m.is_empty());
    s.wait_idle();
    // The next three calls fail: the mark-as-read (not retried: a courtesy), then the first
    // two attempts to send; the third works.
    graph.fail_next(503, 2);
    graph.fail_next(429, 1);
    s.webhook(&text_message("wamid.r2", "5215550001", "otra vez"));
    let sent = graph.wait_sent("the second answer", |m| m.len() >= 2);
    let stats = s.wait_idle();
    assert_eq!(graph.sent().len(), 2, "{sent:#?}");
    assert_eq!(sent[1]["text"]["body"], "Respuesta a: otra vez");
    let attempts = graph
        .requests()
        .iter()
        .filter(|r| {
            r.json
                .as_ref()
                .is_some_and(|j| j["text"]["body"] == "Respuesta a: otra vez")
        })
        .count();
    assert_eq!(attempts, 3);
    assert_eq!(stats["queue"]["failed"], 0);
}

#[test]
fn a_permanent_refusal_such_as_the_24_hour_window_is_recorded_not_retried() {
    let (_d, graph, s) = server();
    graph.refuse_recipient("5215550009", 131047, "Re-engagement message");
    s.webhook(&text_message("wamid.w1", "5215550009", "hola"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while s.stats()["queue"]["failed"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "never failed: {}",
            s.stats()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let attempts = graph
        .requests()
        .iter()
        .filter(|r| r.json.as_ref().is_some_and(|j| j["to"] == "5215550009"))
        .count();
    assert_eq!(attempts, 1, "a permanent refusal is not retried");
    let failures = &s.stats()["send_failures"];
    assert_eq!(failures[0]["count"], 1, "{failures}");
    assert!(
        failures[0]["error"]
            .as_str()
            .unwrap()
            .contains("error 131047: Re-engagement message"),
        "{failures}"
    );
    let (_, metrics) = s.get("/metrics", &[]);
    assert!(
        metrics.contains("raymundo_errors_total{stage=\"send\",kind=\"131047\"} 1"),
        "{metrics}"
    );
    // Other users are unaffected.
    s.webhook(&text_message("wamid.w2", "5215550001", "hola"));
    graph.wait_sent("the other user's answer", |m| {
        m.iter().any(|m| m["to"] == "5215550001")
    });
}

#[test]
fn thumbs_on_raymundos_answers_are_stored_as_feedback() {
    let (_d, graph, s) = server();
    s.webhook(&text_message("wamid.q", "972987654321", "¿horario?"));
    graph.wait_sent("the answer", |m| !m.is_empty());
    s.wait_idle();
    // The fake Graph numbered our answer; find its id in the recorded exchange.
    let ours = graph
        .requests()
        .into_iter()
        .find_map(|r| r.answered_id)
        .expect("our answer's id");
    let react = |id: &str, emoji: &str, target: &str| {
        let text = String::from_utf8(fixture("message__reaction")).unwrap();
        text.replace("\"wamid.yzxyzx=\"", &format!("\"{target}\""))
            .replace("\"wamid.xyzxyz\"", &format!("\"{id}\""))
            .replace("😮", emoji)
            .into_bytes()
    };
    assert_eq!(s.webhook(&react("wamid.re1", "👍", &ours)).0, 200);
    assert_eq!(
        s.webhook(&react("wamid.re2", "👎", "wamid.not-ours")).0,
        200
    );
    let stats = s.stats();
    assert_eq!(
        stats["feedback"],
        serde_json::json!({"up": 1, "down": 0}),
        "{stats}"
    );
    assert_eq!(s.webhook(&react("wamid.re3", "👎🏽", &ours)).0, 200);
    assert_eq!(
        s.stats()["feedback"],
        serde_json::json!({"up": 0, "down": 1})
    );
    // A withdrawn reaction removes the feedback; no reaction is ever answered.
    let mut unreact: Value = serde_json::from_slice(&fixture("message__unreaction_empty")).unwrap();
    unreact["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["message_id"] =
        ours.clone().into();
    assert_eq!(s.webhook(&serde_json::to_vec(&unreact).unwrap()).0, 200);
    assert_eq!(
        s.stats()["feedback"],
        serde_json::json!({"up": 0, "down": 0})
    );
    assert_eq!(graph.sent().len(), 1);
}

#[test]
fn a_presentation_is_uploaded_and_sent_as_a_document() {
    let (_d, graph, s) = server();
    s.webhook(&text_message(
        "wamid.deck",
        "5215550001",
        "hazme una presentación",
    ));
    let sent = graph.wait_sent("text and document", |m| m.len() >= 2);
    assert_eq!(sent[0]["type"], "text");
    assert_eq!(sent[1]["type"], "document");
    assert_eq!(sent[1]["document"]["filename"], "deck.pptx");
    let upload = graph
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/media"))
        .expect("an upload");
    assert!(upload
        .content_type
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    let body = String::from_utf8_lossy(&upload.body);
    assert!(body.contains("filename=\"deck.pptx\"") && body.contains("PK fake pptx"));
    assert!(body.contains("presentationml.presentation"));
    assert_eq!(
        sent[1]["document"]["id"]
            .as_str()
            .unwrap()
            .split('.')
            .next(),
        Some("media")
    );
}

#[test]
fn a_failed_answer_gets_an_apology_and_a_rate_limited_sender_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, |c, _| {
        c.rate_limit_per_minute = 2;
    });
    for (i, t) in ["falla", "dos", "tres", "cuatro"].iter().enumerate() {
        s.webhook(&text_message(&format!("wamid.l{i}"), "5215550001", t));
    }
    s.wait_idle();
    let bodies: Vec<String> = graph
        .sent()
        .iter()
        .map(|m| m["text"]["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    assert!(
        bodies[0].starts_with("Lo siento, tuve un problema"),
        "{bodies:?}"
    );
    assert_eq!(bodies[1], "Respuesta a: dos");
    assert!(
        bodies[2].starts_with("Estoy recibiendo muchos mensajes"),
        "{bodies:?}"
    );
}

#[test]
fn queued_messages_are_answered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("raymundo.db");
    {
        // A message accepted and taken by a worker that then crashed.
        use raymundo_store::Store;
        let store = raymundo_store::SqliteStore::open(&db).unwrap();
        store
            .accept(&raymundo_store::NewJob {
                channel: "whatsapp".into(),
                message_id: "wamid.crash".into(),
                address: "5215550001".into(),
                user_name: None,
                kind: "text".into(),
                text: "¿sigues ahí?".into(),
                reply_to: None,
            })
            .unwrap();
        store.claim_next().unwrap().unwrap();
    }
    let graph = FakeChannel::start();
    let _s = TestServer::start(&db, &graph, |_, _| {});
    let sent = graph.wait_sent("the recovered answer", |m| !m.is_empty());
    assert_eq!(sent[0]["text"]["body"], "Respuesta a: ¿sigues ahí?");
    assert_eq!(sent[0]["context"]["message_id"], "wamid.crash");
}

#[test]
fn a_graceful_stop_answers_what_is_queued_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, |c, _| {
        c.workers = 1;
    });
    for i in 0..4 {
        let body = text_message(
            &format!("wamid.g{i}"),
            &format!("52155500{i:02}"),
            "respuesta lento",
        );
        assert_eq!(s.webhook(&body).0, 200);
    }
    // Stop at once: four answers of 300 ms each are still queued or in progress.
    s.stop();
    assert_eq!(
        graph.sent().len(),
        4,
        "the queue was drained before the server exited"
    );
}
