//! Who may use the review pages: the admin token, given once at the login form (then a
//! session cookie) or with every request as `Authorization: Bearer TOKEN`.
//!
//! The cookie never holds the token: it is `EXPIRES.NONCE.MAC`, the MAC an HMAC-SHA256 keyed
//! by the token over the expiry and a random per-login nonce, so changing the token ends
//! every session. The server also keeps the sessions it opened ([`Sessions`]): a cookie is
//! taken only while its session is open, which ends at logout, after [`SESSION_IDLE`]
//! without a request, after [`SESSION_SECS`] in any case, and when the server restarts.
//! Each session's forms carry a token of their own (an HMAC of the nonce), compared in
//! constant time when posted.
//!
//! Wrong tokens are counted per client address ([`Throttle`]): an address that keeps
//! guessing waits, with a back-off that grows and then expires, while the administrator
//! elsewhere is not affected.

use crate::secret::Secret;
use axum::http::{header, HeaderMap};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The session cookie's name.
pub const COOKIE: &str = "raymundo_admin";
/// How long a login lasts at most.
pub const SESSION_SECS: u64 = 12 * 3600;
/// How long a session lasts without a request.
pub const SESSION_IDLE: Duration = Duration::from_secs(3600);
/// Sessions kept at most; the oldest ends when another opens.
const MAX_SESSIONS: usize = 1000;
/// The nonce of requests authorised by `Authorization: Bearer` (no cookie involved).
const BEARER_NONCE: &str = "bearer";

/// An authorised request's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The anti-forgery token its forms must post back.
    pub csrf: String,
    /// The login's nonce; `None` for a bearer token (nothing to log out of).
    pub nonce: Option<String>,
}

/// Why a request is not authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No token, no session.
    Missing,
    /// A wrong bearer token, or a cookie that is forged, expired or logged out.
    Wrong,
}

/// Wrong tokens one address may give per minute (login form, bearer and `/metrics`
/// together) before its tokens, right or wrong, are refused for a while.
pub const WRONG_PER_MINUTE: u32 = 10;
/// The first wait after too many wrong tokens; each further one in a row doubles it.
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(60);
/// The longest wait.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(3600);
/// After this long without a wrong token or a wait an address starts afresh (back to
/// [`FIRST_LOCKOUT`]), and may be forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Addresses tracked at most; beyond, those no longer waiting are forgotten first.
const MAX_TRACKED: usize = 100_000;
/// A minute.
const WINDOW: Duration = Duration::from_secs(60);

/// One address's wrong tokens.
#[derive(Debug, Clone, Copy)]
struct Attempts {
    /// Start of the current one-minute window and wrong tokens in it.
    window: (Instant, u32),
    /// Until when its tokens are refused.
    locked_until: Option<Instant>,
    /// Lockouts in a row (the back-off's exponent).
    lockouts: u32,
    /// The last wrong token.
    last_wrong: Instant,
}

impl Attempts {
    /// Since when the address has neither given a wrong token nor waited.
    fn quiet_since(&self) -> Instant {
        self.locked_until
            .map_or(self.last_wrong, |until| until.max(self.last_wrong))
    }
}

/// Counts wrong tokens per client address and makes an address that gives too many wait:
/// [`FIRST_LOCKOUT`], doubling with each lockout in a row up to [`MAX_LOCKOUT`].
#[derive(Debug, Default)]
pub struct Throttle {
    clients: Mutex<HashMap<IpAddr, Attempts>>,
}

impl Throttle {
    /// How long `client` must still wait at `now`, if it must.
    pub fn locked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .get(&client)
            .and_then(|a| a.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Counts a wrong token from `client` at `now`.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() >= MAX_TRACKED {
            clients.retain(|_, a| now.saturating_duration_since(a.quiet_since()) < FORGET_AFTER);
        }
        let a = clients.entry(client).or_insert(Attempts {
            window: (now, 0),
            locked_until: None,
            lockouts: 0,
            last_wrong: now,
        });
        if now.saturating_duration_since(a.quiet_since()) >= FORGET_AFTER {
            a.lockouts = 0;
        }
        a.last_wrong = now;
        if now.saturating_duration_since(a.window.0) >= WINDOW {
            a.window = (now, 0);
        }
        a.window.1 += 1;
        if a.window.1 >= WRONG_PER_MINUTE {
            let wait = FIRST_LOCKOUT
                .saturating_mul(1 << a.lockouts.min(16))
                .min(MAX_LOCKOUT);
            a.lockouts += 1;
            a.locked_until = Some(now + wait);
            a.window = (now, 0);
            tracing::warn!(
                wait_secs = wait.as_secs(),
                "admin: too many wrong tokens from one address; its tokens wait"
            );
        }
    }

