//! The index in PostgreSQL against the file index: the same documents must rank the same
//! way, versions must switch atomically and share unchanged documents. Needs the test
//! PostgreSQL with pgvector (`raymundo_store::testing::pgvector`); skipped without it.

use super::*;
use crate::tests::{chunk, entry};
use crate::{Filter, Index, IndexBuilder, SearchParams};
use raymundo_core::{Fusion, Hit};

const DIM: usize = 16;

/// A bag-of-words vector: each analysed word adds to a few hashed dimensions, so texts that
/// share words point the same way (like an embedding, crudely).
fn embed(text: &str) -> Vec<f32> {
    let mut a = crate::lexical::analyzer(crate::LexicalLanguage::Spanish);
    let mut v = [0.01f32; DIM];
    for w in crate::lexical::analyze(&mut a, text) {
        let h = w.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        v[(h % DIM as u64) as usize] += 1.0;
        v[((h >> 20) % DIM as u64) as usize] += 0.5;
    }
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// A small company: (path, source, intent, title, chunks).
type Doc<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, &'a [&'a str]);

const COMPANY: &[Doc<'static>] = &[
    ("faq/envios.md", "faq", None, "Envíos", &[
        "Los envíos nacionales tardan de tres a cinco días hábiles. El envío es gratuito en compras mayores a 999 pesos.",
        "Los envíos internacionales se cotizan aparte y pueden tardar hasta quince días.",
    ]),
    ("faq/pagos.md", "faq", None, "Pagos", &[
        "Aceptamos pagos con tarjeta de crédito, débito y transferencia bancaria.",
        "Las facturas se emiten el mismo día del pago; pida la suya por correo.",
    ]),
    ("manual/riego.md", "manual", None, "Manual del controlador de riego", &[
        "El controlador AX-200 tiene cuatro zonas; el AX-400 tiene ocho zonas independientes.",
        "El código E-17 indica baja presión en la válvula principal. Revise la llave de paso.",
        "El código E-71 indica que la batería está baja: cámbiela por una de nueve voltios.",
        "Para programar un riego elija la zona, la hora de inicio y la duración en minutos.",
    ]),
    ("manual/garantia.md", "manual", Some("garantia"), "Garantía", &[
        "La garantía del controlador es de dos años a partir de la fecha de compra.",
        "Para reclamar la garantía envíe la factura y una foto del número de serie.",
    ]),
    ("rh/vacaciones.md", "rh", None, "Vacaciones", &[
        "Cada empleado tiene derecho a 22 días hábiles de vacaciones al año.",
        "Las vacaciones se solicitan con dos semanas de anticipación a su jefe directo.",
    ]),
    ("rh/nomina.md", "rh", None, "Nómina", &[
        "La nómina se paga los días 15 y último de cada mes por transferencia.",
    ]),
];

fn build(docs: &[Doc<'_>], model: &str) -> Index {
    let mut b = IndexBuilder::new(model, DIM, "s1");
    for (path, source, intent, title, texts) in docs {
        let chunks: Vec<Chunk> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Chunk {
                source: source.to_string(),
                intent: intent.map(str::to_string),
                title: title.to_string(),
                section: (i % 2 == 1).then(|| format!("{title} > Detalles")),
                text: t.to_string(),
                ..chunk(path, i)
            })
            .collect();
        let vectors: Vec<f32> = chunks
            .iter()
            .flat_map(|c| embed(&format!("{} {}", c.title, c.text)))
            .collect();
        let mut e = entry(path, chunks.len());
        e.source = source.to_string();
        e.content_hash = format!("{path}:{}", texts.join("|"));
        b.add_document(e, chunks, vectors).unwrap();
    }
    b.finish()
}

