//! `raymundo snapshot` and `raymundo restore`: the project's state in one file,
//! `data/dump/<time>.tar.zst`, and back.
//!
//! A snapshot holds `raymundo.toml`, the personality text, the documents (curated answers
//! included), the intents file, the eval files, the built index, a consistent copy of the
//! SQLite store (queued messages and their phone numbers left out) and the interaction log
//! as anonymised JSON lines, with a manifest of every file's size and SHA-256. Never `.env`
//! or any file named like it, the dumps themselves, or the server's pid file.
//!
//! Restoring checks the whole archive first (paths stay inside the project, every file
//! matches the manifest) in a staging folder inside the project, refuses to overwrite a
//! file that differs unless `--force`, refuses while a server of the project runs, and only
//! then moves the files into place.

use super::export::{log_line, write_jsonl};
use crate::interaction_log::open_recorded;
use anyhow::{bail, Context, Result};
use raymundo_core::Config;
use raymundo_store::InteractionFilter;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Where the anonymised log goes inside the archive (read it; it is not restored).
const LOG_IN_ARCHIVE: &str = "export/interacciones.jsonl";
const MANIFEST: &str = "manifest.json";

/// Flags of `snapshot`.
#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// Write here instead of data/dump/<time>.tar.zst.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// Flags of `restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The snapshot (`data/dump/<time>.tar.zst`).
    file: PathBuf,
    /// Overwrite files of the project that differ from the snapshot's.
    #[arg(long)]
    force: bool,
}

/// The archive's table of contents.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created: String,
    raymundo: String,
    /// Path (relative to the project, `/`-separated) -> size and SHA-256.
    files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct FileEntry {
    bytes: u64,
    sha256: String,
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{:x}", h.finalize()))
}

/// `path` relative to `root`, `/`-separated, if it is inside.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().to_string()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Names never put in a snapshot: secrets and run-time leftovers.
fn excluded(name: &str) -> bool {
    name.starts_with(".env")
        || name == "serve.pid"
        || name.ends_with("-wal")
        || name.ends_with("-shm")
        || name.ends_with("-journal")
}

/// Every file under `dir` (sorted), skipping excluded names.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    if !dir.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if excluded(&e.file_name().to_string_lossy()) {
            continue;
        }
        let path = e.path();
        if e.file_type()?.is_dir() {
            files_under(&path, out)?;
        } else if e.file_type()?.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn dump_dir(config: &Config) -> PathBuf {
    config.root.join("data").join("dump")
}

/// Writes the snapshot.
pub fn snapshot(root: &Path, args: SnapshotArgs) -> Result<()> {
    let config = crate::project::load_config(root)?;
    let root = config.root.clone();
    let now = chrono::Utc::now();
    let out = args.out.clone().unwrap_or_else(|| {
        dump_dir(&config).join(format!("{}.tar.zst", now.format("%Y%m%dT%H%M%SZ")))
    });
    if out.exists() {
        bail!("{} exists; choose another --out", out.display());
    }
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    // The project's files, by their path in the project.
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut sources = vec![
        root.join("raymundo.toml"),
        root.join(&config.llm.personality),
        config.docs_dir(),
        config.intents_file(),
        root.join("data").join("eval"),
        config.index_dir(),
    ];
    sources.dedup();
    for source in sources {
        let mut found = Vec::new();
        files_under(&source, &mut found)?;
        for f in found {
            match relative(&root, &f) {
                Some(rel) => {
                    files.insert(rel, f);
                }
                None => eprintln!(
                    "note: {} is outside the project folder and is not in the snapshot",
                    f.display()
                ),
            }
        }
    }
    // Computed parts, staged beside the archive.
    let staging = tempfile::tempdir_in(&dir)?;
    let spec = crate::database::spec(&root, &config.server);
    let db = root.join(&spec);
    let mut turns = 0;
    let recorded = !crate::database::is_file(&spec) || db.exists();
    if crate::database::is_file(&spec) && db.exists() {
        let rel = relative(&root, &db)
            .with_context(|| format!("the database {} is outside the project", db.display()))?;
        let copy = staging.path().join("store.db");
        raymundo_store::SqliteStore::open(&db)?
            .snapshot_to(&copy)
            .context("copying the store")?;
        files.insert(rel, copy);
    } else if recorded {
        eprintln!(
            "note: the store is a PostgreSQL database; the snapshot holds its interaction log \
             (export/interacciones.jsonl), back the database up with pg_dump"
        );
    }
    if recorded {
        let store = open_recorded(&config)?;
        let mut log = store.interactions(&InteractionFilter::default())?;
        log.reverse();
        turns = log.len();
        let lines: Vec<_> = log.iter().map(log_line).collect();
        let jsonl = staging.path().join("log.jsonl");
        write_jsonl(&jsonl, &lines)?;
        files.insert(LOG_IN_ARCHIVE.to_string(), jsonl);
    }

    let mut manifest = Manifest {
        format: 1,
        created: now.to_rfc3339(),
        raymundo: env!("CARGO_PKG_VERSION").to_string(),
        files: BTreeMap::new(),
    };
    for (rel, path) in &files {
        manifest.files.insert(
            rel.clone(),
            FileEntry {
                bytes: std::fs::metadata(path)?.len(),
                sha256: sha256_file(path)?,
            },
        );
    }
    let tmp = tempfile::NamedTempFile::new_in(&dir)?;
    {
        let encoder = zstd::Encoder::new(tmp.as_file(), 9)?;
        let mut tar = tar::Builder::new(encoder);
        tar.mode(tar::HeaderMode::Deterministic);
        let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(manifest_bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, manifest_bytes.as_slice())?;
        for (rel, path) in &files {
            tar.append_path_with_name(path, rel)
                .with_context(|| format!("adding {}", path.display()))?;
        }
        tar.into_inner()?.finish()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    let size = std::fs::metadata(&out)?.len();
    println!(
        "Snapshot {} ({} files, {} recorded turns, {:.1} MB)",
        out.display(),
        manifest.files.len(),
        turns,
        size as f64 / 1e6
    );
    Ok(())
}

/// A path from the archive as a safe relative path, or an error naming it.
fn safe_path(raw: &Path) -> Result<PathBuf> {
    let mut clean = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(s) => clean.push(s),
            Component::CurDir => {}
            _ => bail!(
                "the snapshot holds the path {:?}, which leaves the project folder; not restoring it",
                raw.display().to_string()
            ),
        }
    }
    if clean.as_os_str().is_empty() {
        bail!("the snapshot holds an empty path");
    }
    Ok(clean)
}

