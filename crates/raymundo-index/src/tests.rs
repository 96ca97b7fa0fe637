use super::*;

pub(crate) fn chunk(doc: &str, position: usize) -> Chunk {
    Chunk {
        doc: doc.into(),
        position,
        source: "faq".into(),
        intent: None,
        title: doc.into(),
        section: None,
        text: format!("{doc} {position}"),
        tokens: 2,
    }
}

pub(crate) fn entry(path: &str, chunks: usize) -> DocumentEntry {
    DocumentEntry {
        path: path.into(),
        content_hash: format!("hash-{path}"),
        source: "faq".into(),
        title: path.into(),
        chunks,
    }
}

fn unit(v: [f32; 3]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn sample() -> Index {
    let mut b = IndexBuilder::new("test-model", 3, "s1");
    let mut v = unit([1.0, 0.0, 0.0]);
    v.extend(unit([0.7, 0.7, 0.0]));
    b.add_document(
        entry("a.md", 2),
        vec![chunk("a.md", 0), chunk("a.md", 1)],
        v,
    )
    .unwrap();
    let mut b_chunk = chunk("b.md", 0);
    b_chunk.source = "manual".into();
    b.add_document(entry("b.md", 1), vec![b_chunk], unit([0.0, 0.0, 1.0]))
        .unwrap();
    b.finish()
}

#[test]
fn exact_search_ranks_by_cosine_and_filters() {
    let index = sample();
    let hits = index.search(&unit([1.0, 0.1, 0.0]), 2, &Filter::default());
    assert_eq!(
        hits.iter().map(|h| h.chunk.id()).collect::<Vec<_>>(),
        ["a.md#0", "a.md#1"]
    );
    assert!(hits[0].score > hits[1].score);
    let manual = Filter {
        source: Some("manual".into()),
        intent: None,
    };
    let hits = index.search(&unit([1.0, 0.1, 0.0]), 2, &manual);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].chunk.doc, "b.md");
}

#[test]
fn save_and_load_round_trip_and_model_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = sample();
    index.save(dir.path(), None).unwrap();
    let loaded = Index::load(dir.path(), Some("test-model")).unwrap();
    assert_eq!(loaded.chunks(), index.chunks());
    assert_eq!(loaded.vector(2), index.vector(2));
    assert_eq!(loaded.document_parts("a.md").unwrap().0.len(), 2);
    let err = Index::load(dir.path(), Some("other-model"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("built with model test-model"), "{err}");
    assert!(err.contains("other-model"), "{err}");
}

#[test]
fn a_truncated_or_foreign_file_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    sample().save(dir.path(), None).unwrap();
    let path = dir.path().join(INDEX_FILE);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
    let err = Index::load(dir.path(), None).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    let mut other = bytes.clone();
    other[8] = 99;
    std::fs::write(&path, &other).unwrap();
    let err = Index::load(dir.path(), None).unwrap_err().to_string();
    assert!(err.contains("format version 99"), "{err}");
    let missing = Index::load(&dir.path().join("nope"), None)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("raymundo build"), "{missing}");
}

#[test]
fn replacement_is_atomic_and_a_crashed_build_leaves_the_old_index_usable() {
    let dir = tempfile::tempdir().unwrap();
    sample().save(dir.path(), None).unwrap();
    let path = dir.path().join(INDEX_FILE);
    let before = std::fs::read(&path).unwrap();
    // A build that died mid-write leaves only its temporary file behind.
    std::fs::write(dir.path().join(".index.rmx.999.tmp"), b"RMXINDEX partial").unwrap();
    let loaded = Index::load(dir.path(), Some("test-model")).unwrap();
    assert_eq!(loaded.len(), 3);
    // A reader holding the old file keeps reading the old, whole index while a new one
    // is written: the new file replaces the directory entry, it never overwrites in place.
    let mut old_handle = std::fs::File::open(&path).unwrap();
    let mut b = IndexBuilder::new("test-model", 3, "s1");
    b.add_document(
        entry("c.md", 1),
        vec![chunk("c.md", 0)],
        unit([0.0, 1.0, 0.0]),
    )
    .unwrap();
    b.finish().save(dir.path(), None).unwrap();
    let mut old_bytes = Vec::new();
    std::io::Read::read_to_end(&mut old_handle, &mut old_bytes).unwrap();
    assert_eq!(old_bytes, before);
    let new = Index::load(dir.path(), Some("test-model")).unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(new.chunks()[0].doc, "c.md");
}

