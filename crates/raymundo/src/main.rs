//! The `raymundo` command line: parses flags, loads the project, wires the libraries.
//!
//! Logic lives in the library crates; each subcommand is a small module in `commands/`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

mod answer_chain;
mod calibrate;
mod commands;
mod conversation;
mod database;
mod intent_engine;
mod intents_edit;
mod interaction_log;
mod live;
mod pdf_sandbox;
mod project;
mod retriever;
mod scaffold;
mod toml_set;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Raymundo answers questions from your company's documents, with sources, using a local
/// model: no API key, no internet once the model is cached.
#[derive(Debug, Parser)]
#[command(name = "raymundo", version, about, long_about = None)]
#[command(
    after_help = "Start with `raymundo demo` to see it answer from the sample company, \
or `raymundo init mi-empresa` to create your own project."
)]
struct Cli {
    /// Project folder (the one holding raymundo.toml).
    #[arg(short = 'C', long = "project", global = true, default_value = ".")]
    project: PathBuf,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a Raymundo project: raymundo.toml, .env.example, data/ folders, intents.json.
    Init(commands::init::Args),
    /// Read data/docs, scrub personal data, chunk, embed and write the index (incremental).
    Build(commands::build::Args),
    /// Show the passages most similar to a query.
    Search(commands::search::Args),
    /// Answer a question from the documents, with its sources.
    Ask(commands::ask::Args),
    /// Fetch, list and inspect the embedding models.
    Model(commands::model::Args),
    /// Measure retrieval (hit@k, MRR, nDCG, scope decision) or intent recognition
    /// (precision, recall, F1, no-intent false positives) on a labelled file.
    Eval(commands::eval::Args),
    /// Check the intents file, or show the intent of a message.
    Intents(commands::intents::Args),
    /// Talk to Raymundo in the terminal: answers, questions for missing details, actions.
    Chat(commands::chat::Args),
    /// Set up the sample company in ./demo, build it and answer sample questions.
    Demo(commands::demo::Args),
    /// Answer WhatsApp (Cloud API and Twilio), Raymundo's /chat API and OpenAI-compatible
    /// clients over HTTP.
    Serve(commands::serve::Args),
    /// Resolution rate, precision per intent, response times, false positives and volume,
    /// from the turns recorded by `serve` and `chat`.
    Stats(commands::stats::Args),
    /// Rebuild the index from new documents, curated answers and intent examples, and tell
    /// the running server to reload it without downtime.
    Reindex(commands::reindex::Args),
    /// Write the interaction log as anonymised JSON lines, or reviewed answers as
    /// fine-tuning examples.
    Export(commands::export::Args),
    /// Save the documents, intents, eval files, index and store in data/dump/<time>.tar.zst
    /// (never .env).
    Snapshot(commands::snapshot::SnapshotArgs),
    /// Bring a snapshot back (refuses to overwrite changed files without --force).
    Restore(commands::snapshot::RestoreArgs),
    /// The statistics as an HTML page with charts, the worst-rated answers and the latest
    /// eval results.
    Report(commands::report::Args),
    /// Review recorded turns in the terminal: correct, incorrect or out of scope, with the
    /// corrected answer and intent.
    Review(commands::review::Args),
    /// Turn reviews into knowledge: corrected answers become curated FAQ entries
    /// (data/docs/curadas/), corrected intents become examples in data/intents.json.
    Curate(commands::curate::Args),
    /// Read one PDF from standard input under memory and time limits (run by Raymundo
    /// itself for every PDF it indexes).
    #[command(name = "__read-pdf", hide = true)]
    ReadPdf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::ReadPdf) {
        return pdf_sandbox::child_main();
    }
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAYMUNDO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // After the logger: its one warning (this program's path unknown) must be seen.
    pdf_sandbox::read_pdfs_in_child();

    let result = match cli.command {
        Command::Init(a) => commands::init::run(a),
        Command::Build(a) => commands::build::run(&cli.project, a),
        Command::Search(a) => commands::search::run(&cli.project, a),
        Command::Ask(a) => commands::ask::run(&cli.project, a),
        Command::Model(a) => commands::model::run(a),
        Command::Eval(a) => commands::eval::run(&cli.project, a),
        Command::Intents(a) => commands::intents::run(&cli.project, a),
        Command::Chat(a) => commands::chat::run(&cli.project, a),
        Command::Demo(a) => commands::demo::run(a),
        Command::Serve(a) => commands::serve::run(&cli.project, a),
        Command::Stats(a) => commands::stats::run(&cli.project, a),
        Command::Reindex(a) => commands::reindex::run(&cli.project, a),
        Command::Export(a) => commands::export::run(&cli.project, a),
        Command::Snapshot(a) => commands::snapshot::snapshot(&cli.project, a),
        Command::Restore(a) => commands::snapshot::restore(&cli.project, a),
        Command::Report(a) => commands::report::run(&cli.project, a),
        Command::Review(a) => commands::review::run(&cli.project, a),
        Command::Curate(a) => commands::curate::run(&cli.project, a),
        Command::ReadPdf => unreachable!("handled before logging starts"),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
