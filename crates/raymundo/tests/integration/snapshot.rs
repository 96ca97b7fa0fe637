//! `raymundo snapshot` and `raymundo restore`: everything needed to answer comes back, no
//! secret goes in, and nothing is overwritten without `--force`.

use crate::server::small_project;
use crate::support::{chat, ok, raymundo};
use std::path::Path;

fn archive_in(dump: &Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dump)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.zst"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// The archive's file names (through the same tar + zstd the command uses).
fn names(archive: &Path) -> Vec<String> {
    let decoder = zstd::Decoder::new(std::fs::File::open(archive).unwrap()).unwrap();
    let mut tar = tar::Archive::new(decoder);
    tar.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
        .collect()
}

#[test]
fn a_snapshot_restores_a_working_project_and_never_holds_secrets() {
    let project = small_project();
    let p = project.path();
    std::fs::write(p.join(".env"), "GROQ_API_KEY=gsk-secreto-de-prueba\n").unwrap();
    chat(
        p,
        &["Mi correo es ana@example.com, ¿cuánto cuesta el envío?"],
    );

    let out = ok(p, &["snapshot"]);
    assert!(out.contains("1 recorded turns"), "{out}");
    let archive = archive_in(&p.join("data/dump"));
    let held = names(&archive);
    for needed in [
        "manifest.json",
        "raymundo.toml",
        "data/intents.json",
        "data/docs/faq/envios.md",
        "data/index/index.rmx",
        "data/raymundo.db",
        "export/interacciones.jsonl",
    ] {
        assert!(
            held.iter().any(|n| n == needed),
            "{needed} missing: {held:?}"
        );
    }
    assert!(
        held.iter()
            .all(|n| !n.contains(".env") && !n.contains("dump")),
        "{held:?}"
    );
    let bytes = std::fs::read(&archive).unwrap();
    let raw = zstd::decode_all(bytes.as_slice()).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("gsk-secreto"));
    assert!(!text.contains("ana@example.com"));

    // Into an empty folder: it answers as the original did.
    let copy = tempfile::tempdir().unwrap();
    let c = copy.path();
    let out = ok(c, &["restore", archive.to_str().unwrap()]);
    assert!(out.contains("Restored"), "{out}");
    assert!(!c.join(".env").exists());
    let answer = ok(c, &["ask", "¿Cuánto cuesta el envío?"]);
    assert!(answer.contains("149"), "{answer}");
    let stats = ok(c, &["stats", "--json"]);
    assert!(stats.contains("\"turns\": 1"), "{stats}");

    // A changed file is not overwritten without --force, and nothing else changes.
    std::fs::write(c.join("data/docs/faq/envios.md"), "# Cambiado\n").unwrap();
    std::fs::remove_file(c.join("data/intents.json")).unwrap();
    let refused = raymundo(c, &["restore", archive.to_str().unwrap()]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("envios.md") && err.contains("--force"),
        "{err}"
    );
    assert!(!c.join("data/intents.json").exists(), "half-restored");
    ok(c, &["restore", "--force", archive.to_str().unwrap()]);
    assert!(std::fs::read_to_string(c.join("data/docs/faq/envios.md"))
        .unwrap()
        .contains("149"));
    assert!(c.join("data/intents.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(c)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".raymundo-restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn restore_names_a_broken_or_foreign_archive_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let junk = d.join("roto.tar.zst");
    std::fs::write(&junk, b"esto no es un snapshot").unwrap();
    let out = raymundo(d, &["restore", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("roto.tar.zst"));

    // A tar that climbs out of the project.
    let evil = d.join("evil.tar.zst");
    {
        let enc = zstd::Encoder::new(std::fs::File::create(&evil).unwrap(), 3).unwrap();
        let mut tar = tar::Builder::new(enc);
        let data = b"x";
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"../outside.md");
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append(&h, &data[..]).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let target = d.join("proyecto");
    std::fs::create_dir(&target).unwrap();
    let out = raymundo(&target, &["restore", evil.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("leaves the project"));
    assert!(!d.join("outside.md").exists());
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
}
