//! The command line end to end on the sample company.

use crate::support::{json, ok, raymundo, sample_project};

fn docs_of(hits: &serde_json::Value) -> Vec<String> {
    hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["doc"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sample_company_builds_answers_declines_and_rebuilds_incrementally() {
    let project = sample_project();
    let p = project.path();

    // Full build: every document of the sample is indexed or skipped with a reason.
    let summary = json(p, &["build", "--json"]);
    let documents = summary["documents"].as_u64().unwrap();
    assert!(documents >= 25, "{summary}");
    assert!(summary["chunks"].as_u64().unwrap() >= documents);
    assert_eq!(summary["documents_embedded"].as_u64().unwrap(), documents);
    assert!(
        summary["model"]
            .as_str()
            .unwrap()
            .starts_with("multilingual-e5-small"),
        "Spanish documents pick e5"
    );
    for kind in ["[EMAIL]", "[TELEFONO]"] {
        assert!(
            summary["pii"][kind].as_u64().unwrap_or(0) > 0,
            "no {kind} replaced: {summary}"
        );
    }

    // Personal data never reaches the index.
    let index = std::fs::read(p.join("data/index/index.rmx")).unwrap();
    let index = String::from_utf8_lossy(&index);
    assert!(!index.contains("4111 1111 1111 1111"));
    assert!(index.contains("[EMAIL]"));

    // Search returns the passage that answers, with its metadata.
    let hits = json(
        p,
        &["search", "error E-104 del sensor", "-k", "5", "--json"],
    );
    assert_eq!(hits["hits"].as_array().unwrap().len(), 5);
    let first = &hits["hits"][0];
    for key in ["score", "doc", "source", "position", "text"] {
        assert!(!first[key].is_null(), "missing {key}: {first}");
    }
    let faq_only = json(
        p,
        &["search", "formas de pago", "--source", "faq", "--json"],
    );
    assert!(faq_only["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["source"] == "faq"));

    // An error code is found by its exact term (BM25 beside the vectors).
    let hits = json(p, &["search", "E-402", "-k", "3", "--json"]);
    assert_eq!(
        docs_of(&hits)[0],
        "manual/solucion-problemas-codigos-error.md",
        "{hits}"
    );
    assert!(hits["hits"][0]["bm25"].is_number(), "{hits}");
    // Intent labels from front matter filter too.
    let support = json(
        p,
        &[
            "search",
            "el controlador no enciende",
            "--intent",
            "soporte_tecnico",
            "--json",
        ],
    );
    let support = support["hits"].as_array().unwrap();
    assert!(!support.is_empty());
    assert!(
        support.iter().all(|h| h["intent"] == "soporte_tecnico"),
        "{support:?}"
    );

    // An in-scope question gets a grounded answer with numbered sources.
    let a = json(p, &["ask", "¿Aceptan pagos en OXXO?", "--json"]);
    assert_eq!(a["in_scope"], true, "{a}");
    assert!(a["answer"].as_str().unwrap().contains("[1]"), "{a}");
    assert!(!a["sources"].as_array().unwrap().is_empty());
    // An out-of-scope one is declined politely, never answered.
    let a = json(
        p,
        &[
            "ask",
            "¿Quién ganó la final del mundial de futbol de 1986?",
            "--json",
        ],
    );
    assert_eq!(a["in_scope"], false, "{a}");
    assert!(
        a["answer"].as_str().unwrap().starts_with("Lo siento"),
        "{a}"
    );
    assert!(a["sources"].as_array().unwrap().is_empty());
    let text = ok(p, &["ask", "¿Aceptan pagos en OXXO?"]);
    assert!(text.contains("Fuentes:"), "{text}");

    // Retrieval evaluation reports the standard metrics.
    let eval = json(
        p,
        &["eval", "retrieval", "--file", &sample_eval(), "--json"],
    );
    for key in [
        "hit@k",
        "recall@k",
        "mrr",
        "ndcg@10",
        "false_positive_rate",
        "miss_rate",
    ] {
        assert!(eval[key].is_number(), "missing {key}: {eval}");
    }
    assert!(eval["hit@k"].as_f64().unwrap() > 0.6, "{eval}");
    // Hybrid retrieval (the default) ranks better than vectors alone on the sample.
    let compare = json(
        p,
        &[
            "eval",
            "retrieval",
            "--file",
            &sample_eval(),
            "--compare",
            "--json",
        ],
    );
    let mrr_of = |fusion: &str| {
        compare["compare"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["fusion"] == fusion)
            .and_then(|r| r["mrr"].as_f64())
            .unwrap()
    };
    assert!(mrr_of("weighted") > mrr_of("dense") + 0.03, "{compare}");

    // Nothing changed: nothing is embedded again.
    let again = json(p, &["build", "--json"]);
    assert_eq!(again["documents_embedded"], 0, "{again}");
    assert_eq!(again["documents_unchanged"].as_u64().unwrap(), documents);

    // One file changed: only that one is embedded again, and its new text is searchable.
    let envios = p.join("data/docs/faq/envios.md");
    let mut text = std::fs::read_to_string(&envios).unwrap();
    text.push_str("\n\n## ¿Envían a la Antártida?\nSí: los envíos a la base científica Esperanza salen cada jueves en el buque Zorzal.\n");
    std::fs::write(&envios, text).unwrap();
    let again = json(p, &["build", "--json"]);
    assert_eq!(again["documents_embedded"], 1, "{again}");
    let hits = json(
        p,
        &[
            "search",
            "envíos a la base científica en la Antártida",
            "-k",
            "3",
            "--json",
        ],
    );
    assert_eq!(docs_of(&hits)[0], "faq/envios.md");

    // The BM25 folder was replaced, not accumulated.
    let bm25_dirs = std::fs::read_dir(p.join("data/index"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("bm25-")
        })
        .count();
    assert_eq!(bm25_dirs, 1);
    let hits = json(p, &["search", "buque Zorzal", "-k", "1", "--json"]);
    assert_eq!(docs_of(&hits)[0], "faq/envios.md", "{hits}");

    // A removed file leaves the index.
    std::fs::remove_file(&envios).unwrap();
    let again = json(p, &["build", "--json"]);
    assert_eq!(again["documents_removed"], 1, "{again}");
    let hits = json(
        p,
        &[
            "search",
            "envíos a la base científica en la Antártida",
            "-k",
            "10",
            "--json",
        ],
    );
    assert!(!docs_of(&hits).contains(&"faq/envios.md".to_string()));

    // Pinning another model than the index was built with is refused with a clear message.
    let toml = std::fs::read_to_string(p.join("raymundo.toml")).unwrap();
    std::fs::write(
        p.join("raymundo.toml"),
        toml.replace("model = \"auto\"", "model = \"all-MiniLM-L6-v2\""),
    )
    .unwrap();
    let out = raymundo(p, &["search", "pagos"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("multilingual-e5-small") && err.contains("raymundo build"),
        "{err}"
    );
}

fn sample_eval() -> String {
    crate::support::repo()
        .join("examples/axoloit/data/eval/preguntas.jsonl")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn init_scaffolds_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empresa");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .args(["init", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    for f in [
        "raymundo.toml",
        ".env.example",
        ".gitignore",
        "data/intents.json",
    ] {
        assert!(p.join(f).is_file(), "{f} missing");
    }
    for d in ["data/docs", "data/logs", "data/eval", "data/dump"] {
        assert!(p.join(d).is_dir(), "{d} missing");
    }
    let gitignore = std::fs::read_to_string(p.join(".gitignore")).unwrap();
    for kept_out in [
        ".env",
        "data/index/",
        "data/*.db",
        "data/dump/",
        "data/logs/",
    ] {
        assert!(
            gitignore.lines().any(|l| l == kept_out),
            "{kept_out}: {gitignore}"
        );
    }
    let intents: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("data/intents.json")).unwrap())
            .unwrap();
    assert!(
        intents["crear_presentacion"]["parameters"]
            .as_array()
            .unwrap()
            .len()
            == 3
    );
    std::fs::write(p.join("raymundo.toml"), "# mine\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .args(["init", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(p.join("raymundo.toml")).unwrap(),
        "# mine\n"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept"));
}

#[test]
fn bad_input_gets_a_clear_error_or_a_reasoned_skip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", p.to_str().unwrap()]);
    // Searching before building says what to do.
    let out = raymundo(p, &["search", "hola"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("raymundo build"));

    let docs = p.join("data/docs");
    std::fs::write(
        docs.join("faq/horario.md"),
        "# Horario\n\nAbrimos de lunes a viernes de 9 a 18 horas en la tienda de Zapopan.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("manual/roto.pdf"),
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage",
    )
    .unwrap();
    std::fs::write(docs.join("manual/plano.dwg"), b"\x00\x01binary").unwrap();
    let summary = json(p, &["build", "--json"]);
    assert_eq!(summary["documents"], 1, "{summary}");
    let skipped = summary["skipped"].as_array().unwrap();
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|s| s[0].as_str().unwrap().ends_with(name))
            .map(|s| s[1].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{name} not skipped: {summary}"))
    };
    assert!(reason("roto.pdf").to_lowercase().contains("pdf"));
    assert!(reason("plano.dwg").contains(".dwg"));

    // A wrong setting is named with its field.
    std::fs::write(p.join("raymundo.toml"), "[chunking]\nmax_tokenz = 10\n").unwrap();
    let out = raymundo(p, &["build"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("raymundo.toml") && err.contains("max_tokenz"),
        "{err}"
    );
}

/// A PDF of the given objects (numbered from 1; object 1 the catalog), with a correct
/// cross-reference table.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn pdf_stream(data: &[u8], dict: &str) -> Vec<u8> {
    let mut s = format!("<< /Length {} {dict} >>\nstream\n", data.len()).into_bytes();
    s.extend_from_slice(data);
    s.extend_from_slice(b"\nendstream");
    s
}

#[test]
fn hostile_pdfs_are_skipped_and_the_build_goes_on() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", p.to_str().unwrap()]);
    let docs = p.join("data/docs");
    std::fs::write(
        docs.join("faq/horario.md"),
        "# Horario\n\nAbrimos de lunes a viernes de 9 a 18 horas en la tienda de Zapopan.\n",
    )
    .unwrap();
    let catalog = b"<< /Type /Catalog /Pages 2 0 R >>".to_vec();
    let pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec();
    let font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec();
    // A Form XObject that draws itself: the reader recurses until its stack overflows.
    let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> /Contents 4 0 R >>".to_vec();
    let itself = pdf_stream(
        b"/X1 Do",
        "/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X1 6 0 R >> >>",
    );
    std::fs::write(
        docs.join("manual/recursivo.pdf"),
        pdf(&[
            catalog.clone(),
            pages.clone(),
            page,
            pdf_stream(b"BT /F1 12 Tf 72 720 Td (Hola) Tj ET /X1 Do", ""),
            font.clone(),
            itself,
        ]),
    )
    .unwrap();
    // 1 MB that inflates to 1 GB, over the reader's memory for this test.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        z.write_all(&zeros).unwrap();
    }
    let bomb = z.finish().unwrap();
    let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec();
    std::fs::write(
        docs.join("manual/bomba.pdf"),
        pdf(&[
            catalog,
            pages,
            page,
            pdf_stream(&bomb, "/Filter /FlateDecode"),
            font,
        ]),
    )
    .unwrap();
    crate::support::ensure_models();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .arg("-C")
        .arg(p)
        .args(["build", "--json"])
        .env("RAYMUNDO_LOG", "warn")
        .env("RAYMUNDO_PDF_MEMORY_MB", "256")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["documents"], 1, "{summary}");
    let skipped = summary["skipped"].as_array().unwrap();
    for name in ["recursivo.pdf", "bomba.pdf"] {
        assert!(
            skipped
                .iter()
                .any(|s| s[0].as_str().unwrap().ends_with(name)),
            "{name} not skipped: {summary}"
        );
    }
    let found = ok(p, &["search", "horario de la tienda"]);
    assert!(found.contains("faq/horario.md"), "{found}");
}