/// Brings a snapshot back.
pub fn restore(root: &Path, args: RestoreArgs) -> Result<()> {
    let config = if root.join("raymundo.toml").exists() {
        crate::project::load_config(root)?
    } else {
        // A fresh folder: restore into it with the default layout.
        Config {
            root: root.to_path_buf(),
            ..Config::default()
        }
    };
    let root = config.root.clone();
    let pid = super::serve::pid_file(&root);
    if let Ok(p) = std::fs::read_to_string(&pid) {
        if Path::new(&format!("/proc/{}", p.trim())).exists() {
            bail!(
                "a server of this project is running (pid {}); stop it before restoring",
                p.trim()
            );
        }
    }
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let decoder = zstd::Decoder::new(file)
        .with_context(|| format!("{} is not a zstd file", args.file.display()))?;
    let mut archive = tar::Archive::new(decoder);
    std::fs::create_dir_all(&root)?;
    let staging = tempfile::Builder::new()
        .prefix(".raymundo-restore-")
        .tempdir_in(&root)?;
    let mut manifest: Option<Manifest> = None;
    let mut extracted: BTreeMap<String, PathBuf> = BTreeMap::new();
    let broken = |e: std::io::Error| {
        anyhow::anyhow!("{} is not a readable snapshot: {e}", args.file.display())
    };
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let raw = entry.path().map_err(broken)?.to_path_buf();
        let rel = safe_path(&raw)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            bail!(
                "the snapshot holds {} which is not a regular file; not restoring",
                raw.display()
            );
        }
        let name = rel.to_string_lossy().replace('\\', "/");
        if name == MANIFEST {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(broken)?;
            manifest =
                Some(serde_json::from_str(&text).context("the snapshot's manifest is not valid")?);
            continue;
        }
        if rel
            .file_name()
            .is_some_and(|n| excluded(&n.to_string_lossy()))
        {
            bail!("the snapshot holds {name}, which Raymundo never puts in one; not restoring");
        }
        let staged = staging.path().join(&rel);
        std::fs::create_dir_all(staged.parent().unwrap())?;
        let mut out = std::fs::File::create(&staged)?;
        std::io::copy(&mut entry, &mut out).map_err(broken)?;
        extracted.insert(name, staged);
    }
    let manifest = manifest.with_context(|| {
        format!(
            "{} has no manifest: not a Raymundo snapshot",
            args.file.display()
        )
    })?;
    for (name, entry) in &manifest.files {
        let staged = extracted
            .get(name)
            .with_context(|| format!("the snapshot lacks {name}, listed in its manifest"))?;
        if sha256_file(staged)? != entry.sha256 {
            bail!("{name} in the snapshot does not match its manifest (damaged file)");
        }
    }
    if let Some(extra) = extracted.keys().find(|k| !manifest.files.contains_key(*k)) {
        bail!("the snapshot holds {extra}, missing from its manifest");
    }

    let to_restore: Vec<(&String, &PathBuf)> = extracted
        .iter()
        .filter(|(name, _)| name.as_str() != LOG_IN_ARCHIVE)
        .collect();
    let mut differing = Vec::new();
    for (name, _) in &to_restore {
        let target = root.join(name);
        if target.exists() && sha256_file(&target)? != manifest.files[*name].sha256 {
            differing.push(name.to_string());
        }
    }
    if !differing.is_empty() && !args.force {
        let shown: Vec<&str> = differing.iter().take(8).map(String::as_str).collect();
        bail!(
            "{} file(s) of the project differ from the snapshot ({}{}); nothing was changed. Run again with --force to overwrite them",
            differing.len(),
            shown.join(", "),
            if differing.len() > shown.len() { ", ..." } else { "" }
        );
    }
    let db = root.join(&config.server.database);
    for (name, staged) in &to_restore {
        let target = root.join(name);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if target == db {
            // The copy has no WAL; an old one must not be replayed over it.
            for suffix in ["-wal", "-shm"] {
                let mut side = db.clone().into_os_string();
                side.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(side));
            }
        }
        std::fs::rename(staged, &target)
            .with_context(|| format!("moving {} into place", target.display()))?;
    }
    println!(
        "Restored {} file(s) from {} (taken {}){}",
        to_restore.len(),
        args.file.display(),
        manifest.created,
        if differing.is_empty() {
            String::new()
        } else {
            format!(", {} overwritten", differing.len())
        }
    );
    Ok(())
}
