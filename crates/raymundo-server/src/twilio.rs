//! Twilio's WhatsApp webhook (`POST /twilio`): form-encoded, signed with
//! `X-Twilio-Signature`; answered with TwiML when the reply is ready within
//! `server.twilio_wait_secs`, else acknowledged empty and sent later through Twilio's REST
//! API. The message goes through the same persisted, de-duplicated queue as WhatsApp Cloud
//! messages (keyed by `MessageSid`).

use crate::app::Shared;
use crate::error::ApiError;
use crate::retry::SendError;
use crate::settings::TwilioSettings;
use crate::signature::{verify_twilio, SignatureError, TWILIO_HEADER};
use crate::worker::{record_sent, Part, Plan};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use raymundo_store::{Accepted, Job, NewJob};
use std::sync::Arc;
use std::time::Duration;

const CHANNEL: &str = "twilio";

/// Sends messages through Twilio's REST API.
pub(crate) struct TwilioRest {
    agent: ureq::Agent,
    url: String,
    account_sid: String,
    auth_token: crate::secret::Secret,
    attempts: u32,
    backoff: Duration,
}

impl TwilioRest {
    /// A client, when the account SID is known.
    pub fn new(t: &TwilioSettings, api_url: &str, attempts: u32, backoff_ms: u64) -> Option<Self> {
        let sid = t.account_sid.clone()?;
        Some(Self {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .build(),
            url: format!(
                "{}/2010-04-01/Accounts/{sid}/Messages.json",
                api_url.trim_end_matches('/')
            ),
            account_sid: sid,
            auth_token: t.auth_token.clone(),
            attempts,
            backoff: Duration::from_millis(backoff_ms),
        })
    }

    fn send(&self, to: &str, from: &str, body: &str) -> Result<String, SendError> {
        use base64::Engine;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.account_sid,
            self.auth_token.expose()
        ));
        let v = crate::retry::with_retries(
            self.attempts,
            self.backoff,
            || {
                self.agent
                    .post(&self.url)
                    .set("Authorization", &format!("Basic {auth}"))
                    .send_form(&[("To", to), ("From", from), ("Body", body)])
                    .map_err(Box::new)
            },
            |b| {
                (
                    b["code"].as_i64().unwrap_or(0),
                    b["message"].as_str().unwrap_or("no error details").into(),
                )
            },
        )?;
        Ok(v["sid"].as_str().unwrap_or_default().to_string())
    }
}

