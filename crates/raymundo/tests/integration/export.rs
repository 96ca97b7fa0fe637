//! `raymundo export logs` and `export finetune` on turns recorded by `raymundo chat`: the
//! files hold what a reviewer decided and the prompt Raymundo builds, and no personal data.

use crate::server::small_project;
use crate::support::{chat, ok, raymundo};
use raymundo_store::{Interactions, Review, SqliteStore, Verdict};
use serde_json::Value;

const PII: [&str; 4] = [
    "luis.gomez@example.com",
    "33 1234 5678",
    "GOML800101AB1",
    "5213312345678",
];

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn exports_carry_reviews_and_prompts_but_no_personal_data() {
    let project = small_project();
    let p = project.path();
    let turns = chat(
        p,
        &[
            "Soy Luis, mi correo es luis.gomez@example.com y mi celular 33 1234 5678, ¿cuánto cuesta el envío?",
            "Mi RFC es GOML800101AB1, ¿puedo devolver un producto?",
            "¿Cuál es el horario de atención?",
        ],
    );
    assert_eq!(turns.len(), 3);

    let store = SqliteStore::open(&p.join("data/raymundo.db")).unwrap();
    let log = store.interactions(&Default::default()).unwrap();
    assert_eq!(log.len(), 3);
    let review = |i: usize, verdict, corrected: Option<&str>| {
        store
            .review(
                log[i].id,
                &Review {
                    verdict,
                    corrected_answer: corrected.map(str::to_string),
                    corrected_intent: None,
                    reviewer: "marta".into(),
                    at: 1_700_000_000,
                },
            )
            .unwrap()
    };
    // Newest first: [2] is the shipping question, [0] the opening hours.
    review(
        2,
        Verdict::Incorrect,
        Some("El envío estándar cuesta 149 pesos [1]."),
    );
    review(1, Verdict::Correct, None);
    review(0, Verdict::OutOfScope, None);
    drop(store);

    let logs = p.join("logs.jsonl");
    let out = ok(p, &["export", "logs", "--out", logs.to_str().unwrap()]);
    assert!(out.contains("3 line(s)"), "{out}");
    let rows = lines(&logs);
    assert_eq!(rows.len(), 3);
    assert!(rows[0]["message"].as_str().unwrap().contains("envío"));
    assert_eq!(rows[0]["review"]["verdict"], "incorrect");
    assert_eq!(rows[0]["channel"], "cli");
    let user = rows[0]["user"].as_str().unwrap();
    assert!(
        user.len() >= 32 && user.chars().all(|c| c.is_ascii_hexdigit()),
        "a salted hash: {user}"
    );
    assert!(rows[0]["chunks"][0]["doc"].as_str().is_some());

    let tune = p.join("finetune.jsonl");
    ok(p, &["export", "finetune", "--out", tune.to_str().unwrap()]);
    let examples = lines(&tune);
    assert_eq!(examples.len(), 3, "{examples:?}");
    let shipping = &examples[0]["messages"];
    assert_eq!(shipping[0]["role"], "system");
    assert!(shipping[0]["content"]
        .as_str()
        .unwrap()
        .contains("Raymundo"));
    assert_eq!(shipping[1]["role"], "user");
    let user = shipping[1]["content"].as_str().unwrap();
    assert!(user.contains("<fragmento numero=\"1\""), "{user}");
    assert!(user.contains("envío"), "{user}");
    assert_eq!(shipping[2]["role"], "assistant");
    assert_eq!(
        shipping[2]["content"],
        "El envío estándar cuesta 149 pesos [1]."
    );
    let declined = examples[2]["messages"][2]["content"].as_str().unwrap();
    assert!(declined.contains("no tengo esa información"), "{declined}");

    // The default place is data/logs/.
    ok(p, &["export", "logs"]);
    let default: Vec<_> = std::fs::read_dir(p.join("data/logs")).unwrap().collect();
    assert_eq!(default.len(), 1);

    for file in [logs, tune] {
        let text = std::fs::read_to_string(&file).unwrap();
        for secret in PII {
            assert!(!text.contains(secret), "{secret} is in {}", file.display());
        }
    }
    // The report: live numbers, charts, the worst answers, and the last eval run.
    let eval_file = crate::support::repo().join("examples/axoloit/data/eval/preguntas.jsonl");
    ok(
        p,
        &[
            "eval",
            "retrieval",
            "--file",
            eval_file.to_str().unwrap(),
            "--json",
        ],
    );
    let html = p.join("informe/reporte.html");
    let out = ok(p, &["report", "--html", html.to_str().unwrap()]);
    assert!(
        out.contains("3 turns") && out.contains("1 eval result"),
        "{out}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Resolución automática"));
    assert!(page.matches("<svg").count() >= 3, "charts missing");
    assert!(
        page.contains("El envío estándar cuesta 149 pesos"),
        "worst answers missing"
    );
    assert!(
        page.contains("Recuperación") && page.contains("mrr"),
        "eval missing"
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "fetches something"
    );
    for secret in PII {
        assert!(!page.contains(secret), "{secret} is in the report");
    }

    let bad = raymundo(p, &["export", "logs", "--since", "pronto"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("pronto"));
}

#[test]
fn export_before_anything_was_recorded_says_so() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init", dir.path().to_str().unwrap()]);
    let out = raymundo(dir.path(), &["export", "logs"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing has been recorded"));
}
