//! `raymundo chat`: a conversation in the terminal, one message per line, through the whole
//! flow: intent, questions for missing parameters, action, or an answer from the documents.
//!
//! The conversation is remembered in the project's database (`[server] database`, the one
//! `serve` uses), scrubbed of personal data, and every turn is recorded there as channel
//! `cli`, so `raymundo stats` sees terminal conversations too; `--no-store` keeps nothing.

use crate::conversation::Conversation;
use crate::intent_engine::{method_of, IntentEngine};
use crate::interaction_log::{record, Origin, ScrubbedState};
use crate::project::Assistant;
use anyhow::Result;
use raymundo_core::{ConversationState, MemoryState};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// Flags of `chat`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Who is talking (pending requests are kept per user).
    #[arg(long, default_value = "terminal")]
    user: String,
    /// Print one JSON object per turn (the reply and what happened) instead of text.
    #[arg(long)]
    json: bool,
    /// Who writes answers for this run: `local`, `extractive` or a configured provider
    /// (default: the `[llm] chain` of raymundo.toml).
    #[arg(long, value_name = "NAME")]
    llm: Option<String>,
    /// Keep nothing: the conversation is remembered by this process only and no turn is
    /// recorded in the database.
    #[arg(long)]
    no_store: bool,
}

/// Runs the conversation until end of input or `/salir`.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let assistant = Assistant::open_with(root, args.llm.as_deref())?;
    let method = method_of(&assistant, None)?;
    let engine = IntentEngine::load(&assistant, method)?;
    let memory = MemoryState::new();
    let store = if args.no_store {
        None
    } else {
        Some(crate::database::open(
            &assistant.config.root,
            &assistant.config.server,
        )?)
    };
    let scrubbed = store.as_ref().map(|s| ScrubbedState(&**s));
    let state: &dyn ConversationState = match &scrubbed {
        Some(s) => s,
        None => &memory,
    };
    let conversation = Conversation::new(&assistant, engine.as_ref(), state);
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal() && !args.json;
    if interactive {
        println!(
            "Raymundo: ¡Hola! Pregúntame lo que necesites{}. Escribe /salir para terminar.",
            if engine.is_some() {
                " o pídeme algo (por ejemplo, una presentación)"
            } else {
                ""
            }
        );
    }
    let mut out = std::io::stdout().lock();
    loop {
        if interactive {
            write!(out, "\nTú: ")?;
            out.flush()?;
        }
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let message = line.trim();
        if message.is_empty() {
            continue;
        }
        if matches!(message, "/salir" | "/exit" | "/quit") {
            break;
        }
        let turn = conversation.reply(&args.user, message)?;
        if let Some(store) = &store {
            let origin = Origin {
                channel: "cli",
                user_key: store.user_key("cli", &args.user),
                message_id: None,
            };
            record(&**store, &origin, message, &turn);
        }
        if args.json {
            let mut v = serde_json::to_value(&turn)?;
            v["message"] = message.into();
            writeln!(out, "{}", serde_json::to_string(&v)?)?;
        } else {
            writeln!(out, "Raymundo: {}", turn.text)?;
            if interactive {
                let what = match (&turn.intent, turn.step) {
                    (Some(i), step) => format!("{i}, {step}"),
                    (None, _) => "answer from the documents".into(),
                };
                eprintln!("({what}; {:.0} ms)", turn.total_ms);
            }
        }
        out.flush()?;
    }
    Ok(())
}
