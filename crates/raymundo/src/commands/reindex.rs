//! `raymundo reindex`: rebuilds the index incrementally from what changed in `data/docs/`
//! (new documents and the curated answers in `data/docs/curadas/`), checks the intents file
//! (its new examples), and tells a running `raymundo serve` of this project to reload both
//! without downtime (SIGHUP to the pid in `data/serve.pid`). With the index in PostgreSQL no
//! signal is needed: every server of the database follows its current version.

use super::serve::pid_file;
use anyhow::{bail, Context, Result};
use raymundo_intents::IntentSet;
use std::path::Path;
use std::time::Instant;

/// Flags of `reindex`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rebuild every document, not only the changed ones.
    #[arg(long)]
    full: bool,
    /// Do not tell a running server to reload.
    #[arg(long)]
    no_reload: bool,
}

/// Rebuilds, then signals the server.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let config = crate::project::load_config(root)?;
    // A broken intents file would make the server's reload fail: say so before building.
    let intents = config.intents_file();
    let examples = if intents.exists() {
        let set =
            IntentSet::load(&intents).with_context(|| format!("checking {}", intents.display()))?;
        Some((
            set.intents.len(),
            set.intents.iter().map(|i| i.examples.len()).sum::<usize>(),
        ))
    } else {
        None
    };
    let started = Instant::now();
    let summary = super::build::build_project(root, args.full, false)?;
    super::build::print_summary(&summary, started.elapsed());
    if let Some((intents, examples)) = examples {
        println!("  intents:   {intents} ({examples} examples)");
    }
    if args.no_reload {
        return Ok(());
    }
    if summary.postgres_version.is_some() {
        println!("Every server of this database loads the new version by itself.");
        return Ok(());
    }
    let pid_path = pid_file(&config.root);
    let Ok(pid) = std::fs::read_to_string(&pid_path) else {
        println!("No server of this project is running (no {}); it will load the new index when it starts.", pid_path.display());
        return Ok(());
    };
    let pid: u32 = pid
        .trim()
        .parse()
        .with_context(|| format!("{} does not hold a process id", pid_path.display()))?;
    if !Path::new(&format!("/proc/{pid}")).exists() && cfg!(target_os = "linux") {
        println!(
            "The server that wrote {} (pid {pid}) is not running; it will load the new index when it starts.",
            pid_path.display()
        );
        return Ok(());
    }
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .context("running kill -HUP")?;
    if !status.success() {
        bail!("could not signal the server (pid {pid}): kill exited with {status}");
    }
    println!("Told the server (pid {pid}) to reload the index and intents.");
    Ok(())
}
