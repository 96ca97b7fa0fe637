//! A real HTTP server on 127.0.0.1 for the provider tests: it records every request and
//! answers each connection with the next scripted reply, written piece by piece.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// How many streamed pieces the client has shown so far, shared with the server so that a
/// stepwise reply writes piece `i + 1` only after the client showed piece `i`: streaming is
/// then proved by causality, not by timing on a busy machine.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    inner: Arc<(Mutex<(usize, bool)>, Condvar)>,
}

impl Seen {
    /// The client showed one more piece.
    pub fn piece(&self) {
        let (state, changed) = &*self.inner;
        state.lock().unwrap().0 += 1;
        changed.notify_all();
    }

    /// Whether the server had to go on without the client having shown a piece (the client
    /// held the stream back).
    pub fn server_gave_up(&self) -> bool {
        self.inner.0.lock().unwrap().1
    }

    /// Waits until `count` pieces were shown, at most 10 s.
    fn wait_for(&self, count: usize) {
        let (state, changed) = &*self.inner;
        let guard = state.lock().unwrap();
        let (mut guard, timeout) = changed
            .wait_timeout_while(guard, Duration::from_secs(10), |s| s.0 < count)
            .unwrap();
        if timeout.timed_out() {
            guard.1 = true;
        }
    }
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST`, `GET` ...
    pub method: String,
    /// The path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body, as sent.
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
}

/// What the server does while answering: write bytes (flushed at once) or pause.
#[derive(Debug, Clone)]
enum Step {
    Write(Vec<u8>),
    Pause(Duration),
    AwaitSeen(Seen, usize),
}

/// A scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    steps: Vec<Step>,
}

fn head(status: u16, headers: &[(&str, &str)]) -> String {
    let mut head = format!("HTTP/1.1 {status} Scripted\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

impl Reply {
    /// A complete response with `Content-Length`.
    pub fn body(status: u16, content_type: &str, body: &str) -> Self {
        Self::with_headers(status, &[("Content-Type", content_type)], body)
    }

    /// A JSON response with status 200.
    pub fn json(body: &str) -> Self {
        Self::body(200, "application/json", body)
    }

    /// A complete response with these extra headers.
    pub fn with_headers(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        let length = body.len().to_string();
        let mut all = headers.to_vec();
        all.push(("Content-Length", &length));
        let bytes = format!("{}{body}", head(status, &all)).into_bytes();
        Self {
            steps: vec![Step::Write(bytes)],
        }
    }

    /// A response whose body is `pieces` in chunked encoding, each flushed after `pause`;
    /// `finish` writes the closing zero-length chunk (without it the stream is cut).
    pub fn chunked(content_type: &str, pieces: &[&str], pause: Duration, finish: bool) -> Self {
        let mut steps = vec![Step::Write(
            head(
                200,
                &[
                    ("Content-Type", content_type),
                    ("Transfer-Encoding", "chunked"),
                ],
            )
            .into_bytes(),
        )];
        for piece in pieces {
            steps.push(Step::Pause(pause));
            let chunk = format!("{:x}\r\n{piece}\r\n", piece.len());
            steps.push(Step::Write(chunk.into_bytes()));
        }
        if finish {
            steps.push(Step::Write(b"0\r\n\r\n".to_vec()));
        }
        Self { steps }
    }

    /// Like [`Reply::chunked`] (finished), but piece `i` is written only once `seen` counts
    /// `shown_before[i]` pieces shown by the client, and then after `pause`.
    pub fn stepwise(
        content_type: &str,
        pieces: &[&str],
        shown_before: &[usize],
        pause: Duration,
        seen: &Seen,
    ) -> Self {
        assert_eq!(pieces.len(), shown_before.len());
        let mut reply = Self::chunked(content_type, pieces, pause, true);
        let mut steps = Vec::new();
        let mut waits = shown_before.iter();
        for step in reply.steps {
            if matches!(step, Step::Pause(_)) {
                if let Some(&count) = waits.next() {
                    steps.push(Step::AwaitSeen(seen.clone(), count));
                }
            }
            steps.push(step);
        }
        reply.steps = steps;
        reply
    }

    /// A response without length or chunking whose body ends when the server closes the
    /// connection, after writing `pieces` with `pause` before each.
    pub fn until_close(content_type: &str, pieces: &[&str], pause: Duration) -> Self {
        let mut steps = vec![Step::Write(
            head(200, &[("Content-Type", content_type)]).into_bytes(),
        )];
        for piece in pieces {
            steps.push(Step::Pause(pause));
            steps.push(Step::Write(piece.as_bytes().to_vec()));
        }
        Self { steps }
    }

    /// The same reply, after waiting `pause` before writing anything.
    pub fn after(mut self, pause: Duration) -> Self {
        self.steps.insert(0, Step::Pause(pause));
        self
    }

    /// The same reply, then waiting `pause` before closing the connection.
    pub fn then_stall(mut self, pause: Duration) -> Self {
        self.steps.push(Step::Pause(pause));
        self
    }
}

/// The server; it stops when dropped.
pub struct ScriptedServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl ScriptedServer {
    /// Starts a server answering connection number `i` with `replies[i]` (a 500 once they
    /// run out).
    pub fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let (recorded, stopping) = (Arc::clone(&requests), Arc::clone(&stop));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (recorded, replies) = (Arc::clone(&recorded), Arc::clone(&replies));
                thread::spawn(move || serve(stream, &recorded, &replies));
            }
        });
        Self {
            addr,
            requests,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads one request, records it, and plays the next reply. Write errors (the client gave
/// up, e.g. after a timeout) end the reply quietly.
fn serve(stream: TcpStream, recorded: &Mutex<Vec<Request>>, replies: &Mutex<VecDeque<Reply>>) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    recorded.lock().unwrap().push(request);
    let reply = replies.lock().unwrap().pop_front().unwrap_or_else(|| {
        Reply::body(
            500,
            "text/plain",
            "the test scripted no reply for this request",
        )
    });
    let mut stream = stream;
    for step in reply.steps {
        match step {
            Step::Pause(pause) => thread::sleep(pause),
            Step::AwaitSeen(seen, count) => seen.wait_for(count),
            Step::Write(bytes) => {
                if stream
                    .write_all(&bytes)
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}