#[test]
fn demo_answers_from_the_sample_company_and_declines_the_rest() {
    crate::support::ensure_models();
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .args(["demo", "--dir", demo.to_str().unwrap()])
        .current_dir(crate::support::repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answered = stdout.matches("(answered from the documents").count();
    let declined = stdout.matches("(out of scope: declined").count();
    assert!(answered >= 4, "{stdout}");
    assert!(declined >= 1, "{stdout}");
    assert!(
        stdout.contains("Fuentes:") && stdout.contains("[1] "),
        "{stdout}"
    );
    // The conversation asks for the missing slide count, then writes the deck.
    assert!(
        stdout.contains("Raymundo: ¿Cuántas diapositivas quieres?"),
        "{stdout}"
    );
    assert!(stdout.contains("Listo: creé la presentación"), "{stdout}");
    assert_eq!(
        std::fs::read_dir(demo.join("data/output")).unwrap().count(),
        1
    );
    // The company's own public contact survives scrubbing (allowlisted in its raymundo.toml).
    let hits = json(
        &demo,
        &[
            "search",
            "número de WhatsApp de atención a clientes",
            "-k",
            "5",
            "--json",
        ],
    );
    let texts: Vec<&str> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("33 3616 2020")),
        "{texts:?}"
    );
}
