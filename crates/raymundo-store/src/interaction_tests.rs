//! The interaction log on every backend: round trip, filters, reviews, feedback, reopening,
//! memory.

use crate::backends::{contains, on_every_backend};
use crate::*;
use raymundo_core::{PendingIntent, Remembered, Speaker};
use std::collections::BTreeMap;

fn turn(store: &std::sync::Arc<dyn Backend>, message_id: &str, message: &str) -> NewInteraction {
    NewInteraction {
        at: 1_700_000_000,
        channel: "whatsapp".into(),
        user_key: store.user_key("whatsapp", "5215550001"),
        message_id: Some(message_id.into()),
        message: message.into(),
        query: None,
        step: "answer".into(),
        intent: None,
        parameters: None,
        confidence: Some(0.12),
        chunks: vec![
            RetrievedChunk {
                doc: "faq/horarios.md".into(),
                position: 0,
                score: 0.83,
            },
            RetrievedChunk {
                doc: "manual/tienda.pdf".into(),
                position: 7,
                score: 0.61,
            },
        ],
        answer: "Abrimos de 9 a 18 h.".into(),
        provider: Some("extractive".into()),
        in_scope: Some(true),
        resolved: true,
        handed_off: false,
        latency_ms: BTreeMap::from([("embed".into(), 4.5), ("search".into(), 1.25)]),
        total_ms: 9.0,
    }
}

on_every_backend! {
fn a_turn_reads_back_as_recorded_and_survives_reopening(db) {
    let mut t = {
        let store = db.open();
        turn(&store, "wamid.1", "¿A qué hora abren?")
    };
    t.intent = Some("crear_presentacion".into());
    t.parameters = Some(serde_json::json!({"tema": "riego", "num_diapos": 5}));
    let id = db.open().record_interaction(&t).unwrap();
    let store = db.open();
    let got = store.interaction(id).unwrap().expect("recorded");
    assert_eq!(got.turn, t);
    assert_eq!(got.feedback, None);
    assert_eq!(got.review, None);
    assert!(store.interaction(id + 1).unwrap().is_none());
}

fn bad_turns_are_refused_with_what_was_wrong_and_nothing_is_written(db) {
    let store = db.open();
    let mut t = turn(&store, "m", "hola");
    t.latency_ms.insert("answer".into(), f64::NAN);
    let err = store.record_interaction(&t).unwrap_err().to_string();
    assert!(err.contains("answer"), "{err}");
    let mut t = turn(&store, "m", "hola");
    t.parameters = Some(serde_json::json!([1, 2]));
    let err = store.record_interaction(&t).unwrap_err().to_string();
    assert!(err.contains("parameters"), "{err}");
    let mut t = turn(&store, "m", "hola");
    t.channel = " ".into();
    assert!(store.record_interaction(&t).is_err());
    assert!(store
        .interactions(&InteractionFilter::default())
        .unwrap()
        .is_empty());
}

fn filters_select_unreviewed_out_of_scope_thumbs_down_intent_and_since(db) {
    let store = db.open();
    let a = store
        .record_interaction(&turn(&store, "m1", "¿horario?"))
        .unwrap();
    let mut out = turn(&store, "m2", "¿quién ganó el mundial?");
    out.in_scope = Some(false);
    out.resolved = false;
    out.provider = Some("out_of_scope".into());
    out.at += 100;
    let b = store.record_interaction(&out).unwrap();
    let mut act = turn(&store, "m3", "hazme una presentación de riego");
    act.step = "act".into();
    act.intent = Some("crear_presentacion".into());
    act.at += 200;
    let c = store.record_interaction(&act).unwrap();

    // 👎 on the reply to m1, 👍 on the reply to m3.
    let user = store.user_key("whatsapp", "5215550001");
    for (out_id, inbound, value) in [("wamid.out1", "m1", -1), ("wamid.out3", "m3", 1)] {
        store
            .record_outbound(&Outbound {
                message_id: out_id.into(),
                channel: "whatsapp".into(),
                user_key: user.clone(),
                job_id: 1,
                part: 0,
                in_reply_to: inbound.into(),
            })
            .unwrap();
        store
            .set_feedback(&Feedback {
                message_id: out_id.into(),
                user_key: user.clone(),
                value,
                emoji: if value < 0 { "👎" } else { "👍" }.into(),
            })
            .unwrap();
    }
    store
        .review(
            c,
            &Review {
                verdict: Verdict::Correct,
                corrected_answer: None,
                corrected_intent: None,
                reviewer: "ana".into(),
                at: 1_700_001_000,
            },
        )
        .unwrap();

    let ids = |f: InteractionFilter| -> Vec<i64> {
        store
            .interactions(&f)
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect()
    };
    assert_eq!(ids(InteractionFilter::default()), vec![c, b, a]);
    let unreviewed = InteractionFilter {
        unreviewed: true,
        ..Default::default()
    };
    assert_eq!(ids(unreviewed), vec![b, a]);
    let out_of_scope = InteractionFilter {
        out_of_scope: true,
        ..Default::default()
    };
    assert_eq!(ids(out_of_scope), vec![b]);
    let down = InteractionFilter {
        thumbs_down: true,
        ..Default::default()
    };
    assert_eq!(ids(down), vec![a]);
    let intent = InteractionFilter {
        intent: Some("crear_presentacion".into()),
        ..Default::default()
    };
    assert_eq!(ids(intent), vec![c]);
    let since = InteractionFilter {
        since: Some(1_700_000_100),
        limit: 1,
        ..Default::default()
    };
    assert_eq!(ids(since), vec![c]);
    // Several bound values at once (each numbered in its backend's own way).
    let several = |channel: &str| InteractionFilter {
        channel: Some(channel.into()),
        intent: Some("crear_presentacion".into()),
        since: Some(1_700_000_100),
        ..Default::default()
    };
    assert_eq!(ids(several("whatsapp")), vec![c]);
    assert_eq!(ids(several("twilio")), Vec::<i64>::new());
    assert_eq!(store.interaction(a).unwrap().unwrap().feedback, Some(-1));
    assert_eq!(store.interaction(c).unwrap().unwrap().feedback, Some(1));
}

fn a_review_is_saved_replaced_and_refused_for_an_unknown_turn(db) {
    let store = db.open();
    let id = store
        .record_interaction(&turn(&store, "m1", "¿horario?"))
        .unwrap();
    let mut review = Review {
        verdict: Verdict::Incorrect,
        corrected_answer: Some("De 9 a 19 h, sábados de 10 a 14 h.".into()),
        corrected_intent: Some("none".into()),
        reviewer: "ana".into(),
        at: 1_700_002_000,
    };
    store.review(id, &review).unwrap();
    review.verdict = Verdict::OutOfScope;
    store.review(id, &review).unwrap();
    drop(store);
    let store = db.open();
    assert_eq!(
        store.interaction(id).unwrap().unwrap().review,
        Some(review.clone())
    );
    assert!(matches!(
        store.review(id + 40, &review),
        Err(StoreError::NoSuchInteraction(_))
    ));
    review.reviewer = "  ".into();
    let err = store.review(id, &review).unwrap_err().to_string();
    assert!(err.contains("reviewer"), "{err}");
    assert!(Verdict::parse("maybe")
        .unwrap_err()
        .to_string()
        .contains("maybe"));
}

fn conversation_memory_survives_reopening_and_is_keyed_by_a_hash(db) {
    {
        let store = db.open();
        let say = |speaker, text: &str, at| Remembered {
            speaker,
            text: text.into(),
            at,
        };
        store
            .remember(
                "whatsapp:5215550001",
                say(Speaker::User, "¿A qué hora abren?", 100),
            )
            .unwrap();
        store
            .remember(
                "whatsapp:5215550001",
                say(Speaker::Assistant, "De 9 a 18 h.", 101),
            )
            .unwrap();
        store
            .set_pending(
                "whatsapp:5215550001",
                &PendingIntent {
                    intent: "crear_presentacion".into(),
                    message: "hazme una presentación".into(),
                    values: BTreeMap::new(),
                    asking: Some("tema".into()),
                    started_at: 100,
                    updated_at: 101,
                },
            )
            .unwrap();
        for i in 0..100 {
            store
                .remember("otro", say(Speaker::User, &format!("m{i}"), 200 + i))
                .unwrap();
        }
    }
    let store = db.open();
    let recent = store.recent("whatsapp:5215550001", 0, 10).unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].text, "¿A qué hora abren?");
    assert_eq!(recent[1].speaker, Speaker::Assistant);
    assert_eq!(
        store.recent("whatsapp:5215550001", 101, 10).unwrap().len(),
        1
    );
    let kept = store.recent("otro", 0, 1000).unwrap();
    assert_eq!((kept.len(), kept[63].text.as_str()), (64, "m99"));
    assert_eq!(
        store
            .pending("whatsapp:5215550001")
            .unwrap()
            .unwrap()
            .asking,
        Some("tema".into())
    );
    store.forget("whatsapp:5215550001").unwrap();
    assert!(store
        .recent("whatsapp:5215550001", 0, 10)
        .unwrap()
        .is_empty());
    assert!(store.pending("whatsapp:5215550001").unwrap().is_none());
    drop(store);
    assert!(!contains(&db.contents(), b"5215550001"));
}

