//! `raymundo serve`: the HTTP server (WhatsApp Cloud API, Twilio, `/chat`, the
//! OpenAI-compatible API, metrics) over this project's assistant.
//!
//! The server's settings are checked first (a missing WhatsApp variable fails in
//! milliseconds, before any model loads); then the assistant, its intents and the store are
//! opened, and the server runs until Ctrl-C or SIGTERM, then drains its queue.
//!
//! The index and intents are reloaded without downtime on SIGHUP (sent by `raymundo
//! reindex`, whose target is the pid in `data/serve.pid`) and, with `[server]
//! reindex_every_hours`, rebuilt and reloaded on that schedule.

use crate::conversation::Conversation;
use crate::intent_engine::{method_of, IntentEngine};
use crate::interaction_log::{record, Origin, ScrubbedState};
use crate::live::{LiveAssistant, Loaded};
use crate::project::Assistant;
use crate::retriever::Retriever;
use anyhow::{Context, Result};
use raymundo_server::{AdminSetup, Channel, Incoming, Reply, Responder, Server, Settings};
use raymundo_store::Backend;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    live: Arc<LiveAssistant>,
    store: Arc<dyn Backend>,
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
        let loaded = self.live.current();
        let conversation = Conversation::new(&loaded.assistant, loaded.engine.as_deref(), &state);
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
        let loaded = self.live.current();
        Conversation::new(&loaded.assistant, loaded.engine.as_deref(), &state).forget(user)
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
    let store = crate::database::open(&config.root, &config.server)?;

    let assistant = Assistant::open_with(root, args.llm.as_deref())?;
    let method = method_of(&assistant, None)?;
    let engine = IntentEngine::load(&assistant, method)?;
    let admin = AdminSetup {
        interactions: store.clone(),
        intents: engine.as_ref().map(|e| e.set.names()).unwrap_or_default(),
    };
    let live = Arc::new(LiveAssistant::new(
        Loaded {
            assistant: Arc::new(assistant),
            engine: engine.map(Arc::new),
        },
        method,
    ));
    let responder = AssistantResponder {
        live: live.clone(),
        store: store.clone(),
    };
    let reindex_every = config.server.reindex_every_hours;
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
        // Listen for SIGHUP before the pid file tells `reindex` whom to signal: its default
        // action would end the process.
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("listening for SIGHUP")?;
        let _pid = PidFile::write(pid_file(root))?;
        tokio::spawn(reload_on_hangup(hangups, live.clone()));
        follow_database(&live)?;
        if reindex_every > 0 {
            let every = Duration::from_secs(reindex_every * 3600);
            tokio::spawn(reindex_on_schedule(root.to_path_buf(), live, every));
        }
        println!("Raymundo listening on http://{addr} ({channels}; webhook {webhook})");
        use std::io::Write;
        std::io::stdout().flush()?;
        server
            .run(listener, raymundo_server::shutdown_signal())
            .await
            .context("the server stopped with an error")
    })
}

/// Where a running server writes its process id, for `raymundo reindex`.
pub fn pid_file(root: &Path) -> PathBuf {
    root.join("data").join("serve.pid")
}

/// The pid file of this process, removed when the server stops.
struct PidFile(PathBuf);

impl PidFile {
    fn write(path: PathBuf) -> Result<Self> {
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reloads the index and intents each time the process gets SIGHUP.
async fn reload_on_hangup(mut hangups: tokio::signal::unix::Signal, live: Arc<LiveAssistant>) {
    while hangups.recv().await.is_some() {
        let live = live.clone();
        let outcome = tokio::task::spawn_blocking(move || live.reload()).await;
        report_reload("SIGHUP", outcome);
    }
}

/// How often a server checks the database for a new index version when no notification
/// arrives (notifications arrive at once; this is the fallback).
const FOLLOW_POLL: Duration = Duration::from_secs(2);

/// With the index in PostgreSQL: reloads whenever another process (a `raymundo build` or
/// `reindex` anywhere, another server's scheduled rebuild) makes a new version current.
fn follow_database(live: &Arc<LiveAssistant>) -> Result<()> {
    let Retriever::Postgres(pg) = &live.current().assistant.index else {
        return Ok(());
    };
    let (pg, live) = (pg.clone(), live.clone());
    std::thread::Builder::new()
        .name("index-follow".into())
        .spawn(move || {
            let mut last_error = String::new();
            pg.follow(
                FOLLOW_POLL,
                |version| {
                    let serving = match &live.current().assistant.index {
                        Retriever::Postgres(p) => p.version(),
                        Retriever::File(_) => -1,
                    };
                    if serving != version {
                        report_reload(&format!("PostgreSQL version {version}"), Ok(live.reload()));
                    }
                    true
                },
                |e| {
                    if e != last_error {
                        eprintln!("warning: following the index in PostgreSQL: {e}");
                        last_error = e;
                    }
                },
            )
        })
        .context("starting the thread that follows the index in PostgreSQL")?;
    Ok(())
}

/// Rebuilds the index (incrementally) every `every`, then reloads it.
async fn reindex_on_schedule(root: PathBuf, live: Arc<LiveAssistant>, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (root, live) = (root.clone(), live.clone());
        let outcome = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let summary = crate::commands::build::build_project(&root, false, true)
                .context("the scheduled rebuild of the index")?;
            tracing::info!(
                "scheduled rebuild: {} documents embedded, {} removed, in {:.1} s",
                summary.documents_embedded,
                summary.documents_removed,
                started.elapsed().as_secs_f64()
            );
            live.reload()
        })
        .await;
        report_reload("schedule", outcome);
    }
}

fn report_reload(
    trigger: &str,
    outcome: std::result::Result<Result<crate::live::Reloaded>, tokio::task::JoinError>,
) {
    use std::io::Write;
    // Not println!: a closed stdout (the server's output piped to a finished reader) must
    // not stop the server.
    match outcome {
        Ok(Ok(r)) => {
            let mut out = std::io::stdout();
            let _ = writeln!(
                out,
                "Reloaded ({trigger}): {} -> {} chunks in {:.0} ms, {} -> {} intents in {:.0} ms",
                r.chunks.0, r.chunks.1, r.ms, r.intents.0, r.intents.1, r.intents_ms
            );
            let _ = out.flush();
        }
        Ok(Err(e)) => eprintln!("warning: reload ({trigger}) failed: {e:#}"),
        Err(e) => eprintln!("warning: reload ({trigger}) stopped: {e}"),
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}
