//! `raymundo snapshot` and `raymundo restore`: the project's state in one file,
//! `data/dump/<time>.tar.zst`, and back.
//!
//! A snapshot holds `raymundo.toml`, the personality text, the documents (curated answers
//! included), the intents file, the eval files, the built index, a consistent copy of the
//! SQLite store (queued messages and their phone numbers left out) and the interaction log
//! as anonymised JSON lines, with a manifest of every file's size and SHA-256. Never `.env`
//! or any file named like it, the dumps themselves, or the server's pid file.
//!
//! Restoring treats the archive as untrusted. The manifest must come first and is read
//! with a size bound; every entry after it must be listed there with the same size, is
//! written to a staging folder inside the project no further than that size, and must match
//! its SHA-256; names are `/`-separated paths that stay inside the project (no `..`, no
//! absolute path, no `\`, no secret or leftover names). The declared total must fit the
//! disk. Only then are files moved into place, and a failure half-way puts every moved file
//! back. A file of the project that differs is not overwritten without `--force`; a
//! `raymundo.toml` that would change is shown as a diff and restored only when confirmed
//! (`--yes` where there is no terminal), since it decides where API keys are sent. Refused
//! while a server of the project runs.

use super::export::{log_line, write_jsonl};
use crate::interaction_log::open_recorded;
use anyhow::{bail, Context, Result};
use raymundo_core::Config;
use raymundo_store::InteractionFilter;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
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
    /// Restore the snapshot's `raymundo.toml` without asking when it changes the project's
    /// (the change is still printed).
    #[arg(long)]
    yes: bool,
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

/// Largest manifest read: a snapshot's table of contents takes about 100 bytes per file.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Longest path read from a GNU long-name entry.
const MAX_NAME_BYTES: u64 = 4096;
/// Room left on the disk beyond the snapshot's declared size.
const DISK_MARGIN_BYTES: u64 = 64 << 20;

/// An archive entry's name as a `/`-separated path inside the project, or an error naming
/// it. Names are taken as bytes and checked before any separator is interpreted: `\`
/// (a separator elsewhere), `..`, `.`, empty parts, absolute paths and NUL are refused, and so
/// are the names a snapshot never holds (`.env*`, leftovers of a running database).
fn entry_name(raw: &[u8]) -> Result<String> {
    let shown = String::from_utf8_lossy(raw).to_string();
    let leaves = || {
        anyhow::anyhow!(
            "the snapshot holds the path {shown:?}, which leaves the project folder; not restoring"
        )
    };
    let name = std::str::from_utf8(raw)
        .map_err(|_| anyhow::anyhow!("the snapshot holds a path that is not UTF-8: {shown:?}"))?;
    let name = name.strip_suffix('/').unwrap_or(name);
    if name.is_empty() {
        bail!("the snapshot holds an empty path");
    }
    if name.starts_with('/') || name.contains('\\') || name.contains('\0') {
        return Err(leaves());
    }
    for part in name.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(leaves());
        }
        if excluded(part) {
            bail!("the snapshot holds {name}, which Raymundo never puts in one; not restoring");
        }
    }
    Ok(name.to_string())
}

/// Bytes free for an unprivileged writer on the file system holding `dir`.
fn available_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The snapshot's files, checked and staged.
struct Staged {
    manifest: Manifest,
    /// Name in the project -> staged copy.
    files: BTreeMap<String, PathBuf>,
}

/// Parses and checks the manifest: a known format, plain paths only, and a declared total
/// that fits the disk holding `root`.
fn read_manifest(text: &[u8], root: &Path) -> Result<Manifest> {
    let manifest: Manifest =
        serde_json::from_slice(text).context("the snapshot's manifest is not valid")?;
    if manifest.format != 1 {
        bail!(
            "the snapshot's format {} is not one this Raymundo reads (1)",
            manifest.format
        );
    }
    let mut total: u64 = 0;
    for (name, entry) in &manifest.files {
        if entry_name(name.as_bytes())? != *name {
            bail!("the snapshot's manifest lists {name:?}, which is not a plain path");
        }
        total = total.saturating_add(entry.bytes);
    }
    if let Some(free) = available_bytes(root) {
        if total.saturating_add(DISK_MARGIN_BYTES) > free {
            bail!(
                "the snapshot declares {:.1} MB of files but the disk has {:.1} MB free; nothing was changed",
                total as f64 / 1e6,
                free as f64 / 1e6
            );
        }
    }
    Ok(manifest)
}

