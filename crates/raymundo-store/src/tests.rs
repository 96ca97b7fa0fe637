//! Store behaviour on every backend: de-duplication across reopen, per-user order, crash
//! recovery, privacy.

use crate::backends::on_every_backend;
use crate::*;

fn job(id: &str, user: &str, text: &str) -> NewJob {
    NewJob {
        channel: "whatsapp".into(),
        message_id: id.into(),
        address: user.into(),
        user_name: Some("Ana".into()),
        kind: "text".into(),
        text: text.into(),
        reply_to: None,
    }
}

fn queued(a: Accepted) -> i64 {
    match a {
        Accepted::Queued(id) => id,
        Accepted::Duplicate => panic!("expected a new job"),
    }
}

on_every_backend! {
fn a_retry_is_recognised_even_after_reopening(db) {
    {
        let store = db.open();
        queued(store.accept(&job("wamid.1", "5215550001", "hola")).unwrap());
        assert_eq!(
            store.accept(&job("wamid.1", "5215550001", "hola")).unwrap(),
            Accepted::Duplicate
        );
    }
    let store = db.open();
    assert_eq!(
        store.accept(&job("wamid.1", "5215550001", "hola")).unwrap(),
        Accepted::Duplicate
    );
    // The same id on another channel is another message.
    let mut other = job("wamid.1", "5215550001", "hola");
    other.channel = "twilio".into();
    queued(store.accept(&other).unwrap());
    assert_eq!(store.queue_counts().unwrap().queued, 2);
}

fn one_user_in_order_and_users_in_parallel(db) {
    let store = db.open();
    let a1 = queued(store.accept(&job("m1", "A", "a1")).unwrap());
    let a2 = queued(store.accept(&job("m2", "A", "a2")).unwrap());
    let b1 = queued(store.accept(&job("m3", "B", "b1")).unwrap());

    let first = store.claim_next().unwrap().unwrap();
    assert_eq!(first.id, a1);
    // A has a job in progress: B's runs next, A's second waits.
    let second = store.claim_next().unwrap().unwrap();
    assert_eq!(second.id, b1);
    assert!(store.claim_next().unwrap().is_none());
    store.complete(a1).unwrap();
    assert_eq!(store.claim_next().unwrap().unwrap().id, a2);
}

fn a_job_retried_later_still_goes_before_the_users_next_message(db) {
    let store = db.open();
    let a1 = queued(store.accept(&job("m1", "A", "a1")).unwrap());
    queued(store.accept(&job("m2", "A", "a2")).unwrap());
    assert_eq!(store.claim_next().unwrap().unwrap().id, a1);
    store.fail(a1, "graph 503", Some(3600)).unwrap();
    // a1 waits an hour; a2 must not overtake it.
    assert!(store.claim_next().unwrap().is_none());
    store.fail(a1, "graph 503", Some(0)).unwrap();
    let again = store.claim_next().unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (a1, 2));
}

fn jobs_left_working_by_a_crash_are_queued_again_with_their_reply(db) {
    let id = {
        let store = db.open();
        let id = queued(store.accept(&job("m1", "A", "¿horario?")).unwrap());
        let j = store.claim_next().unwrap().unwrap();
        store.save_reply(j.id, "De 9 a 18 h.").unwrap();
        store
            .record_outbound(&Outbound {
                message_id: "wamid.out1".into(),
                channel: "whatsapp".into(),
                user_key: j.user_key.clone(),
                job_id: j.id,
                part: 0,
                in_reply_to: "m1".into(),
            })
            .unwrap();
        id
        // dropped while working: a crash
    };
    let store = db.open();
    assert!(
        store.claim_next().unwrap().is_none(),
        "still marked working"
    );
    assert_eq!(store.requeue_in_progress().unwrap(), 1);
    let j = store.claim_next().unwrap().unwrap();
    assert_eq!(j.id, id);
    assert_eq!(j.reply.as_deref(), Some("De 9 a 18 h."));
    assert_eq!(j.parts_sent, 1);
    assert_eq!(j.text, "¿horario?");
    assert_eq!(j.address, "A");
}

fn a_job_that_stops_the_server_again_and_again_is_given_up(db) {
    let id = {
        let store = db.open();
        let id = queued(store.accept(&job("m1", "A", "el mensaje que tumba al servidor")).unwrap());
        assert_eq!(store.claim_next().unwrap().unwrap().id, id);
        id
        // the server stops while answering it
    };
    // Each start queues it again, and it stops the server again.
    for _ in 1..JOB_INTERRUPTIONS {
        let store = db.open();
        assert_eq!(store.requeue_in_progress().unwrap(), 1);
        assert_eq!(store.claim_next().unwrap().unwrap().id, id);
    }
    let store = db.open();
    assert_eq!(store.requeue_in_progress().unwrap(), 0, "given up, not queued");
    let counts = store.queue_counts().unwrap();
    assert_eq!((counts.queued, counts.working, counts.failed), (0, 0, 1));
    let error = format!(
        "the server stopped while answering this message {JOB_INTERRUPTIONS} times; given up"
    );
    assert_eq!(store.stats().unwrap().send_failures, vec![(error, 1)]);
    // The user is not blocked: the next message is answered.
    let next = queued(store.accept(&job("m2", "A", "hola")).unwrap());
    assert_eq!(store.claim_next().unwrap().unwrap().id, next);
    drop(store);
    let left = db.count(&format!(
        "SELECT COUNT(*) FROM jobs WHERE id = {id} AND (address IS NOT NULL OR text IS NOT NULL)"
    ));
    assert_eq!(left, 0, "a given-up job forgets the phone number and text");
}

