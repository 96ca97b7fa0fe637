//! The snapshot archive: a zstd-compressed tar whose first entry, `manifest.json`, lists every
//! other file (a `/`-separated path inside the project) with its size and SHA-256.
//!
//! [`write`] makes one. [`stage`] reads one as untrusted input: the manifest must come first
//! and is read with a size bound; every entry after it must be listed there with the same
//! size, is written into the staging folder no further than that size, and must match its
//! SHA-256; names are checked as bytes ([`entry_name`]) so that nothing is written outside
//! the staging folder; the declared total must fit the free space given. The caller (the
//! binary's `restore`) decides what to move into the project.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The manifest's name, the archive's first entry.
pub const MANIFEST: &str = "manifest.json";
/// The archive format this crate writes and reads.
pub const FORMAT: u32 = 1;
/// Largest manifest read: a snapshot's table of contents takes about 100 bytes per file.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Longest path read from a GNU long-name entry.
pub const MAX_NAME_BYTES: u64 = 4096;
/// Room left on the disk beyond the snapshot's declared size.
pub const DISK_MARGIN_BYTES: u64 = 64 << 20;

/// Why an archive was refused or could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive is not one to restore; the message names what is wrong with it.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

fn refused(message: impl Into<String>) -> ArchiveError {
    ArchiveError::Refused(message.into())
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ArchiveError {
    let context = context.into();
    move |source| ArchiveError::Io { context, source }
}

/// The archive's table of contents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// When the snapshot was taken (RFC 3339).
    pub created: String,
    /// The version of Raymundo that wrote it.
    pub raymundo: String,
    /// Path (relative to the project, `/`-separated) -> size and SHA-256.
    pub files: BTreeMap<String, FileEntry>,
}

/// One file of the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, lowercase hexadecimal.
    pub sha256: String,
}

/// Names never put in a snapshot nor taken from one: secrets and run-time leftovers.
pub fn excluded(name: &str) -> bool {
    name.starts_with(".env")
        || name == "serve.pid"
        || name.ends_with("-wal")
        || name.ends_with("-shm")
        || name.ends_with("-journal")
}

/// The SHA-256 of a file, lowercase hexadecimal.
pub fn sha256_file(path: &Path) -> Result<String, ArchiveError> {
    let mut f = std::fs::File::open(path).map_err(io(format!("reading {}", path.display())))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(io(format!("reading {}", path.display())))?;
    Ok(format!("{:x}", h.finalize()))
}

/// Writes the archive of `files` (path in the project -> file on disk) to `out`, the
/// manifest first. `manifest.files` must describe `files`.
pub fn write(
    out: impl Write,
    manifest: &Manifest,
    files: &BTreeMap<String, PathBuf>,
) -> Result<(), ArchiveError> {
    let writing = || io("writing the snapshot");
    let encoder = zstd::Encoder::new(out, 9).map_err(writing())?;
    let mut tar = tar::Builder::new(encoder);
    tar.mode(tar::HeaderMode::Deterministic);
    let manifest_bytes = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest_bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, manifest_bytes.as_slice())
        .map_err(writing())?;
    for (rel, path) in files {
        tar.append_path_with_name(path, rel)
            .map_err(io(format!("adding {}", path.display())))?;
    }
    tar.into_inner()
        .map_err(writing())?
        .finish()
        .map_err(writing())?;
    Ok(())
}

/// An archive entry's name as a `/`-separated path inside the project, or an error naming
/// it. Names are taken as bytes and checked before any separator is interpreted: `\`
/// (a separator elsewhere), `..`, `.`, empty parts, absolute paths and NUL are refused, and so
/// are the names a snapshot never holds (`.env*`, leftovers of a running database).
pub fn entry_name(raw: &[u8]) -> Result<String, ArchiveError> {
    let shown = String::from_utf8_lossy(raw).to_string();
    let leaves = || {
        refused(format!(
            "the snapshot holds the path {shown:?}, which leaves the project folder; not restoring"
        ))
    };
    let name = std::str::from_utf8(raw).map_err(|_| {
        refused(format!(
            "the snapshot holds a path that is not UTF-8: {shown:?}"
        ))
    })?;
    let name = name.strip_suffix('/').unwrap_or(name);
    if name.is_empty() {
        return Err(refused("the snapshot holds an empty path"));
    }
    if name.starts_with('/') || name.contains('\\') || name.contains('\0') {
        return Err(leaves());
    }
    for part in name.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(leaves());
        }
        if excluded(part) {
            return Err(refused(format!(
                "the snapshot holds {name}, which Raymundo never puts in one; not restoring"
            )));
        }
    }
    Ok(name.to_string())
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

/// A snapshot's files, checked and staged.
#[derive(Debug)]
pub struct Staged {
    /// Its manifest.
    pub manifest: Manifest,
    /// Name in the project -> staged copy.
    pub files: BTreeMap<String, PathBuf>,
}

