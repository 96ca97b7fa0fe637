//! The OpenAI-compatible API: `POST /v1/chat/completions` (streamed as server-sent
//! `chat.completion.chunk` events ending with `data: [DONE]`, or whole) and
//! `GET /v1/models`, so any OpenAI client or chat UI can talk to Raymundo.
//!
//! The last user message is the question; Raymundo keeps its own conversation per `user`,
//! so earlier messages in the request are not replayed. A request without `user` starts a
//! new conversation, whose id the response carries (`X-Raymundo-User`, and `user` next to
//! `choices`) to send back as `user`; whose conversation an id reaches: see
//! [`crate::identity`]. Answers carry their sources (in the text, and as `sources` next to
//! `choices`).

use crate::api::{answer, check_api_key, check_rate, json_object, with_user_header};
use crate::app::Shared;
use crate::error::ApiError;
use crate::peer::Peer;
use crate::responder::{Channel, Incoming, Reply};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The model name Raymundo answers as.
pub const MODEL: &str = "raymundo";

/// `GET /v1/models`.
pub(crate) async fn models(
    State(app): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    check_api_key(&app, peer, &headers)?;
    Ok(Json(json!({
        "object": "list",
        "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "raymundo"}],
    })))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The text of a message's `content`: a string, or the `text` parts of an array.
fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let text: Vec<&str> = parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            (!text.is_empty()).then(|| text.join("\n"))
        }
        _ => None,
    }
}

/// `POST /v1/chat/completions`.
pub(crate) async fn completions(
    State(app): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = check_api_key(&app, peer, &headers)?;
    let req = json_object(&body)?;
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::BadRequest("missing \"messages\" (an array)".into()))?;
    let question = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .ok_or_else(|| {
            ApiError::BadRequest("\"messages\" has no message with role \"user\"".into())
        })?;
    let text = question
        .get("content")
        .and_then(content_text)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("the last user message has no text \"content\"".into())
        })?;
    let conversation =
        caller.conversation(Channel::OpenAi, req.get("user").and_then(Value::as_str))?;
    check_rate(&app, Channel::OpenAi, &caller.rate_key(&conversation))?;
    let msg = Incoming {
        channel: Channel::OpenAi,
        user: conversation.user,
        user_name: None,
        text,
        choice: None,
        reply_to: None,
        message_id: None,
    };
    let id = format!("chatcmpl-{}", crate::secret::random_hex(12));
    let created = now();
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        return Ok(with_user_header(
            stream(app, msg, id, created),
            &conversation.id,
        ));
    }
    let reply = answer(&app, msg, |_| {}).await?;
    let response = Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply.text},
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "sources": reply.sources,
        "user": conversation.id,
    }))
    .into_response();
    Ok(with_user_header(response, &conversation.id))
}

fn chunk(id: &str, created: u64, delta: Value, finish: Option<&str>) -> Bytes {
    let v = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    Bytes::from(format!("data: {v}\n\n"))
}

/// Streams the answer as it is written: pieces from the responder's `on_text`, then
/// whatever of the final text was not streamed (such as the sources), then `[DONE]`.
fn stream(app: Arc<Shared>, msg: Incoming, id: String, created: u64) -> Response {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let first = chunk(
        &id,
        created,
        json!({"role": "assistant", "content": ""}),
        None,
    );
    let _ = tx.send(first);
    tokio::spawn(async move {
        let streamed = Arc::new(std::sync::Mutex::new(String::new()));
        let (piece_tx, piece_id, seen) = (tx.clone(), id.clone(), streamed.clone());
        let on_text = move |piece: &str| {
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_str(piece);
            let _ = piece_tx.send(chunk(&piece_id, created, json!({"content": piece}), None));
        };
        let result: Result<Reply, ApiError> = answer(&app, msg, on_text).await;
        match result {
            Ok(reply) => {
                let sent = streamed.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let rest = reply
                    .text
                    .strip_prefix(sent.as_str())
                    .unwrap_or(if sent.is_empty() {
                        reply.text.as_str()
                    } else {
                        ""
                    });
                if !rest.is_empty() {
                    let _ = tx.send(chunk(&id, created, json!({"content": rest}), None));
                }
                let _ = tx.send(chunk(&id, created, json!({}), Some("stop")));
            }
            Err(e) => {
                let _ = tx.send(Bytes::from(format!(
                    "data: {}\n\n",
                    json!({"error": {"message": e.to_string(), "type": "server_error"}})
                )));
            }
        }
        let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n"));
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<Bytes, std::convert::Infallible>(b), rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| ApiError::Internal(anyhow::anyhow!("response")).into_response())
}
