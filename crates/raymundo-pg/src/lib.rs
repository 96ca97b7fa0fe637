//! Connections to PostgreSQL, shared by the store and the index: the URL parsed (and shown
//! without its password), TLS as libpq's `sslmode` asks ([`tls`]), errors that say what was
//! wrong, and a small pool of open clients shared by a process's threads.

pub mod tls;

pub use tls::{SslMode, Tls};

use postgres::config::Host;
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Why a database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The setting is a URL that cannot be used (the password is never shown).
    #[error("bad database URL {url}: {reason}")]
    BadUrl {
        /// The URL with its password replaced by `***`.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// PostgreSQL could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Connect {
        /// `user@host:port/database`, never the password.
        target: String,
        /// Connection refused, authentication failed, no such database ...
        reason: String,
    },
}

/// How long a caller waits for a free connection before giving up.
const CHECKOUT_WAIT: Duration = Duration::from_secs(30);

/// `url` with the password (in the authority or as `password=`) replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let start = scheme_end + 3 + colon + 1;
                let end = scheme_end + 3 + at;
                out.replace_range(start..end, "***");
            }
        }
    }
    if let Some(pos) = out.find("password=") {
        let start = pos + "password=".len();
        let end = out[start..]
            .find(['&', ' '])
            .map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "***");
    }
    out
}

/// A database's connection settings: the client's, and how to encrypt.
#[derive(Clone)]
pub struct Settings {
    /// Host, port, user, password, database ...
    pub config: Config,
    /// `sslmode` and `sslrootcert`.
    pub tls: Tls,
    connector: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("target", &target(&self.config))
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// Decodes `%XX` escapes of a URL query value.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Takes `sslmode` and `sslrootcert` out of the URL's query (the client library knows only
/// some modes): the rest of the URL, and the two values.
fn split_tls(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None, None);
    };
    let (mut mode, mut root) = (None, None);
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslmode" => mode = Some(percent_decode(v)),
                "sslrootcert" => root = Some(percent_decode(v)),
                _ => return !pair.is_empty(),
            }
            false
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, mode, root)
}

/// Parses a `postgres://` or `postgresql://` URL, with libpq's `sslmode` (`disable`,
/// `prefer` (the default), `require`, `verify-ca`, `verify-full`) and `sslrootcert`.
pub fn parse_url(url: &str) -> Result<Settings, PgError> {
    let bad = |reason: String| PgError::BadUrl {
        url: redact(url),
        reason,
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(bad(
            "expected postgres://user:password@host:port/database".into()
        ));
    }
    let (rest, mode, root) = split_tls(url);
    let mode = match mode.as_deref() {
        None => SslMode::Prefer,
        Some(m) => SslMode::parse(m).ok_or_else(|| {
            bad(format!(
                "sslmode={m}: expected disable, prefer, require, verify-ca or verify-full"
            ))
        })?,
    };
    let mut config: Config = rest
        .parse()
        .map_err(|e: postgres::Error| bad(e.to_string()))?;
    if config.get_hosts().is_empty() {
        return Err(bad(
            "no host (expected postgres://user@host:port/database)".into()
        ));
    }
    if config.get_dbname().is_none() {
        return Err(bad("no database name after the host".into()));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("raymundo");
    config.ssl_mode(mode.client());
    let tls = Tls {
        mode,
        root_cert: root.filter(|r| !r.is_empty()).map(std::path::PathBuf::from),
    };
    let connector = tls.connector().map_err(bad)?;
    Ok(Settings {
        config,
        tls,
        connector,
    })
}

/// `user@host:port/database`, for messages.
pub fn target(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect();
    format!(
        "{}@{}/{}",
        config.get_user().unwrap_or("?"),
        hosts.join(","),
        config.get_dbname().unwrap_or("?")
    )
}

/// A PostgreSQL error as one line: the server's message (with its detail) when the server
/// answered, else the client's.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
    }
}

