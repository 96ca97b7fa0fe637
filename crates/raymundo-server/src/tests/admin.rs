//! `/admin`: the token, the login cookie, the anti-forgery token, the filters, saving a
//! review, and escaping of what users wrote.

use super::harness::*;
use crate::testing::FakeChannel;
use raymundo_store::{
    Feedback, InteractionFilter, Interactions, NewInteraction, Outbound, RetrievedChunk,
    SqliteStore, Store, Verdict,
};
use std::collections::BTreeMap;
use std::path::Path;

pub const TOKEN: &str = "token-de-prueba-0123456789";

/// The ids of the seeded turns.
pub struct Seeded {
    pub horario: i64,
    pub mundial: i64,
    pub pedido: i64,
    pub script: i64,
}

fn turn(store: &SqliteStore, n: i64, channel: &str, message: &str) -> NewInteraction {
    NewInteraction {
        at: 1_790_000_000 + n * 60,
        channel: channel.into(),
        user_key: store.user_key(channel, "5215550001"),
        message_id: Some(format!("wamid.in{n}")),
        message: message.into(),
        query: None,
        step: "answer".into(),
        intent: None,
        parameters: None,
        confidence: Some(0.21),
        chunks: vec![RetrievedChunk {
            doc: "faq/horarios.md".into(),
            position: 2,
            score: 0.874,
        }],
        answer: "Abrimos de 9 a 18 h.".into(),
        provider: Some("extractive".into()),
        in_scope: Some(true),
        resolved: true,
        handed_off: false,
        latency_ms: BTreeMap::from([("embed".into(), 4.5), ("search".into(), 1.25)]),
        total_ms: 9.0,
    }
}

/// Four turns in the database at `db`: in scope (👎), out of scope, an intent from
/// `chat_api` (already reviewed), and one whose message holds markup.
pub fn seed(db: &Path) -> Seeded {
    let store = SqliteStore::open(db).unwrap();
    let horario = store
        .record_interaction(&turn(&store, 1, "whatsapp", "¿Cuál es el horario?"))
        .unwrap();
    let mut out = turn(&store, 2, "whatsapp", "¿Quién ganó el mundial?");
    out.in_scope = Some(false);
    out.resolved = false;
    out.provider = Some("out_of_scope".into());
    out.answer = "No tengo esa información.".into();
    let mundial = store.record_interaction(&out).unwrap();
    let mut act = turn(&store, 3, "chat_api", "¿Dónde está mi pedido 100987?");
    act.intent = Some("consultar_pedido".into());
    act.step = "act".into();
    act.parameters = Some(serde_json::json!({"numero_pedido": 100987}));
    let pedido = store.record_interaction(&act).unwrap();
    store
        .review(
            pedido,
            &raymundo_store::Review {
                verdict: Verdict::Correct,
                corrected_answer: None,
                corrected_intent: None,
                reviewer: "ana".into(),
                at: 1_790_000_500,
            },
        )
        .unwrap();
    let script = store
        .record_interaction(&turn(
            &store,
            4,
            "whatsapp",
            "<script>alert('x')</script> ¿envían a Mérida?",
        ))
        .unwrap();
    let user = store.user_key("whatsapp", "5215550001");
    store
        .record_outbound(&Outbound {
            message_id: "wamid.out1".into(),
            channel: "whatsapp".into(),
            user_key: user.clone(),
            job_id: 1,
            part: 0,
            in_reply_to: "wamid.in1".into(),
        })
        .unwrap();
    store
        .set_feedback(&Feedback {
            message_id: "wamid.out1".into(),
            user_key: user,
            value: -1,
            emoji: "👎".into(),
        })
        .unwrap();
    Seeded {
        horario,
        mundial,
        pedido,
        script,
    }
}

/// A server with the admin token set (or not) over a seeded database.
pub fn admin_server(token: Option<&str>) -> (tempfile::TempDir, FakeChannel, TestServer, Seeded) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("raymundo.db");
    let seeded = seed(&db);
    let graph = FakeChannel::start();
    let token = token.map(str::to_string);
    let server = TestServer::start(&db, &graph, move |_, env| {
        if let Some(t) = token {
            env.push(("RAYMUNDO_ADMIN_TOKEN".into(), t));
        }
    });
    (dir, graph, server, seeded)
}

/// A response: status, `Location`, `Set-Cookie`, body.
pub struct Got {
    pub status: u16,
    pub location: Option<String>,
    pub cookie: Option<String>,
    pub body: String,
}