/// Parses and checks the manifest: a known format, plain paths only, and a declared total
/// that fits `free_bytes` (when known).
pub fn read_manifest(text: &[u8], free_bytes: Option<u64>) -> Result<Manifest, ArchiveError> {
    let manifest: Manifest = serde_json::from_slice(text)
        .map_err(|e| refused(format!("the snapshot's manifest is not valid: {e}")))?;
    if manifest.format != FORMAT {
        return Err(refused(format!(
            "the snapshot's format {} is not one this Raymundo reads ({FORMAT})",
            manifest.format
        )));
    }
    let mut total: u64 = 0;
    for (name, entry) in &manifest.files {
        if entry_name(name.as_bytes())? != *name {
            return Err(refused(format!(
                "the snapshot's manifest lists {name:?}, which is not a plain path"
            )));
        }
        total = total.saturating_add(entry.bytes);
    }
    if let Some(free) = free_bytes {
        if total.saturating_add(DISK_MARGIN_BYTES) > free {
            return Err(refused(format!(
                "the snapshot declares {:.1} MB of files but the disk has {:.1} MB free; nothing was changed",
                total as f64 / 1e6,
                free as f64 / 1e6
            )));
        }
    }
    Ok(manifest)
}

/// Reads the archive at `archive` into `staging`, checking it as it goes (see the crate's
/// documentation); nothing outside `staging` is written, and no more bytes than the
/// manifest declares. `free_bytes` is the space free on the disk that will hold the files.
pub fn stage(
    archive: &Path,
    staging: &Path,
    free_bytes: Option<u64>,
) -> Result<Staged, ArchiveError> {
    let file =
        std::fs::File::open(archive).map_err(io(format!("opening {}", archive.display())))?;
    let decoder = zstd::Decoder::new(file)
        .map_err(|e| refused(format!("{} is not a zstd file: {e}", archive.display())))?;
    let mut tar = tar::Archive::new(decoder);
    let broken = |e: std::io::Error| {
        refused(format!(
            "{} is not a readable snapshot: {e}",
            archive.display()
        ))
    };
    let no_manifest = || {
        refused(format!(
            "{} does not start with a manifest: not a Raymundo snapshot",
            archive.display()
        ))
    };
    let writing = |path: &Path| io(format!("writing {}", path.display()));
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
                return Err(refused(
                    "the snapshot has two long names in a row; not restoring",
                ));
            }
            let mut name = Vec::new();
            (&mut entry)
                .take(MAX_NAME_BYTES + 1)
                .read_to_end(&mut name)
                .map_err(broken)?;
            if name.len() as u64 > MAX_NAME_BYTES {
                return Err(refused(format!(
                    "the snapshot holds a path over {MAX_NAME_BYTES} bytes; not restoring"
                )));
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
                return Err(refused(format!(
                    "the snapshot's manifest is over {} MB: not a Raymundo snapshot",
                    MAX_MANIFEST_BYTES >> 20
                )));
            }
            let mut text = Vec::new();
            (&mut entry)
                .take(MAX_MANIFEST_BYTES)
                .read_to_end(&mut text)
                .map_err(broken)?;
            manifest = Some(read_manifest(&text, free_bytes)?);
            continue;
        };
        if kind.is_dir() && size == 0 {
            continue;
        }
        if !kind.is_file() {
            return Err(refused(format!(
                "the snapshot holds {name} which is not a regular file; not restoring"
            )));
        }
        let listed = manifest.files.get(&name).ok_or_else(|| {
            refused(format!(
                "the snapshot holds {name}, missing from its manifest"
            ))
        })?;
        if files.contains_key(&name) {
            return Err(refused(format!("the snapshot holds {name} twice")));
        }
        if size != listed.bytes {
            return Err(refused(format!(
                "{name} in the snapshot is {size} bytes but its manifest says {}; not restoring",
                listed.bytes
            )));
        }
        let staged = staging.join(&name);
        let folder = staged.parent().expect("a file inside staging");
        std::fs::create_dir_all(folder).map_err(writing(folder))?;
        let mut out = Hashing {
            inner: std::fs::File::create(&staged).map_err(writing(&staged))?,
            hash: Sha256::new(),
            bytes: 0,
        };
        std::io::copy(&mut (&mut entry).take(listed.bytes), &mut out).map_err(broken)?;
        if out.bytes != listed.bytes || format!("{:x}", out.hash.finalize()) != listed.sha256 {
            return Err(refused(format!(
                "{name} in the snapshot does not match its manifest (damaged file)"
            )));
        }
        files.insert(name, staged);
    }
    let manifest = manifest.ok_or_else(no_manifest)?;
    if let Some(missing) = manifest.files.keys().find(|k| !files.contains_key(*k)) {
        return Err(refused(format!(
            "the snapshot lacks {missing}, listed in its manifest"
        )));
    }
    Ok(Staged { manifest, files })
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
}