/// The URL Twilio signed: `server.public_url` with the request's path, else the request's
/// `Host` with `X-Forwarded-Proto` (default `http`).
fn signed_url(app: &Shared, headers: &HeaderMap, uri: &Uri) -> String {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/twilio");
    if let Some(base) = &app.settings.config.public_url {
        return format!("{}{path}", base.trim_end_matches('/'));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let proto = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or(header(header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{proto}://{host}{path}")
}

fn twiml(plan: Option<&Plan>) -> Response {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>");
    for part in plan.map(|p| p.parts.as_slice()).unwrap_or_default() {
        if let Part::Text(t) = part {
            xml.push_str("<Message>");
            xml.push_str(&crate::html_escape(t));
            xml.push_str("</Message>");
        }
    }
    xml.push_str("</Response>");
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// `POST /twilio`.
pub(crate) async fn receive(
    State(app): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(tw) = &app.settings.twilio else {
        return Err(ApiError::NotConfigured("Twilio"));
    };
    let bytes =
        crate::body::read_limited(&headers, body, app.settings.config.max_body_bytes).await?;
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("expected a form-encoded body: {e}")))?;
    let url = signed_url(&app, &headers, &uri);
    let signature = headers.get(TWILIO_HEADER).and_then(|v| v.to_str().ok());
    verify_twilio(tw.auth_token.expose(), &url, &params, signature).map_err(|e| match e {
        SignatureError::Missing(_) => ApiError::Unauthorized(e.to_string()),
        _ => ApiError::Forbidden(e.to_string()),
    })?;
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let sid = get("MessageSid")
        .or_else(|| get("SmsMessageSid"))
        .ok_or_else(|| ApiError::BadRequest("missing MessageSid".into()))?;
    let from = get("From").ok_or_else(|| ApiError::BadRequest("missing From".into()))?;
    let to = get("To").ok_or_else(|| ApiError::BadRequest("missing To".into()))?;
    let media: u32 = get("NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0);
    let (kind, text) = if let Some(payload) = get("ButtonPayload") {
        let title = get("ButtonText").unwrap_or_else(|| payload.clone());
        (format!("choice:{payload}"), title)
    } else if let Some(text) = get("Body") {
        ("text".to_string(), text)
    } else if media > 0 {
        ("unsupported:media".to_string(), String::new())
    } else if get("Latitude").is_some() {
        ("unsupported:location".to_string(), String::new())
    } else {
        ("unsupported:empty".to_string(), String::new())
    };
    let job = NewJob {
        channel: CHANNEL.into(),
        message_id: sid.clone(),
        address: format!("{from}\n{to}"),
        user_name: get("ProfileName"),
        kind,
        text,
        reply_to: get("OriginalRepliedMessageSid"),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    waiters(&app).insert(sid.clone(), tx);
    let shared = app.clone();
    let accepted = tokio::task::spawn_blocking(move || shared.store.accept(&job)).await;
    let accepted = match accepted {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            waiters(&app).remove(&sid);
            return Err(e.into());
        }
        Err(e) => {
            waiters(&app).remove(&sid);
            return Err(e.into());
        }
    };
    app.metrics.inc(
        "raymundo_webhook_events_total",
        &[
            ("channel", CHANNEL),
            (
                "kind",
                if accepted == Accepted::Duplicate {
                    "duplicate"
                } else {
                    "message"
                },
            ),
        ],
    );
    if accepted == Accepted::Duplicate {
        waiters(&app).remove(&sid);
        return Ok(twiml(None));
    }
    app.wake.notify();
    let wait = Duration::from_secs(app.settings.config.twilio_wait_secs);
    match tokio::time::timeout(wait, rx).await {
        Ok(Ok(plan)) => Ok(twiml(Some(&plan))),
        _ => {
            waiters(&app).remove(&sid);
            Ok(twiml(None))
        }
    }
}

fn waiters(
    app: &Shared,
) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, tokio::sync::oneshot::Sender<Plan>>>
{
    app.twilio_waiters.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends a Twilio job's reply: to the waiting webhook request (TwiML) if it still waits,
/// else through the REST API.
pub(crate) fn deliver(shared: &Shared, job: &Job, plan: &Plan) -> Result<(), SendError> {
    let waiting = waiters(shared).remove(&job.message_id);
    if let Some(tx) = waiting {
        if job.parts_sent == 0 && tx.send(plan.clone()).is_ok() {
            for i in 0..plan.parts.len() {
                record_sent(shared, job, i, format!("{}:twiml:{i}", job.message_id));
            }
            return Ok(());
        }
    }
    let Some(rest) = &shared.twilio else {
        return Err(SendError::Permanent {
            status: 0,
            code: 0,
            title: "the answer came after the TwiML wait and TWILIO_ACCOUNT_SID is not set \
                    to send it through the REST API"
                .into(),
        });
    };
    let (to, from) = job.address.split_once('\n').unwrap_or((&job.address, ""));
    for (i, part) in plan.parts.iter().enumerate().skip(job.parts_sent as usize) {
        match part {
            Part::Text(text) => {
                let sid = rest.send(to, from, text)?;
                record_sent(
                    shared,
                    job,
                    i,
                    if sid.is_empty() {
                        format!("{}:rest:{i}", job.message_id)
                    } else {
                        sid
                    },
                );
            }
            Part::File(path) => {
                tracing::warn!(
                    "a file of the reply is not sent over Twilio (it needs a public media URL): {}",
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
