//! The server's shared state, its routes and its lifecycle (start the workers, serve within
//! [`Limits`], stop accepting, drain the queue).

use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::responder::Responder;
use crate::serve::Limits;
use crate::settings::Settings;
use crate::whatsapp::graph::Graph;
use crate::worker::{self, Plan, Wake};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use raymundo_store::Store;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// What every handler and worker shares.
pub(crate) struct Shared {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub responder: Arc<dyn Responder>,
    pub metrics: Metrics,
    pub limiter: RateLimiter,
    /// Wrong admin tokens per address (the review pages and `/metrics`).
    pub throttle: Arc<crate::admin::auth::Throttle>,
    pub wake: Wake,
    /// Outcomes of finished jobs the store could not record yet.
    pub unsettled: worker::Unsettled,
    pub graph: Option<Graph>,
    pub twilio: Option<crate::twilio::TwilioRest>,
    /// `/twilio` requests waiting for their answer, by `MessageSid`.
    pub twilio_waiters: Mutex<HashMap<String, tokio::sync::oneshot::Sender<Plan>>>,
    pub started: Instant,
    next_request: AtomicU64,
    pub stopping: AtomicBool,
    pub drain_until: Mutex<Option<Instant>>,
}

impl Shared {
    /// True once the drain time after a stop signal has passed.
    pub fn drain_over(&self) -> bool {
        let until = self.drain_until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_some_and(|t| Instant::now() >= t)
    }
}

/// Raymundo's HTTP server.
pub struct Server {
    shared: Arc<Shared>,
    admin: Option<crate::admin::AdminSetup>,
    limits: Limits,
}

impl Server {
    /// A server over `store` and `responder`. Jobs a previous run left in progress are
    /// queued again.
    pub fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        responder: Arc<dyn Responder>,
    ) -> anyhow::Result<Self> {
        let requeued = store.requeue_in_progress()?;
        if requeued > 0 {
            tracing::warn!(
                requeued,
                "messages left in progress by the last run are queued again"
            );
        }
        let c = &settings.config;
        let graph = settings.whatsapp.as_ref().map(|w| {
            Graph::new(
                &w.graph_url,
                &c.graph_version,
                &w.phone_number_id,
                w.token.clone(),
                c.send_attempts,
                Duration::from_millis(c.send_backoff_ms),
            )
        });
        let twilio = settings.twilio.as_ref().and_then(|t| {
            crate::twilio::TwilioRest::new(t, &c.twilio_api_url, c.send_attempts, c.send_backoff_ms)
        });
        let limiter = RateLimiter::new(c.rate_limit_per_minute);
        Ok(Self {
            shared: Arc::new(Shared {
                settings,
                store,
                responder,
                metrics: Metrics::default(),
                limiter,
                throttle: Arc::default(),
                wake: Wake::default(),
                unsettled: worker::Unsettled::default(),
                graph,
                twilio,
                twilio_waiters: Mutex::new(HashMap::new()),
                started: Instant::now(),
                next_request: AtomicU64::new(1),
                stopping: AtomicBool::new(false),
                drain_until: Mutex::new(None),
            }),
            admin: None,
            limits: Limits::default(),
        })
    }

    /// Serves the review pages (`/admin`) over `setup`'s interaction log; they also need
    /// the admin token (`server.admin_token_env`), and say how to set it when it is missing.
    pub fn with_admin(mut self, setup: crate::admin::AdminSetup) -> Self {
        self.admin = Some(setup);
        self
    }

    /// Serves within `limits` instead of [`Limits::default`].
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The routes. Requests need their peer's address ([`axum::extract::ConnectInfo`]`<SocketAddr>`),
    /// which [`Server::run`] gives them; without it a request counts as coming from `0.0.0.0`
    /// (not this machine).
    pub fn router(&self) -> Router {
        let settings = &self.shared.settings;
        let webhook = settings.config.webhook_path.clone();
        Router::new()
            .route(
                &webhook,
                get(crate::whatsapp::webhook::verify).post(crate::whatsapp::webhook::receive),
            )
            .route("/twilio", post(crate::twilio::receive))
            .route("/chat", post(crate::api::chat))
            .route("/health", get(crate::api::health))
            .route("/stats", get(crate::api::stats))
            .route(
                "/clear_history/{user_id}",
                delete(crate::api::clear_history),
            )
            .route("/metrics", get(crate::api::metrics))
            .route("/v1/chat/completions", post(crate::openai::completions))
            .route("/v1/models", get(crate::openai::models))
            .merge(crate::admin::router(
                settings.admin_token.clone(),
                settings.config.admin_token_env.clone(),
                settings
                    .config
                    .public_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("https://")),
                self.admin.clone(),
                self.shared.throttle.clone(),
            ))
            .layer(axum::middleware::from_fn_with_state(
                crate::serve::BodyLimits {
                    max_bytes: settings.config.max_body_bytes,
                    timeout: self.limits.body_read_timeout,
                },
                crate::serve::read_body,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.shared.clone(),
                observe,
            ))
            .with_state(self.shared.clone())
    }

    /// Serves on `listener` until `shutdown` completes, answering queued messages with
    /// `server.workers` threads; then stops accepting requests and keeps answering queued
    /// messages for up to `server.drain_secs` (what is left stays queued for the next run).
    /// Connections are served within the server's [`Limits`] (see [`Server::with_limits`]).
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let workers = worker::spawn(self.shared.clone());
        let router = self.router();
        crate::serve::serve(listener, router, self.limits, shutdown).await;
        let shared = self.shared.clone();
        let drain = Duration::from_secs(shared.settings.config.drain_secs);
        *shared.drain_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + drain);
        shared.stopping.store(true, Ordering::SeqCst);
        shared.wake.notify();
        let _ = tokio::task::spawn_blocking(move || {
            for w in workers {
                let _ = w.join();
            }
        })
        .await;
        // On a blocking thread like every store call (PostgreSQL's synchronous client
        // refuses to block an async runtime's thread).
        let shared = self.shared.clone();
        let left = tokio::task::spawn_blocking(move || {
            shared.store.queue_counts().map(|c| c.queued).unwrap_or(0)
        })
        .await
        .unwrap_or(0);
        tracing::info!(
            left,
            "stopped; messages left in the queue are answered at the next start"
        );
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Gives every request an id (logged, and returned as `x-request-id`), a span, a line in
/// the log and its metrics. The route is the matched pattern, never the raw path (which
/// may hold a user id).
async fn observe(State(app): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let n = app.next_request.fetch_add(1, Ordering::Relaxed);
    let id = format!("{:x}-{n}", app.started.elapsed().as_nanos() as u64 ^ 0x9e37);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let secs = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16().to_string();
    app.metrics.inc(
        "raymundo_http_requests_total",
        &[("route", &route), ("status", &status)],
    );
    app.metrics
        .observe("raymundo_http_request_seconds", &[("route", &route)], secs);
    span.in_scope(|| tracing::info!(status = %status, ms = secs * 1000.0, "handled"));
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