#[test]
fn builder_rejects_mismatched_vectors() {
    let mut b = IndexBuilder::new("m", 3, "s");
    let err = b
        .add_document(entry("a.md", 1), vec![chunk("a.md", 0)], vec![1.0; 4])
        .unwrap_err();
    assert!(err.to_string().contains("a.md"));
}

#[test]
fn dot_matches_naive_sum() {
    let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.1).collect();
    let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.01).collect();
    let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    assert!((dot(&a, &b) - naive).abs() < 1e-3);
}

/// A small Spanish knowledge base with vectors that carry no meaning (so that only BM25
/// can find things by their words).
fn spanish(docs: &[(&str, &str, &[&str])]) -> Index {
    let mut b = IndexBuilder::new("test-model", 3, "s1");
    for (n, (path, source, texts)) in docs.iter().enumerate() {
        let chunks: Vec<Chunk> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Chunk {
                source: source.to_string(),
                text: t.to_string(),
                ..chunk(path, i)
            })
            .collect();
        let mut vectors = Vec::new();
        for i in 0..chunks.len() {
            let angle = (n * 7 + i) as f32 * 0.3;
            vectors.extend(unit([angle.cos(), angle.sin(), 0.1]));
        }
        let mut e = entry(path, chunks.len());
        e.content_hash = format!("{path}:{}", texts.join("|"));
        b.add_document(e, chunks, vectors).unwrap();
    }
    b.finish()
}

fn bm25_docs(index: &Index, query: &str) -> Vec<String> {
    index
        .lexical()
        .unwrap()
        .search(query, 10, &Filter::default())
        .unwrap()
        .into_iter()
        .map(|h| format!("{}#{}", h.doc, h.position))
        .collect()
}

#[test]
fn bm25_folds_accents_and_stems_spanish() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = spanish(&[
        (
            "faq/envios.md",
            "faq",
            &["La información sobre envíos nacionales y sus garantías."],
        ),
        (
            "faq/pagos.md",
            "faq",
            &["Aceptamos pagos con tarjeta y transferencia."],
        ),
    ]);
    index.save(dir.path(), None).unwrap();
    // No accents, plural and singular mixed, a stop word: still the right document.
    assert_eq!(
        bm25_docs(&index, "informacion de envio"),
        ["faq/envios.md#0"]
    );
    assert_eq!(bm25_docs(&index, "GARANTÍA"), ["faq/envios.md#0"]);
    assert_eq!(bm25_docs(&index, "pago con tarjetas"), ["faq/pagos.md#0"]);
    // Only stop words: nothing to match.
    assert!(bm25_docs(&index, "de la y").is_empty());
}

#[test]
fn product_codes_are_found_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = spanish(&[
        (
            "manual/errores.md",
            "manual",
            &[
                "El código E-17 indica baja presión en la válvula.",
                "El código E-71 indica que la batería está baja.",
            ],
        ),
        (
            "manual/modelos.md",
            "manual",
            &["El controlador AX-200 tiene cuatro zonas; el AX-400 tiene ocho."],
        ),
    ]);
    index.save(dir.path(), None).unwrap();
    assert_eq!(
        bm25_docs(&index, "¿qué significa el error E17?")[0],
        "manual/errores.md#0"
    );
    assert_eq!(bm25_docs(&index, "e-71")[0], "manual/errores.md#1");
    // A code only BM25 can see wins the hybrid search even though the vectors point away.
    let query_vec = unit([0.0, 0.0, 1.0]);
    let params = SearchParams {
        fusion: raymundo_core::Fusion::Rrf,
        candidates: 10,
        ..SearchParams::dense(1)
    };
    let r = index.hybrid_search(&query_vec, "AX-200", &params).unwrap();
    assert_eq!(r.hits[0].chunk.doc, "manual/modelos.md");
    assert!(r.hits[0].lexical.is_some());
    assert_eq!(
        codes("AX-200, E-17 y RB5000; 2024-05 no"),
        ["ax200", "e17", "rb5000"]
    );
}

