//! Reading a snapshot (`raymundo restore`'s staging step) from any archive: nothing is
//! written outside the staging folder, and never more bytes than the manifest declares.
//! The first byte chooses the input's shape: a tar stream the target compresses (so the
//! fuzzer works on tar headers and names), or the zstd file itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raymundo_archive::{read_manifest, stage, MANIFEST};
use std::io::Read;
use std::path::Path;

/// The total the archive's manifest declares, read the way `stage` reads it (the first
/// entry, after an optional GNU long name); 0 without a valid manifest.
fn declared(tar_bytes: &[u8]) -> u64 {
    let mut archive = tar::Archive::new(tar_bytes);
    let Ok(entries) = archive.entries() else {
        return 0;
    };
    let mut long_name = None;
    for entry in entries.raw(true) {
        let Ok(mut entry) = entry else {
            return 0;
        };
        if entry.header().entry_type().is_gnu_longname() {
            let mut name = Vec::new();
            let _ = (&mut entry).take(4097).read_to_end(&mut name);
            while name.last() == Some(&0) {
                name.pop();
            }
            long_name = Some(name);
            continue;
        }
        let name = long_name
            .take()
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        if name.strip_suffix(b"/").unwrap_or(&name) != MANIFEST.as_bytes() {
            return 0;
        }
        let mut text = Vec::new();
        let _ = (&mut entry).take(16 << 20).read_to_end(&mut text);
        return read_manifest(&text, None)
            .map(|m| m.files.values().map(|f| f.bytes).sum())
            .unwrap_or(0);
    }
    0
}

/// Every file under `dir` with its size (no symbolic link is ever followed).
fn files(dir: &Path, out: &mut Vec<(std::path::PathBuf, u64)>) {
    for e in std::fs::read_dir(dir).expect("a folder").flatten() {
        let kind = e.file_type().expect("a file type");
        assert!(
            !kind.is_symlink(),
            "a symbolic link at {}",
            e.path().display()
        );
        if kind.is_dir() {
            files(&e.path(), out);
        } else {
            out.push((e.path(), e.metadata().expect("metadata").len()));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let archive = dir.path().join("snapshot.tar.zst");
    let (compressed, limit) = if shape % 2 == 0 {
        let z = zstd::encode_all(rest, 1).expect("compressing");
        (z, Some(declared(rest)))
    } else {
        // Decompressed here only to know the declared total (as far as it decodes; a bomb
        // past 64 MiB is not followed).
        let mut tar_bytes = Vec::new();
        if let Ok(d) = zstd::Decoder::new(rest) {
            let _ = d.take(64 << 20).read_to_end(&mut tar_bytes);
        }
        let limit = (tar_bytes.len() < 64 << 20).then(|| declared(&tar_bytes));
        (rest.to_vec(), limit)
    };
    std::fs::write(&archive, &compressed).expect("the archive");
    let root = dir.path().join("project");
    let staging = root.join(".staging");
    std::fs::create_dir_all(&staging).expect("the staging folder");
    let result = stage(&archive, &staging, Some(u64::MAX));
    let mut written = Vec::new();
    files(dir.path(), &mut written);
    let mut total = 0;
    for (path, bytes) in &written {
        if path == &archive {
            continue;
        }
        assert!(
            path.starts_with(&staging),
            "{} was written outside the staging folder",
            path.display()
        );
        total += bytes;
    }
    if let Some(limit) = limit {
        assert!(total <= limit, "{total} bytes written, {limit} declared");
    }
    if let Ok(staged) = result {
        let declared: u64 = staged.manifest.files.values().map(|f| f.bytes).sum();
        assert_eq!(total, declared);
        for path in staged.files.values() {
            assert!(path.starts_with(&staging));
        }
    }
});
