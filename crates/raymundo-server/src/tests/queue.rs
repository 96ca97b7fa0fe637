//! The job queue when the store fails or the server stops halfway: no answer lost, none
//! sent twice, no action run twice, no user left waiting behind a job stuck in progress.

use super::harness::*;
use crate::testing::FakeChannel;
use raymundo_core::{ConversationState, PendingIntent, Remembered, StateError};
use raymundo_store::{
    Accepted, Backend, DeliveryStatus, Feedback, Interaction, InteractionFilter, Interactions, Job,
    NewInteraction, NewJob, Outbound, QueueCounts, Review, SqliteStore, Store, StoreError,
    StoreStats,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A SQLite store whose job calls can be made to fail, or to stop the worker that makes
/// them as a crash of the server would.
struct Flaky {
    inner: SqliteStore,
    /// The next this many `complete` calls fail (the database is unreachable).
    complete_failures: AtomicUsize,
    /// The next this many `save_reply` calls fail.
    save_failures: AtomicUsize,
    /// `save_reply` ends the worker's thread (the server stops right after the answer).
    crash_on_save: AtomicBool,
    /// Set once `save_reply` ended a worker.
    crashed: AtomicBool,
    /// The `retry_after_secs` of every `fail` call, as the server asked it.
    fails: Mutex<Vec<Option<u64>>>,
}

impl Flaky {
    fn open(db: &std::path::Path) -> Arc<Self> {
        Arc::new(Self {
            inner: SqliteStore::open(db).unwrap(),
            complete_failures: AtomicUsize::new(0),
            save_failures: AtomicUsize::new(0),
            crash_on_save: AtomicBool::new(false),
            crashed: AtomicBool::new(false),
            fails: Mutex::new(Vec::new()),
        })
    }
}

/// Takes one from `n` if it is not 0; true when it did (the call must fail).
fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

fn unreachable() -> StoreError {
    StoreError::Invalid("the database cannot be reached (test)".into())
}

impl Store for Flaky {
    fn user_key(&self, channel: &str, user: &str) -> String {
        self.inner.user_key(channel, user)
    }
    fn accept(&self, job: &NewJob) -> Result<Accepted, StoreError> {
        self.inner.accept(job)
    }
    fn claim_next(&self) -> Result<Option<Job>, StoreError> {
        self.inner.claim_next()
    }
    fn start_answer(&self, job_id: i64) -> Result<(), StoreError> {
        self.inner.start_answer(job_id)
    }
    fn save_reply(&self, job_id: i64, reply: &str) -> Result<(), StoreError> {
        if self.crash_on_save.load(Ordering::SeqCst) {
            self.crashed.store(true, Ordering::SeqCst);
            panic!("the server stops here (test)");
        }
        if take_one(&self.save_failures) {
            return Err(unreachable());
        }
        self.inner.save_reply(job_id, reply)
    }
    fn record_outbound(&self, outbound: &Outbound) -> Result<(), StoreError> {
        self.inner.record_outbound(outbound)
    }
    fn outbound(&self, message_id: &str) -> Result<Option<Outbound>, StoreError> {
        self.inner.outbound(message_id)
    }
    fn complete(&self, job_id: i64) -> Result<(), StoreError> {
        if take_one(&self.complete_failures) {
            return Err(unreachable());
        }
        self.inner.complete(job_id)
    }
    fn fail(&self, job_id: i64, error: &str, retry_after: Option<u64>) -> Result<(), StoreError> {
        self.fails.lock().unwrap().push(retry_after);
        // The test does not wait the real back-off.
        self.inner.fail(job_id, error, retry_after.map(|_| 0))
    }
    fn requeue_in_progress(&self) -> Result<usize, StoreError> {
        self.inner.requeue_in_progress()
    }
    fn record_status(&self, status: &DeliveryStatus) -> Result<(), StoreError> {
        self.inner.record_status(status)
    }
    fn statuses(&self, message_id: &str) -> Result<Vec<DeliveryStatus>, StoreError> {
        self.inner.statuses(message_id)
    }
    fn set_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        self.inner.set_feedback(feedback)
    }
    fn clear_feedback(&self, message_id: &str, user_key: &str) -> Result<(), StoreError> {
        self.inner.clear_feedback(message_id, user_key)
    }
    fn feedback(&self, message_id: &str) -> Result<Vec<Feedback>, StoreError> {
        self.inner.feedback(message_id)
    }
    fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        self.inner.queue_counts()
    }
    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats()
    }
}

impl Interactions for Flaky {
    fn record_interaction(&self, turn: &NewInteraction) -> Result<i64, StoreError> {
        self.inner.record_interaction(turn)
    }
    fn interaction(&self, id: i64) -> Result<Option<Interaction>, StoreError> {
        self.inner.interaction(id)
    }
    fn interactions(&self, filter: &InteractionFilter) -> Result<Vec<Interaction>, StoreError> {
        self.inner.interactions(filter)
    }
    fn review(&self, id: i64, review: &Review) -> Result<(), StoreError> {
        self.inner.review(id, review)
    }
}

impl ConversationState for Flaky {
    fn pending(&self, user: &str) -> Result<Option<PendingIntent>, StateError> {
        self.inner.pending(user)
    }
    fn set_pending(&self, user: &str, pending: &PendingIntent) -> Result<(), StateError> {
        self.inner.set_pending(user, pending)
    }
    fn clear(&self, user: &str) -> Result<(), StateError> {
        self.inner.clear(user)
    }
    fn recent(&self, user: &str, since: u64, limit: usize) -> Result<Vec<Remembered>, StateError> {
        self.inner.recent(user, since, limit)
    }
    fn remember(&self, user: &str, message: Remembered) -> Result<(), StateError> {
        self.inner.remember(user, message)
    }
    fn forget(&self, user: &str) -> Result<(), StateError> {
        self.inner.forget(user)
    }
}

