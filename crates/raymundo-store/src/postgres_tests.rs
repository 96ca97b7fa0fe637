//! What only a shared database has: several stores (servers) on one PostgreSQL database at
//! once, leases, concurrent migrations, connection errors.

use crate::testing::{postgres, PASSWORD};
use crate::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn job(id: &str, user: &str) -> NewJob {
    NewJob {
        channel: "whatsapp".into(),
        message_id: id.into(),
        address: user.into(),
        user_name: None,
        kind: "text".into(),
        text: format!("texto de {id}"),
        reply_to: None,
    }
}

/// A fresh database's URL, or `None` when PostgreSQL is not installed.
fn fresh() -> Option<String> {
    postgres().map(|pg| pg.fresh_database())
}

fn lease(secs: u64) -> PostgresOptions {
    PostgresOptions {
        lease: Duration::from_secs(secs),
        ..Default::default()
    }
}

#[test]
fn stores_opened_at_once_migrate_once_and_share_the_salt() {
    let Some(url) = fresh() else { return };
    let keys: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    PostgresStore::open(&url)
                        .unwrap()
                        .user_key("whatsapp", "5215550001")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM raymundo_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        n,
        crate::postgres_store::MIGRATIONS.len() as i64,
        "each applied once"
    );
}

#[test]
fn a_message_delivered_to_two_servers_at_once_is_queued_once() {
    let Some(url) = fresh() else { return };
    let a = PostgresStore::open(&url).unwrap();
    let b = PostgresStore::open(&url).unwrap();
    let queued = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for store in [&a, &b, &a, &b] {
            let queued = &queued;
            s.spawn(move || {
                for i in 0..100 {
                    let user = format!("52155500{:02}", i % 7);
                    if let Accepted::Queued(id) =
                        store.accept(&job(&format!("m{i}"), &user)).unwrap()
                    {
                        queued.lock().unwrap().push(id);
                    }
                }
            });
        }
    });
    assert_eq!(queued.lock().unwrap().len(), 100);
    assert_eq!(a.stats().unwrap().seen, 100);
    assert_eq!(b.queue_counts().unwrap().queued, 100);
}

#[test]
fn two_servers_claiming_at_once_never_share_a_job_nor_break_a_users_order() {
    let Some(url) = fresh() else { return };
    let stores = [
        Arc::new(PostgresStore::open(&url).unwrap()),
        Arc::new(PostgresStore::open(&url).unwrap()),
    ];
    let users = 6;
    let per_user = 15;
    // Interleaved arrival: user 0's first, user 1's first, ..., user 0's second ...
    let mut expected: HashMap<String, Vec<i64>> = HashMap::new();
    for m in 0..per_user {
        for u in 0..users {
            let user = format!("user{u}");
            let store = &stores[(m + u) % 2];
            let Accepted::Queued(id) = store.accept(&job(&format!("m{u}.{m}"), &user)).unwrap()
            else {
                panic!("queued twice")
            };
            expected
                .entry(store.user_key("whatsapp", &user))
                .or_default()
                .push(id);
        }
    }
    let in_progress: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let done: Mutex<HashMap<String, Vec<i64>>> = Mutex::new(HashMap::new());
    let overlaps = AtomicUsize::new(0);
    let total = users * per_user;
    let deadline = Instant::now() + Duration::from_secs(60);
    std::thread::scope(|s| {
        for w in 0..8 {
            let store = stores[w % 2].clone();
            let (in_progress, done, overlaps) = (&in_progress, &done, &overlaps);
            s.spawn(move || loop {
                let finished: usize = done.lock().unwrap().values().map(Vec::len).sum();
                if finished == total || Instant::now() > deadline {
                    break;
                }
                let Some(j) = store.claim_next().unwrap() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                if !in_progress.lock().unwrap().insert(j.user_key.clone()) {
                    overlaps.fetch_add(1, Ordering::SeqCst);
                }
                // Answering takes a while: long enough for idle workers to try the same user.
                std::thread::sleep(Duration::from_millis(15));
                in_progress.lock().unwrap().remove(&j.user_key);
                done.lock()
                    .unwrap()
                    .entry(j.user_key.clone())
                    .or_default()
                    .push(j.id);
                store.complete(j.id).unwrap();
            });
        }
    });
    assert_eq!(
        overlaps.into_inner(),
        0,
        "two jobs of one user were in progress at once"
    );
    let done = done.into_inner().unwrap();
    assert_eq!(
        done, expected,
        "each job once, each user's in arrival order"
    );
}

#[test]
fn a_live_servers_jobs_are_not_taken_and_a_dead_servers_are_after_its_lease() {
    let Some(url) = fresh() else { return };
    // Leases are whole seconds: 2 s, renewed every 0.67 s.
    let a = PostgresStore::open_with(&url, &lease(2)).unwrap();
    let b = PostgresStore::open_with(&url, &lease(2)).unwrap();
    let Accepted::Queued(id) = a.accept(&job("m1", "A")).unwrap() else {
        panic!()
    };
    assert_eq!(a.claim_next().unwrap().unwrap().id, id);
    // A keeps working past its lease: its heartbeat renews it.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(b.requeue_in_progress().unwrap(), 0, "a live server's job");
    assert!(b.claim_next().unwrap().is_none());
    // A dies (stops renewing): after the lease, B takes the job over.
    a.stop_heartbeat();
    std::thread::sleep(Duration::from_millis(4000));
    let j = b.claim_next().unwrap().expect("taken over");
    assert_eq!((j.id, j.attempts), (id, 1));
    assert_eq!(j.text, "texto de m1");
    // A was only stalled: when it comes back with its reply it learns, before sending,
    // that the job is B's now, and cannot mark it answered either.
    assert!(matches!(a.start_answer(id), Err(StoreError::TakenOver(_))));
    let err = a.save_reply(id, "respuesta de A").unwrap_err();
    assert!(matches!(err, StoreError::TakenOver(j) if j == id), "{err}");
    assert!(err.to_string().contains("taken over"), "{err}");
    assert!(matches!(a.complete(id), Err(StoreError::TakenOver(_))));
    assert!(matches!(
        a.fail(id, "timeout", Some(30)),
        Err(StoreError::TakenOver(_))
    ));
    b.save_reply(id, "respuesta de B").unwrap();
    b.complete(id).unwrap();
    assert!(matches!(
        a.save_reply(id, "tarde"),
        Err(StoreError::NoSuchJob(_))
    ));
}