fn a_job_whose_answer_began_before_a_crash_says_so_when_it_runs_again(db) {
    let (started, untouched) = {
        let store = db.open();
        let started = queued(store.accept(&job("m1", "A", "avisa a ventas")).unwrap());
        let untouched = queued(store.accept(&job("m2", "B", "hola")).unwrap());
        let a = store.claim_next().unwrap().unwrap();
        let b = store.claim_next().unwrap().unwrap();
        assert!(!a.answer_started && !b.answer_started);
        store.start_answer(started).unwrap();
        (started, untouched)
        // the server stops: A's answer may have run its actions, B's never began
    };
    let store = db.open();
    assert_eq!(store.requeue_in_progress().unwrap(), 2);
    let mut again: Vec<(i64, bool, Option<String>)> = (0..2)
        .map(|_| {
            let j = store.claim_next().unwrap().unwrap();
            (j.id, j.answer_started, j.reply)
        })
        .collect();
    again.sort();
    assert_eq!(again, vec![(started, true, None), (untouched, false, None)]);
    // Only a job in progress can begin its answer.
    store.complete(untouched).unwrap();
    assert!(matches!(
        store.start_answer(untouched),
        Err(StoreError::NoSuchJob(_))
    ));
}

fn a_database_from_before_interruptions_were_counted_is_migrated(db) {
    // The schema before `interruptions` and `answer_started`: version 2 on SQLite, 1 on
    // PostgreSQL.
    db.create_with_migrations(2, 1);
    db.execute(
        "INSERT INTO jobs (channel, message_id, user_key, address, kind, text, state,
                           attempts, received_at)
         VALUES ('whatsapp', 'm-old', 'k', '5215550001', 'text', 'hola', 'working', 1, 0)",
    );
    let store = db.open();
    assert_eq!(store.requeue_in_progress().unwrap(), 1);
    let j = store.claim_next().unwrap().unwrap();
    assert_eq!((j.message_id.as_str(), j.attempts), ("m-old", 2));
    assert!(!j.answer_started);
    store.start_answer(j.id).unwrap();
    store.complete(j.id).unwrap();
}

fn finished_jobs_forget_the_phone_number_and_text(db) {
    let store = db.open();
    let a = queued(store.accept(&job("m1", "5215550001", "mi pedido")).unwrap());
    let b = queued(store.accept(&job("m2", "5215550002", "otro")).unwrap());
    store.claim_next().unwrap();
    store.claim_next().unwrap();
    store.complete(a).unwrap();
    store.fail(b, "permanent", None).unwrap();
    assert_eq!(
        store.stats().unwrap().send_failures,
        vec![("permanent".to_string(), 1)]
    );
    drop(store);
    let left = db.count(
        "SELECT COUNT(*) FROM jobs WHERE address IS NOT NULL OR text IS NOT NULL
         OR user_name IS NOT NULL",
    );
    assert_eq!(left, 0);
    let keys = db.strings("SELECT user_key FROM jobs");
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| !k.contains("555")), "{keys:?}");
}

fn user_keys_are_stable_per_store_and_differ_between_stores(db) {
    let k1 = db.open().user_key("whatsapp", "5215550001");
    let k2 = db.open().user_key("whatsapp", "5215550001");
    let other = db.another().open().user_key("whatsapp", "5215550001");
    assert_eq!(k1, k2);
    assert_ne!(k1, other, "the salt is per store");
    assert_eq!(k1.len(), 32);
}

fn statuses_feedback_and_stats(db) {
    let store = db.open();
    let id = queued(store.accept(&job("m1", "A", "hola")).unwrap());
    let j = store.claim_next().unwrap().unwrap();
    store
        .record_outbound(&Outbound {
            message_id: "wamid.ours".into(),
            channel: "whatsapp".into(),
            user_key: j.user_key.clone(),
            job_id: id,
            part: 0,
            in_reply_to: "m1".into(),
        })
        .unwrap();
    store.complete(id).unwrap();
    assert_eq!(
        store.outbound("wamid.ours").unwrap().unwrap().in_reply_to,
        "m1"
    );
    assert!(store.outbound("wamid.theirs").unwrap().is_none());

    for (status, t, code) in [("sent", 1, None), ("failed", 2, Some(131047))] {
        store
            .record_status(&DeliveryStatus {
                message_id: "wamid.ours".into(),
                status: status.into(),
                timestamp: t,
                recipient_key: j.user_key.clone(),
                error_code: code,
                error_title: code.map(|_| "Re-engagement message".into()),
            })
            .unwrap();
    }
    let s = store.statuses("wamid.ours").unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].error_code, Some(131047));

    let fb = |value, emoji: &str| Feedback {
        message_id: "wamid.ours".into(),
        user_key: j.user_key.clone(),
        value,
        emoji: emoji.into(),
    };
    store.set_feedback(&fb(1, "👍")).unwrap();
    store.set_feedback(&fb(-1, "👎")).unwrap();
    assert_eq!(store.feedback("wamid.ours").unwrap(), vec![fb(-1, "👎")]);
    let stats = store.stats().unwrap();
    assert_eq!(
        (
            stats.feedback_up,
            stats.feedback_down,
            stats.sent,
            stats.seen
        ),
        (0, 1, 1, 1)
    );
    assert_eq!(stats.delivery_failures, vec![(131047, 1)]);
    assert_eq!(stats.jobs.done, 1);
    store.clear_feedback("wamid.ours", &j.user_key).unwrap();
    assert!(store.feedback("wamid.ours").unwrap().is_empty());
}

fn a_database_from_a_newer_raymundo_is_refused_with_a_clear_error(db) {
    db.set_schema_version(99);
    let err = db.try_open().err().unwrap().to_string();
    assert!(err.contains("schema version 99"), "{err}");
    assert!(!err.contains(crate::testing::PASSWORD), "{err}");
}
}
