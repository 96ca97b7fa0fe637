//! `GET/POST {server.webhook_path}`: Meta's subscription check and the webhook itself.
//!
//! A POST is verified (signature over the raw bytes), parsed, and its messages queued in
//! the store (de-duplicated by `wamid`) before the 200 goes back; statuses and reactions
//! are recorded on the spot. Nothing is answered here: the workers do that.

use crate::app::Shared;
use crate::error::ApiError;
use crate::signature::{verify_meta, SignatureError, META_HEADER};
use crate::whatsapp::inbound::{self, Content, Event};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use raymundo_store::{Accepted, DeliveryStatus, Feedback, NewJob};
use std::collections::HashMap;
use std::sync::Arc;

const CHANNEL: &str = "whatsapp";

/// Meta's subscription check: `hub.mode=subscribe` and the right `hub.verify_token` get
/// `hub.challenge` back; anything else 403.
pub(crate) async fn verify(
    State(app): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(wa) = &app.settings.whatsapp else {
        return ApiError::NotConfigured("the WhatsApp Cloud API").into_response();
    };
    let mode_ok = q.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token_ok = q
        .get("hub.verify_token")
        .is_some_and(|t| wa.verify_token.matches(t));
    if mode_ok && token_ok {
        (
            StatusCode::OK,
            q.get("hub.challenge").cloned().unwrap_or_default(),
        )
            .into_response()
    } else {
        ApiError::Forbidden(if mode_ok {
            "hub.verify_token does not match VERIFY_TOKEN".into()
        } else {
            "expected hub.mode=subscribe".into()
        })
        .into_response()
    }
}

/// A webhook delivery.
pub(crate) async fn receive(
    State(app): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let Some(wa) = &app.settings.whatsapp else {
        return Err(ApiError::NotConfigured("the WhatsApp Cloud API"));
    };
    let bytes =
        crate::body::read_limited(&headers, body, app.settings.config.max_body_bytes).await?;
    let signature = headers.get(META_HEADER).and_then(|v| v.to_str().ok());
    verify_meta(wa.app_secret.expose(), &bytes, signature).map_err(|e| match e {
        SignatureError::Missing(_) => ApiError::Unauthorized(e.to_string()),
        _ => ApiError::Forbidden(e.to_string()),
    })?;
    let events = inbound::parse(&bytes).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let shared = app.clone();
    let queued = tokio::task::spawn_blocking(move || record(&shared, events)).await??;
    if queued > 0 {
        app.wake.notify();
    }
    Ok(StatusCode::OK)
}

/// Stores what the events say; returns how many messages were queued.
fn record(app: &Shared, events: Vec<Event>) -> Result<usize, ApiError> {
    let store = &app.store;
    let mut queued = 0;
    for event in events {
        let kind = match event {
            Event::Message(m) => {
                let (kind, text) = match m.content {
                    Content::Text(t) => ("text".to_string(), t),
                    Content::Choice { id, title } => (format!("choice:{id}"), title),
                    Content::Unsupported(what) => (format!("unsupported:{what}"), String::new()),
                };
                let job = NewJob {
                    channel: CHANNEL.into(),
                    message_id: m.id,
                    address: m.from,
                    user_name: m.name,
                    kind,
                    text,
                    reply_to: m.reply_to,
                };
                match store.accept(&job)? {
                    Accepted::Queued(_) => {
                        queued += 1;
                        "message"
                    }
                    Accepted::Duplicate => "duplicate",
                }
            }
            Event::Status(s) => {
                if let Some((code, title)) = &s.error {
                    tracing::warn!(code, title = %title, status = %s.status, "a reply was not delivered");
                    app.metrics.inc(
                        "raymundo_errors_total",
                        &[("stage", "delivery"), ("kind", &code.to_string())],
                    );
                }
                store.record_status(&DeliveryStatus {
                    recipient_key: store.user_key(CHANNEL, &s.recipient),
                    message_id: s.id,
                    status: s.status,
                    timestamp: s.timestamp,
                    error_code: s.error.as_ref().map(|e| e.0),
                    error_title: s.error.map(|e| e.1),
                })?;
                "status"
            }
            Event::Reaction(r) => {
                if store.outbound(&r.target)?.is_some() {
                    let user_key = store.user_key(CHANNEL, &r.from);
                    match r.emoji.as_deref() {
                        None => store.clear_feedback(&r.target, &user_key)?,
                        Some(emoji) => {
                            if let Some(value) = thumbs(emoji) {
                                store.set_feedback(&Feedback {
                                    message_id: r.target,
                                    user_key,
                                    value,
                                    emoji: emoji.to_string(),
                                })?;
                            }
                        }
                    }
                    "feedback"
                } else {
                    "reaction"
                }
            }
            Event::Ignored(_) => "ignored",
        };
        app.metrics.inc(
            "raymundo_webhook_events_total",
            &[("channel", CHANNEL), ("kind", kind)],
        );
    }
    Ok(queued)
}

/// +1 for 👍, -1 for 👎 (any skin tone), else `None`.
fn thumbs(emoji: &str) -> Option<i8> {
    let base: String = emoji
        .chars()
        .filter(|c| !('\u{1F3FB}'..='\u{1F3FF}').contains(c) && *c != '\u{FE0F}')
        .collect();
    match base.as_str() {
        "\u{1F44D}" => Some(1),
        "\u{1F44E}" => Some(-1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thumbs_up_and_down_with_any_skin_tone() {
        assert_eq!(super::thumbs("👍"), Some(1));
        assert_eq!(super::thumbs("👍🏽"), Some(1));
        assert_eq!(super::thumbs("👎"), Some(-1));
        assert_eq!(super::thumbs("😮"), None);
    }
}
