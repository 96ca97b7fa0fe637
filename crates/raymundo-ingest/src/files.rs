//! Walking the documents folder and hashing files.

use crate::IngestError;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files under `docs_dir`, sorted by relative path, as `(relative path with '/' separators,
/// path on disk)`.
///
/// Hidden files and folders (name starting with `.`), Office lock files (`~$...`) and editor
/// backups (`...~`) are skipped. Symbolic links to files are followed; links to folders are
/// not (they could form cycles).
pub fn list_files(docs_dir: &Path) -> Result<Vec<(String, PathBuf)>, IngestError> {
    let mut out = Vec::new();
    walk(docs_dir, "", &mut out)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn ignored_name(name: &str) -> bool {
    name.starts_with('.') || name.starts_with("~$") || name.ends_with('~')
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), IngestError> {
    let entries = fs::read_dir(dir).map_err(|e| IngestError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| IngestError::io(dir, e))?;
        let name = entry.file_name();
        // Names that are not valid Unicode cannot be carried in a `String` path label.
        let Some(name) = name.to_str() else { continue };
        if ignored_name(name) {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| IngestError::io(&path, e))?;
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if file_type.is_dir() {
            walk(&path, &rel, out)?;
        } else if file_type.is_file() {
            out.push((rel, path));
        } else if file_type.is_symlink() {
            // Follow links to files only; a broken link is simply ignored.
            if fs::metadata(&path).map(|m| m.is_file()).unwrap_or(false) {
                out.push((rel, path));
            }
        }
    }
    Ok(())
}

/// SHA-256 (lowercase hex) of the file's raw bytes.
pub fn hash_file(path: &Path) -> Result<String, IngestError> {
    let mut file = fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|e| IngestError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(raymundo_core::to_hex(&hasher.finalize()))
}

/// SHA-256 (lowercase hex) of bytes already in memory.
pub(crate) fn hash_bytes(bytes: &[u8]) -> String {
    raymundo_core::to_hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_sorted_relative_paths_and_skips_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("faq/sub")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join("faq/b.md"), "b").unwrap();
        fs::write(root.join("faq/sub/a.txt"), "a").unwrap();
        fs::write(root.join("faq/.oculto.md"), "x").unwrap();
        fs::write(root.join("faq/~$borrador.docx"), "x").unwrap();
        fs::write(root.join(".git/config"), "x").unwrap();
        fs::write(root.join("leeme.txt"), "x").unwrap();
        let files = list_files(root).unwrap();
        let rel: Vec<&str> = files.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(rel, ["faq/b.md", "faq/sub/a.txt", "leeme.txt"]);
        assert_eq!(files[1].1, root.join("faq/sub/a.txt"));
    }

    #[test]
    fn missing_folder_is_an_io_error_naming_it() {
        let err = list_files(Path::new("/no/such/raymundo/docs")).unwrap_err();
        assert!(!err.is_skipped());
        assert!(err.to_string().contains("/no/such/raymundo/docs"), "{err}");
    }

    #[test]
    fn hash_is_sha256_of_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        fs::write(&path, "abc").unwrap();
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(hash_file(&path).unwrap(), expected);
        assert_eq!(hash_bytes(b"abc"), expected);
    }
}
