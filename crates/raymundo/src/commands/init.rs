//! `raymundo init [DIR]`.

use anyhow::Result;
use std::path::PathBuf;

/// Flags of `init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the new project (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

/// Scaffolds a project, keeping every existing file.
pub fn run(args: Args) -> Result<()> {
    let report = crate::scaffold::init(&args.dir)?;
    for p in &report.created {
        println!("  created {}", p.display());
    }
    for p in &report.kept {
        println!("  kept    {} (already exists)", p.display());
    }
    println!(
        "\nProject ready in {}. Put your documents in data/docs/ (faq/, manual/, email/ ...), then run:\n  raymundo -C {} build\n  raymundo -C {} ask \"¿...?\"",
        args.dir.display(),
        args.dir.display(),
        args.dir.display()
    );
    Ok(())
}
