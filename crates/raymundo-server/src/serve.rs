//! Accepting connections with limits, so that clients that hold connections open without
//! finishing their requests (slowloris and the like) cannot take the server away from
//! everyone else:
//!
//! - at most [`Limits::max_connections`] connections are served at once; more wait in the
//!   listen queue until one ends (accepting stops meanwhile), and one public address may
//!   hold at most [`Limits::max_connections_per_ip`] of them; more are closed at once;
//! - a request's headers must arrive within [`Limits::header_read_timeout`], timed from
//!   when the server starts waiting for them, so an idle kept-alive connection is closed
//!   after that time too;
//! - its body must arrive whole within [`Limits::body_read_timeout`] of the headers (else
//!   408 and the connection is closed), however steadily it trickles; it is read (up to
//!   `server.max_body_bytes`, else 413) before any handler runs.
//!
//! Every request carries its peer's address ([`ConnectInfo`]`<SocketAddr>`).

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Time for a request's headers to arrive: a real client sends them in one go within
/// milliseconds; 10 s leaves room for a slow mobile link and frees a stalled or idle
/// connection quickly.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a request's whole body to arrive after its headers: 30 s carries the largest
/// body allowed by default (3 MB) over a 1 Mbit/s link; webhook and API bodies are a few KB.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once: far above what the webhooks and APIs of one company need,
/// and well inside the usual limit of 1,024 open files, which the database, the index and
/// the outgoing connections share.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections one client address may hold at once: a person's browser opens a handful, an
/// office behind one address a few dozen. Addresses of this machine and of private
/// networks are not limited, since a reverse proxy or load balancer in front of the server
/// connects from there for everyone.
pub const MAX_CONNECTIONS_PER_IP: usize = 64;

/// Limits on how clients may hold the server's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time for a request's headers to arrive (and for an idle connection to send another
    /// request) before the connection is closed.
    pub header_read_timeout: Duration,
    /// Time for a request's body to arrive whole after its headers before the request is
    /// answered 408 and the connection closed.
    pub body_read_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Connections one public address may hold at once; more are closed (loopback and
    /// private-network addresses, where proxies connect from, are not limited).
    pub max_connections_per_ip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_connections_per_ip: MAX_CONNECTIONS_PER_IP,
        }
    }
}

/// Open connections per client address.
#[derive(Debug, Default)]
struct PerIp {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its address; uncounted when dropped.
struct IpSlot {
    counts: Arc<PerIp>,
    client: IpAddr,
}

impl PerIp {
    /// Counts a connection from `client`, or `None` when it already holds `max`.
    fn take(self: &Arc<Self>, client: IpAddr, max: usize) -> Option<IpSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(client).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            counts: self.clone(),
            client,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets each connection finish the request it is serving, and returns when all
/// have closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Dropping the receiver tells everyone to stop; the connections hold `closed` receivers
    // so the end can wait for them.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    let (closed_tx, closed_rx) = watch::channel(());
    let places = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_ip = Arc::new(PerIp::default());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let http = Arc::new(http);
    loop {
        // A free place first: while there is none, connections wait in the listen queue.
        let place = tokio::select! {
            p = places.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop_tx.closed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = stop_tx.closed() => break,
        };
        let client = crate::peer::client_ip(peer.ip());
        let slot = if is_proxy_address(client) {
            None
        } else {
            match per_ip.take(client, limits.max_connections_per_ip) {
                Some(slot) => Some(slot),
                None => {
                    refused_for_address();
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            tower_service::Service::call(&mut router, req.map(Body::new))
        });
        let http = http.clone();
        let stop_tx = stop_tx.clone();
        let closed_rx = closed_rx.clone();
        tokio::spawn(async move {
            let conn = http.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop_tx.closed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!("connection ended: {e}");
            }
            drop((place, slot, closed_rx));
        });
    }
    drop(closed_rx);
    drop(listener);
    closed_tx.closed().await;
}

/// Whether `ip` is where a reverse proxy or load balancer would connect from: this machine
/// or a private network (RFC 1918, IPv6 unique local).
fn is_proxy_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Logs (at most once a minute, so that a flood does not flood the log too) that a
/// connection was closed because its address holds too many.
fn refused_for_address() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static REFUSED: AtomicU64 = AtomicU64::new(0);
    static LOGGED_MINUTE: AtomicU64 = AtomicU64::new(0);
    let refused = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
    let minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0);
    if LOGGED_MINUTE.swap(minute, Ordering::Relaxed) != minute {
        tracing::warn!(
            refused_so_far = refused,
            "connections from an address that already holds too many were closed"
        );
    }
}

/// Waits a moment after an accept error that is about the server (such as too many open
/// files), so as not to spin; a client that went away is no reason to wait.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!("cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// How much of a body is read, and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    /// `server.max_body_bytes`.
    pub max_bytes: usize,
    /// [`Limits::body_read_timeout`].
    pub timeout: Duration,
}

/// Reads the request's body whole within the body timeout (408 and the connection closed
/// when it does not arrive in time) and up to `server.max_body_bytes` (413), before the
/// handler runs.
pub(crate) async fn read_body(
    State(limits): State<BodyLimits>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let read = crate::body::read_limited(&parts.headers, body, limits.max_bytes);
    match tokio::time::timeout(limits.timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => close(e.into_response()),
        Err(_) => close(ApiError::BodyTimeout.into_response()),
    }
}

/// The response with `Connection: close`: what is left of the request is not read.
fn close(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_holds_at_most_its_share_of_connections() {
        let counts = Arc::new(PerIp::default());
        let a: IpAddr = "203.0.113.5".parse().unwrap();
        let b: IpAddr = "198.51.100.7".parse().unwrap();
        let first = counts.take(a, 2).unwrap();
        let second = counts.take(a, 2).unwrap();
        assert!(counts.take(a, 2).is_none(), "a third from the same address");
        assert!(
            counts.take(b, 2).is_some(),
            "another address is not affected"
        );
        drop(first);
        let third = counts
            .take(a, 2)
            .expect("a place freed by a closed connection");
        drop((second, third));
        assert!(
            counts.open.lock().unwrap().is_empty(),
            "nothing left behind"
        );
    }

    #[test]
    fn proxies_connect_from_this_machine_or_a_private_network() {
        for ip in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "172.20.0.5",
            "192.168.1.9",
            "fd00::1",
        ] {
            assert!(is_proxy_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["203.0.113.5", "8.8.8.8", "2001:db8::1", "172.32.0.1"] {
            assert!(!is_proxy_address(ip.parse().unwrap()), "{ip}");
        }
    }
}