    /// Forgets `client`'s wrong tokens (it gave the right one).
    pub fn succeeded(&self, client: IpAddr) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients
            .get(&client)
            .is_some_and(|a| a.locked_until.is_none())
        {
            clients.remove(&client);
        }
    }
}

/// The sessions opened at the login form, by nonce: when each opened and was last used.
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, (Instant, Instant)>>,
}

impl Sessions {
    /// Opens a session at `now`; its nonce.
    fn open(&self, now: Instant) -> String {
        let nonce = crate::secret::random_hex(16);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, (opened, used)| live(*opened, *used, now));
        if open.len() >= MAX_SESSIONS {
            if let Some(oldest) = open
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(n, _)| n.clone())
            {
                open.remove(&oldest);
            }
        }
        open.insert(nonce.clone(), (now, now));
        nonce
    }

    /// Whether the session `nonce` is open at `now`; counts it as used.
    pub fn touch(&self, nonce: &str, now: Instant) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        match open.get_mut(nonce) {
            Some((opened, used)) if live(*opened, *used, now) => {
                *used = now;
                true
            }
            Some(_) => {
                open.remove(nonce);
                false
            }
            None => false,
        }
    }

    /// Ends the session `nonce`: its cookie is refused from now on.
    pub fn close(&self, nonce: &str) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(nonce);
    }
}

