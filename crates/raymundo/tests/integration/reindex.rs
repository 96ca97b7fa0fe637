//! `raymundo reindex` against a running `raymundo serve`: a document added while the server
//! runs is answered from after the reload, and no request fails while it happens.

use crate::server::{post, serve, small_project};
use crate::support::{ok, raymundo};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUESTION: &str = "¿Tienen estacionamiento gratuito para clientes?";

/// Asks `question` on the server's `/chat` as `user`: the status and the JSON answer.
pub(crate) fn ask(url: &str, user: &str, question: &str) -> (u16, Value) {
    let (status, body) = post(
        &format!("{url}/chat"),
        &[("Content-Type", "application/json")],
        json!({"mensaje": question, "user_id": user})
            .to_string()
            .as_bytes(),
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A thread that asks the server at `url` one question after another until `stop`, and
/// returns the status of every answer.
pub(crate) fn keep_asking(url: &str, stop: &Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<u16>> {
    let (url, stop) = (url.to_string(), stop.clone());
    std::thread::spawn(move || {
        let mut statuses = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            statuses.push(ask(&url, "2", "¿Cuánto cuesta el envío?").0);
        }
        statuses
    })
}

#[test]
fn a_document_added_while_serving_is_answered_after_reindex_without_downtime() {
    let project = small_project();
    let p = project.path();
    let (mut child, url) = serve(p);

    let (status, before) = ask(&url, "1", QUESTION);
    assert_eq!(status, 200, "{before}");
    let text = before["respuesta"].as_str().unwrap().to_string();
    assert!(
        !text.contains("35 cajones"),
        "answered before the document existed: {text}"
    );

    // Someone keeps asking while the index is rebuilt and swapped.
    let stop = Arc::new(AtomicBool::new(false));
    let asker = keep_asking(&url, &stop);

    std::fs::write(
        p.join("data/docs/faq/estacionamiento.md"),
        "# Estacionamiento\n\n## ¿Tienen estacionamiento para clientes?\n\n\
         Sí. La tienda tiene estacionamiento gratuito para clientes con 35 cajones, \
         abierto de lunes a sábado de 9:00 a 20:00. Se sella el boleto en cualquier caja \
         y las primeras dos horas no tienen costo.\n",
    )
    .unwrap();
    let out = ok(p, &["reindex"]);
    assert!(out.contains("1 embedded"), "{out}");
    assert!(out.contains("Told the server"), "{out}");

    let deadline = Instant::now() + Duration::from_secs(120);
    let answer = loop {
        let (status, after) = ask(&url, "3", QUESTION);
        assert_eq!(status, 200, "{after}");
        let text = after["respuesta"].as_str().unwrap().to_string();
        if text.contains("35 cajones") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    stop.store(true, Ordering::SeqCst);
    let statuses = asker.join().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        answer.contains("35 cajones"),
        "the new document was not answered after the reload: {answer}"
    );
    assert!(!statuses.is_empty());
    assert!(
        statuses.iter().all(|s| *s == 200),
        "requests failed during the reload: {statuses:?}"
    );
}

#[test]
fn reindex_without_a_running_server_says_so_and_builds() {
    let project = small_project();
    let out = ok(project.path(), &["reindex"]);
    assert!(
        out.contains("No server of this project is running"),
        "{out}"
    );
    assert!(out.contains("0 embedded"), "{out}");
}

#[test]
fn reindex_refuses_a_broken_intents_file_before_building() {
    let project = small_project();
    let p = project.path();
    std::fs::write(p.join("data/intents.json"), "{\"intents\": [").unwrap();
    let out = raymundo(p, &["reindex"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("intents.json"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Index built"));
}
