//! The review pages in a real browser: headless Chromium, driven over the Chrome DevTools
//! Protocol, logs in, filters, opens a turn and reviews it, as a person would on a phone.
//!
//! Without `chromium` on the machine the test prints a notice and passes, unless
//! `RAYMUNDO_REQUIRE_CHROMIUM=1` (CI sets it), when it fails.

use super::admin::{admin_server, TOKEN};
use raymundo_store::{Interactions, SqliteStore, Verdict};
use serde_json::{json, Value};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

const WAIT: Duration = Duration::from_secs(60);

/// A headless Chromium, killed when dropped.
struct Browser {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium on a fresh profile; `None` when it is not installed.
    fn start() -> Option<Self> {
        let profile = tempfile::tempdir().unwrap();
        let spawned = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("cannot start chromium: {e}"),
        };
        let mut browser = Self {
            child,
            port: 0,
            _profile: profile,
        };
        // Chromium writes the port it chose (and the browser's websocket path) here.
        let active = browser._profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + WAIT;
        browser.port = loop {
            if let Some(port) = std::fs::read_to_string(&active)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
            {
                break port;
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                panic!("chromium exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "chromium never opened DevTools");
            std::thread::sleep(Duration::from_millis(100));
        };
        Some(browser)
    }

    /// A new tab, connected.
    fn tab(&self) -> Tab {
        let mut browser = Cdp::connect(
            self.port,
            &browser_path(&self._profile.path().join("DevToolsActivePort")),
        );
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let id = target["targetId"].as_str().unwrap().to_string();
        Tab(Cdp::connect(self.port, &format!("/devtools/page/{id}")))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser_path(active: &Path) -> String {
    std::fs::read_to_string(active)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .to_string()
}

/// One DevTools websocket: numbered commands, events skipped.
struct Cdp {
    ws: WebSocket<TcpStream>,
    next: u64,
}

impl Cdp {
    /// Connects to `path`, again on a fresh connection when the handshake is cut short (a
    /// signal to the test process interrupts a blocking read with EINTR: failed once in CI).
    fn connect(port: u16, path: &str) -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.set_read_timeout(Some(WAIT)).unwrap();
            match tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream) {
                Ok((ws, _)) => return Self { ws, next: 1 },
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("DevTools websocket {path}: {last}")
    }

    /// The next message, reading again when a signal interrupted the read.
    fn read(&mut self) -> Message {
        loop {
            match self.ws.read() {
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                    continue
                }
                other => return other.unwrap(),
            }
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// The result of a command, or the error DevTools answered with.
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next;
        self.next += 1;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::text(msg)).unwrap();
        loop {
            let text = match self.read() {
                Message::Text(t) => t.as_str().to_string(),
                _ => continue,
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                return match v.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(v["result"].clone()),
                };
            }
        }
    }
}

/// A page.
struct Tab(Cdp);