/// Whether a session opened at `opened` and last used at `used` is still open at `now`.
fn live(opened: Instant, used: Instant, now: Instant) -> bool {
    now.saturating_duration_since(opened) < Duration::from_secs(SESSION_SECS)
        && now.saturating_duration_since(used) < SESSION_IDLE
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn mac_hex(token: &Secret, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal strings, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    Secret::new(a).matches(b)
}

/// Opens a session in `sessions`; the `Set-Cookie` value that carries it, for `token`.
pub fn login_cookie(token: &Secret, sessions: &Sessions, secure: bool) -> String {
    let expires = now() + SESSION_SECS;
    let nonce = sessions.open(Instant::now());
    let mac = mac_hex(token, &format!("session|{expires}|{nonce}"));
    format!(
        "{COOKIE}={expires}.{nonce}.{mac}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends the session.
pub fn logout_cookie() -> String {
    format!("{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn session_for(token: &Secret, nonce: &str) -> Session {
    Session {
        csrf: mac_hex(token, &format!("csrf|{nonce}")),
        nonce: (nonce != BEARER_NONCE).then(|| nonce.to_string()),
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request carries `Authorization: Bearer`.
pub fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
}

/// Checks the request's bearer token or session cookie against `token` and the open
/// `sessions`.
pub fn authorize(
    token: &Secret,
    sessions: &Sessions,
    headers: &HeaderMap,
) -> Result<Session, Denied> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(given) = bearer {
        return if token.matches(given.trim()) {
            Ok(session_for(token, BEARER_NONCE))
        } else {
            Err(Denied::Wrong)
        };
    }
    let Some(cookie) = cookie_value(headers, COOKIE).filter(|c| !c.is_empty()) else {
        return Err(Denied::Missing);
    };
    let mut parts = cookie.splitn(3, '.');
    let (Some(expires), Some(nonce), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Denied::Wrong);
    };
    let expected = mac_hex(token, &format!("session|{expires}|{nonce}"));
    let fresh = expires.parse::<u64>().is_ok_and(|e| e > now());
    if same(&expected, mac) && fresh && sessions.touch(nonce, Instant::now()) {
        Ok(session_for(token, nonce))
    } else {
        Err(Denied::Wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_cookie(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
        h
    }

    #[test]
    fn a_login_cookie_authorises_without_holding_the_token() {
        let token = Secret::new("un-token-largo-de-prueba");
        let sessions = Sessions::default();
        let cookie = login_cookie(&token, &sessions, false);
        assert!(!cookie.contains("un-token-largo-de-prueba"), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let session = authorize(&token, &sessions, &with_cookie(&cookie)).unwrap();
        // Another login has another form token; the old one does not fit it.
        let other = login_cookie(&token, &sessions, true);
        let other = authorize(&token, &sessions, &with_cookie(&other)).unwrap();
        assert_ne!(session.csrf, other.csrf);
        // A changed token ends the session; a tampered cookie is refused.
        let changed = Secret::new("otro-token-largo-de-prueba");
        assert_eq!(
            authorize(&changed, &sessions, &with_cookie(&cookie)).unwrap_err(),
            Denied::Wrong
        );
        let forged = cookie.replacen("raymundo_admin=", "raymundo_admin=9", 1);
        assert_eq!(
            authorize(&token, &sessions, &with_cookie(&forged)).unwrap_err(),
            Denied::Wrong
        );
        assert_eq!(
            authorize(&token, &sessions, &HeaderMap::new()).unwrap_err(),
            Denied::Missing
        );
        // A cookie the server did not open (another server's, or before a restart).
        let elsewhere = login_cookie(&token, &Sessions::default(), false);
        assert_eq!(
            authorize(&token, &sessions, &with_cookie(&elsewhere)).unwrap_err(),
            Denied::Wrong
        );
        // Logged out: refused.
        sessions.close(session.nonce.as_deref().unwrap());
        assert_eq!(
            authorize(&token, &sessions, &with_cookie(&cookie)).unwrap_err(),
            Denied::Wrong
        );
    }

    #[test]
    fn a_session_ends_when_idle_and_when_old() {
        let sessions = Sessions::default();
        let t = Instant::now();
        let idle = sessions.open(t);
        let busy = sessions.open(t);
        let step = SESSION_IDLE - Duration::from_secs(1);
        // Used just before going idle, again and again: it lasts, until the login is old.
        let mut now = t;
        while now.duration_since(t) + step < Duration::from_secs(SESSION_SECS) {
            now += step;
            assert!(sessions.touch(&busy, now), "{:?}", now.duration_since(t));
        }
        assert!(
            !sessions.touch(&busy, now + step),
            "older than a login lasts"
        );
        assert!(!sessions.touch(&idle, t + SESSION_IDLE), "idle for an hour");
        assert!(!sessions.touch("0123", t), "never opened");
    }

    #[test]
    fn wrong_tokens_make_only_their_address_wait_and_the_wait_ends() {
        let throttle = Throttle::default();
        let guesser: IpAddr = "203.0.113.5".parse().unwrap();
        let admin: IpAddr = "198.51.100.7".parse().unwrap();
        let t = Instant::now();
        for n in 0..WRONG_PER_MINUTE - 1 {
            throttle.failed(guesser, t + Duration::from_secs(n.into()));
            assert_eq!(throttle.locked(guesser, t), None);
        }
        throttle.failed(guesser, t + Duration::from_secs(10));
        let t = t + Duration::from_secs(10);
        assert_eq!(throttle.locked(guesser, t), Some(FIRST_LOCKOUT));
        assert_eq!(throttle.locked(admin, t), None, "another address waits too");
        // The wait ends ...
        let t = t + FIRST_LOCKOUT;
        assert_eq!(throttle.locked(guesser, t), None);
        // ... and doubles for another round in a row, up to the longest.
        let mut last = FIRST_LOCKOUT;
        let mut t = t;
        for _ in 0..10 {
            for _ in 0..WRONG_PER_MINUTE {
                throttle.failed(guesser, t);
            }
            let wait = throttle.locked(guesser, t).unwrap();
            assert_eq!(wait, (last * 2).min(MAX_LOCKOUT));
            last = wait;
            t += wait;
        }
        assert_eq!(last, MAX_LOCKOUT);
        // Quiet for long enough, it starts afresh.
        let t = t + FORGET_AFTER;
        for _ in 0..WRONG_PER_MINUTE {
            throttle.failed(guesser, t);
        }
        assert_eq!(throttle.locked(guesser, t), Some(FIRST_LOCKOUT));
        // Wrong tokens spread over minutes never lock.
        let slow: IpAddr = "192.0.2.9".parse().unwrap();
        for n in 0..30u64 {
            throttle.failed(slow, t + WINDOW * 2 * n as u32 / 10);
        }
        assert_eq!(throttle.locked(slow, t + WINDOW * 6), None);
    }
}
