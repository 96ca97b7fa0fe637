//! `raymundo snapshot` and `raymundo restore`: everything needed to answer comes back, no
//! secret goes in, and nothing is overwritten without `--force`.

use crate::server::small_project;
use crate::support::{chat, ok, raymundo};
use sha2::{Digest, Sha256};
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

    // Into an empty folder: it answers as the original did. The configuration it brings is
    // shown and, with no terminal to ask on, restored only with --yes.
    let copy = tempfile::tempdir().unwrap();
    let c = copy.path();
    let asked = raymundo(c, &["restore", archive.to_str().unwrap()]);
    assert!(!asked.status.success());
    let err = String::from_utf8_lossy(&asked.stderr);
    assert!(err.contains("+["), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(std::fs::read_dir(c).unwrap().count(), 0, "half-restored");
    let out = ok(c, &["restore", "--yes", archive.to_str().unwrap()]);
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

/// A hand-made archive: a manifest (listing `listed`, or every entry when `None`) first
/// unless `manifest_first` is false, then each entry with exactly the name bytes given.
fn craft(
    path: &Path,
    entries: &[(&[u8], &[u8])],
    listed: Option<serde_json::Value>,
    manifest_first: bool,
) {
    let files = listed.unwrap_or_else(|| {
        entries
            .iter()
            .map(|(name, data)| {
                (
                    String::from_utf8_lossy(name).to_string(),
                    serde_json::json!({"bytes": data.len(), "sha256": format!("{:x}", Sha256::digest(data))}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    });
    let manifest = serde_json::to_vec(&serde_json::json!({
        "format": 1, "created": "2026-12-07T00:00:00Z", "raymundo": "0.1.0", "files": files
    }))
    .unwrap();
    let enc = zstd::Encoder::new(std::fs::File::create(path).unwrap(), 3).unwrap();
    let mut tar = tar::Builder::new(enc);
    let mut add = |name: &[u8], data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        tar.append(&h, data).unwrap();
    };
    if manifest_first {
        add(b"manifest.json", &manifest);
    }
    for (name, data) in entries {
        add(name, data);
    }
    if !manifest_first {
        add(b"manifest.json", &manifest);
    }
    tar.into_inner().unwrap().finish().unwrap();
}

/// A hostile archive: what, its entries, its manifest's files (`None`: every entry as it
/// is), whether the manifest comes first, and what the refusal must say.
type Case<'a> = (
    &'a str,
    Vec<(&'a [u8], &'a [u8])>,
    Option<serde_json::Value>,
    bool,
    &'a str,
);

#[test]
fn a_hostile_archive_writes_nothing_outside_nor_more_than_it_declares() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = d.join("proyecto").join("dentro");
    std::fs::create_dir_all(&target).unwrap();
    let cases: Vec<Case> = vec![
        // Backslashes are a separator elsewhere: not a way out here.
        (
            "backslash",
            vec![(b"..\\..\\outside.md", b"x")],
            None,
            true,
            "leaves the project",
        ),
        // Listed as the path it would have become once `\` turned into `/`.
        (
            "translated",
            vec![(b"..\\..\\outside.md", b"x")],
            Some(
                serde_json::json!({"../../outside.md": {"bytes": 1, "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}}),
            ),
            true,
            "leaves the project",
        ),
        (
            "absolute",
            vec![(b"\\outside.md", b"x")],
            None,
            true,
            "leaves the project",
        ),
        (
            "secret",
            vec![(b".\\.env", b"TOKEN=x")],
            None,
            true,
            "leaves the project",
        ),
        (
            "dotenv",
            vec![(b"data/.env", b"TOKEN=x")],
            None,
            true,
            "never puts",
        ),
        // A file bigger than its manifest says (a bomb): refused before it is written.
        (
            "bomb",
            vec![(b"data/docs/grande.md", &[b'a'; 1 << 20][..])],
            Some(serde_json::json!({"data/docs/grande.md": {"bytes": 1, "sha256": "00"}})),
            true,
            "its manifest says 1",
        ),
        (
            "unlisted",
            vec![(b"data/docs/extra.md", b"x")],
            Some(serde_json::json!({})),
            true,
            "missing from its manifest",
        ),
        (
            "late manifest",
            vec![(b"data/docs/a.md", b"x")],
            None,
            false,
            "does not start with a manifest",
        ),
        (
            "huge",
            vec![],
            Some(serde_json::json!({"data/docs/a.md": {"bytes": 1u64 << 60, "sha256": "00"}})),
            true,
            "MB free",
        ),
    ];
    for (what, entries, listed, first, expected) in cases {
        let archive = d.join(format!("{}.tar.zst", what.replace(' ', "-")));
        craft(&archive, &entries, listed, first);
        let out = raymundo(&target, &["restore", "--yes", archive.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: restored");
        assert!(err.contains(expected), "{what}: {err}");
        assert_eq!(
            std::fs::read_dir(&target).unwrap().count(),
            0,
            "{what}: wrote into the project"
        );
        let around: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| !n.ends_with(".tar.zst") && n != "proyecto")
            .collect();
        assert!(around.is_empty(), "{what}: wrote outside: {around:?}");
        assert_eq!(
            std::fs::read_dir(d.join("proyecto")).unwrap().count(),
            1,
            "{what}"
        );
    }
}

#[test]
fn restoring_a_configuration_shows_where_keys_go_and_a_failed_restore_puts_everything_back() {
    let project = small_project();
    let p = project.path();
    let clean = p.join("limpio.tar.zst");
    ok(p, &["snapshot", "--out", clean.to_str().unwrap()]);
    let mut toml = std::fs::read_to_string(p.join("raymundo.toml")).unwrap();
    toml.push_str(
        "\n[[llm.providers]]\nname = \"otro\"\nkind = \"openai\"\nbase_url = \"http://203.0.113.9/v1\"\nmodel = \"m\"\napi_key_env = \"WHATSAPP_TOKEN\"\n",
    );
    std::fs::write(p.join("raymundo.toml"), &toml).unwrap();
    let changed = p.join("cambiado.tar.zst");
    ok(p, &["snapshot", "--out", changed.to_str().unwrap()]);

    let copy = tempfile::tempdir().unwrap();
    let c = copy.path();
    ok(c, &["restore", "--yes", clean.to_str().unwrap()]);
    let before = std::fs::read_to_string(c.join("raymundo.toml")).unwrap();
    // The new provider would receive the WhatsApp token: shown, and not restored unasked.
    let out = raymundo(c, &["restore", "--force", changed.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WHATSAPP_TOKEN -> http://203.0.113.9/v1"),
        "{err}"
    );
    assert!(
        err.contains("+base_url = \"http://203.0.113.9/v1\""),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(c.join("raymundo.toml")).unwrap(),
        before
    );
    ok(
        c,
        &["restore", "--force", "--yes", changed.to_str().unwrap()],
    );
    assert!(std::fs::read_to_string(c.join("raymundo.toml"))
        .unwrap()
        .contains("203.0.113.9"));

    // A move that fails half-way (a file stands where the index folder goes): the files
    // already moved are put back as they were.
    std::fs::write(c.join("data/docs/faq/envios.md"), "# Cambiado\n").unwrap();
    std::fs::remove_dir_all(c.join("data/index")).unwrap();
    std::fs::write(c.join("data/index"), "no soy una carpeta").unwrap();
    let out = raymundo(c, &["restore", "--force", "--yes", clean.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("put back"), "{err}");
    assert_eq!(
        std::fs::read_to_string(c.join("data/docs/faq/envios.md")).unwrap(),
        "# Cambiado\n"
    );
    assert!(std::fs::read_to_string(c.join("raymundo.toml"))
        .unwrap()
        .contains("203.0.113.9"));
    let leftovers: Vec<_> = std::fs::read_dir(c)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".raymundo-restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
