//! A throwaway PostgreSQL server for tests (this crate's and raymundo-server's, through the
//! `testing` feature).
//!
//! The first call of [`postgres()`] looks for `initdb` and `pg_ctl` in `RAYMUNDO_PG_BIN`, on
//! `PATH`, then in `/usr/lib/postgresql/*/bin` (newest first), and starts one server for the whole test
//! binary: a fresh folder under the system's temporary folder, listening only on
//! 127.0.0.1 on a free port (its Unix socket inside the folder), password authentication
//! over TCP, durability off (tests do not survive power cuts). Every test gets its own
//! database ([`TestPostgres::fresh_database`]). A small watcher process stops the server and
//! removes the folder once the test binary has exited, however it exited.
//!
//! `initdb` refuses to run as root: then the server runs as the `postgres` system user
//! (`setpriv`), which owns the folder. Without PostgreSQL, [`postgres()`] returns `None`
//! (the tests say they skipped it), unless `RAYMUNDO_REQUIRE_POSTGRES=1`, when it panics
//! with what to install. [`pgvector()`] is the same server when it has the `vector` extension
//! (`tools/install-pgvector.sh` adds it to Debian's PostgreSQL); `RAYMUNDO_REQUIRE_PGVECTOR=1`
//! makes its absence a failure. `RAYMUNDO_PG_BIN` names another PostgreSQL's `bin` folder.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The user the tests log in as.
pub const USER: &str = "raymundo";
/// That user's password (over TCP the server asks for it).
pub const PASSWORD: &str = "test-password";

/// A running test server.
pub struct TestPostgres {
    port: u16,
    next: AtomicUsize,
    /// The authority that signed the server's certificate (for `localhost`), when `openssl`
    /// was there to make one: the server then accepts TLS too.
    ca: Option<PathBuf>,
}

static SERVER: OnceLock<Option<TestPostgres>> = OnceLock::new();

/// The binary's test server, started on first use; `None` when PostgreSQL is not installed
/// (and not required).
pub fn postgres() -> Option<&'static TestPostgres> {
    SERVER
        .get_or_init(|| {
            let required = std::env::var("RAYMUNDO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            match find_bin() {
                Some(bin) => Some(start(&bin).unwrap_or_else(|e| {
                    panic!(
                        "cannot start a test PostgreSQL server from {}: {e}",
                        bin.display()
                    )
                })),
                None if required => panic!(
                    "RAYMUNDO_REQUIRE_POSTGRES=1 but no initdb/pg_ctl on PATH or in \
                     /usr/lib/postgresql/*/bin: install PostgreSQL (apt-get install postgresql)"
                ),
                None => {
                    // Straight to stderr: the test harness captures `eprintln!` of passing
                    // tests, and this should be seen.
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "PostgreSQL not found (initdb, pg_ctl): the PostgreSQL tests are \
                         skipped and pass on SQLite only; set RAYMUNDO_REQUIRE_POSTGRES=1 to \
                         make that an error"
                    );
                    None
                }
            }
        })
        .as_ref()
}

/// The binary's test server when it has the pgvector extension (`None` otherwise, unless
/// `RAYMUNDO_REQUIRE_PGVECTOR=1`, when it panics with what to install).
pub fn pgvector() -> Option<&'static TestPostgres> {
    static HAS: OnceLock<bool> = OnceLock::new();
    let required = std::env::var("RAYMUNDO_REQUIRE_PGVECTOR").is_ok_and(|v| v == "1");
    let server = match postgres() {
        Some(s) => s,
        None if required => panic!(
            "RAYMUNDO_REQUIRE_PGVECTOR=1 but no PostgreSQL: install it (apt-get install \
             postgresql), then tools/install-pgvector.sh"
        ),
        None => return None,
    };
    let has = *HAS.get_or_init(|| {
        let mut c = postgres::Client::connect(&server.url("postgres"), postgres::NoTls)
            .expect("connect to the test server");
        c.query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'",
            &[],
        )
        .expect("list the available extensions")
        .is_some()
    });
    match has {
        true => Some(server),
        false if required => panic!(
            "RAYMUNDO_REQUIRE_PGVECTOR=1 but the test PostgreSQL has no pgvector extension: \
             run tools/install-pgvector.sh"
        ),
        false => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "the test PostgreSQL has no pgvector: the PostgreSQL index tests are skipped \
                 (tools/install-pgvector.sh installs it)"
            );
            None
        }
    }
}

