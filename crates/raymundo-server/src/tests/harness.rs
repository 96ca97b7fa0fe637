//! A real server on an ephemeral port over a real SQLite file (or any store), a fake responder, and a
//! fake Graph API that records what it is sent.

use crate::testing::FakeChannel;
use crate::{Incoming, Limits, Reply, Responder, Server, Settings};
use raymundo_core::ServerConfig;
use raymundo_store::{Backend, SqliteStore};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const TWILIO_TOKEN: &str = "test-twilio-token";
/// The intents the review pages offer as corrections.
pub const INTENTS: [&str; 3] = [
    "consultar_pedido",
    "crear_presentacion",
    "hablar_con_humano",
];

/// Answers `Respuesta a: <text>`; a text containing `largo` gets a 10,000-character
/// answer, `presentación` a `.pptx`, `falla` an error, `lento` a 300 ms wait first.
pub struct FakeResponder {
    pub calls: Mutex<Vec<Incoming>>,
    pub cleared: Mutex<Vec<String>>,
    pub file: PathBuf,
}

impl Responder for FakeResponder {
    fn reply(&self, msg: &Incoming, on_text: &mut dyn FnMut(&str)) -> anyhow::Result<Reply> {
        self.calls.lock().unwrap().push(msg.clone());
        if msg.text.contains("lento") {
            std::thread::sleep(Duration::from_millis(300));
        }
        if msg.text.contains("falla") {
            anyhow::bail!("the model is down");
        }
        let text = if msg.text.contains("largo") {
            (0..400)
                .map(|i| format!("Frase número {i} de una respuesta larga."))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            format!("Respuesta a: {}", msg.text)
        };
        if msg.text.contains("stream") {
            on_text("Respuesta ");
            on_text("a: ");
        }
        let files = if msg.text.contains("presentación") {
            vec![self.file.clone()]
        } else {
            vec![]
        };
        Ok(Reply {
            text,
            files,
            sources: vec!["faq/envios.md".into()],
            provider: Some("fake".into()),
            in_scope: true,
        })
    }

    fn clear_history(&self, user: &str) -> anyhow::Result<()> {
        self.cleared.lock().unwrap().push(user.to_string());
        Ok(())
    }
}

/// A running server.
pub struct TestServer {
    pub url: String,
    /// The address it listens on (127.0.0.1).
    pub addr: SocketAddr,
    pub responder: Arc<FakeResponder>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts on `db`, sending to `graph`, with `tweak` applied to the settings.
    pub fn start(
        db: &Path,
        graph: &FakeChannel,
        tweak: impl FnOnce(&mut ServerConfig, &mut Vec<(String, String)>),
    ) -> Self {
        let store = Arc::new(SqliteStore::open(db).unwrap());
        Self::start_on(store, db.parent().unwrap(), graph, tweak)
    }

    /// Starts on `db` with `limits` on connections.
    pub fn start_with(
        db: &Path,
        graph: &FakeChannel,
        limits: Limits,
        tweak: impl FnOnce(&mut ServerConfig, &mut Vec<(String, String)>),
    ) -> Self {
        let store = Arc::new(SqliteStore::open(db).unwrap());
        Self::start_limited(store, db.parent().unwrap(), graph, limits, tweak)
    }

    /// Starts on `store` (files it writes go to `dir`), sending to `graph`.
    pub fn start_on(
        store: Arc<dyn Backend>,
        dir: &Path,
        graph: &FakeChannel,
        tweak: impl FnOnce(&mut ServerConfig, &mut Vec<(String, String)>),
    ) -> Self {
        Self::start_limited(store, dir, graph, Limits::default(), tweak)
    }

