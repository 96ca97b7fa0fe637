//! `Index::load` on any bytes in `index.rmx`: an error naming what is wrong, or an index
//! whose searches run without a panic. The first byte chooses the input's shape: the raw
//! file, or its three parts (header JSON, vectors, graph) framed as the format frames them,
//! so the fuzzer also reaches what lies behind a well-formed frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raymundo_index::{Filter, Index, SearchParams};

const MAGIC: &[u8] = b"RMXINDEX";
const TRAILER: &[u8] = b"RMXEND\0\0";

/// `data` as [u16 header length][header][u16 vector count][f32s][graph].
fn framed(data: &[u8]) -> Vec<u8> {
    let take = |data: &mut &[u8], n: usize| -> Vec<u8> {
        let n = n.min(data.len());
        let (head, tail) = data.split_at(n);
        *data = tail;
        head.to_vec()
    };
    let mut rest = data;
    let len = |rest: &mut &[u8]| -> usize {
        let b = take(rest, 2);
        b.iter().fold(0usize, |acc, &x| acc * 256 + x as usize)
    };
    let n = len(&mut rest);
    let header = take(&mut rest, n);
    let m = len(&mut rest);
    let vectors = take(&mut rest, 4 * m);
    let graph = rest.to_vec();
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&((vectors.len() / 4) as u64).to_le_bytes());
    out.extend_from_slice(&vectors[..vectors.len() / 4 * 4]);
    out.extend_from_slice(&(graph.len() as u64).to_le_bytes());
    out.extend_from_slice(&graph);
    out.extend_from_slice(TRAILER);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let bytes = if shape % 2 == 0 {
        rest.to_vec()
    } else {
        framed(rest)
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let index_dir = dir.path().join("index");
    std::fs::create_dir(&index_dir).expect("the index folder");
    std::fs::write(index_dir.join("index.rmx"), &bytes).expect("the index file");
    let Ok(index) = Index::load(&index_dir, None) else {
        return;
    };
    let dim = index.meta().dim;
    let query: Vec<f32> = (0..dim).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect();
    let hits = index.search(&query, 5, &Filter::default());
    assert!(hits.len() <= 5.min(index.len()));
    let params = SearchParams::dense(5);
    let _ = index.hybrid_search(&query, "envío gratis", &params);
    for i in 0..index.len() {
        assert_eq!(index.vector(i).len(), dim);
    }
    // Nothing was read or written outside the index folder.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the temporary folder")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("index")]);
});