#[test]
fn a_job_whose_servers_keep_dying_is_given_up_after_its_interruptions() {
    let Some(url) = fresh() else { return };
    let Accepted::Queued(id) = PostgresStore::open(&url)
        .unwrap()
        .accept(&job("m1", "A"))
        .unwrap()
    else {
        panic!()
    };
    // Every server that takes the job dies while answering it (stops renewing its lease);
    // the next one takes it over once the lease has run out.
    let mut servers = Vec::new();
    for round in 0..JOB_INTERRUPTIONS {
        let server = PostgresStore::open_with(&url, &lease(1)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let j = loop {
            if let Some(j) = server.claim_next().unwrap() {
                break j;
            }
            assert!(Instant::now() < deadline, "round {round}: never taken over");
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!((j.id, j.attempts), (id, round));
        server.stop_heartbeat();
        servers.push(server);
    }
    std::thread::sleep(Duration::from_millis(2500));
    let last = PostgresStore::open_with(&url, &lease(1)).unwrap();
    assert!(last.claim_next().unwrap().is_none(), "given up, not taken");
    let counts = last.queue_counts().unwrap();
    assert_eq!((counts.working, counts.failed), (0, 1));
    assert!(last.stats().unwrap().send_failures[0]
        .0
        .starts_with("the server stopped while answering this message"));
}

#[test]
fn connection_errors_name_the_server_and_never_the_password() {
    let Some(pg) = postgres() else { return };
    let wrong = pg.url("postgres").replace(PASSWORD, "not-the-password");
    let err = PostgresStore::open(&wrong).err().unwrap().to_string();
    assert!(err.contains("authentication failed"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{}", pg.port())), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");
    let missing = pg.url("no_such_db");
    let err = PostgresStore::open(&missing).err().unwrap().to_string();
    assert!(err.contains("\"no_such_db\" does not exist"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
}

#[test]
fn open_picks_the_backend_from_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = crate::open("data/raymundo.db", dir.path()).unwrap();
    sqlite.accept(&job("m1", "A")).unwrap();
    assert!(dir.path().join("data/raymundo.db").is_file());
    let err = crate::open("mysql://u:s3cret@h/d", dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("postgres://") && !err.contains("s3cret"),
        "{err}"
    );
    let Some(url) = fresh() else { return };
    let pg = crate::open(&url, dir.path()).unwrap();
    assert!(matches!(
        pg.accept(&job("m1", "A")).unwrap(),
        Accepted::Queued(_)
    ));
}

/// Whether the connection of `url` is encrypted, as the server sees it.
fn encrypted(url: &str) -> Result<bool, String> {
    let settings = raymundo_pg::parse_url(url).map_err(|e| e.to_string())?;
    let mut c = raymundo_pg::connect(&settings).map_err(|e| e.to_string())?;
    let row = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .map_err(|e| raymundo_pg::describe(&e))?;
    Ok(row.get(0))
}

#[test]
fn tls_is_used_and_checked_as_sslmode_says() {
    let Some(pg) = postgres() else { return };
    let Some(ca) = pg.ca_file() else {
        eprintln!("no openssl: the test server has no TLS, nothing to check");
        return;
    };
    let url = pg.fresh_database();
    let on = |host: &str, query: &str| format!("{}?{query}", url.replace("127.0.0.1", host));
    let root = format!("sslrootcert={}", ca.display());
    // The certificate names `localhost`: verify-full passes there.
    let full = on("localhost", &format!("sslmode=verify-full&{root}"));
    assert_eq!(encrypted(&full), Ok(true));
    // ... and the store works through it.
    let store = PostgresStore::open(&full).unwrap();
    assert!(matches!(
        store.accept(&job("tls-1", "u1")).unwrap(),
        Accepted::Queued(_)
    ));
    drop(store);
    // By IP address the name does not match: verify-full refuses, verify-ca (chain only)
    // accepts.
    let err = encrypted(&on("127.0.0.1", &format!("sslmode=verify-full&{root}"))).unwrap_err();
    assert!(err.contains("certificate"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    assert_eq!(
        encrypted(&on("127.0.0.1", &format!("sslmode=verify-ca&{root}"))),
        Ok(true)
    );
    // An authority the client does not trust (the public roots): refused.
    let err = encrypted(&on("localhost", "sslmode=verify-full")).unwrap_err();
    assert!(err.contains("certificate"), "{err}");
    // require without a root: encrypted, unchecked (as libpq); prefer takes TLS when offered;
    // disable does not.
    assert_eq!(encrypted(&on("127.0.0.1", "sslmode=require")), Ok(true));
    assert_eq!(encrypted(&url), Ok(true));
    assert_eq!(encrypted(&on("127.0.0.1", "sslmode=disable")), Ok(false));
    // A root file that is not one is named.
    let err = raymundo_pg::parse_url(&on(
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent.pem",
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent.pem"), "{err}");
}
