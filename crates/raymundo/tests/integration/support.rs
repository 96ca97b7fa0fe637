//! Helpers: run the binary, make projects from the sample company.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The sample company's documents.
pub fn sample_docs() -> PathBuf {
    repo().join("examples/axoloit/data/docs")
}

/// Runs `raymundo` with `args` in `project`.
pub fn raymundo(project: &Path, args: &[&str]) -> Output {
    ensure_models();
    Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .arg("-C")
        .arg(project)
        .args(args)
        .env("RAYMUNDO_LOG", "warn")
        .output()
        .expect("run raymundo")
}

/// Runs and asserts success; returns stdout.
pub fn ok(project: &Path, args: &[&str]) -> String {
    let out = raymundo(project, args);
    assert!(
        out.status.success(),
        "raymundo {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs and parses stdout as JSON.
pub fn json(project: &Path, args: &[&str]) -> serde_json::Value {
    let text = ok(project, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Fetches both models once per test run, so parallel tests never race on the cache.
pub fn ensure_models() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_raymundo"))
            .args(["model", "fetch"])
            .output()
            .expect("run raymundo model fetch");
        assert!(
            out.status.success(),
            "model fetch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Copies a folder recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// A fresh project (`raymundo init`) holding the whole sample company.
pub fn sample_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init", dir.path().to_str().unwrap()]);
    copy_dir(&sample_docs(), &dir.path().join("data/docs"));
    dir
}

/// Talks to `raymundo chat --json`, one message per line; returns one turn per message.
pub fn chat(project: &Path, messages: &[&str]) -> Vec<serde_json::Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_raymundo"))
        .arg("-C")
        .arg(project)
        .args(["chat", "--json", "--user", "5213312345678"])
        .env("RAYMUNDO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run raymundo chat");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut turns = Vec::new();
    // One message at a time, as a person types: each reply is read before the next line.
    for m in messages {
        writeln!(stdin, "{m}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if line.is_empty() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("chat ended before replying to {m:?}: {err}");
        }
        let turn: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert_eq!(turn["message"], *m);
        turns.push(turn);
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    turns
}
