//! Who is at the other end of the connection, as far as the server can tell: the TCP peer's
//! address, or, when that is this machine and the request was forwarded, the address a
//! reverse proxy on this machine wrote last in `X-Forwarded-For` (or `X-Real-IP`).
//!
//! Those headers are believed only from a loopback peer: only a process on this machine
//! can connect from there, and a proxy appends the address its own client connected from,
//! so the last entry is the proxy's word, whatever the client wrote before it. From any
//! other peer they are ignored (a proxy on another machine makes its clients one client).

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Headers a reverse proxy adds: a request carrying one came through a proxy, so its
/// loopback peer address says nothing about the client.
const FORWARDING_HEADERS: [&str; 5] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// The request's peer: its address, whether a proxy forwarded it, and the client the proxy
/// names.
///
/// Read from the connection ([`ConnectInfo`], which [`crate::Server::run`] sets); when it is
/// missing (the router served some other way), the peer is `0.0.0.0`: not local, and one
/// client for the rate limit, so the fallback grants nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    /// The TCP peer's address.
    pub ip: IpAddr,
    /// True when the request carries a proxy's forwarding header.
    pub forwarded: bool,
    /// The client a proxy on this machine names (only read from a loopback peer).
    pub forwarded_for: Option<IpAddr>,
}

impl Peer {
    /// The peer of a request with `headers` from `addr`.
    pub fn new(addr: Option<SocketAddr>, headers: &HeaderMap) -> Self {
        let ip = addr.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let forwarded = FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h));
        let forwarded_for = if forwarded && client_ip(ip).is_loopback() {
            last_forwarded_for(headers)
        } else {
            None
        };
        Self {
            ip,
            forwarded,
            forwarded_for,
        }
    }

    /// Whether the request comes from this machine itself: a loopback peer, not forwarded
    /// by a proxy (a proxy on the same machine would make every client look local).
    pub fn is_local(&self) -> bool {
        !self.forwarded && client_ip(self.ip).is_loopback()
    }

    /// The address that stands for the client ([`client_ip`]): the one a proxy on this
    /// machine names, else the peer's.
    pub fn client(&self) -> IpAddr {
        client_ip(self.forwarded_for.unwrap_or(self.ip))
    }
}

/// The last address of the last `X-Forwarded-For` header (the one the nearest proxy
/// wrote), else `X-Real-IP`.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let parse = |v: &str| {
        let v = v.trim();
        v.parse::<IpAddr>()
            .ok()
            .or_else(|| v.parse::<SocketAddr>().ok().map(|a| a.ip()))
    };
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(parse)
        .or_else(|| {
            headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(parse)
        })
}

/// The address that stands for one client: an IPv4 address (also when written as an
/// IPv4-mapped IPv6 address) or an IPv6 /64 network, which is what one subscriber gets, so
/// that walking through its addresses does not make a client many.
pub(crate) fn client_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None if v6.is_loopback() => IpAddr::V6(v6),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(Peer::new(addr, &parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn peer(addr: &str, header: Option<(&'static str, &str)>) -> Peer {
        let mut h = HeaderMap::new();
        if let Some((k, v)) = header {
            h.insert(k, HeaderValue::from_str(v).unwrap());
        }
        Peer::new(Some(addr.parse().unwrap()), &h)
    }

    #[test]
    fn only_an_unforwarded_loopback_peer_is_local() {
        assert!(peer("127.0.0.1:5000", None).is_local());
        assert!(peer("127.0.0.2:5000", None).is_local());
        assert!(peer("[::1]:5000", None).is_local());
        assert!(peer("[::ffff:127.0.0.1]:5000", None).is_local());
        assert!(!peer("203.0.113.5:5000", None).is_local());
        assert!(!peer("[2001:db8::1]:5000", None).is_local());
        assert!(!peer("127.0.0.1:5000", Some(("x-forwarded-for", "203.0.113.5"))).is_local());
        assert!(!peer("127.0.0.1:5000", Some(("forwarded", "for=203.0.113.5"))).is_local());
        assert!(!Peer::new(None, &HeaderMap::new()).is_local());
    }

    #[test]
    fn a_proxy_on_this_machine_names_the_client_and_no_one_else_does() {
        let via = |peer_addr: &str, xff: &str| {
            let mut h = HeaderMap::new();
            h.append("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
            Peer::new(Some(peer_addr.parse().unwrap()), &h).client()
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // The last entry is what the proxy appended; what the client wrote before it is not.
        assert_eq!(via("127.0.0.1:1", "203.0.113.5"), ip("203.0.113.5"));
        assert_eq!(
            via("127.0.0.1:1", "10.0.0.1, 203.0.113.5"),
            ip("203.0.113.5")
        );
        assert_eq!(via("[::1]:1", "[2001:db8::7]:4000"), ip("2001:db8::"));
        // From elsewhere the header is only words.
        assert_eq!(via("198.51.100.7:1", "203.0.113.5"), ip("198.51.100.7"));
        // Unreadable: the proxy itself.
        assert_eq!(via("127.0.0.1:1", "unknown"), ip("127.0.0.1"));
        let mut h = HeaderMap::new();
        h.insert("x-real-ip", HeaderValue::from_static("203.0.113.9"));
        let p = Peer::new(Some("127.0.0.1:1".parse().unwrap()), &h);
        assert_eq!((p.client(), p.is_local()), (ip("203.0.113.9"), false));
    }

    #[test]
    fn one_ipv6_subscriber_is_one_client() {
        let a = peer("[2001:db8:1:2:aaaa::1]:5000", None).client();
        let b = peer("[2001:db8:1:2:bbbb::2]:5000", None).client();
        let c = peer("[2001:db8:1:3::1]:5000", None).client();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            peer("[::ffff:203.0.113.5]:1", None).client(),
            peer("203.0.113.5:2", None).client()
        );
    }
}