/// A server on a [`Flaky`] store set up by `arrange`.
fn flaky_server(
    arrange: impl FnOnce(&Flaky),
) -> (tempfile::TempDir, FakeChannel, Arc<Flaky>, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeChannel::start();
    let store = Flaky::open(&dir.path().join("raymundo.db"));
    arrange(&store);
    let backend: Arc<dyn Backend> = store.clone();
    let server = TestServer::start_on(backend, dir.path(), &graph, |_, _| {});
    (dir, graph, store, server)
}

/// The texts sent, in order.
fn bodies(graph: &FakeChannel) -> Vec<String> {
    graph
        .sent()
        .iter()
        .map(|m| m["text"]["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Sends two messages of one user, one after the other; returns once the second is
/// answered: it can only be, once the first job is no longer in progress.
fn two_messages_of_one_user(s: &TestServer, graph: &FakeChannel) {
    assert_eq!(
        s.webhook(&text_message("wamid.c1", "5215550001", "primero"))
            .0,
        200
    );
    graph.wait_sent("the first answer", |m| !m.is_empty());
    assert_eq!(
        s.webhook(&text_message("wamid.c2", "5215550001", "segundo"))
            .0,
        200
    );
    graph.wait_sent("the second answer", |m| m.len() >= 2);
}

#[test]
fn a_failed_complete_is_retried_and_the_users_next_message_is_answered() {
    let (_d, graph, store, s) = flaky_server(|f| f.complete_failures.store(2, Ordering::SeqCst));
    two_messages_of_one_user(&s, &graph);
    let stats = s.wait_idle();
    assert_eq!(store.complete_failures.load(Ordering::SeqCst), 0);
    assert_eq!(stats["queue"]["answered"], 2, "{stats}");
    assert_eq!(
        bodies(&graph),
        ["Respuesta a: primero", "Respuesta a: segundo"],
        "each answer sent once"
    );
}

#[test]
fn a_complete_that_keeps_failing_is_recorded_once_the_store_works_again() {
    // More failures than the worker's retries of the call itself: the job stays in
    // progress until a later attempt records it.
    let failures = crate::worker::STORE_TRIES as usize + 3;
    let (_d, graph, store, s) =
        flaky_server(|f| f.complete_failures.store(failures, Ordering::SeqCst));
    two_messages_of_one_user(&s, &graph);
    let stats = s.wait_idle();
    assert_eq!(store.complete_failures.load(Ordering::SeqCst), 0);
    assert_eq!(stats["queue"]["answered"], 2, "{stats}");
    assert_eq!(stats["queue"]["failed"], 0, "{stats}");
    assert_eq!(
        bodies(&graph),
        ["Respuesta a: primero", "Respuesta a: segundo"]
    );
}

#[test]
fn a_reply_that_cannot_be_saved_is_not_sent_and_the_retry_apologises_once() {
    // Every try to save the reply fails: it is not sent (a crash after sending would send
    // it again); the job is failed for a retry, which must not run the answer (and its
    // actions) a second time.
    let tries = crate::worker::STORE_TRIES as usize;
    let (_d, graph, store, s) = flaky_server(|f| f.save_failures.store(tries, Ordering::SeqCst));
    assert_eq!(
        s.webhook(&text_message("wamid.s1", "5215550001", "reserva la sala"))
            .0,
        200
    );
    let sent = graph.wait_sent("a reply", |m| !m.is_empty());
    let stats = s.wait_idle();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(graph.sent().len(), 1, "{sent:#?}");
    let body = bodies(&graph).remove(0);
    assert!(body.starts_with("Lo siento, tuve un problema"), "{body}");
    assert_eq!(s.asked(), ["reserva la sala"], "the answer ran once");
    let fails = store.fails.lock().unwrap().clone();
    assert!(
        matches!(fails.as_slice(), [Some(_)]),
        "failed once, for a retry: {fails:?}"
    );
    assert_eq!(stats["queue"]["answered"], 1, "{stats}");
}

#[test]
fn a_message_interrupted_after_its_answer_began_gets_an_apology_not_a_second_answer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("raymundo.db");
    let graph = FakeChannel::start();
    {
        // The answer runs (its actions with it), then the server stops before the reply
        // is saved.
        let store = Flaky::open(&db);
        store.crash_on_save.store(true, Ordering::SeqCst);
        let backend: Arc<dyn Backend> = store.clone();
        let s = TestServer::start_on(backend, dir.path(), &graph, |c, _| c.workers = 1);
        assert_eq!(
            s.webhook(&text_message("wamid.x1", "5215550001", "avisa a ventas"))
                .0,
            200
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while !store.crashed.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the answer never ran");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(s.asked(), ["avisa a ventas"]);
        s.stop();
    }
    assert!(graph.sent().is_empty());
    let s = TestServer::start(&db, &graph, |_, _| {});
    let sent = graph.wait_sent("the reply after the restart", |m| !m.is_empty());
    s.wait_idle();
    assert_eq!(sent[0]["context"]["message_id"], "wamid.x1");
    let body = sent[0]["text"]["body"].as_str().unwrap();
    assert!(body.starts_with("Lo siento, tuve un problema"), "{body}");
    assert!(
        s.asked().is_empty(),
        "the answer (and its actions) did not run again: {:?}",
        s.asked()
    );
    assert_eq!(graph.sent().len(), 1);
}
