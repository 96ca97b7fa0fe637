//! Clients that hold connections without finishing their request (slowloris): headers that
//! never end, a body that trickles, more connections than the server takes. The server cuts
//! them off within its limits and keeps answering everyone else.

use super::harness::*;
use crate::testing::FakeChannel;
use crate::Limits;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Short limits, so that the tests wait seconds, not minutes.
fn short() -> Limits {
    Limits {
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    }
}

fn server(limits: Limits) -> (tempfile::TempDir, FakeChannel, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let server = TestServer::start_with(&dir.path().join("raymundo.db"), &graph, limits, |_, _| {});
    (dir, graph, server)
}

/// Waits for the server to answer or close `stream`; what it wrote, and when it did.
fn outcome(mut stream: TcpStream, started: Instant) -> (Vec<u8>, Duration) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // A reset is a closed connection too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server neither answered nor closed the connection in {:?}: {e}",
                started.elapsed()
            ),
        }
    }
    (out, started.elapsed())
}

/// Closed, or answered 408.
fn cut_off(written: &[u8]) -> bool {
    written.is_empty() || parse_raw(written).is_some_and(|r| r.status == 408)
}

#[test]
fn headers_that_never_end_are_cut_off_while_others_are_served() {
    let (_d, _g, s) = server(short());
    let mut slow = TcpStream::connect(s.addr).unwrap();
    let started = Instant::now();
    slow.write_all(b"POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: applica")
        .unwrap();
    // Meanwhile an ordinary request is answered at once.
    let t = Instant::now();
    let (status, _) = s.get("/health", &[]);
    assert_eq!(status, 200);
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let (written, after) = outcome(slow, started);
    assert!(cut_off(&written), "{}", String::from_utf8_lossy(&written));
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(4),
        "cut off after {after:?}, the header timeout is 1 s"
    );
}

#[test]
fn a_body_that_trickles_gets_408_within_the_body_timeout() {
    let (_d, _g, s) = server(short());
    let mut slow = TcpStream::connect(s.addr).unwrap();
    let started = Instant::now();
    slow.write_all(
        b"POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"mensaje\": \"",
    )
    .unwrap();
    // One byte every 100 ms: never idle long, never done.
    let writer = slow.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        let mut writer = writer;
        for _ in 0..60 {
            if writer.write_all(b"a").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let (status, _) = s.get("/health", &[]);
    assert_eq!(status, 200);
    let (written, after) = outcome(slow, started);
    trickle.join().unwrap();
    assert!(cut_off(&written), "{}", String::from_utf8_lossy(&written));
    if let Some(r) = parse_raw(&written) {
        assert!(r.body.contains("error"), "{}", r.body);
    }
    assert!(
        after < Duration::from_secs(4),
        "cut off after {after:?}, the body timeout is 1 s"
    );
    assert!(s.asked().is_empty(), "half a request reached the assistant");
}

#[test]
fn a_stalled_body_is_answered_408_at_the_body_timeout() {
    let (_d, _g, s) = server(short());
    let mut slow = TcpStream::connect(s.addr).unwrap();
    let started = Instant::now();
    slow.write_all(
        b"POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"men",
    )
    .unwrap();
    let (written, after) = outcome(slow, started);
    let r = parse_raw(&written).unwrap_or_else(|| panic!("no answer: {written:?}"));
    assert_eq!(r.status, 408, "{r:?}");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(3),
        "answered after {after:?}, the body timeout is 1 s"
    );
}

#[test]
fn connections_over_the_cap_wait_until_one_is_free() {
    let limits = Limits {
        max_connections: 2,
        ..short()
    };
    let (_d, _g, s) = server(limits);
    // Two connections that never send anything take both places ...
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    // ... so a third waits until the header timeout frees one, then is served.
    let t = Instant::now();
    let (status, _) = s.get("/health", &[]);
    let waited = t.elapsed();
    assert_eq!(status, 200);
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(5),
        "served after {waited:?}"
    );
    drop(idle);
}