/// A saved file index and the same index published to a fresh database (`None` without
/// a PostgreSQL with pgvector).
fn both(docs: &[Doc<'_>]) -> Option<(tempfile::TempDir, Index, PgIndex, String)> {
    let server = raymundo_store::testing::pgvector()?;
    let url = server.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let mut index = build(docs, "test-model");
    index.save(dir.path(), None).unwrap();
    let pg = PgIndex::publish(&url, &index).unwrap();
    Some((dir, index, pg, url))
}

fn ids(hits: &[Hit]) -> Vec<String> {
    hits.iter().map(|h| h.chunk.id()).collect()
}

const QUESTIONS: &[&str] = &[
    "¿cuánto tarda un envío nacional?",
    "informacion de envios internacionales",
    "¿qué significa el error E17?",
    "e-71",
    "AX-200",
    "¿puedo pagar con tarjeta?",
    "quiero mi factura",
    "garantía del controlador",
    "¿cuántos días de vacaciones tengo?",
    "¿cuándo pagan la nómina?",
    "receta de pozole rojo",
    "de la y",
    "",
];

#[test]
fn both_backends_rank_alike_in_every_fusion_mode() {
    let Some((_dir, file, pg, _url)) = both(COMPANY) else {
        return;
    };
    assert_eq!(pg.len(), file.len());
    assert_eq!(pg.meta().documents, file.meta().documents);
    let intent = Filter {
        source: None,
        intent: Some("garantia".into()),
    };
    let manual = Filter {
        source: Some("manual".into()),
        intent: None,
    };
    for fusion in [Fusion::Rrf, Fusion::Weighted, Fusion::Dense, Fusion::Bm25] {
        for (mmr, filter) in [
            (None, Filter::default()),
            (Some(0.5), Filter::default()),
            (None, manual.clone()),
            (None, intent.clone()),
        ] {
            let params = SearchParams {
                fusion,
                candidates: 8,
                dense_weight: 0.6,
                mmr_lambda: mmr,
                coverage_k: Some(3),
                filter,
                ..SearchParams::dense(4)
            };
            for q in QUESTIONS {
                let v = embed(q);
                let a = file.hybrid_search(&v, q, &params).unwrap();
                let b = pg.hybrid_search(&v, q, &params).unwrap();
                let what = format!("{fusion:?} mmr {mmr:?} {:?} {q:?}", params.filter);
                assert_eq!(ids(&b.hits), ids(&a.hits), "{what}");
                for (x, y) in a.hits.iter().zip(&b.hits) {
                    assert!((x.score - y.score).abs() < 1e-4, "{what}: {x:?} {y:?}");
                    assert!((x.dense - y.dense).abs() < 1e-4, "{what}");
                    match (x.lexical, y.lexical) {
                        (Some(l), Some(m)) => {
                            assert!((l - m).abs() < 1e-3 * l.max(1.0), "{what}: {l} {m}")
                        }
                        (l, m) => assert_eq!(l, m, "{what}"),
                    }
                }
                assert!((a.best_dense - b.best_dense).abs() < 1e-4, "{what}");
                assert!(
                    (a.coverage - b.coverage).abs() < 1e-4,
                    "{what}: {} {}",
                    a.coverage,
                    b.coverage
                );
            }
        }
    }
    // Dense search and neighbours too.
    let q = embed("programar el riego por zonas");
    let a = file.search(&q, 3, &Filter::default());
    let b = pg.search(&q, 3, &Filter::default()).unwrap();
    assert_eq!(ids(&b), ids(&a));
    let a = file.with_neighbours(a, 1, &q);
    let b = pg.with_neighbours(b, 1, &q).unwrap();
    assert_eq!(ids(&b), ids(&a));
    assert_eq!(
        b.iter().map(|h| h.neighbour).collect::<Vec<_>>(),
        a.iter().map(|h| h.neighbour).collect::<Vec<_>>()
    );
}

fn rows(url: &str, sql: &str) -> i64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn a_new_version_shares_unchanged_documents_and_switches_atomically() {
    let Some((_dir, _file, v1, url)) = both(COMPANY) else {
        return;
    };
    let before = rows(&url, "SELECT count(*) FROM raymundo_index_chunks");
    // One document changed, one removed, one added.
    let mut docs: Vec<Doc<'_>> = COMPANY
        .iter()
        .copied()
        .filter(|d| d.0 != "rh/nomina.md")
        .collect();
    docs[0].4 = &["Los envíos nacionales ahora llegan al día siguiente con mensajería express."];
    docs.push((
        "faq/devoluciones.md",
        "faq",
        None,
        "Devoluciones",
        &["Las devoluciones se aceptan durante treinta días con el ticket de compra."],
    ));
    let new = build(&docs, "test-model");
    let v2 = PgIndex::publish(&url, &new).unwrap();
    assert_eq!(v2.version(), v1.version() + 1);
    assert_eq!(v2.len(), new.len());
    assert_eq!(v1.latest().unwrap(), Some(v2.version()));
    // Only the changed and added documents were written: 1 + 1 rows more.
    assert_eq!(
        rows(&url, "SELECT count(*) FROM raymundo_index_chunks"),
        before + 2
    );
    let q = "¿aceptan devoluciones?";
    let params = SearchParams {
        fusion: Fusion::Rrf,
        candidates: 8,
        ..SearchParams::dense(2)
    };
    let hits = v2.hybrid_search(&embed(q), q, &params).unwrap().hits;
    assert_eq!(hits[0].chunk.doc, "faq/devoluciones.md");
    // A server still on the previous version keeps answering from it, whole.
    let hits = v1.hybrid_search(&embed(q), q, &params).unwrap().hits;
    assert!(hits.iter().all(|h| h.chunk.doc != "faq/devoluciones.md"));
    let q = "¿cuándo pagan la nómina?";
    let hits = v1.hybrid_search(&embed(q), q, &params).unwrap().hits;
    assert_eq!(hits[0].chunk.doc, "rh/nomina.md");
    let hits = v2.hybrid_search(&embed(q), q, &params).unwrap().hits;
    assert!(hits.iter().all(|h| h.chunk.doc != "rh/nomina.md"));
    // The reopened index is the new version; the in-memory copy matches what was built.
    let reopened = v1.reopen().unwrap();
    assert_eq!(reopened.version(), v2.version());
    let copy = reopened.to_index().unwrap();
    assert_eq!(copy.meta().documents, new.meta().documents);
    for d in &new.meta().documents {
        assert_eq!(copy.document_parts(&d.path), new.document_parts(&d.path));
    }
    // The next build removes version 1 and the rows only it had.
    let v3 = PgIndex::publish(&url, &new).unwrap();
    assert_eq!(
        rows(&url, "SELECT count(*) FROM raymundo_index_versions"),
        2
    );
    assert_eq!(
        rows(&url, "SELECT count(*) FROM raymundo_index_chunks"),
        new.len() as i64
    );
    assert_eq!(
        rows(
            &url,
            "SELECT count(DISTINCT chunk) FROM raymundo_index_postings"
        ),
        new.len() as i64
    );
    assert!(v3.hybrid_search(&embed(q), q, &params).is_ok());
    // Term counts of the new version are those of its chunks, whatever was retired.
    let (_dir2, fresh, ..) = both(&docs).unwrap();
    let a = fresh.hybrid_search(&embed(q), q, &params).unwrap();
    let b = v3.hybrid_search(&embed(q), q, &params).unwrap();
    assert_eq!(ids(&b.hits), ids(&a.hits));
    for (x, y) in a.hits.iter().zip(&b.hits) {
        assert!((x.score - y.score).abs() < 1e-4);
    }
}

#[test]
fn a_failed_build_leaves_the_current_version_as_it_was() {
    let Some((_dir, _file, v1, url)) = both(COMPANY) else {
        return;
    };
    let chunks_before = rows(&url, "SELECT count(*) FROM raymundo_index_chunks");
    let postings_before = rows(&url, "SELECT count(*) FROM raymundo_index_postings");
    // pgvector refuses NaN: the build fails in the middle of writing.
    let mut b = IndexBuilder::new("test-model", DIM, "s1");
    let mut v = embed("nuevo");
    v[3] = f32::NAN;
    b.add_document(
        entry("nuevo.md", 1),
        vec![Chunk {
            text: "Un documento nuevo.".into(),
            ..chunk("nuevo.md", 0)
        }],
        v,
    )
    .unwrap();
    let err = PgIndex::publish(&url, &b.finish()).unwrap_err().to_string();
    assert!(err.contains("writing the chunks"), "{err}");
    assert_eq!(v1.latest().unwrap(), Some(v1.version()));
    assert_eq!(
        rows(&url, "SELECT count(*) FROM raymundo_index_chunks"),
        chunks_before
    );
    assert_eq!(
        rows(&url, "SELECT count(*) FROM raymundo_index_postings"),
        postings_before
    );
    let q = "garantía del controlador";
    let params = SearchParams::dense(1);
    let hits = v1
        .reopen()
        .unwrap()
        .hybrid_search(&embed(q), q, &params)
        .unwrap()
        .hits;
    assert_eq!(hits[0].chunk.doc, "manual/garantia.md");
}

#[test]
fn another_model_rewrites_everything_and_is_checked_on_open() {
    let Some((_dir, _file, v1, url)) = both(COMPANY) else {
        return;
    };
    let other = build(COMPANY, "other-model");
    let v2 = PgIndex::publish(&url, &other).unwrap();
    assert_eq!(v2.meta().model_id, "other-model");
    assert_eq!(
        rows(
            &url,
            &format!(
                "SELECT count(*) FROM raymundo_index_chunks WHERE first_version = {}",
                v2.version()
            )
        ),
        other.len() as i64
    );
    let err = PgIndex::open(&url, Some("test-model"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("other-model") && err.contains("raymundo build"),
        "{err}"
    );
    assert!(v1.reopen().is_ok());
}

#[test]
fn an_empty_database_and_a_bad_url_say_what_is_wrong() {
    let Some(server) = raymundo_store::testing::pgvector() else {
        return;
    };
    let url = server.fresh_database();
    let err = PgIndex::open(&url, None).unwrap_err().to_string();
    assert!(err.contains("no index yet"), "{err}");
    let bad = url.replace(raymundo_store::testing::PASSWORD, "wrong-password");
    let err = PgIndex::open(&bad, None).unwrap_err().to_string();
    assert!(err.contains("authentication failed"), "{err}");
    assert!(!err.contains("wrong-password"), "{err}");
    let err = PgIndex::open("mysql://u:pw@h/d", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected postgres://"), "{err}");
}