/// Opens one connection; a failure names the server and what went wrong, never the
/// password.
pub fn connect(settings: &Settings) -> Result<Client, PgError> {
    let config = &settings.config;
    let opened = match &settings.connector {
        Some(tls) => config.connect(tls.clone()),
        None => config.connect(NoTls),
    };
    opened.map_err(|e| {
        let user = config.get_user().unwrap_or("?");
        let reason = match e.code() {
            Some(c) if *c == SqlState::INVALID_PASSWORD => {
                format!("authentication failed for user {user:?} (check the password)")
            }
            Some(c) if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                format!("authentication failed: the server does not let user {user:?} in")
            }
            Some(c) if *c == SqlState::INVALID_CATALOG_NAME => format!(
                "database {:?} does not exist (create it: createdb {})",
                config.get_dbname().unwrap_or("?"),
                config.get_dbname().unwrap_or("?")
            ),
            _ => {
                let text = describe(&e);
                if text.contains("Connection refused") {
                    "connection refused (is PostgreSQL running and listening there?)".into()
                } else if text.contains("server does not support TLS") {
                    format!(
                        "the server does not offer TLS, and sslmode={} requires it",
                        settings_mode(settings)
                    )
                } else if text.contains("password missing") {
                    "the server asks for a password and the URL has none".into()
                } else {
                    text
                }
            }
        };
        PgError::Connect {
            target: target(config),
            reason,
        }
    })
}

fn settings_mode(settings: &Settings) -> &'static str {
    match settings.tls.mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}

/// At most `limit` open clients; idle ones are reused, broken ones dropped.
pub struct Pool {
    config: Settings,
    limit: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Client>,
    open: usize,
}

impl Pool {
    /// A pool that opens its first connection now (so a bad URL or password fails at once).
    pub fn new(config: Settings, limit: usize) -> Result<Self, PgError> {
        let first = connect(&config)?;
        Ok(Self {
            config,
            limit: limit.max(1),
            state: Mutex::new(PoolState {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
        })
    }

    /// The connection settings of the pool (for a dedicated connection, such as one that
    /// `LISTEN`s).
    pub fn config(&self) -> &Settings {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection, waiting for one to be returned when `limit` are in use.
    pub fn get(&self) -> Result<Conn<'_>, PgError> {
        let mut state = self.lock();
        loop {
            if let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Conn {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < self.limit {
                state.open += 1;
                drop(state);
                return match connect(&self.config) {
                    Ok(client) => Ok(Conn {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(state, CHECKOUT_WAIT)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.limit {
                return Err(PgError::Connect {
                    target: target(&self.config.config),
                    reason: format!(
                        "all {} connections of the pool stayed busy for {} s",
                        self.limit,
                        CHECKOUT_WAIT.as_secs()
                    ),
                });
            }
        }
    }
}

impl Pool {
    /// Closes the idle connections (call from outside any async runtime).
    pub fn close(&self) {
        let idle = std::mem::take(&mut self.lock().idle);
        let mut state = self.lock();
        state.open = state.open.saturating_sub(idle.len());
        drop(state);
        drop(idle);
    }
}

/// A connection taken from the pool; returned to it when dropped.
pub struct Conn<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("a pooled connection")
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("a pooled connection")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let mut state = self.pool.lock();
        if client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(client);
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact("postgres://raymundo:s3cret@db.local:5432/raymundo"),
            "postgres://raymundo:***@db.local:5432/raymundo"
        );
        assert_eq!(
            redact("postgresql://u@h/d?password=s3cret&sslmode=disable"),
            "postgresql://u@h/d?password=***&sslmode=disable"
        );
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
    }

    #[test]
    fn bad_urls_say_what_is_wrong_without_the_password() {
        for (url, expected) in [
            ("mysql://u:s3cret@h/d", "expected postgres://"),
            ("postgres://u:s3cret@h:notaport/d", "invalid"),
            ("postgres://u:s3cret@h:5432", "no database name"),
            (
                "postgres://u:s3cret@h/d?sslmode=verify-all",
                "expected disable",
            ),
        ] {
            let err = parse_url(url).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn a_refused_connection_names_host_and_port() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://raymundo:s3cret@127.0.0.1:{port}/raymundo");
        let err = connect(&parse_url(&url).unwrap())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        assert!(err.contains("connection refused"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}