fn no_phone_number_or_email_of_a_pii_rich_message_reaches_the_database_file(db) {
    let phone = "5215550001";
    let message = "Soy Ana, mi correo es ana.perez@example.com y mi celular +52 33 1234 5678; \
                   llámenme al 5215550001";
    let store = db.open();
    // The way a WhatsApp message goes: queued with the number, answered, forgotten.
    let job = match store
        .accept(&NewJob {
            channel: "whatsapp".into(),
            message_id: "wamid.pii".into(),
            address: phone.into(),
            user_name: Some("Ana".into()),
            kind: "text".into(),
            text: message.into(),
            reply_to: None,
        })
        .unwrap()
    {
        Accepted::Queued(id) => id,
        Accepted::Duplicate => unreachable!(),
    };
    store.claim_next().unwrap().unwrap();
    let (scrubbed, counts) = raymundo_ingest::scrub_pii(message);
    assert!(counts.total() >= 3, "{scrubbed}");
    let mut t = turn(&store, "wamid.pii", &scrubbed);
    t.answer = raymundo_ingest::scrub_pii("Te escribimos a ana.perez@example.com")
        .0
        .to_string();
    store.record_interaction(&t).unwrap();
    store
        .remember(
            &format!("whatsapp:{}", store.user_key("whatsapp", phone)),
            Remembered {
                speaker: Speaker::User,
                text: scrubbed.clone(),
                at: 1,
            },
        )
        .unwrap();
    store.complete(job).unwrap();
    drop(store);
    let bytes = db.contents();
    for secret in [
        "5215550001",
        "1234 5678",
        "ana.perez@example.com",
        "ana.perez",
    ] {
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "{secret} is in the file"
        );
    }
    assert!(contains(&bytes, "[EMAIL]".as_bytes()));
}
}
