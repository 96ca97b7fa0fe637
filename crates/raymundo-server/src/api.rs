//! Raymundo's own API, compatible with the existing WhatsApp bot: `POST /chat`,
//! `GET /health`, `GET /stats`, `DELETE /clear_history/{user_id}`; and `GET /metrics`.
//!
//! Whose conversation a request reaches and how it is rate-limited: see [`crate::identity`].

use crate::app::Shared;
use crate::error::ApiError;
use crate::identity::{Caller, USER_HEADER};
use crate::peer::Peer;
use crate::rate_limit::Verdict;
use crate::responder::{Channel, Incoming, Reply};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// Refuses the request unless it carries the configured API key (`Authorization: Bearer
/// KEY` or `X-API-Key: KEY`); open when no key is configured. Who the caller is.
pub(crate) fn check_api_key(
    app: &Shared,
    peer: Peer,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let client = peer.client();
    let Some(key) = &app.settings.api_key else {
        return Ok(if peer.is_local() {
            Caller::Local { client }
        } else {
            Caller::Anonymous { client }
        });
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    match given {
        None => Err(ApiError::Unauthorized(
            "an API key is required (Authorization: Bearer KEY or X-API-Key: KEY)".into(),
        )),
        Some(k) if key.matches(k.trim()) => Ok(Caller::KeyHolder { client }),
        Some(_) => Err(ApiError::Forbidden("wrong API key".into())),
    }
}

/// Counts a request against the rate limit of `key` ([`Caller::rate_key`]).
pub(crate) fn check_rate(app: &Shared, channel: Channel, key: &str) -> Result<(), ApiError> {
    match app.limiter.check(key, Instant::now()) {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { .. } => {
            app.metrics.inc(
                "raymundo_rate_limited_total",
                &[("channel", channel.as_str())],
            );
            Err(ApiError::RateLimited)
        }
    }
}

/// Runs the responder on a blocking thread.
pub(crate) async fn answer(
    app: &Arc<Shared>,
    msg: Incoming,
    mut on_text: impl FnMut(&str) + Send + 'static,
) -> Result<Reply, ApiError> {
    let shared = app.clone();
    let channel = msg.channel;
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || shared.responder.reply(&msg, &mut on_text))
        .await?
        .map_err(|e| {
            app.metrics.inc(
                "raymundo_errors_total",
                &[("stage", "answer"), ("kind", "error")],
            );
            ApiError::Internal(e)
        });
    app.metrics.observe(
        "raymundo_answer_seconds",
        &[("channel", channel.as_str())],
        started.elapsed().as_secs_f64(),
    );
    if let Ok(r) = &result {
        app.metrics.inc(
            "raymundo_replies_total",
            &[
                ("channel", channel.as_str()),
                ("provider", r.provider.as_deref().unwrap_or("unknown")),
            ],
        );
    }
    result
}

/// A JSON object body, or 400 naming the problem.
pub(crate) fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("expected a JSON object".into())),
        Err(e) => Err(ApiError::BadRequest(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// A user id given as a string or a number.
fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `response` with the conversation's id in [`USER_HEADER`].
pub(crate) fn with_user_header(mut response: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        response.headers_mut().insert(USER_HEADER, v);
    }
    response
}

/// `POST /chat` `{"mensaje", "user_id"?, "user_name"?}` -> `{"respuesta", "user_id",
/// "archivo"?, "tipo_archivo"?}`. Without `user_id` the caller gets a new conversation,
/// whose id `user_id` carries (also in `X-Raymundo-User`) to send back.
pub(crate) async fn chat(
    State(app): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = check_api_key(&app, peer, &headers)?;
    let req = json_object(&body)?;
    let mensaje = match req.get("mensaje") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::String(_)) => {
            return Err(ApiError::BadRequest("\"mensaje\" is empty".into()));
        }
        Some(_) => return Err(ApiError::BadRequest("\"mensaje\" must be a string".into())),
        None => {
            return Err(ApiError::BadRequest(
                "missing \"mensaje\" (the user's message)".into(),
            ))
        }
    };
    let conversation = caller.conversation(Channel::Chat, id_of(req.get("user_id")).as_deref())?;
    check_rate(&app, Channel::Chat, &caller.rate_key(&conversation))?;
    let msg = Incoming {
        channel: Channel::Chat,
        user: conversation.user,
        user_name: req
            .get("user_name")
            .and_then(Value::as_str)
            .map(str::to_string),
        text: mensaje,
        choice: None,
        reply_to: None,
        message_id: None,
    };
    let reply = answer(&app, msg, |_| {}).await?;
    let mut out = json!({ "respuesta": reply.text, "user_id": conversation.id });
    if let Some(file) = reply.files.first() {
        out["archivo"] = json!(file.display().to_string());
        out["tipo_archivo"] = json!(file
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default());
    }
    if !reply.sources.is_empty() {
        out["fuentes"] = json!(reply.sources);
    }
    Ok(with_user_header(
        Json(out).into_response(),
        &conversation.id,
    ))
}