impl Tab {
    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.0.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// Waits until `condition` holds in a fully loaded page.
    fn wait_for(&mut self, condition: &str) {
        let expr = format!("document.readyState === 'complete' && !!({condition})");
        let deadline = Instant::now() + WAIT;
        loop {
            // While the page navigates (a form was just submitted), DevTools refuses to
            // evaluate ("Inspected target navigated or closed"): that is "not yet".
            let r = self.0.try_call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true}),
            );
            if r.as_ref().is_ok_and(|r| r["result"]["value"] == true) {
                return;
            }
            if Instant::now() > deadline {
                let page = self.eval("location.href + '\\n' + document.body.innerText");
                panic!("never true: {condition} (last answer: {r:?})\npage: {page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the element `selector` finds.
    fn click(&mut self, selector: &str) {
        let found = self.eval(&format!(
            "(() => {{ const e = document.querySelector({s}); if (!e) return false; e.click(); return true; }})()",
            s = json!(selector)
        ));
        assert_eq!(found, true, "nothing matches {selector}");
    }

    /// True when the page fits the window's width (nothing to scroll sideways).
    fn fits_width(&mut self) -> bool {
        self.eval("document.documentElement.scrollWidth <= window.innerWidth") == true
    }

    /// Saves a PNG of the page when `RAYMUNDO_ADMIN_SCREENSHOTS` names a folder (to look at
    /// the pages as a phone shows them).
    fn screenshot(&mut self, name: &str) {
        let Ok(dir) = std::env::var("RAYMUNDO_ADMIN_SCREENSHOTS") else {
            return;
        };
        use base64::Engine;
        let shot = self.0.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }

    /// Focuses the field `selector` finds and types `text` into it.
    fn type_into(&mut self, selector: &str, text: &str) {
        let found = self.eval(&format!(
            "(() => {{ const e = document.querySelector({s}); if (!e) return false; e.focus(); return true; }})()",
            s = json!(selector)
        ));
        assert_eq!(found, true, "nothing matches {selector}");
        self.0.call("Input.insertText", json!({"text": text}));
    }
}

#[test]
fn a_reviewer_logs_in_filters_and_reviews_a_turn_in_chromium() {
    let Some(browser) = Browser::start() else {
        assert!(
            std::env::var("RAYMUNDO_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "chromium is not installed and RAYMUNDO_REQUIRE_CHROMIUM=1"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
        return;
    };
    let (dir, _g, server, seeded) = admin_server(Some(TOKEN));
    let mut tab = browser.tab();
    tab.0.call("Page.enable", json!({}));
    // A phone's screen.
    tab.0.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
    );
    tab.0.call(
        "Page.navigate",
        json!({"url": format!("{}/admin", server.url)}),
    );
    tab.wait_for("document.getElementById('token')");
    assert!(tab.fits_width(), "the login page is wider than a phone");
    tab.screenshot("login");

    // Log in.
    tab.type_into("#token", TOKEN);
    tab.click("form[action='/admin/login'] button[type=submit]");
    tab.wait_for("document.getElementById('filters')");

    // Only the unreviewed turns.
    tab.click("input[name=unreviewed]");
    tab.click("#filters button[type=submit]");
    tab.wait_for("location.search.includes('unreviewed=1')");
    let listed = tab.eval(
        "[...document.querySelectorAll('#interactions .item')].map(e => Number(e.dataset.id))",
    );
    assert_eq!(
        listed,
        json!([seeded.script, seeded.mundial, seeded.horario]),
        "the unreviewed filter"
    );

    // Open a turn and review it.
    tab.click(&format!("a[href='/admin/interactions/{}']", seeded.horario));
    tab.wait_for("document.getElementById('review-form')");
    assert!(tab.fits_width(), "the turn's page is wider than a phone");
    tab.screenshot("detail");
    let shown = tab.eval("document.body.innerText");
    assert!(
        shown.as_str().unwrap().contains("¿Cuál es el horario?"),
        "{shown}"
    );
    tab.click("input[name=verdict][value=incorrect]");
    tab.type_into(
        "#corrected_answer",
        "Abrimos de 8 a 20 h, de lunes a sábado.",
    );
    tab.eval(
        "(() => { const s = document.getElementById('corrected_intent'); \
         s.value = 'hablar_con_humano'; s.dispatchEvent(new Event('change')); })()",
    );
    tab.type_into("#reviewer", "Lucía");
    tab.click("#review-form button[type=submit]");
    tab.wait_for("document.getElementById('saved')");
    assert!(tab.fits_width(), "the list is wider than a phone");
    tab.screenshot("list");

    // The review is in the store.
    let store = SqliteStore::open(&dir.path().join("raymundo.db")).unwrap();
    let review = store
        .interaction(seeded.horario)
        .unwrap()
        .unwrap()
        .review
        .expect("the review was saved");
    assert_eq!(review.verdict, Verdict::Incorrect);
    assert_eq!(
        review.corrected_answer.as_deref(),
        Some("Abrimos de 8 a 20 h, de lunes a sábado.")
    );
    assert_eq!(
        review.corrected_intent.as_deref(),
        Some("hablar_con_humano")
    );
    assert_eq!(review.reviewer, "Lucía");

    // The list shows it reviewed.
    let state = tab.eval(&format!(
        "document.querySelector('.item[data-id=\"{}\"] .reviewed')?.innerText ?? ''",
        seeded.horario
    ));
    assert!(
        state.as_str().unwrap().contains("Revisada: Incorrecta"),
        "{state}"
    );
}
