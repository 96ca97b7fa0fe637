//! Every document loader, chosen by extension, on any bytes: a document or a reason to skip
//! it, never a panic; what comes out is normalised text with no NUL and no personal data
//! left for a second scrub to find.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raymundo_ingest::{load_bytes, scrub_pii, IngestError, LoadOptions};

/// The extensions the loaders read (`SUPPORTED_EXTENSIONS`), picked by the first byte.
const NAMES: &[&str] = &[
    "doc.txt",
    "doc.md",
    "doc.markdown",
    "doc.pdf",
    "doc.html",
    "doc.htm",
    "doc.docx",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[pick as usize % NAMES.len()];
    match load_bytes(name, bytes, &LoadOptions::default()) {
        Ok(loaded) => {
            let doc = loaded.document;
            assert!(!doc.text.contains('\0'), "NUL in the text of {name}");
            assert!(
                !doc.title.contains('\n'),
                "line break in the title of {name}"
            );
            assert!(doc.text.chars().any(char::is_alphanumeric));
            let (again, found) = scrub_pii(&doc.text);
            assert_eq!(again, doc.text, "a second scrub of {name} found {found:?}");
        }
        Err(IngestError::Skipped { .. }) => {}
        Err(other) => panic!("{name}: {other}"),
    }
});
