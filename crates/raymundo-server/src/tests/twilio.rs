//! Twilio's WhatsApp webhook.

use super::harness::*;
use crate::signature::twilio_signature;
use crate::testing::FakeChannel;

fn params(sid: &str, body: &str) -> Vec<(String, String)> {
    [
        ("MessageSid", sid),
        ("AccountSid", "AC123"),
        ("From", "whatsapp:+5215550001"),
        ("To", "whatsapp:+14155238886"),
        ("Body", body),
        ("NumMedia", "0"),
        ("ProfileName", "Ana"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn post(s: &TestServer, params: &[(String, String)], signature: &str) -> (u16, String) {
    let body = serde_urlencoded::to_string(params).unwrap();
    request(
        "POST",
        &format!("{}/twilio", s.url),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Twilio-Signature", signature),
        ],
        body.as_bytes(),
    )
}

fn server(wait_secs: u64) -> (tempfile::TempDir, FakeChannel, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, move |c, _| {
        c.public_url = Some("https://bot.example.com".into());
        c.twilio_wait_secs = wait_secs;
    });
    (dir, graph, s)
}

#[test]
fn a_signed_message_is_answered_with_twiml_with_or_without_the_port() {
    let (_d, _g, s) = server(30);
    for (i, url) in [
        "https://bot.example.com/twilio",
        "https://bot.example.com:443/twilio",
    ]
    .iter()
    .enumerate()
    {
        let p = params(&format!("SM{i}"), "¿horario?");
        let (status, xml) = post(&s, &p, &twilio_signature(TWILIO_TOKEN, url, &p));
        assert_eq!(status, 200, "{url}: {xml}");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Respuesta a: \
             ¿horario?</Message></Response>"
        );
    }
    // A retry of the same MessageSid is acknowledged with an empty response, not answered.
    let p = params("SM0", "¿horario?");
    let (status, xml) = post(
        &s,
        &p,
        &twilio_signature(TWILIO_TOKEN, "https://bot.example.com/twilio", &p),
    );
    assert_eq!((status, xml.contains("<Message>")), (200, false));
    assert_eq!(s.asked().len(), 2);
}

#[test]
fn a_bad_signature_is_refused() {
    let (_d, _g, s) = server(30);
    let p = params("SM9", "hola");
    let sig = twilio_signature(TWILIO_TOKEN, "https://bot.example.com/twilio", &p);
    let mut tampered = p.clone();
    tampered[4].1 = "adiós".into();
    assert_eq!(post(&s, &tampered, &sig).0, 403);
    let other_host = twilio_signature(TWILIO_TOKEN, "https://evil.example.com/twilio", &p);
    assert_eq!(post(&s, &p, &other_host).0, 403);
    let body = serde_urlencoded::to_string(&p).unwrap();
    assert_eq!(
        request("POST", &format!("{}/twilio", s.url), &[], body.as_bytes()).0,
        401
    );
    assert!(s.asked().is_empty());
}

#[test]
fn a_slow_answer_is_sent_later_through_the_rest_api() {
    let (_d, graph, s) = server(0);
    let p = params("SMslow", "respuesta lento");
    let (status, xml) = post(
        &s,
        &p,
        &twilio_signature(TWILIO_TOKEN, "https://bot.example.com/twilio", &p),
    );
    assert_eq!(status, 200);
    assert!(!xml.contains("<Message>"), "{xml}");
    s.wait_idle();
    let rest: Vec<_> = graph
        .requests()
        .into_iter()
        .filter(|r| r.path == "/2010-04-01/Accounts/AC123/Messages.json")
        .collect();
    assert_eq!(rest.len(), 1);
    let form = &rest[0].form;
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(field("To"), Some("whatsapp:+5215550001"));
    assert_eq!(field("From"), Some("whatsapp:+14155238886"));
    assert_eq!(field("Body"), Some("Respuesta a: respuesta lento"));
    assert!(rest[0]
        .authorization
        .as_deref()
        .unwrap()
        .starts_with("Basic "));
}

#[test]
fn without_a_public_url_the_signed_url_comes_from_the_host_header() {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let s = TestServer::start(&dir.path().join("raymundo.db"), &graph, |c, _| {
        c.twilio_wait_secs = 30;
    });
    let p = params("SMhost", "hola");
    // What Twilio signs behind a TLS proxy that sets X-Forwarded-Proto.
    let host = s.url.trim_start_matches("http://").to_string();
    let signed = format!("https://{host}/twilio");
    let body = serde_urlencoded::to_string(&p).unwrap();
    let sig = twilio_signature(TWILIO_TOKEN, &signed, &p);
    let (status, xml) = request(
        "POST",
        &format!("{}/twilio", s.url),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Twilio-Signature", &sig),
            ("X-Forwarded-Proto", "https"),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains("<Message>Respuesta a: hola</Message>"),
        "{xml}"
    );
    // The same signature over plain http (no proxy header) does not match.
    let (status, _) = request(
        "POST",
        &format!("{}/twilio", s.url),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Twilio-Signature", &sig),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 403);
}