/// One request, redirects not followed.
pub fn call(method: &str, url: &str, headers: &[(&str, &str)], form: Option<&str>) -> Got {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match form {
        Some(f) => req
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(f),
        None => req.call(),
    };
    let r = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    Got {
        status: r.status(),
        location: r.header("location").map(str::to_string),
        cookie: r.header("set-cookie").map(str::to_string),
        body: r.into_string().unwrap_or_default(),
    }
}

/// Logs in; returns the `Cookie` header value.
pub fn log_in(s: &TestServer) -> String {
    let got = call(
        "POST",
        &format!("{}/admin/login", s.url),
        &[],
        Some(&format!("token={TOKEN}")),
    );
    assert_eq!(got.status, 303, "{}", got.body);
    assert_eq!(got.location.as_deref(), Some("/admin"));
    let cookie = got.cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains(TOKEN),
        "the cookie holds the token: {cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

/// The anti-forgery token of a page.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a csrf token")
        + 19;
    page[at..].split('"').next().unwrap().to_string()
}

fn ids_listed(page: &str) -> Vec<i64> {
    page.split("data-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn without_a_token_configured_admin_says_how_to_enable_it() {
    let (_d, _g, s, _) = admin_server(None);
    let got = call("GET", &format!("{}/admin", s.url), &[], None);
    assert_eq!(got.status, 404);
    assert!(got.body.contains("RAYMUNDO_ADMIN_TOKEN"), "{}", got.body);
    assert!(got.body.contains("desactivadas"), "{}", got.body);
    let got = call(
        "POST",
        &format!("{}/admin/login", s.url),
        &[],
        Some("token=x"),
    );
    assert_eq!(got.status, 404);
}

#[test]
fn admin_needs_the_token_by_login_cookie_or_bearer_and_refuses_a_wrong_one() {
    let (_d, _g, s, seeded) = admin_server(Some(TOKEN));
    let admin = format!("{}/admin", s.url);
    // Nothing: the login form, nothing of the log.
    let got = call("GET", &admin, &[], None);
    assert_eq!(got.status, 401);
    assert!(got.body.contains("name=\"token\""), "{}", got.body);
    assert!(!got.body.contains("horario"));
    let detail = format!("{admin}/interactions/{}", seeded.horario);
    assert_eq!(call("GET", &detail, &[], None).status, 401);
    // A wrong token, at the form or as a bearer.
    let got = call(
        "POST",
        &format!("{admin}/login"),
        &[],
        Some("token=token-equivocado-0000"),
    );
    assert_eq!(got.status, 401);
    assert!(got.cookie.is_none());
    assert!(got.body.contains("Token incorrecto"));
    let got = call(
        "GET",
        &admin,
        &[("Authorization", "Bearer token-equivocado-0000")],
        None,
    );
    assert_eq!(got.status, 401);
    assert!(!got.body.contains("horario"));
    // A forged cookie.
    let got = call(
        "GET",
        &admin,
        &[("Cookie", "raymundo_admin=9999999999.abc.def")],
        None,
    );
    assert_eq!(got.status, 401);
    // The right token, both ways.
    let cookie = log_in(&s);
    let got = call("GET", &admin, &[("Cookie", &cookie)], None);
    assert_eq!(got.status, 200);
    assert!(got.body.contains("¿Cuál es el horario?"), "{}", got.body);
    assert!(got.body.contains("width=device-width"));
    let bearer = format!("Bearer {TOKEN}");
    let got = call("GET", &detail, &[("Authorization", &bearer)], None);
    assert_eq!(got.status, 200);
    for shown in ["faq/horarios.md", "0.874", "extractive", "embed 4.5", "👎"] {
        assert!(got.body.contains(shown), "{shown} missing: {}", got.body);
    }
}

#[test]
fn filters_select_unreviewed_out_of_scope_thumbs_down_intent_and_channel() {
    let (_d, _g, s, x) = admin_server(Some(TOKEN));
    let cookie = log_in(&s);
    let list = |query: &str| {
        let got = call(
            "GET",
            &format!("{}/admin?{query}", s.url),
            &[("Cookie", &cookie)],
            None,
        );
        assert_eq!(got.status, 200, "{}", got.body);
        ids_listed(&got.body)
    };
    // Newest first.
    assert_eq!(list(""), vec![x.script, x.pedido, x.mundial, x.horario]);
    assert_eq!(list("unreviewed=1"), vec![x.script, x.mundial, x.horario]);
    assert_eq!(list("out_of_scope=1"), vec![x.mundial]);
    assert_eq!(list("thumbs_down=1"), vec![x.horario]);
    assert_eq!(list("intent=consultar_pedido"), vec![x.pedido]);
    assert_eq!(list("channel=chat_api"), vec![x.pedido]);
    assert_eq!(
        list("unreviewed=1&channel=whatsapp&intent="),
        vec![x.script, x.mundial, x.horario]
    );
    assert!(list("channel=twilio").is_empty());
    assert!(list("page=2").is_empty());
}

#[test]
fn a_review_needs_the_sessions_form_token_and_is_saved_with_it() {
    let (dir, _g, s, x) = admin_server(Some(TOKEN));
    let cookie = log_in(&s);
    let detail = format!("{}/admin/interactions/{}", s.url, x.horario);
    let page = call("GET", &detail, &[("Cookie", &cookie)], None).body;
    let csrf = csrf_of(&page);
    for intent in [
        "consultar_pedido",
        "crear_presentacion",
        "hablar_con_humano",
        "none",
    ] {
        assert!(page.contains(&format!("value=\"{intent}\"")), "{page}");
    }
    let form = |csrf: &str| {
        format!(
            "csrf={csrf}&verdict=incorrect&corrected_answer=Abrimos+de+8+a+20+h.\
             &corrected_intent=hablar_con_humano&reviewer=Luc%C3%ADa"
        )
    };
    let post = format!("{detail}/review");
    // No form token, a wrong one, another session's: refused, nothing saved.
    let other_session = {
        let other = log_in(&s);
        csrf_of(&call("GET", &detail, &[("Cookie", &other)], None).body)
    };
    assert_ne!(other_session, csrf);
    for bad in ["", "0123", other_session.as_str()] {
        let got = call("POST", &post, &[("Cookie", &cookie)], Some(&form(bad)));
        assert_eq!(got.status, 403, "{bad}: {}", got.body);
    }
    let got = call(
        "POST",
        &post,
        &[("Cookie", &cookie)],
        Some("verdict=incorrect&reviewer=x"),
    );
    assert!((400..500).contains(&got.status), "{}", got.status);
    // No session at all.
    assert_eq!(call("POST", &post, &[], Some(&form(&csrf))).status, 401);
    // A corrected intent that is not in the project.
    let got = call(
        "POST",
        &post,
        &[("Cookie", &cookie)],
        Some(&form(&csrf).replace("hablar_con_humano", "inventada")),
    );
    assert_eq!(got.status, 400);
    let store = SqliteStore::open(&dir.path().join("raymundo.db")).unwrap();
    assert!(store
        .interaction(x.horario)
        .unwrap()
        .unwrap()
        .review
        .is_none());

    let got = call("POST", &post, &[("Cookie", &cookie)], Some(&form(&csrf)));
    assert_eq!(got.status, 303, "{}", got.body);
    let back = got.location.unwrap();
    assert_eq!(back, format!("/admin?saved={}", x.horario));
    let review = store
        .interaction(x.horario)
        .unwrap()
        .unwrap()
        .review
        .unwrap();
    assert_eq!(review.verdict, Verdict::Incorrect);
    assert_eq!(
        review.corrected_answer.as_deref(),
        Some("Abrimos de 8 a 20 h.")
    );
    assert_eq!(
        review.corrected_intent.as_deref(),
        Some("hablar_con_humano")
    );
    assert_eq!(review.reviewer, "Lucía");
    let list = call(
        "GET",
        &format!("{}{back}", s.url),
        &[("Cookie", &cookie)],
        None,
    )
    .body;
    assert!(list.contains("Revisión guardada"), "{list}");
    let unreviewed = store
        .interactions(&InteractionFilter {
            unreviewed: true,
            ..Default::default()
        })
        .unwrap();
    assert!(unreviewed.iter().all(|i| i.id != x.horario));
    // Logging out needs the form token too, and ends the cookie.
    let got = call(
        "POST",
        &format!("{}/admin/logout", s.url),
        &[("Cookie", &cookie)],
        Some(&format!("csrf={csrf}")),
    );
    assert_eq!(got.status, 303);
    assert!(got.cookie.unwrap().contains("Max-Age=0"));
}

#[test]
fn what_users_wrote_is_escaped_in_the_list_and_the_detail() {
    let (_d, _g, s, x) = admin_server(Some(TOKEN));
    let bearer = format!("Bearer {TOKEN}");
    let auth = [("Authorization", bearer.as_str())];
    for path in [
        "/admin".to_string(),
        format!("/admin/interactions/{}", x.script),
    ] {
        let page = call("GET", &format!("{}{path}", s.url), &auth, None).body;
        assert!(
            page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
            "{page}"
        );
        assert!(!page.contains("<script"), "{page}");
    }
}

#[test]
fn guessing_the_token_is_stopped_for_a_minute_after_ten_wrong_ones() {
    let (_d, _g, s, _) = admin_server(Some(TOKEN));
    let login = format!("{}/admin/login", s.url);
    for n in 0..9 {
        let got = call(
            "POST",
            &login,
            &[],
            Some(&format!("token=intento-{n:04}-xxxxxx")),
        );
        assert_eq!(got.status, 401);
    }
    let got = call(
        "GET",
        &format!("{}/admin", s.url),
        &[("Authorization", "Bearer intento-bearer-xxxxx")],
        None,
    );
    assert_eq!(got.status, 401);
    // Ten wrong ones: now even the right token waits.
    let got = call("POST", &login, &[], Some(&format!("token={TOKEN}")));
    assert_eq!(got.status, 429, "{}", got.body);
    assert!(got.cookie.is_none());
    assert!(got.body.contains("Espera un minuto"), "{}", got.body);
    let bearer = format!("Bearer {TOKEN}");
    let got = call(
        "GET",
        &format!("{}/admin", s.url),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(got.status, 429);
}

#[test]
fn the_list_is_paged_by_25_newest_first_keeping_the_filters() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("raymundo.db");
    let seeded = seed(&db);
    {
        let store = SqliteStore::open(&db).unwrap();
        for n in 10..40 {
            store
                .record_interaction(&turn(&store, n, "whatsapp", &format!("pregunta {n}")))
                .unwrap();
        }
    }
    let graph = FakeChannel::start();
    let s = TestServer::start(&db, &graph, |_, env| {
        env.push(("RAYMUNDO_ADMIN_TOKEN".into(), TOKEN.into()));
    });
    let bearer = format!("Bearer {TOKEN}");
    let page = |q: &str| {
        call(
            "GET",
            &format!("{}/admin?{q}", s.url),
            &[("Authorization", &bearer)],
            None,
        )
        .body
    };
    // 33 unreviewed turns: 25, then 8 ending with the oldest.
    let first = page("unreviewed=1");
    assert_eq!(ids_listed(&first).len(), 25);
    assert!(first.contains("pregunta 39"), "newest first");
    assert!(
        first.contains("href=\"/admin?unreviewed=1&amp;page=2\""),
        "{first}"
    );
    let second = page("unreviewed=1&page=2");
    let ids = ids_listed(&second);
    assert_eq!(ids.len(), 8, "{second}");
    assert_eq!(ids.last(), Some(&seeded.horario));
    assert!(!ids.contains(&seeded.pedido), "reviewed, filtered out");
    assert!(second.contains("href=\"/admin?unreviewed=1&amp;page=1\""));
    assert!(!second.contains("page=3"));
}

#[test]
fn wrong_tokens_lock_out_only_the_address_that_sent_them() {
    let (_d, _g, s, _) = admin_server(Some(TOKEN));
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let login_from = |from: &str, token: &str| {
        request_from(
            from,
            s.addr,
            "POST",
            "/admin/login",
            &form,
            format!("token={token}").as_bytes(),
        )
    };
    for n in 0..10 {
        let r = login_from("127.0.0.2", &format!("intento-{n:04}-xxxxxx"));
        assert_eq!(r.status, 401, "{r:?}");
    }
    // The guesser waits, even with the right token ...
    let r = login_from("127.0.0.2", TOKEN);
    assert_eq!(r.status, 429, "{r:?}");
    assert!(r.header("retry-after").is_some(), "{r:?}");
    let bearer = format!("Bearer {TOKEN}");
    let r = request_from(
        "127.0.0.2",
        s.addr,
        "GET",
        "/admin",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(r.status, 429);
    // ... the administrator, elsewhere, does not.
    let r = login_from("127.0.0.1", TOKEN);
    assert_eq!(r.status, 303, "{r:?}");
    let r = request_from(
        "127.0.0.3",
        s.addr,
        "GET",
        "/admin",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn a_cookie_is_refused_once_its_session_is_logged_out() {
    let (_d, _g, s, _) = admin_server(Some(TOKEN));
    let admin = format!("{}/admin", s.url);
    let cookie = log_in(&s);
    let page = call("GET", &admin, &[("Cookie", &cookie)], None);
    assert_eq!(page.status, 200);
    let other = log_in(&s);
    let got = call(
        "POST",
        &format!("{admin}/logout"),
        &[("Cookie", &cookie)],
        Some(&format!("csrf={}", csrf_of(&page.body))),
    );
    assert_eq!(got.status, 303);
    // The old value, sent again (as anyone who copied it would): refused.
    let got = call("GET", &admin, &[("Cookie", &cookie)], None);
    assert_eq!(got.status, 401, "a logged-out cookie still works");
    assert!(got.body.contains("name=\"token\""), "{}", got.body);
    // Other sessions go on.
    assert_eq!(call("GET", &admin, &[("Cookie", &other)], None).status, 200);
}
