//! `raymundo serve`: the HTTP server (WhatsApp Cloud API, Twilio, `/chat`, the
//! OpenAI-compatible API, metrics) over this project's assistant.
//!
//! The server's settings are checked first (a missing WhatsApp variable fails in
//! milliseconds, before any model loads); then the assistant, its intents and the store are
//! opened, and the server runs until Ctrl-C or SIGTERM, then drains its queue.

use crate::conversation::Conversation;
use crate::intent_engine::{method_of, IntentEngine};
use crate::interaction_log::{record, Origin, ScrubbedState};
use crate::project::Assistant;
use anyhow::{Context, Result};
use raymundo_server::{AdminSetup, Channel, Incoming, Reply, Responder, Server, Settings};
use raymundo_store::{SqliteStore, Store};
use std::path::Path;
use std::sync::Arc;

/// Flags of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Address to listen on; 127.0.0.1 unless the server should be reachable from other
    /// machines (put it behind HTTPS then).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Who writes answers: `local`, `extractive` or a configured provider (default: the
    /// `[llm] chain` of raymundo.toml).
    #[arg(long, value_name = "NAME")]
    llm: Option<String>,
}

/// The project's assistant as the server's [`Responder`]: one conversation per user,
/// remembered in the store (so it survives a restart), every turn recorded there.
struct AssistantResponder {
    assistant: Assistant,
    engine: Option<IntentEngine>,
    store: Arc<SqliteStore>,
}

/// The channel's name in the interaction log.
fn log_channel(channel: Channel) -> &'static str {
    match channel {
        Channel::WhatsApp => "whatsapp",
        Channel::Twilio => "twilio",
        Channel::Chat => "chat_api",
        Channel::OpenAi => "openai_api",
    }
}

impl Responder for AssistantResponder {
    fn reply(&self, msg: &Incoming, on_text: &mut dyn FnMut(&str)) -> Result<Reply> {
        let state = ScrubbedState(&*self.store);
        let conversation = Conversation::new(&self.assistant, self.engine.as_ref(), &state);
        let turn = conversation.reply_streaming(&msg.user, &msg.text, on_text)?;
        let channel = log_channel(msg.channel);
        let origin = Origin {
            channel,
            user_key: self.store.user_key(channel, &msg.user),
            message_id: msg.message_id.as_deref(),
        };
        record(&*self.store, &origin, &msg.text, &turn);
        Ok(Reply {
            text: turn.text,
            files: turn.files,
            sources: turn.sources,
            provider: turn.answered_by,
            in_scope: turn.in_scope.unwrap_or(true),
        })
    }

    fn clear_history(&self, user: &str) -> Result<()> {
        let state = ScrubbedState(&*self.store);
        Conversation::new(&self.assistant, self.engine.as_ref(), &state).forget(user)
    }
}

/// Starts the server and runs until stopped.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let config = crate::project::load_config(root)?;
    let dotenv = crate::answer_chain::dotenv(root);
    let settings = Settings::load(&config.server, |name| {
        std::env::var(name).ok().or_else(|| {
            dotenv
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    })
    .context("the server's settings (environment or .env)")?;
    let db = config.root.join(&config.server.database);
    let store = Arc::new(SqliteStore::open(&db)?);

    let assistant = Assistant::open_with(root, args.llm.as_deref())?;
    let method = method_of(&assistant, None)?;
    let engine = IntentEngine::load(&assistant, method)?;
    let admin = AdminSetup {
        interactions: store.clone(),
        intents: engine.as_ref().map(|e| e.set.names()).unwrap_or_default(),
    };
    let responder = AssistantResponder {
        assistant,
        engine,
        store: store.clone(),
    };
    let channels = format!(
        "WhatsApp Cloud API {}, Twilio {}, API key {}, /admin {}",
        on_off(settings.whatsapp.is_some()),
        on_off(settings.twilio.is_some()),
        on_off(settings.api_key.is_some()),
        on_off(settings.admin_token.is_some()),
    );
    let webhook = config.server.webhook_path.clone();
    let server = Server::new(settings, store, Arc::new(responder))?.with_admin(admin);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        println!("Raymundo listening on http://{addr} ({channels}; webhook {webhook})");
        use std::io::Write;
        std::io::stdout().flush()?;
        server
            .run(listener, raymundo_server::shutdown_signal())
            .await
            .context("the server stopped with an error")
    })
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}
