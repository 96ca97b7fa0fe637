//! Closing the loop: turns reviewed in the terminal (`raymundo review`, driven through a
//! pipe) become a curated entry that the next build answers from, and an intent example
//! added to `data/intents.json` after a diff and a confirmation (`raymundo curate`).

use crate::server::small_project;
use crate::support::{json, ok, raymundo};
use raymundo_store::{Interactions, NewInteraction, SqliteStore, Store, Verdict};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const QUESTION: &str = "¿Tienen vacantes de empleo?";
const CORRECTED: &str =
    "Sí, publicamos las vacantes de empleo cada mes; envía tu currículum a la oficina de recursos humanos.";
const SLIDES: &str = "Ármame unas diapos del catálogo de sensores";

fn record(store: &SqliteStore, n: i64, channel: &str, message: &str) -> i64 {
    store
        .record_interaction(&NewInteraction {
            at: 1_790_000_000 + n * 60,
            channel: channel.into(),
            user_key: store.user_key(channel, "5213312345678"),
            message: message.into(),
            step: "answer".into(),
            answer: "Lo siento, no tengo esa información.".into(),
            provider: Some("out_of_scope".into()),
            in_scope: Some(false),
            ..Default::default()
        })
        .unwrap()
}

/// `raymundo review ARGS` with `input` piped to it; its stdout.
fn review(p: &Path, args: &[&str], input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .arg("-C")
        .arg(p)
        .arg("review")
        .args(args)
        .env("RAYMUNDO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "review failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn reviews_from_the_terminal_become_a_curated_answer_and_an_intent_example() {
    let project = small_project();
    let p = project.path();
    let db = p.join("data/raymundo.db");
    let (question, slides, other) = {
        let store = SqliteStore::open(&db).unwrap();
        (
            record(&store, 1, "cli", QUESTION),
            record(&store, 2, "cli", SLIDES),
            record(&store, 3, "whatsapp", "¿Venden semillas?"),
        )
    };
    let before = json(p, &["ask", QUESTION, "--json"]);
    assert_eq!(before["in_scope"], false, "{before}");

    // Newest first: the slides request, then the question question. A wrong letter and an
    // unknown intent are asked again.
    let out = review(
        p,
        &["--channel", "cli", "--reviewer", "Lucía"],
        &format!("x\ni\n\ncrear_presentacion\ni\n{CORRECTED}\ninventada\nnone\n"),
    );
    assert!(out.contains(SLIDES) && out.contains(QUESTION), "{out}");
    assert!(out.contains("Escribe c, i, o, s o q."), "{out}");
    assert!(
        out.contains("No existe la intención \"inventada\""),
        "{out}"
    );
    assert!(out.contains("Revisadas: 2"), "{out}");
    assert!(
        !out.contains("¿Venden semillas?"),
        "the channel filter: {out}"
    );
    {
        let store = SqliteStore::open(&db).unwrap();
        let r = store
            .interaction(question)
            .unwrap()
            .unwrap()
            .review
            .unwrap();
        assert_eq!(r.verdict, Verdict::Incorrect);
        assert_eq!(r.corrected_answer.as_deref(), Some(CORRECTED));
        assert_eq!(r.corrected_intent.as_deref(), Some("none"));
        assert_eq!(r.reviewer, "Lucía");
        let r = store.interaction(slides).unwrap().unwrap().review.unwrap();
        assert_eq!(r.corrected_answer, None);
        assert_eq!(r.corrected_intent.as_deref(), Some("crear_presentacion"));
        assert!(store.interaction(other).unwrap().unwrap().review.is_none());
    }
    // Quitting at once reviews nothing.
    let out = review(p, &[], "q\n");
    assert!(out.contains("Revisadas: 0"), "{out}");

    // Without a terminal and without --yes: the diff is shown, the intents file untouched.
    let intents = p.join("data/intents.json");
    let original = std::fs::read_to_string(&intents).unwrap();
    let refused = raymundo(p, &["curate"]);
    assert!(!refused.status.success());
    let stdout = String::from_utf8_lossy(&refused.stdout);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(
        stdout.contains("--- data/intents.json\n+++ data/intents.json\n@@ "),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("+      \"{SLIDES}\"")), "{stdout}");
    assert_eq!(std::fs::read_to_string(&intents).unwrap(), original);
    // The curated entry, named after the interaction, is a FAQ.
    let entry = p.join(format!("data/docs/curadas/interaccion-{question}.md"));
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.starts_with("---\n"), "{text}");
    assert!(text.contains("source: faq"), "{text}");
    assert!(
        text.contains(&format!("# {QUESTION}\n\n{CORRECTED}")),
        "{text}"
    );

    let applied = ok(p, &["curate", "--yes"]);
    assert!(applied.contains("1 added"), "{applied}");
    let edited = std::fs::read_to_string(&intents).unwrap();
    let set = raymundo_intents_names(&edited);
    assert!(set.contains(&SLIDES.to_string()), "{edited}");
    assert!(!edited.contains(QUESTION), "none adds no example: {edited}");
    // Running again changes nothing and duplicates nothing.
    let again = ok(p, &["curate", "--yes"]);
    assert!(
        again.contains("0 new, 0 updated, 1 unchanged, 0 removed"),
        "{again}"
    );
    assert!(again.contains("nothing new"), "{again}");
    assert_eq!(std::fs::read_to_string(&intents).unwrap(), edited);
    assert_eq!(
        std::fs::read_dir(p.join("data/docs/curadas"))
            .unwrap()
            .count(),
        1
    );

    // The next build indexes the entry; the question now gets the corrected answer.
    ok(p, &["build"]);
    let after = json(p, &["ask", QUESTION, "--json"]);
    assert_eq!(after["in_scope"], true, "{after}");
    assert!(
        after["answer"]
            .as_str()
            .unwrap()
            .contains("publicamos las vacantes de empleo cada mes"),
        "{after}"
    );
    assert!(after["sources"].to_string().contains("curadas"), "{after}");

    // A review whose corrected answer is withdrawn takes its entry with it.
    {
        let store = SqliteStore::open(&db).unwrap();
        let mut r = store
            .interaction(question)
            .unwrap()
            .unwrap()
            .review
            .unwrap();
        r.corrected_answer = None;
        store.review(question, &r).unwrap();
    }
    let removed = ok(p, &["curate", "--yes"]);
    assert!(removed.contains("1 removed"), "{removed}");
    assert!(!entry.exists());
}

/// Every example in an intents file's text.
fn raymundo_intents_names(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v.as_object()
        .unwrap()
        .values()
        .flat_map(|i| i["examples"].as_array().unwrap().clone())
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}
