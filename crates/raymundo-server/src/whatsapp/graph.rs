//! Sending through the WhatsApp Cloud (Graph) API, blocking, with retries.
//!
//! Called from worker threads only. 5xx, 429 and connection failures are retried with
//! exponential backoff (honouring `Retry-After`); any other refusal is permanent and carries
//! Meta's error code and title (131047: outside the 24-hour window).

pub use crate::retry::SendError;
use crate::secret::Secret;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// A client of one business number's Graph API endpoints.
pub struct Graph {
    agent: ureq::Agent,
    messages_url: String,
    media_url: String,
    token: Secret,
    attempts: u32,
    backoff: Duration,
}

impl Graph {
    /// A client for `{graph_url}/{version}/{phone_number_id}`.
    pub fn new(
        graph_url: &str,
        version: &str,
        phone_number_id: &str,
        token: Secret,
        attempts: u32,
        backoff: Duration,
    ) -> Self {
        let base = format!("{graph_url}/{version}/{phone_number_id}");
        Self {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(5))
                .timeout(Duration::from_secs(60))
                .build(),
            messages_url: format!("{base}/messages"),
            media_url: format!("{base}/media"),
            token,
            attempts: attempts.max(1),
            backoff,
        }
    }

    /// Sends a text message to `to`, in reply to `context` if given; returns its `wamid`.
    pub fn send_text(
        &self,
        to: &str,
        body: &str,
        context: Option<&str>,
    ) -> Result<String, SendError> {
        let mut msg = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"preview_url": false, "body": body},
        });
        if let Some(id) = context {
            msg["context"] = json!({"message_id": id});
        }
        message_id(&self.post_json(&msg)?)
    }

    /// Marks `message_id` read and shows the typing indicator while the answer is written.
    /// One attempt: it is a courtesy, and retrying would only delay the answer.
    pub fn mark_read(&self, message_id: &str) -> Result<(), SendError> {
        let body = json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
            "typing_indicator": {"type": "text"},
        });
        crate::retry::with_retries(
            1,
            self.backoff,
            || {
                self.agent
                    .post(&self.messages_url)
                    .set("Authorization", &format!("Bearer {}", self.token.expose()))
                    .send_json(&body)
                    .map_err(Box::new)
            },
            graph_error,
        )
        .map(|_| ())
    }

    /// Uploads a file and sends it as a document; returns the message's `wamid`.
    pub fn send_document(
        &self,
        to: &str,
        path: &Path,
        context: Option<&str>,
    ) -> Result<String, SendError> {
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "documento".into());
        let media_id = self.upload(path, &filename)?;
        let mut msg = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "document",
            "document": {"id": media_id, "filename": filename},
        });
        if let Some(id) = context {
            msg["context"] = json!({"message_id": id});
        }
        message_id(&self.post_json(&msg)?)
    }

    fn upload(&self, path: &Path, filename: &str) -> Result<String, SendError> {
        let bytes = std::fs::read(path).map_err(|e| SendError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mime = mime_of(path);
        let boundary = format!(
            "raymundo-{:016x}",
            bytes.len() as u64 ^ 0x5eed_1234_abcd_0000
        );
        let mut body = Vec::with_capacity(bytes.len() + 512);
        for (name, value) in [("messaging_product", "whatsapp"), ("type", mime)] {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        let safe_name = filename.replace(['"', '\r', '\n'], "_");
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"{safe_name}\"\r\nContent-Type: {mime}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let v = self.with_retries(|| {
            self.agent
                .post(&self.media_url)
                .set("Authorization", &format!("Bearer {}", self.token.expose()))
                .set("Content-Type", &content_type)
                .send_bytes(&body)
                .map_err(Box::new)
        })?;
        v.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| SendError::Permanent {
                status: 200,
                code: 0,
                title: "the media upload answer has no id".into(),
            })
    }

    fn post_json(&self, body: &Value) -> Result<Value, SendError> {
        self.with_retries(|| {
            self.agent
                .post(&self.messages_url)
                .set("Authorization", &format!("Bearer {}", self.token.expose()))
                .send_json(body)
                .map_err(Box::new)
        })
    }

    fn with_retries(
        &self,
        call: impl Fn() -> Result<ureq::Response, Box<ureq::Error>>,
    ) -> Result<Value, SendError> {
        crate::retry::with_retries(self.attempts, self.backoff, call, graph_error)
    }
}

/// Meta's error code and the most specific description in an error body.
fn graph_error(body: &Value) -> (i64, String) {
    let e = &body["error"];
    let title = e["error_data"]["details"]
        .as_str()
        .or(e["message"].as_str())
        .or(e["title"].as_str())
        .unwrap_or("no error details");
    (e["code"].as_i64().unwrap_or(0), title.to_string())
}

fn message_id(v: &Value) -> Result<String, SendError> {
    v["messages"][0]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| SendError::Permanent {
            status: 200,
            code: 0,
            title: "the send answer has no messages[0].id".into(),
        })
}

fn mime_of(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pptx") => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Some("pdf") => "application/pdf",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    }
}