#[test]
fn hybrid_search_respects_filters_and_reports_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = spanish(&[
        (
            "faq/garantia.md",
            "faq",
            &["La garantía del controlador es de dos años."],
        ),
        (
            "manual/garantia.md",
            "manual",
            &["Para reclamar la garantía del controlador envíe la factura."],
        ),
    ]);
    index.save(dir.path(), None).unwrap();
    let mut params = SearchParams {
        fusion: raymundo_core::Fusion::Rrf,
        candidates: 10,
        ..SearchParams::dense(5)
    };
    params.filter.source = Some("manual".into());
    let q = unit([1.0, 0.0, 0.0]);
    let r = index
        .hybrid_search(&q, "garantía del controlador", &params)
        .unwrap();
    assert!(!r.hits.is_empty());
    assert!(r.hits.iter().all(|h| h.chunk.source == "manual"));
    assert!(r.coverage > 0.99, "{}", r.coverage);
    params.filter.source = None;
    let r = index
        .hybrid_search(&q, "receta de pozole rojo con garantía", &params)
        .unwrap();
    // Three of four content words never occur in the documents.
    assert!(r.coverage < 0.5, "{}", r.coverage);
}

#[test]
fn coverage_weighs_what_is_asked_about_and_joins_inflections() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = spanish(&[
        (
            "rh/vacaciones.md",
            "rh",
            &["Cada empleado tiene derecho a 22 días hábiles de vacaciones al año."],
        ),
        (
            "rh/nomina.md",
            "rh",
            &["La nómina se paga los días 15 y 30 de cada mes por transferencia."],
        ),
        (
            "manual/equipo.md",
            "manual",
            &["Para encender el controlador mantenga pulsado el botón central."],
        ),
    ]);
    // The BM25 side (and with it the coverage signal) exists once the index is saved.
    index.save(dir.path(), None).unwrap();
    let params = SearchParams {
        candidates: 10,
        ..SearchParams::dense(3)
    };
    let q = unit([1.0, 0.0, 0.0]);
    let cover = |text: &str| index.hybrid_search(&q, text, &params).unwrap().coverage;
    // "Cuántos" is how it asks, not what; "tocan" (in no document) is left to weigh alone
    // against "días", "vacaciones" and "año", and does not outweigh them.
    let vacations = cover("¿Cuántos días de vacaciones me tocan al año?");
    assert!(vacations >= 0.5, "{vacations}");
    // The stemmer keeps "enciend" and "encend" apart; one letter must not decide.
    let switch_on = cover("¿Cómo se enciende el controlador?");
    assert!(switch_on > 0.99, "{switch_on}");
    // Asking words ("quisiera saber") are not what is asked about.
    let polite = cover("Hola, quisiera saber cuándo se paga la nómina");
    assert!(polite > 0.99, "{polite}");
    // A question of unknown words still covers little, though it shares one common word.
    let trivia = cover("¿Quién ganó el mundial de fútbol de 2022 en Catar el año pasado?");
    assert!(trivia < 0.3, "{trivia}");
}

