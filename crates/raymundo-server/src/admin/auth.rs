//! Who may use the review pages: the admin token, given once at the login form (then a
//! session cookie) or with every request as `Authorization: Bearer TOKEN`.
//!
//! The cookie never holds the token: it is `EXPIRES.NONCE.MAC`, the MAC an HMAC-SHA256 keyed
//! by the token over the expiry and a per-login nonce, so it is checked without any state
//! on the server, and changing the token ends every session. Each session's forms carry a
//! token of their own (an HMAC of the nonce), compared in constant time when posted.

use crate::secret::Secret;
use axum::http::{header, HeaderMap};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The session cookie's name.
pub const COOKIE: &str = "raymundo_admin";
/// How long a login lasts.
const SESSION_SECS: u64 = 12 * 3600;
/// The nonce of requests authorised by `Authorization: Bearer` (no cookie involved).
const BEARER_NONCE: &str = "bearer";

/// An authorised request's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The anti-forgery token its forms must post back.
    pub csrf: String,
}

/// Why a request is not authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No token, no session.
    Missing,
    /// A wrong bearer token, or a cookie that is forged or expired.
    Wrong,
}

/// Wrong tokens allowed per minute (login form and bearer together) before every token,
/// right or wrong, is refused until the minute is over: guessing stays hopeless.
pub const WRONG_PER_MINUTE: u32 = 10;

/// Counts wrong tokens in a one-minute window.
#[derive(Debug, Default)]
pub struct Throttle {
    window: Mutex<Option<(Instant, u32)>>,
}

impl Throttle {
    fn current(&self) -> std::sync::MutexGuard<'_, Option<(Instant, u32)>> {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if w.is_some_and(|(start, _)| start.elapsed() >= Duration::from_secs(60)) {
            *w = None;
        }
        w
    }

    /// True while too many wrong tokens were given this minute.
    pub fn locked(&self) -> bool {
        self.current()
            .is_some_and(|(_, wrong)| wrong >= WRONG_PER_MINUTE)
    }

    /// Counts a wrong token.
    pub fn failed(&self) {
        let mut w = self.current();
        let (_, wrong) = w.get_or_insert((Instant::now(), 0));
        *wrong += 1;
    }
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

/// A fresh nonce: unique per login (it need not be secret; the MAC is what cannot be forged).
fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = std::collections::hash_map::RandomState::new();
    let mut h = Sha256::new();
    h.update(format!("{random:?}{n}{:?}", SystemTime::now()).as_bytes());
    h.update(std::process::id().to_le_bytes());
    hex(&h.finalize()[..16])
}

/// The `Set-Cookie` value of a new session for `token`.
pub fn login_cookie(token: &Secret, secure: bool) -> String {
    let expires = now() + SESSION_SECS;
    let nonce = nonce();
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

/// Checks the request's bearer token or session cookie against `token`.
pub fn authorize(token: &Secret, headers: &HeaderMap) -> Result<Session, Denied> {
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
    if same(&expected, mac) && fresh {
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
        let cookie = login_cookie(&token, false);
        assert!(!cookie.contains("un-token-largo-de-prueba"), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let session = authorize(&token, &with_cookie(&cookie)).unwrap();
        // Another login has another form token; the old one does not fit it.
        let other = authorize(&token, &with_cookie(&login_cookie(&token, true))).unwrap();
        assert_ne!(session.csrf, other.csrf);
        // A changed token ends the session; a tampered cookie is refused.
        let changed = Secret::new("otro-token-largo-de-prueba");
        assert_eq!(
            authorize(&changed, &with_cookie(&cookie)).unwrap_err(),
            Denied::Wrong
        );
        let forged = cookie.replacen("raymundo_admin=", "raymundo_admin=9", 1);
        assert_eq!(
            authorize(&token, &with_cookie(&forged)).unwrap_err(),
            Denied::Wrong
        );
        assert_eq!(
            authorize(&token, &HeaderMap::new()).unwrap_err(),
            Denied::Missing
        );
    }
}
