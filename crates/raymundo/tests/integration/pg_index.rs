//! The index in PostgreSQL (`[index] backend = "postgres"`): two servers in folders of their
//! own, with no index files, answer from one database; a document added and reindexed from a
//! third folder is answered by both without a signal or a restart, and no request fails
//! while they switch.

use crate::reindex::{ask, keep_asking};
use crate::server::serve;
use crate::support::{ok, sample_docs};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUESTION: &str = "¿Tienen estacionamiento gratuito para clientes?";

/// A new project whose index is in the database at `url`.
fn project_on(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", p.to_str().unwrap()]);
    let toml = p.join("raymundo.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!(
        "\n[index]\nbackend = \"postgres\"\ndatabase = \"{url}\"\n"
    ));
    std::fs::write(&toml, text).unwrap();
    dir
}

fn answer(url: &str, user: &str) -> String {
    let (status, body) = ask(url, user, QUESTION);
    assert_eq!(status, 200, "{body}");
    body["respuesta"].as_str().unwrap().to_string()
}

#[test]
fn two_servers_answer_a_document_reindexed_from_a_third_folder() {
    let Some(pg) = raymundo_store::testing::pgvector() else {
        return;
    };
    let db = pg.fresh_database();
    let builder = project_on(&db);
    let b = builder.path();
    let faq = b.join("data/docs/faq");
    std::fs::create_dir_all(&faq).unwrap();
    for doc in ["envios.md", "horarios-contacto.md", "devoluciones.md"] {
        std::fs::copy(sample_docs().join("faq").join(doc), faq.join(doc)).unwrap();
    }
    let out = ok(b, &["build"]);
    assert!(out.contains("PostgreSQL: version 1 is current"), "{out}");

    // Two servers with nothing but their configuration.
    let (one, two) = (project_on(&db), project_on(&db));
    assert!(!one.path().join("data/index/index.rmx").exists());
    let (mut child_one, url_one) = serve(one.path());
    let (mut child_two, url_two) = serve(two.path());
    for url in [&url_one, &url_two] {
        let text = answer(url, "1");
        assert!(
            !text.contains("35 cajones"),
            "answered before the document existed: {text}"
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    let askers = [keep_asking(&url_one, &stop), keep_asking(&url_two, &stop)];

    std::fs::write(
        faq.join("estacionamiento.md"),
        "# Estacionamiento\n\n## ¿Tienen estacionamiento para clientes?\n\n\
         Sí. La tienda tiene estacionamiento gratuito para clientes con 35 cajones, \
         abierto de lunes a sábado de 9:00 a 20:00. Se sella el boleto en cualquier caja \
         y las primeras dos horas no tienen costo.\n",
    )
    .unwrap();
    let out = ok(b, &["reindex"]);
    assert!(out.contains("1 embedded"), "{out}");
    assert!(out.contains("version 2 is current"), "{out}");
    let reindexed = Instant::now();

    // Both servers learn of version 2 by themselves (NOTIFY).
    let deadline = reindexed + Duration::from_secs(60);
    let mut answered = [None, None];
    while answered.iter().any(Option::is_none) && Instant::now() < deadline {
        for (i, url) in [&url_one, &url_two].into_iter().enumerate() {
            if answered[i].is_none() && answer(url, "3").contains("35 cajones") {
                answered[i] = Some(reindexed.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    let statuses: Vec<u16> = askers.into_iter().flat_map(|a| a.join().unwrap()).collect();
    for child in [&mut child_one, &mut child_two] {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        answered.iter().all(Option::is_some),
        "a server did not answer from the new version: {answered:?}"
    );
    eprintln!("servers answered from the new version after {answered:?}");
    assert!(!statuses.is_empty());
    assert!(
        statuses.iter().all(|s| *s == 200),
        "requests failed during the switch: {statuses:?}"
    );
}

#[test]
fn a_postgres_index_without_a_postgres_url_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let p: &Path = dir.path();
    ok(p, &["init", p.to_str().unwrap()]);
    let toml = p.join("raymundo.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("\n[index]\nbackend = \"postgres\"\n");
    std::fs::write(&toml, text).unwrap();
    let out = crate::support::raymundo(p, &["build"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[index] database"), "{err}");
}
