use super::*;

fn chunk(doc: &str, position: usize) -> Chunk {
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

fn entry(path: &str, chunks: usize) -> DocumentEntry {
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
    b.add_document(
        entry("b.md", 1),
        vec![chunk("b.md", 0)],
        unit([0.0, 0.0, 1.0]),
    )
    .unwrap();
    b.finish()
}

#[test]
fn exact_search_ranks_by_cosine_and_filters() {
    let index = sample();
    let hits = index.search(&unit([1.0, 0.1, 0.0]), 2, None);
    assert_eq!(
        hits.iter().map(|h| h.chunk.id()).collect::<Vec<_>>(),
        ["a.md#0", "a.md#1"]
    );
    assert!(hits[0].score > hits[1].score);
    let only_b = |c: &Chunk| c.doc == "b.md";
    let hits = index.search(&unit([1.0, 0.1, 0.0]), 2, Some(&only_b));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].chunk.doc, "b.md");
}

#[test]
fn save_and_load_round_trip_and_model_check() {
    let dir = tempfile::tempdir().unwrap();
    let index = sample();
    index.save(dir.path()).unwrap();
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
    sample().save(dir.path()).unwrap();
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
    sample().save(dir.path()).unwrap();
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
    b.finish().save(dir.path()).unwrap();
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