    fn start_limited(
        store: Arc<dyn Backend>,
        dir: &Path,
        graph: &FakeChannel,
        limits: Limits,
        tweak: impl FnOnce(&mut ServerConfig, &mut Vec<(String, String)>),
    ) -> Self {
        let mut config = ServerConfig {
            send_backoff_ms: 10,
            rate_limit_per_minute: 0,
            drain_secs: 5,
            ..ServerConfig::default()
        };
        let mut env: Vec<(String, String)> = [
            ("VERIFY_TOKEN", VERIFY_TOKEN),
            ("APP_SECRET", APP_SECRET),
            ("WHATSAPP_TOKEN", "test-whatsapp-token"),
            ("PHONE_NUMBER_ID", "1122334455667"),
            ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
            ("TWILIO_ACCOUNT_SID", "AC123"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.push(("GRAPH_URL".into(), graph.url.clone()));
        config.twilio_api_url = graph.url.clone();
        tweak(&mut config, &mut env);
        let settings = Settings::load(&config, |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .unwrap();
        let file = dir.join("deck.pptx");
        std::fs::write(&file, b"PK fake pptx").unwrap();
        let responder = Arc::new(FakeResponder {
            calls: Mutex::new(Vec::new()),
            cleared: Mutex::new(Vec::new()),
            file,
        });
        let admin = crate::AdminSetup {
            interactions: store.clone(),
            intents: INTENTS.iter().map(|i| i.to_string()).collect(),
        };
        let server = Server::new(settings, store, responder.clone())
            .unwrap()
            .with_admin(admin)
            .with_limits(limits);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                server
                    .run(listener, async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = ready_rx.recv().unwrap();
        Self {
            url: format!("http://{addr}"),
            addr,
            responder,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops (graceful: drains the queue) and waits.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The texts the responder was asked, in order.
    pub fn asked(&self) -> Vec<String> {
        self.responder
            .calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.text.clone())
            .collect()
    }

    /// POSTs a signed webhook body.
    pub fn webhook(&self, body: &[u8]) -> (u16, String) {
        let sig = crate::signature::meta_signature(APP_SECRET, body);
        request(
            "POST",
            &format!("{}/webhook", self.url),
            &[
                ("X-Hub-Signature-256", &sig),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    }

    /// GET with headers; (status, body).
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        request("GET", &format!("{}{path}", self.url), headers, b"")
    }

    /// `/stats` as JSON.
    pub fn stats(&self) -> Value {
        serde_json::from_str(&self.get("/stats", &[]).1).unwrap()
    }

    /// Waits until every accepted message is answered or failed.
    pub fn wait_idle(&self) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.stats();
            if s["queue"]["queued"] == 0 && s["queue"]["working"] == 0 {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "queue never emptied: {s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One HTTP request; (status, body) whatever the status.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut req = ureq::request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = if method == "GET" || method == "DELETE" {
        req.call()
    } else {
        req.send_bytes(body)
    };
    match result {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

/// A fixture's exact bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../raymundo-channels/fixtures/whatsapp-cloud")
            .join(format!("{name}.json")),
    )
    .unwrap()
}

/// The fixture with its message ids replaced by `fresh` (the rest of the bytes untouched).
pub fn with_id(bytes: &[u8], fresh: &str) -> Vec<u8> {
    let v: Value = serde_json::from_slice(bytes).unwrap();
    let mut text = String::from_utf8(bytes.to_vec()).unwrap();
    for entry in v["entry"].as_array().unwrap() {
        for change in entry["changes"].as_array().unwrap() {
            for m in change["value"]["messages"].as_array().into_iter().flatten() {
                let id = m["id"].as_str().unwrap();
                text = text.replace(&format!("\"{id}\""), &format!("\"{fresh}\""));
            }
        }
    }
    text.into_bytes()
}

/// A text message webhook body from `from` with id `id`.
pub fn text_message(id: &str, from: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5215550000", "phone_number_id": "1122334455667"},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1700000000",
                          "type": "text", "text": {"body": text}}]
        }}]}]
    }))
    .unwrap()
}

/// A TCP connection to `to` from the local address `from`: another loopback address such as
/// 127.0.0.2 is another client as far as the server can tell.
pub fn connect_from(from: IpAddr, to: SocketAddr) -> std::net::TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        let stream = socket.connect(to).await.unwrap();
        let stream = stream.into_std().unwrap();
        stream.set_nonblocking(false).unwrap();
        stream
    })
}

/// A raw response: status, headers (names lowercased), body.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Raw {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// Parses what a server wrote on a connection (one response, `Content-Length` body).
pub fn parse_raw(bytes: &[u8]) -> Option<Raw> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Raw {
        status,
        headers,
        body: body.to_string(),
    })
}

/// One HTTP/1.1 request to `server` from the local address `from`.
pub fn request_from(
    from: &str,
    server: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Raw {
    let mut stream = connect_from(from.parse().unwrap(), server);
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    parse_raw(&out).unwrap_or_else(|| panic!("not an HTTP response: {out:?}"))
}
