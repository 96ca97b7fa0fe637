//! The model cache shared by every project and by the tests.
//!
//! `RAYMUNDO_CACHE_DIR` if set, else `$XDG_CACHE_HOME/raymundo`, else `~/.cache/raymundo`.
//! Each model origin has its own folder, `models/<model>/<origin>/`, holding the files and a
//! `verified.json` stamp written only after every file matched its pinned SHA-256.

use crate::spec::{ModelSpec, Origin};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Root of Raymundo's cache.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("RAYMUNDO_CACHE_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir).join("raymundo");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("raymundo"),
        None => std::env::temp_dir().join("raymundo-cache"),
    }
}

/// Folder of one model origin in the cache.
pub fn origin_dir(root: &Path, spec: &ModelSpec, origin: &Origin) -> PathBuf {
    root.join("models").join(spec.name).join(origin.name)
}

/// Name of the stamp file.
pub const STAMP: &str = "verified.json";

/// What was verified about one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StampEntry {
    /// SHA-256 the file hashed to.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (nanoseconds since the epoch) when verified.
    pub mtime_ns: u128,
}

/// The stamp of a fully verified origin folder.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stamp {
    /// Per file name.
    pub files: BTreeMap<String, StampEntry>,
}

/// Size and modification time of a file, if it exists.
pub fn size_and_mtime(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((meta.len(), mtime))
}

impl Stamp {
    /// Reads the stamp of `dir`, if present and well-formed.
    pub fn read(dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(dir.join(STAMP)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// True when every named file still has the size and modification time it had when it
    /// was verified: a cheap check that catches truncation and replacement without re-hashing.
    pub fn still_matches(&self, dir: &Path, names: &[&str]) -> bool {
        names.iter().all(
            |name| match (self.files.get(*name), size_and_mtime(&dir.join(name))) {
                (Some(e), Some((size, mtime))) => e.size == size && e.mtime_ns == mtime,
                _ => false,
            },
        )
    }
}