/// Reads `archive` into `staging`, checking it as it goes; nothing outside `staging` is
/// written.
fn stage(archive: &Path, staging: &Path, root: &Path) -> Result<Staged> {
    let file =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let decoder = zstd::Decoder::new(file)
        .with_context(|| format!("{} is not a zstd file", archive.display()))?;
    let mut tar = tar::Archive::new(decoder);
    let broken = |e: std::io::Error| {
        anyhow::anyhow!("{} is not a readable snapshot: {e}", archive.display())
    };
    let no_manifest = || {
        anyhow::anyhow!(
            "{} does not start with a manifest: not a Raymundo snapshot",
            archive.display()
        )
    };
    // Raw entries: a GNU long name is read here with a bound (the tar crate would read any
    // size into memory), and extension headers a snapshot never has are refused.
    let entries = tar.entries().map_err(broken)?.raw(true);
    let mut long_name: Option<Vec<u8>> = None;
    let mut manifest: Option<Manifest> = None;
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in entries {
        let mut entry = entry.map_err(broken)?;
        let kind = entry.header().entry_type();
        if kind.is_gnu_longname() {
            if long_name.is_some() {
                bail!("the snapshot has two long names in a row; not restoring");
            }
            let mut name = Vec::new();
            (&mut entry)
                .take(MAX_NAME_BYTES + 1)
                .read_to_end(&mut name)
                .map_err(broken)?;
            if name.len() as u64 > MAX_NAME_BYTES {
                bail!("the snapshot holds a path over {MAX_NAME_BYTES} bytes; not restoring");
            }
            while name.last() == Some(&0) {
                name.pop();
            }
            long_name = Some(name);
            continue;
        }
        let raw_name = match long_name.take() {
            Some(n) => n,
            None => entry.path_bytes().into_owned(),
        };
        let name = entry_name(&raw_name)?;
        let size = entry.header().size().map_err(broken)?;
        let Some(manifest) = manifest.as_ref() else {
            // The manifest first, read no further than its bound.
            if name != MANIFEST || !kind.is_file() {
                return Err(no_manifest());
            }
            if size > MAX_MANIFEST_BYTES {
                bail!(
                    "the snapshot's manifest is over {} MB: not a Raymundo snapshot",
                    MAX_MANIFEST_BYTES >> 20
                );
            }
            let mut text = Vec::new();
            (&mut entry)
                .take(MAX_MANIFEST_BYTES)
                .read_to_end(&mut text)
                .map_err(broken)?;
            manifest = Some(read_manifest(&text, root)?);
            continue;
        };
        if kind.is_dir() && size == 0 {
            continue;
        }
        if !kind.is_file() {
            bail!("the snapshot holds {name} which is not a regular file; not restoring");
        }
        let listed = manifest
            .files
            .get(&name)
            .with_context(|| format!("the snapshot holds {name}, missing from its manifest"))?;
        if files.contains_key(&name) {
            bail!("the snapshot holds {name} twice");
        }
        if size != listed.bytes {
            bail!(
                "{name} in the snapshot is {size} bytes but its manifest says {}; not restoring",
                listed.bytes
            );
        }
        let staged = staging.join(&name);
        std::fs::create_dir_all(staged.parent().expect("a file inside staging"))?;
        let mut out = Hashing {
            inner: std::fs::File::create(&staged)?,
            hash: Sha256::new(),
            bytes: 0,
        };
        std::io::copy(&mut (&mut entry).take(listed.bytes), &mut out).map_err(broken)?;
        if out.bytes != listed.bytes || format!("{:x}", out.hash.finalize()) != listed.sha256 {
            bail!("{name} in the snapshot does not match its manifest (damaged file)");
        }
        files.insert(name, staged);
    }
    let manifest = manifest.ok_or_else(no_manifest)?;
    if let Some(missing) = manifest.files.keys().find(|k| !files.contains_key(*k)) {
        bail!("the snapshot lacks {missing}, listed in its manifest");
    }
    Ok(Staged { manifest, files })
}

/// Where a provider of `config` sends which key, for the operator to read before restoring.
fn key_destinations(config: &Config) -> Vec<String> {
    config
        .llm
        .providers
        .iter()
        .filter_map(|p| {
            p.api_key_env
                .as_ref()
                .map(|var| format!("{var} -> {} ({})", p.base_url, p.name))
        })
        .collect()
}

/// Shows how the snapshot's `raymundo.toml` changes the project's and asks to go on
/// (`--yes` answers for the operator). Errors when the new file does not load.
fn confirm_config(root: &Path, staged: &Path, yes: bool) -> Result<bool> {
    let path = root.join(raymundo_core::CONFIG_FILE);
    let new = std::fs::read_to_string(staged)
        .context("the snapshot's raymundo.toml is not UTF-8 text")?;
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if old == new {
        return Ok(true);
    }
    let parsed = Config::parse(&new)
        .map_err(|e| anyhow::anyhow!("the snapshot's raymundo.toml would not load: {e}"))?;
    eprint!(
        "{}",
        crate::intents_edit::unified_diff(&old, &new, raymundo_core::CONFIG_FILE)
    );
    let keys = key_destinations(&parsed);
    if !keys.is_empty() {
        eprintln!(
            "with this configuration API keys are sent to: {}",
            keys.join(", ")
        );
    }
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "the snapshot changes raymundo.toml (shown above) and there is no terminal to confirm \
             on; nothing was changed. Run again with --yes to restore it"
        );
    }
    eprint!("¿Restaurar esta configuración? [s/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_lowercase().as_str(),
        "s" | "si" | "sí" | "y" | "yes"
    ))
}

/// One file moved into place, and where the file it replaced was kept.
struct Moved {
    target: PathBuf,
    previous: Option<PathBuf>,
}

