//! An extra check with the official clients (Twilio's `RequestValidator`, the `openai`
//! package) in a throwaway virtualenv; skipped, saying why, where Python or pip cannot
//! provide them.

use super::harness::*;
use crate::testing::FakeChannel;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A virtualenv with `twilio` and `openai` (made once per machine), or why there is none.
fn venv() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join("raymundo-py-clients");
    let python = dir.join("bin/python");
    let has = |p: &Path| {
        Command::new(p)
            .args(["-c", "import twilio, openai"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has(&python) {
        return Ok(python);
    }
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
        "python3 -m venv",
    )?;
    run(
        Command::new(dir.join("bin/pip")).args(["install", "-q", "twilio", "openai"]),
        "pip install twilio openai",
    )?;
    if has(&python) {
        Ok(python)
    } else {
        Err("twilio/openai not importable after install".into())
    }
}

#[test]
fn the_official_twilio_and_openai_clients_work_against_the_server() {
    let python = match venv() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("skipped: no Python clients ({why})");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, |c, _| {
        c.public_url = Some("https://bot.example.com".into());
        c.twilio_wait_secs = 30;
    });
    let script = dir.path().join("python_clients.py");
    std::fs::write(&script, include_str!("python_clients.py")).unwrap();
    let out = Command::new(python)
        .arg(&script)
        .args([&s.url, TWILIO_TOKEN, "https://bot.example.com"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}
