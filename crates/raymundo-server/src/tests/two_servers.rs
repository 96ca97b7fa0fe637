//! Two servers and one PostgreSQL database: a webhook retried to a different server is
//! answered once, and each user's replies keep their order.

use super::harness::*;
use crate::testing::FakeChannel;
use raymundo_store::{Backend, PostgresStore};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn two_servers_and_one_database_answer_each_retried_webhook_once_in_order() {
    let Some(pg) = raymundo_store::testing::postgres() else {
        return;
    };
    let url = pg.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let servers: Vec<TestServer> = (0..2)
        .map(|_| {
            let store: Arc<dyn Backend> = Arc::new(PostgresStore::open(&url).unwrap());
            TestServer::start_on(store, dir.path(), &graph, |c, _| c.workers = 3)
        })
        .collect();
    let users = 6;
    let per_user = 12;
    let started = Instant::now();
    // Each user sends in order; every message reaches both servers at the same moment
    // (Meta retrying to another server behind the load balancer); users in parallel.
    std::thread::scope(|s| {
        for u in 0..users {
            let servers = &servers;
            s.spawn(move || {
                for m in 0..per_user {
                    let body = text_message(
                        &format!("wamid.u{u}.m{m}"),
                        &format!("52155500{u:02}"),
                        &format!("mensaje {m}"),
                    );
                    std::thread::scope(|both| {
                        for server in servers {
                            let body = &body;
                            both.spawn(move || {
                                let (status, text) = server.webhook(body);
                                assert_eq!(status, 200, "{text}");
                            });
                        }
                    });
                }
            });
        }
    });
    let total = users * per_user;
    graph.wait_sent("every message answered", |s| s.len() >= total);
    let elapsed = started.elapsed();
    for server in &servers {
        server.wait_idle();
    }
    // Nothing more arrives late: no message was answered twice.
    std::thread::sleep(Duration::from_millis(600));
    let sent = graph.sent();
    assert_eq!(sent.len(), total, "{sent:#?}");
    let mut answers: HashMap<String, usize> = HashMap::new();
    let mut per_recipient: HashMap<String, Vec<usize>> = HashMap::new();
    for m in &sent {
        let inbound = m["context"]["message_id"].as_str().unwrap().to_string();
        *answers.entry(inbound).or_default() += 1;
        let body = m["text"]["body"].as_str().unwrap();
        let n: usize = body
            .trim_start_matches("Respuesta a: mensaje ")
            .parse()
            .unwrap();
        per_recipient
            .entry(m["to"].as_str().unwrap().to_string())
            .or_default()
            .push(n);
    }
    assert_eq!(answers.len(), total);
    assert!(answers.values().all(|&n| n == 1), "{answers:?}");
    assert_eq!(per_recipient.len(), users);
    for (to, order) in &per_recipient {
        assert_eq!(*order, (0..per_user).collect::<Vec<_>>(), "replies to {to}");
    }
    let asked: usize = servers.iter().map(|s| s.asked().len()).sum();
    assert_eq!(asked, total, "the responder ran once per message");
    let both_worked = servers.iter().all(|s| !s.asked().is_empty());
    assert!(both_worked, "both servers answered some messages");
    eprintln!(
        "two servers on one PostgreSQL database: {total} messages, each delivered to both, \
         answered in {:.2} s ({:.0} messages/s)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
}
