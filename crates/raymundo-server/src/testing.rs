//! A fake Graph API / Twilio REST server for tests (feature `test-support`): it records
//! every request and answers like the real ones, or fails as a test scripts it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Path (with query).
    pub path: String,
    /// `Authorization` header.
    pub authorization: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// Raw body.
    pub body: Vec<u8>,
    /// The body as JSON, when it is JSON.
    pub json: Option<Value>,
    /// The body as form fields, when it is a form.
    pub form: Vec<(String, String)>,
    /// The status the fake answered.
    pub status: u16,
    /// The id the fake gave the sent message or upload, when it succeeded.
    pub answered_id: Option<String>,
}

#[derive(Default)]
struct Script {
    fail_next: VecDeque<u16>,
    refused: HashMap<String, (i64, String)>,
}

#[derive(Default)]
struct Inner {
    recorded: Mutex<Vec<Recorded>>,
    script: Mutex<Script>,
    counter: Mutex<u64>,
}

/// The fake server; stops when dropped.
pub struct FakeChannel {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    inner: Arc<Inner>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeChannel {
    /// Starts on an ephemeral port of 127.0.0.1.
    pub fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let state = inner.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                ready_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("ready");
                let app = Router::new().fallback(record).with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = ready_rx.recv().expect("fake channel started");
        Self {
            url: format!("http://{addr}"),
            inner,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.recorded.lock().unwrap().clone()
    }

    /// The JSON bodies of Graph `/messages` calls that sent a message (answered 200; not
    /// mark-as-read).
    pub fn sent(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/messages") && r.status == 200)
            .filter_map(|r| r.json)
            .filter(|j| j.get("status").is_none())
            .collect()
    }

    /// The next `n` calls answer `status` (500, 429 ...) with a Graph error body.
    pub fn fail_next(&self, status: u16, n: usize) {
        let mut s = self.inner.script.lock().unwrap();
        s.fail_next.extend(std::iter::repeat_n(status, n));
    }

    /// Sends to `to` are refused with HTTP 400 and Meta's error `code`.
    pub fn refuse_recipient(&self, to: &str, code: i64, title: &str) {
        let mut s = self.inner.script.lock().unwrap();
        s.refused.insert(to.to_string(), (code, title.to_string()));
    }

    /// Waits (up to a minute) until `done` holds for the sent messages; returns them.
    pub fn wait_sent(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let sent = self.sent();
            if done(&sent) {
                return sent;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; sent: {sent:#?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakeChannel {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn record(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let content_type = header("content-type");
    let form = if content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        serde_urlencoded::from_bytes(&body).unwrap_or_default()
    } else {
        Vec::new()
    };
    let path = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let to = json
        .as_ref()
        .and_then(|j| j["to"].as_str())
        .map(str::to_string);
    let is_status = json.as_ref().is_some_and(|j| j.get("status").is_some());
    let (fail, refused) = {
        let mut s = inner.script.lock().unwrap();
        let fail = s.fail_next.pop_front();
        let refused = to.and_then(|t| s.refused.get(&t).cloned());
        (fail, refused)
    };
    let (status, answer, answered_id) = if let Some(status) = fail {
        (
            status,
            json!({"error": {"message": "scripted failure", "code": 2}}),
            None,
        )
    } else if let Some((code, title)) = refused {
        (
            400,
            json!({"error": {"message": title, "code": code, "error_data": {"details": title}}}),
            None,
        )
    } else {
        let n = {
            let mut c = inner.counter.lock().unwrap();
            *c += 1;
            *c
        };
        if path.ends_with("/media") {
            let id = format!("media.{n}");
            (200, json!({"id": id}), Some(id))
        } else if path.ends_with("Messages.json") {
            let id = format!("SM{n:032}");
            (200, json!({"sid": id}), Some(id))
        } else if is_status {
            (200, json!({"success": true}), None)
        } else {
            let id = format!("wamid.out.{n}");
            (
                200,
                json!({"messaging_product": "whatsapp", "messages": [{"id": id}]}),
                Some(id),
            )
        }
    };
    inner.recorded.lock().unwrap().push(Recorded {
        path,
        authorization: header("authorization"),
        content_type,
        body: body.to_vec(),
        json,
        form,
        status,
        answered_id,
    });
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(answer)).into_response()
}
