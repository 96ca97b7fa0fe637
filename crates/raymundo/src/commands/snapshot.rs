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
use raymundo_archive::{excluded, sha256_file, stage, FileEntry, Manifest, Staged, FORMAT};
use raymundo_core::Config;
use raymundo_store::InteractionFilter;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};

/// Where the anonymised log goes inside the archive (read it; it is not restored).
const LOG_IN_ARCHIVE: &str = "export/interacciones.jsonl";

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
        format: FORMAT,
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
    raymundo_archive::write(tmp.as_file(), &manifest, &files)?;
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

/// Bytes free for an unprivileged writer on the file system holding `dir`.
fn available_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
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
    let Staged { manifest, files } = stage(&args.file, &incoming, available_bytes(&root))?;

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