impl TestPostgres {
    /// The URL of `database` on this server, with the test user's password.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM file of the authority that signed the server's TLS certificate (valid for the
    /// name `localhost` only), or `None` when the server has no TLS (no `openssl`).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// Creates an empty database of its own for one test; returns its URL.
    pub fn fresh_database(&self) -> String {
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            self.next.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        self.url(&name)
    }
}

/// The folder holding `initdb` and `pg_ctl`.
fn find_bin() -> Option<PathBuf> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("RAYMUNDO_PG_BIN") {
        let dir = PathBuf::from(dir);
        if has_both(&dir) {
            return Some(dir);
        }
        panic!(
            "RAYMUNDO_PG_BIN={} holds no initdb and pg_ctl",
            dir.display()
        );
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(d) = std::env::split_paths(&path).find(|d| has_both(d)) {
            return Some(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_both(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// Whether this process runs as root (effective uid 0).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// `program` with `args`, as the `postgres` user when we are root.
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ]);
        c.arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// A certificate authority and a server certificate it signed for `localhost` (not for
/// `127.0.0.1`, so that a test can tell name checks from chain checks), made with `openssl`
/// in `dir`; `None` when `openssl` is missing or fails.
fn make_certificates(dir: &Path) -> Option<PathBuf> {
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let ext =
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n";
    std::fs::write(dir.join("server.ext"), ext).ok()?;
    let made = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3",
        "-subj",
        "/CN=Raymundo test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]) && openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]) && openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "3",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    use std::os::unix::fs::PermissionsExt;
    let key = dir.join("server.key");
    (made && std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).is_ok())
        .then(|| dir.join("ca.crt"))
}

fn start(bin: &Path) -> Result<TestPostgres, String> {
    let root = is_root();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("raymundo-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let data = dir.join("data");
    let pwfile = dir.join("password");
    std::fs::write(&pwfile, PASSWORD).map_err(|e| e.to_string())?;
    // The watcher first: whatever happens next, the folder goes when this process does.
    let me = std::process::id();
    let stop = if root {
        format!(
            "setpriv --reuid=postgres --regid=postgres --init-groups -- '{}' -D '{}' -m immediate -w stop",
            bin.join("pg_ctl").display(),
            data.display()
        )
    } else {
        format!(
            "'{}' -D '{}' -m immediate -w stop",
            bin.join("pg_ctl").display(),
            data.display()
        )
    };
    // In a process group of its own: an interrupted test run (Ctrl-C, a timeout killing
    // the group) must not take the watcher with it.
    Command::new("sh")
        .process_group(0)
        .arg("-c")
        .arg(format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
            dir.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start the watcher: {e}"))?;
    let ca = make_certificates(&dir);
    if root {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("-R").arg("postgres:postgres").arg(&dir);
                c
            },
            "chown the test folder to postgres",
        )?;
    }
    let mut initdb = as_server_user(&bin.join("initdb"), root);
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", USER, "-E", "UTF8", "--locale=C", "--no-sync"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .arg(format!("--pwfile={}", pwfile.display()));
    run(initdb, "initdb")?;
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        let mut pg_ctl = as_server_user(&bin.join("pg_ctl"), root);
        let tls = match &ca {
            Some(_) => format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                dir.join("server.crt").display(),
                dir.join("server.key").display()
            ),
            None => String::new(),
        };
        pg_ctl
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!(
                "-h 127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=300{tls}",
                dir.display()
            ))
            .arg("start");
        match run(pg_ctl, "pg_ctl start") {
            Ok(()) => {
                return Ok(TestPostgres {
                    port,
                    next: AtomicUsize::new(0),
                    ca,
                })
            }
            Err(e) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                last = format!("{e}\n{log}");
            }
        }
    }
    Err(last)
}

/// Every row of every table of the database at `url`, as text (what a dump would hold),
/// to check that something is, or is not, stored.
pub fn dump(url: &str) -> String {
    let mut c =
        postgres::Client::connect(url, postgres::NoTls).expect("connect to the test server");
    let tables: Vec<String> = c
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .expect("list the tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut text = String::new();
    for t in tables {
        for row in c
            .query(&format!("SELECT t::TEXT FROM {t} t"), &[])
            .expect("read a table")
        {
            text.push_str(row.get::<_, &str>(0));
            text.push('\n');
        }
    }
    text
}
