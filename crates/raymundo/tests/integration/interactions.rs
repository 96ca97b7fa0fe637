//! The interaction log through the real paths: `serve` remembers a conversation across a
//! restart and records every turn, `chat` records as `cli`, `stats` reports them, and no
//! phone number or e-mail of the messages reaches the database file.

use crate::server::{post, serve, small_project};
use crate::support::{chat, raymundo};
use serde_json::{json, Value};
use std::path::Path;

fn ask(url: &str, user: &str, mensaje: &str) -> String {
    let (status, body) = post(
        &format!("{url}/chat"),
        &[("Content-Type", "application/json")],
        json!({"mensaje": mensaje, "user_id": user})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["respuesta"].as_str().unwrap().to_string()
}

/// A running server, killed if the test fails before stopping it.
struct Running(Option<std::process::Child>);

impl Running {
    /// SIGTERM, and a clean exit.
    fn stop(mut self) {
        let mut child = self.0.take().unwrap();
        let term = std::process::Command::new("kill")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(term.success());
        assert!(child.wait().unwrap().success());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(p: &Path) -> (Running, String) {
    let (child, url) = serve(p);
    (Running(Some(child)), url)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_follow_up_is_understood_after_a_restart_and_every_turn_is_counted_without_pii() {
    let project = small_project();
    conversation_log(project.path(), None);
}

/// The same on a PostgreSQL database named in `.env` (`RAYMUNDO_DATABASE_URL`), which
/// `serve`, `chat` and `stats` all read.
#[test]
fn the_same_on_postgresql_through_raymundo_database_url() {
    let Some(pg) = raymundo_store::testing::postgres() else {
        return;
    };
    let url = pg.fresh_database();
    let project = small_project();
    std::fs::write(
        project.path().join(".env"),
        format!("RAYMUNDO_DATABASE_URL={url}\n"),
    )
    .unwrap();
    conversation_log(project.path(), Some(&url));
}

/// Two conversations through `serve` (restarted between turns), one through `chat`, then
/// `stats`; the log read back and searched for personal data.
fn conversation_log(p: &Path, database_url: Option<&str>) {
    let user = "ana.perez@example.com";

    let (server, url) = start(p);
    let first = ask(&url, user, "¿Cuál es el horario de atención?");
    assert!(first.contains("Fuentes"), "{first}");
    server.stop();

    // A new process: the question before is remembered from the database, so the
    // follow-up (out of scope on its own) is answered from the documents.
    let (server, url) = start(p);
    let follow_up = ask(&url, user, "¿y los sábados?");
    assert!(follow_up.contains("Fuentes"), "{follow_up}");
    let pii = ask(
        &url,
        "otro",
        "Mi correo es luis.gomez@example.com y mi celular 33 1234 5678, ¿hacen envíos?",
    );
    assert!(!pii.is_empty());
    server.stop();

    // The terminal chat records too (its user is a phone number here).
    let turns = chat(p, &["¿Cuánto cuesta el envío?"]);
    assert_eq!(turns[0]["step"], "answer");

    let out = raymundo(p, &["stats", "--since", "1d", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["turns"], 4, "{stats}");
    assert_eq!(stats["by_channel"]["chat_api"], 3, "{stats}");
    assert_eq!(stats["by_channel"]["cli"], 1, "{stats}");
    assert_eq!(stats["latency_ms"]["total"]["count"], 4, "{stats}");
    assert!(stats["latency_ms"]["search"]["p95"].as_f64().unwrap() > 0.0);
    let rate = stats["resolution_rate"].as_f64().unwrap();
    assert!(rate > 0.5, "{stats}");
    let text = raymundo(p, &["stats"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Automatic resolution rate"), "{text}");

    let bad = raymundo(p, &["stats", "--since", "ayer"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ayer"));

    // What leaves the database through the exports and snapshots is as clean.
    let export = p.join("export.jsonl");
    let out = raymundo(p, &["export", "logs", "--out", export.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let snapshot = p.join("snap.tar.zst");
    let out = raymundo(p, &["snapshot", "--out", snapshot.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let mut exported = std::fs::read(&export).unwrap();
    exported.extend(zstd::decode_all(std::fs::read(&snapshot).unwrap().as_slice()).unwrap());
    for secret in ["ana.perez@example.com", "luis.gomez", "1234 5678"] {
        assert!(!contains(&exported, secret), "{secret} is in an export");
    }
    assert!(contains(&exported, "sábados"));

    let db = p.join("data/raymundo.db");
    assert_eq!(db.exists(), database_url.is_none(), "the database in use");
    let store = raymundo_store::open(database_url.unwrap_or("data/raymundo.db"), p).unwrap();
    let log = store.interactions(&Default::default()).unwrap();
    let joined = log
        .iter()
        .find(|i| i.turn.message == "¿y los sábados?")
        .unwrap();
    assert_eq!(
        joined.turn.query.as_deref(),
        Some("¿Cuál es el horario de atención? ¿y los sábados?")
    );
    assert!(joined
        .turn
        .chunks
        .iter()
        .any(|c| c.doc.contains("horarios")));
    drop(store);
    let bytes = match database_url {
        Some(url) => raymundo_store::testing::dump(url).into_bytes(),
        None => {
            let mut bytes = std::fs::read(&db).unwrap();
            bytes.extend(std::fs::read(p.join("data/raymundo.db-wal")).unwrap_or_default());
            bytes
        }
    };
    for secret in [
        "ana.perez@example.com",
        "luis.gomez",
        "1234 5678",
        "5213312345678",
    ] {
        assert!(
            !contains(&bytes, secret),
            "{secret} is in the database file"
        );
    }
    assert!(contains(&bytes, "sábados"));
}