#[test]
fn bm25_is_updated_incrementally_and_old_folders_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = spanish(&[
        (
            "faq/a.md",
            "faq",
            &["Horario de atención de lunes a viernes."],
        ),
        ("faq/b.md", "faq", &["Los aspersores se limpian cada mes."]),
    ]);
    first.save(dir.path(), None).unwrap();
    let first = Index::load(dir.path(), Some("test-model")).unwrap();
    let first_dir = first.meta().lexical.clone().unwrap();
    // a.md changes, b.md is removed, c.md is new.
    let mut second = spanish(&[
        (
            "faq/a.md",
            "faq",
            &["Horario de atención: sábados también."],
        ),
        (
            "faq/c.md",
            "faq",
            &["Las mangueras tienen garantía de un año."],
        ),
    ]);
    second = {
        let mut b = IndexBuilder::new("test-model", 3, "s1");
        for d in &second.meta().documents.clone() {
            let (c, v) = second.document_parts(&d.path).unwrap();
            b.add_document(d.clone(), c, v).unwrap();
        }
        b.finish()
    };
    second.save(dir.path(), Some(&first)).unwrap();
    let loaded = Index::load(dir.path(), Some("test-model")).unwrap();
    assert_eq!(bm25_docs(&loaded, "sábado"), ["faq/a.md#0"]);
    assert!(bm25_docs(&loaded, "viernes").is_empty(), "old text of a.md");
    assert!(bm25_docs(&loaded, "aspersores").is_empty(), "removed b.md");
    assert_eq!(bm25_docs(&loaded, "mangueras"), ["faq/c.md#0"]);
    assert_eq!(loaded.lexical().unwrap().len(), 2);
    assert!(!dir.path().join(first_dir).exists());
}

#[test]
fn neighbours_come_in_document_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = spanish(&[("manual/m.md", "manual", &["uno", "dos", "tres", "cuatro"])]);
    index.save(dir.path(), None).unwrap();
    let q = unit([1.0, 0.0, 0.0]);
    let hit = index
        .search(&q, 4, &Filter::default())
        .into_iter()
        .find(|h| h.chunk.position == 2)
        .unwrap();
    let expanded = index.with_neighbours(vec![hit], 1, &q);
    let order: Vec<(usize, bool)> = expanded
        .iter()
        .map(|h| (h.chunk.position, h.neighbour))
        .collect();
    assert_eq!(order, [(1, true), (2, false), (3, true)]);
}

#[test]
fn a_large_index_searches_through_its_graph_and_keeps_it_on_disk() {
    // Low-rank vectors, like real embeddings (uniform random ones defeat any graph).
    let (n, dim, rank) = (3000, 32, 6);
    let mut seed = 42u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f32 / (1u64 << 53) as f32 - 0.5
    };
    let basis: Vec<f32> = (0..rank * dim).map(|_| next()).collect();
    let row = |next: &mut dyn FnMut() -> f32| {
        let z: Vec<f32> = (0..rank).map(|_| next()).collect();
        let mut v: Vec<f32> = (0..dim)
            .map(|d| (0..rank).map(|r| z[r] * basis[r * dim + d]).sum::<f32>() + 0.01 * next())
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    };
    let mut b = IndexBuilder::new("test-model", dim, "s1");
    for d in 0..n / 10 {
        let path = format!("d{d:04}.md");
        let chunks: Vec<Chunk> = (0..10).map(|i| chunk(&path, i)).collect();
        let vectors: Vec<f32> = (0..10).flat_map(|_| row(&mut next)).collect();
        b.add_document(entry(&path, 10), chunks, vectors).unwrap();
    }
    let mut index = b.finish();
    let queries: Vec<Vec<f32>> = (0..50).map(|_| row(&mut next)).collect();
    let exact: Vec<Vec<String>> = queries
        .iter()
        .map(|q| ids(&index.search(q, 10, &Filter::default())))
        .collect();
    index.build_ann(&HnswParams::default(), None);
    let dir = tempfile::tempdir().unwrap();
    index.save(dir.path(), None).unwrap();
    let loaded = Index::load(dir.path(), Some("test-model")).unwrap();
    assert!(loaded.ann().is_some(), "the graph is saved with the index");
    let mut found = 0;
    for (q, truth) in queries.iter().zip(&exact) {
        let approx = ids(&loaded.search(q, 10, &Filter::default()));
        found += approx.iter().filter(|id| truth.contains(id)).count();
    }
    let recall = found as f64 / (10 * queries.len()) as f64;
    assert!(recall >= 0.98, "recall@10 {recall}");
    // A damaged graph is refused with a reason, not half-loaded.
    let path = dir.path().join(INDEX_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 8 - 40;
    bytes[at] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = Index::load(dir.path(), None).unwrap_err().to_string();
    assert!(err.contains("HNSW graph"), "{err}");
}

fn ids(hits: &[Hit]) -> Vec<String> {
    hits.iter().map(|h| h.chunk.id()).collect()
}