/// Moves `from` to `to`, keeping what `to` held (if anything) under `keep`.
fn replace(from: &Path, to: &Path, keep: &Path, moved: &mut Vec<Moved>) -> Result<()> {
    let previous = if to.symlink_metadata().is_ok() {
        std::fs::create_dir_all(keep.parent().expect("a file inside staging"))?;
        std::fs::rename(to, keep).with_context(|| format!("moving {} aside", to.display()))?;
        Some(keep.to_path_buf())
    } else {
        None
    };
    moved.push(Moved {
        target: to.to_path_buf(),
        previous,
    });
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::rename(from, to).with_context(|| format!("moving {} into place", to.display()))
}

/// Puts every moved file back as it was, newest first; false when one could not be (it was
/// named on stderr, and its previous content is still in the staging folder).
fn roll_back(moved: Vec<Moved>) -> bool {
    let mut all = true;
    for m in moved.into_iter().rev() {
        if m.target.symlink_metadata().is_ok() && m.target.is_file() {
            let _ = std::fs::remove_file(&m.target);
        }
        if let Some(previous) = m.previous {
            if let Err(e) = std::fs::rename(&previous, &m.target) {
                all = false;
                eprintln!(
                    "could not put {} back ({e}); its previous content is in {}",
                    m.target.display(),
                    previous.display()
                );
            }
        }
    }
    all
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
    std::fs::create_dir_all(&root)?;
    let staging = tempfile::Builder::new()
        .prefix(".raymundo-restore-")
        .tempdir_in(&root)?;
    let incoming = staging.path().join("incoming");
    let Staged { manifest, files } = stage(&args.file, &incoming, &root)?;

    let to_restore: Vec<(&String, &PathBuf)> = files
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
    if let Some(staged) = files.get(raymundo_core::CONFIG_FILE) {
        if !confirm_config(&root, staged, args.yes)? {
            bail!("raymundo.toml not confirmed; nothing was changed");
        }
    }

    // Into place, keeping what each file replaces until all have moved.
    let previous = staging.path().join("previous");
    let db = root.join(&config.server.database);
    let mut moved = Vec::new();
    let mut result = Ok(());
    for (name, staged) in &to_restore {
        let target = root.join(name);
        if target == db {
            // The copy has no WAL; an old one must not be replayed over it.
            for suffix in ["-wal", "-shm"] {
                let mut side = db.clone().into_os_string();
                side.push(suffix);
                let side = PathBuf::from(side);
                if side.exists() {
                    let keep = previous.join(format!("{name}{suffix}"));
                    result = std::fs::create_dir_all(keep.parent().expect("inside staging"))
                        .map_err(anyhow::Error::from)
                        .and_then(|_| {
                            std::fs::rename(&side, &keep)
                                .with_context(|| format!("moving {} aside", side.display()))
                        });
                    moved.push(Moved {
                        target: side,
                        previous: Some(keep),
                    });
                    if result.is_err() {
                        break;
                    }
                }
            }
            if result.is_err() {
                break;
            }
        }
        result = replace(staged, &target, &previous.join(name), &mut moved);
        if result.is_err() {
            break;
        }
    }
    if let Err(e) = result {
        if roll_back(moved) {
            return Err(e.context("restoring stopped; every file moved so far was put back"));
        }
        // Keep the staging folder: it holds what could not be put back.
        let kept = staging.keep();
        return Err(e.context(format!(
            "restoring stopped and some files could not be put back; their previous content is in {}",
            kept.display()
        )));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_project_or_hold_secrets_are_refused() {
        for bad in [
            &b"..\\..\\x"[..],
            b"\\etc\\passwd",
            b"/etc/passwd",
            b"data/../../x",
            b"./x/../../y",
            b"data//x",
            b"a\0b",
            b"",
        ] {
            assert!(
                entry_name(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        for secret in [
            &b".env"[..],
            b".\\.env",
            b"data/.env.local",
            b"data/raymundo.db-wal",
        ] {
            assert!(entry_name(secret).is_err(), "{secret:?}");
        }
        assert_eq!(entry_name(b"data/docs/faq.md").unwrap(), "data/docs/faq.md");
        assert_eq!(entry_name(b"data/docs/").unwrap(), "data/docs");
    }

    #[test]
    fn a_failed_move_puts_back_what_it_moved() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.txt"), "old a").unwrap();
        std::fs::write(d.join("new-a"), "new a").unwrap();
        std::fs::write(d.join("new-b"), "new b").unwrap();
        // b's folder is a file: the second move fails.
        std::fs::write(d.join("blocked"), "a file").unwrap();
        let mut moved = Vec::new();
        replace(
            &d.join("new-a"),
            &d.join("a.txt"),
            &d.join("keep/a.txt"),
            &mut moved,
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "new a");
        let err = replace(
            &d.join("new-b"),
            &d.join("blocked/b.txt"),
            &d.join("keep/blocked/b.txt"),
            &mut moved,
        );
        assert!(err.is_err());
        assert!(roll_back(moved));
        assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "old a");
        assert_eq!(
            std::fs::read_to_string(d.join("blocked")).unwrap(),
            "a file"
        );
    }
}
