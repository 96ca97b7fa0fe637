//! `raymundo serve` end to end: the real binary over a real index built from a few of the
//! sample company's documents, a fake Graph API that records what it is sent, signed
//! webhook bodies, `/chat`, the OpenAI-compatible API, a crash and a restart.

use crate::support::{ok, raymundo, sample_docs};
use raymundo_server::signature::meta_signature;
use raymundo_server::testing::FakeChannel;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const APP_SECRET: &str = "integration-app-secret";

/// A project with three FAQ documents, built.
pub(crate) fn small_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", p.to_str().unwrap()]);
    let faq = p.join("data/docs/faq");
    std::fs::create_dir_all(&faq).unwrap();
    for doc in ["envios.md", "horarios-contacto.md", "devoluciones.md"] {
        std::fs::copy(sample_docs().join("faq").join(doc), faq.join(doc)).unwrap();
    }
    ok(p, &["build"]);
    dir
}

/// The review pages' token written to `.env`.
const ADMIN_TOKEN: &str = "integration-admin-token";

fn write_env(project: &Path, graph_url: &str) {
    std::fs::write(
        project.join(".env"),
        format!(
            "VERIFY_TOKEN=integration-verify\nAPP_SECRET={APP_SECRET}\n\
             WHATSAPP_TOKEN=integration-token\nPHONE_NUMBER_ID=1122334455667\n\
             GRAPH_URL={graph_url}\nRAYMUNDO_ADMIN_TOKEN={ADMIN_TOKEN}\n"
        ),
    )
    .unwrap();
}

/// `raymundo serve --port 0`, and the URL it printed.
pub(crate) fn serve(project: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .arg("-C")
        .arg(project)
        .args(["serve", "--port", "0"])
        .env("RAYMUNDO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run raymundo serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (child, url)
}

pub(crate) fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut req = ureq::post(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.send_bytes(body) {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

fn webhook(url: &str, id: &str, from: &str, text: &str) -> u16 {
    let body = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5215550000", "phone_number_id": "1122334455667"},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1700000000",
                          "type": "text", "text": {"body": text}}]
        }}]}]
    }))
    .unwrap();
    let sig = meta_signature(APP_SECRET, &body);
    post(
        &format!("{url}/webhook"),
        &[
            ("X-Hub-Signature-256", &sig),
            ("Content-Type", "application/json"),
        ],
        &body,
    )
    .0
}

fn texts_sent(graph: &FakeChannel) -> Vec<String> {
    graph
        .sent()
        .iter()
        .filter_map(|m| m["text"]["body"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn serve_refuses_a_partial_whatsapp_setup_naming_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", p.to_str().unwrap()]);
    std::fs::write(
        p.join(".env"),
        "VERIFY_TOKEN=v\nWHATSAPP_TOKEN=EAAG-secret-value\n",
    )
    .unwrap();
    let out = raymundo(p, &["serve", "--port", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("APP_SECRET, PHONE_NUMBER_ID"), "{err}");
    assert!(
        !err.contains("EAAG-secret-value"),
        "a secret was printed: {err}"
    );
}

#[test]
fn serve_answers_whatsapp_chat_and_openai_from_the_documents_once_across_a_crash() {
    let project = small_project();
    let p = project.path();
    let graph = FakeChannel::start();
    write_env(p, &graph.url);
    let (mut child, url) = serve(p);

    let health: Value = ureq::get(&format!("{url}/health"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["channels"]["whatsapp_cloud"], true);

    // WhatsApp: acknowledged, then answered from the documents, in thread.
    assert_eq!(
        webhook(
            &url,
            "wamid.int.1",
            "5215550001",
            "¿Cuánto tarda en llegar mi pedido?"
        ),
        200
    );
    let sent = graph.wait_sent("the WhatsApp answer", |m| !m.is_empty());
    let answer = sent[0]["text"]["body"].as_str().unwrap();
    assert!(answer.contains("días hábiles"), "{answer}");
    assert!(
        !answer.contains("**"),
        "WhatsApp gets its own marks, not Markdown: {answer}"
    );
    assert_eq!(sent[0]["to"], "5215550001");
    assert_eq!(sent[0]["context"]["message_id"], "wamid.int.1");

    // The existing bot's API.
    let (status, body) = post(
        &format!("{url}/chat"),
        &[("Content-Type", "application/json")],
        json!({"mensaje": "¿Cuánto cuesta el envío?", "user_id": "42", "user_name": "Ana"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["respuesta"].as_str().unwrap().contains("149"), "{v}");
    let (status, body) = post(&format!("{url}/chat"), &[], b"{\"user_id\": \"42\"}");
    assert_eq!(status, 400);
    assert!(body.contains("mensaje"), "{body}");

    // The review pages, enabled by the token in .env, show that turn and offer the
    // project's intents as corrections.
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let admin = |path: &str| {
        ureq::get(&format!("{url}{path}"))
            .set("Authorization", &bearer)
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    };
    let list = admin("/admin?channel=chat_api");
    assert!(list.contains("¿Cuánto cuesta el envío?"), "{list}");
    let id = list
        .split("data-id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let detail = admin(&format!("/admin/interactions/{id}"));
    assert!(detail.contains("value=\"crear_presentacion\""), "{detail}");
    match ureq::get(&format!("{url}/admin")).call() {
        Err(ureq::Error::Status(401, _)) => {}
        other => panic!("/admin without the token: {other:?}"),
    }

    // An OpenAI client, streaming.
    let (status, body) = post(
        &format!("{url}/v1/chat/completions"),
        &[("Content-Type", "application/json")],
        json!({"model": "raymundo", "stream": true,
               "messages": [{"role": "user", "content": "¿Hacen envíos fuera de México?"}]})
        .to_string()
        .as_bytes(),
    );
    assert_eq!(status, 200);
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let streamed: String = body
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert!(streamed.contains("México"), "{streamed}");

    // A crash (SIGKILL), then a restart: Meta's retry of the answered message gets 200 and
    // no second answer; a new message is answered.
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, url) = serve(p);
    assert_eq!(
        webhook(
            &url,
            "wamid.int.1",
            "5215550001",
            "¿Cuánto tarda en llegar mi pedido?"
        ),
        200
    );
    assert_eq!(
        webhook(
            &url,
            "wamid.int.2",
            "5215550001",
            "¿Cuál es su horario de atención?"
        ),
        200
    );
    graph.wait_sent("the answer after the restart", |m| {
        m.iter()
            .any(|m| m["context"]["message_id"] == "wamid.int.2")
    });
    let texts = texts_sent(&graph);
    assert_eq!(texts.len(), 2, "{texts:#?}");

    // SIGTERM: a graceful stop.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