/// `GET /health`: `{"status": "ok", ...}` (no key needed; no personal data).
pub(crate) async fn health(State(app): State<Arc<Shared>>) -> Json<Value> {
    let shared = app.clone();
    let queue = tokio::task::spawn_blocking(move || shared.store.queue_counts())
        .await
        .ok()
        .and_then(Result::ok);
    let s = &app.settings;
    Json(json!({
        "status": if queue.is_some() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": app.started.elapsed().as_secs(),
        "channels": {
            "whatsapp_cloud": s.whatsapp.is_some(),
            "twilio": s.twilio.is_some(),
        },
        "queue": queue.map(|q| json!({"queued": q.queued, "working": q.working})),
    }))
}

/// `GET /stats`: messages, queue, deliveries, feedback.
pub(crate) async fn stats(
    State(app): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    check_api_key(&app, peer, &headers)?;
    let shared = app.clone();
    let s = tokio::task::spawn_blocking(move || shared.store.stats()).await??;
    let failures: serde_json::Map<String, Value> = s
        .delivery_failures
        .iter()
        .map(|(code, n)| (code.to_string(), json!(n)))
        .collect();
    Ok(Json(json!({
        "uptime_secs": app.started.elapsed().as_secs(),
        "messages_seen": s.seen,
        "queue": {
            "queued": s.jobs.queued,
            "working": s.jobs.working,
            "answered": s.jobs.done,
            "failed": s.jobs.failed,
        },
        "messages_sent": s.sent,
        "delivery_failures_by_code": failures,
        "send_failures": s
            .send_failures
            .iter()
            .map(|(error, n)| json!({"error": error, "count": n}))
            .collect::<Vec<_>>(),
        "feedback": {"up": s.feedback_up, "down": s.feedback_down},
    })))
}

/// `DELETE /clear_history/{user_id}`: forgets the caller's `/chat` conversation `user_id`
/// (only its own: see [`crate::identity`]).
pub(crate) async fn clear_history(
    State(app): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = check_api_key(&app, peer, &headers)?;
    if user_id.trim().is_empty() {
        return Err(ApiError::BadRequest("the user id is empty".into()));
    }
    let user = caller.conversation(Channel::Chat, Some(&user_id))?.user;
    let shared = app.clone();
    tokio::task::spawn_blocking(move || shared.responder.clear_history(&user))
        .await?
        .map_err(ApiError::Internal)?;
    Ok(Json(json!({"status": "ok", "user_id": user_id})))
}

/// Lets `/metrics` through for a request from this machine itself ([`Peer::is_local`]: a
/// loopback peer, not forwarded by a proxy), or one with the admin token (the review
/// pages' `server.admin_token_env`) as `Authorization: Bearer TOKEN`; wrong tokens count
/// against the address like wrong tokens at `/admin`. Without an admin token configured,
/// only this machine reads the metrics.
fn check_metrics_access(app: &Shared, peer: Peer, headers: &HeaderMap) -> Result<(), ApiError> {
    if peer.is_local() {
        return Ok(());
    }
    let Some(token) = &app.settings.admin_token else {
        return Err(ApiError::Forbidden(format!(
            "/metrics is served to this machine only; to scrape it from elsewhere set {} \
             and send it as Authorization: Bearer TOKEN",
            app.settings.config.admin_token_env
        )));
    };
    let now = Instant::now();
    if let Some(wait) = app.throttle.locked(peer.client(), now) {
        return Err(ApiError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => Err(ApiError::Unauthorized(
            "/metrics needs the admin token (Authorization: Bearer TOKEN)".into(),
        )),
        Some(t) if token.matches(t.trim()) => {
            app.throttle.succeeded(peer.client());
            Ok(())
        }
        Some(_) => {
            app.throttle.failed(peer.client(), now);
            Err(ApiError::Forbidden("wrong admin token".into()))
        }
    }
}

/// `GET /metrics`: Prometheus text, for this machine or the admin token
/// ([`check_metrics_access`]).
pub(crate) async fn metrics(
    State(app): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    check_metrics_access(&app, peer, &headers)?;
    let shared = app.clone();
    let q = tokio::task::spawn_blocking(move || shared.store.queue_counts())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let text = app.metrics.render(&[
        (
            "raymundo_queue_depth",
            "Messages waiting in the queue.",
            q.queued as f64,
        ),
        (
            "raymundo_queue_working",
            "Messages being answered.",
            q.working as f64,
        ),
        (
            "raymundo_jobs_failed",
            "Messages whose reply could not be sent.",
            q.failed as f64,
        ),
        (
            "raymundo_uptime_seconds",
            "Seconds since start.",
            app.started.elapsed().as_secs_f64(),
        ),
    ]);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
