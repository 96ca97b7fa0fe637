//! `raymundo demo`: the sample company, built and answering, in one command.

use crate::commands::build::{build_project, print_summary};
use crate::project::{print_answer, Assistant};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Flags of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to create the demo project.
    #[arg(long, default_value = "demo")]
    dir: PathBuf,
    /// The sample company to copy (default: examples/axoloit of the source tree).
    #[arg(long)]
    from: Option<PathBuf>,
}

/// Questions the demo asks: most are answered by the documents, the last ones are not.
pub const QUESTIONS: &[&str] = &[
    "¿Cuánto tarda en llegar mi pedido a Monterrey?",
    "Mi sensor marca el error E-104, ¿qué hago?",
    "¿Puedo pagar en OXXO?",
    "¿Cuánto cuesta el plan Pro de la app?",
    "¿Cómo calibro el sensor de humedad H2?",
    "¿Cómo solicito la factura de mi compra?",
    "¿Quién ganó el partido de las Chivas ayer?",
    "¿Me recomiendas una receta de pozole?",
];

/// A conversation the demo holds: an intent with a missing parameter, then its action.
pub const CONVERSATION: &[&str] = &[
    "Prepara una presentación sobre la instalación y calibración del sensor H2, con imágenes",
    "que sean 3",
];

fn sample_dir(explicit: Option<PathBuf>) -> Result<PathBuf> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p],
        None => vec![
            PathBuf::from("examples/axoloit"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/axoloit"),
        ],
    };
    for c in &candidates {
        if c.join("data/docs").is_dir() {
            return Ok(c.clone());
        }
    }
    bail!(
        "sample company not found (looked in {}); pass --from path/to/examples/axoloit",
        candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Copies `from` into `to`, replacing files whose content differs (so the demo follows the
/// sample company as it changes) and leaving other files alone.
fn sync_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            sync_tree(&src, &dst)?;
        } else {
            let new = std::fs::read(&src)?;
            if std::fs::read(&dst).ok().as_deref() != Some(new.as_slice()) {
                std::fs::write(&dst, new).with_context(|| format!("writing {}", dst.display()))?;
            }
        }
    }
    Ok(())
}

/// Sets up, builds and questions the demo project.
pub fn run(args: Args) -> Result<()> {
    let sample = sample_dir(args.from)?;
    println!(
        "Raymundo demo: the sample company Axoloit (riego inteligente) in {}\n",
        args.dir.display()
    );
    crate::scaffold::init(&args.dir)?;
    sync_tree(&sample.join("data"), &args.dir.join("data"))?;
    let sample_config = sample.join(raymundo_core::CONFIG_FILE);
    if sample_config.is_file() {
        std::fs::copy(&sample_config, args.dir.join(raymundo_core::CONFIG_FILE))
            .with_context(|| format!("copying {}", sample_config.display()))?;
    }

    let t = Instant::now();
    let summary = build_project(&args.dir, false, false)?;
    print_summary(&summary, t.elapsed());
    println!();

    let assistant = Assistant::open(&args.dir)?;
    for q in QUESTIONS {
        let (answer, _, timings) = assistant.ask(q)?;
        println!("──────────────────────────────────────────────────────────────");
        println!("? {q}");
        print_answer(&assistant.config, &answer);
        println!(
            "  ({}, {:.0} ms)",
            if answer.in_scope {
                "answered from the documents"
            } else {
                "out of scope: declined"
            },
            timings.total_ms
        );
    }
    println!("──────────────────────────────────────────────────────────────");
    let method = crate::intent_engine::method_of(&assistant, None)?;
    let engine = crate::intent_engine::IntentEngine::load(&assistant, method)?;
    let state = raymundo_core::MemoryState::new();
    let conversation = crate::conversation::Conversation::new(&assistant, engine.as_ref(), &state);
    for m in CONVERSATION {
        let turn = conversation.reply("demo", m)?;
        println!("> {m}");
        println!("Raymundo: {}", turn.text);
        println!(
            "  ({}{}, {:.0} ms)",
            turn.intent.as_deref().unwrap_or("no intent"),
            match turn.step {
                "ask" => ": asks for what is missing",
                "act" => ": done",
                _ => "",
            },
            turn.total_ms
        );
    }
    println!("──────────────────────────────────────────────────────────────");
    println!(
        "\nTry your own: cargo run --release -- -C {} chat   (or ask, search, eval retrieval, eval intents)",
        args.dir.display()
    );
    Ok(())
}
