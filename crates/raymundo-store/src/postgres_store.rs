//! The shared backend: one PostgreSQL database that several Raymundo servers use at once.
//!
//! The semantics are the SQLite store's; what sharing adds:
//! - **accept** inserts the de-duplication key with `ON CONFLICT DO NOTHING` in the same
//!   transaction as the job, so a webhook retried to another server is queued once (the
//!   second insert waits for the first transaction and then sees the key). A per-user
//!   advisory lock makes one user's job ids follow commit order.
//! - **claim_next** runs under one transaction-scoped advisory lock (claims are serialised
//!   across servers: a claim is a ~1 ms transaction, the answering happens outside it), so
//!   every claim sees every earlier one committed and a user never has two jobs in progress;
//!   `FOR UPDATE SKIP LOCKED` is kept as a second guard.
//! - **leases**: a claim records the claiming store (`owner`) and `lease_until`; a heartbeat
//!   thread renews the leases of the store's jobs every third of the lease. A job whose
//!   lease ran out (its server died) is queued again by the next claim of any server;
//!   [`Store::requeue_in_progress`] at start also takes the jobs a stopped store released
//!   (a store that is dropped gives up its jobs), never a live server's. Either way the job
//!   counts an interruption, and one interrupted [`crate::JOB_INTERRUPTIONS`] times is
//!   failed instead of queued again.
//! - Migrations are numbered rows of `raymundo_migrations`, applied in one transaction under
//!   an advisory lock, so two servers starting at once migrate once.
//!
//! Times (`at`, `not_before`, leases) come from the database's clock, so servers with
//! skewed clocks agree.

use crate::{
    interrupted_error, Accepted, DeliveryStatus, Feedback, Job, JobState, NewJob, Outbound,
    QueueCounts, Store, StoreError, StoreStats, JOB_INTERRUPTIONS,
};
use postgres::types::ToSql;
use postgres::{Row, Transaction};
use raymundo_pg::{parse_url, redact, Pool};
use sha2::{Digest, Sha256};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The database's clock in whole seconds since the Unix epoch.
pub(crate) const EPOCH: &str = "(EXTRACT(EPOCH FROM clock_timestamp()))::BIGINT";

/// Advisory lock class of this crate (`pg_advisory_xact_lock(CLASS, n)`).
const LOCK_CLASS: i32 = 0x5259_4d44;
/// Advisory lock taken while migrating.
const MIGRATE_LOCK: i32 = 1;
/// Advisory lock taken while claiming a job.
const CLAIM_LOCK: i32 = 2;
/// Advisory lock class of per-user accepts (`pg_advisory_xact_lock(USER_CLASS, hash)`).
const USER_CLASS: i32 = 0x5259_4d45;

/// Schema migrations, in order; version `i + 1` is a row of `raymundo_migrations` once
/// applied.
pub(crate) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE seen (
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (channel, message_id)
);
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    user_key TEXT NOT NULL,
    address TEXT,
    user_name TEXT,
    kind TEXT NOT NULL,
    text TEXT,
    reply_to TEXT,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT NOT NULL DEFAULT 0,
    reply TEXT,
    error TEXT,
    received_at BIGINT NOT NULL,
    finished_at BIGINT,
    owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, user_key, id);
CREATE INDEX jobs_queue ON jobs (state, id);
CREATE TABLE outbound (
    message_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    user_key TEXT NOT NULL,
    job_id BIGINT NOT NULL,
    part BIGINT NOT NULL,
    in_reply_to TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX outbound_by_job ON outbound (job_id);
CREATE INDEX outbound_by_inbound ON outbound (channel, in_reply_to);
CREATE TABLE statuses (
    seq BIGSERIAL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    recipient_key TEXT NOT NULL,
    error_code BIGINT,
    error_title TEXT,
    PRIMARY KEY (message_id, status)
);
CREATE TABLE feedback (
    message_id TEXT NOT NULL,
    user_key TEXT NOT NULL,
    value SMALLINT NOT NULL,
    emoji TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_key)
);
CREATE TABLE interactions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    channel TEXT NOT NULL,
    user_key TEXT NOT NULL,
    message_id TEXT,
    message TEXT NOT NULL,
    query TEXT,
    step TEXT NOT NULL,
    intent TEXT,
    parameters TEXT,
    confidence DOUBLE PRECISION,
    chunks TEXT NOT NULL,
    answer TEXT NOT NULL,
    provider TEXT,
    in_scope BOOLEAN,
    resolved BOOLEAN NOT NULL,
    handed_off BOOLEAN NOT NULL,
    latency TEXT NOT NULL,
    total_ms DOUBLE PRECISION NOT NULL,
    verdict TEXT,
    corrected_answer TEXT,
    corrected_intent TEXT,
    reviewer TEXT,
    reviewed_at BIGINT
);
CREATE INDEX interactions_by_time ON interactions (at);
CREATE INDEX interactions_by_message ON interactions (channel, message_id);
CREATE TABLE conversation_pending (
    user_key TEXT PRIMARY KEY,
    pending TEXT NOT NULL
);
CREATE TABLE conversation_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_key TEXT NOT NULL,
    speaker TEXT NOT NULL,
    text TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX conversation_by_user ON conversation_messages (user_key, id);
",
    // Interrupted jobs are counted (and given up after `JOB_INTERRUPTIONS`), and a job
    // whose answer began is marked, so that its actions do not run twice.
    r"
ALTER TABLE jobs ADD COLUMN interruptions BIGINT NOT NULL DEFAULT 0,
                 ADD COLUMN answer_started BOOLEAN NOT NULL DEFAULT FALSE;
",
];

/// Forgets a finished job's personal data.
const FORGET: &str = "address = NULL, user_name = NULL, text = NULL, reply = NULL";

/// How a [`PostgresStore`] connects and leases jobs.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections kept open at most (the server's workers, webhooks and `/stats` share them).
    pub pool_size: usize,
    /// How long a claimed job stays this store's without a heartbeat; a job whose server
    /// died is taken up by another server this long after its last heartbeat.
    pub lease: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            lease: Duration::from_secs(60),
        }
    }
}

/// The store in a PostgreSQL database, safe to share between several servers.
pub struct PostgresStore {
    inner: Arc<Inner>,
    heartbeat: Mutex<Option<Heartbeat>>,
}

/// The lease thread: dropping `stop` ends it.
struct Heartbeat {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    salt: String,
    /// This store's name in `jobs.owner`.
    owner: String,
    lease_secs: i64,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and migrates.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, &PostgresOptions::default())
    }

    /// [`PostgresStore::open`] with explicit options.
    pub fn open_with(url: &str, options: &PostgresOptions) -> Result<Self, StoreError> {
        let config = parse_url(url)?;
        let pool = Pool::new(config, options.pool_size)?;
        let salt = migrate(&pool, url)?;
        let owner = format!(
            "{}:{}",
            std::process::id(),
            &crate::sqlite::fresh_salt()[..12]
        );
        let inner = Arc::new(Inner {
            pool,
            salt,
            owner,
            lease_secs: options.lease.as_secs().max(1) as i64,
        });
        let (stop, stopped) = mpsc::channel::<()>();
        let beat = inner.clone();
        let every = Duration::from_millis((options.lease.as_millis() as u64 / 3).max(100));
        let thread = std::thread::Builder::new()
            .name("raymundo-lease".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    beat.renew_leases();
                }
            })
            .map_err(|e| StoreError::Invalid(format!("cannot start the lease thread: {e}")))?;
        Ok(Self {
            inner,
            heartbeat: Mutex::new(Some(Heartbeat { stop, thread })),
        })
    }

    pub(crate) fn conn(&self) -> Result<raymundo_pg::Conn<'_>, StoreError> {
        Ok(self.inner.pool.get()?)
    }

    /// Stops renewing this store's leases, as if its process had died (tests).
    #[cfg(test)]
    pub(crate) fn stop_heartbeat(&self) {
        self.stop_beating();
    }
}

impl Inner {
    fn renew_leases(&self) {
        let renewed = self.pool.get().map_err(StoreError::from).and_then(|mut c| {
            Ok(c.execute(
                &format!(
                    "UPDATE jobs SET lease_until = {EPOCH} + $2
                     WHERE state = 'working' AND owner = $1"
                ),
                &[&self.owner, &self.lease_secs],
            )?)
        });
        if let Err(e) = renewed {
            tracing::warn!("cannot renew the leases of jobs in progress: {e}");
        }
    }
}

impl Drop for PostgresStore {
    /// Gives up this store's jobs in progress (the next server to start queues them again,
    /// and any server does once their lease runs out) and closes the connections.
    fn drop(&mut self) {
        self.stop_beating();
        // The synchronous client drives its connection on a runtime of its own, which
        // panics when asked from inside an async runtime (a server dropping its store as
        // its runtime ends); so the last words go from a thread of their own.
        let inner = self.inner.clone();
        let closing = std::thread::spawn(move || {
            let released = inner
                .pool
                .get()
                .map_err(StoreError::from)
                .and_then(|mut c| {
                    Ok(c.execute(
                        "UPDATE jobs SET owner = NULL WHERE state = 'working' AND owner = $1",
                        &[&inner.owner],
                    )?)
                });
            if let Err(e) = released {
                tracing::warn!("cannot release the jobs in progress: {e}");
            }
            inner.pool.close();
        });
        let _ = closing.join();
    }
}

impl PostgresStore {
    /// Why a write to job `job_id` that required this server to hold it changed nothing:
    /// another server holds it now, or there is no such job in progress.
    fn not_held(&self, conn: &mut postgres::Client, job_id: i64) -> Result<StoreError, StoreError> {
        let holder: Option<Option<String>> = conn
            .query_opt(
                "SELECT owner FROM jobs WHERE id = $1 AND state = 'working'",
                &[&job_id],
            )?
            .map(|r| r.get(0));
        Ok(match holder {
            Some(Some(owner)) if owner != self.inner.owner => StoreError::TakenOver(job_id),
            _ => StoreError::NoSuchJob(job_id),
        })
    }

    /// Ends the heartbeat thread and waits for it (so it holds no connection).
    fn stop_beating(&self) {
        let beat = self
            .heartbeat
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(Heartbeat { stop, thread }) = beat {
            drop(stop);
            let _ = thread.join();
        }
    }
}

/// Applies the missing migrations in one transaction under an advisory lock; returns the
/// store's salt (created with the schema).
fn migrate(pool: &Pool, url: &str) -> Result<String, StoreError> {
    let mut conn = pool.get()?;
    let mut tx = conn.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_CLASS, &MIGRATE_LOCK],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS raymundo_migrations (
             version BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let version: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM raymundo_migrations",
            &[],
        )?
        .get(0);
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::TooNew {
            database: redact(url),
            found: version,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO raymundo_migrations (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )?;
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('salt', $1) ON CONFLICT (key) DO NOTHING",
        &[&crate::sqlite::fresh_salt()],
    )?;
    let salt: String = tx
        .query_one("SELECT value FROM meta WHERE key = 'salt'", &[])?
        .get(0);
    tx.commit()?;
    Ok(salt)
}

/// The advisory lock key of a user (the first 32 bits of the user key).
fn user_lock(user_key: &str) -> i32 {
    u32::from_str_radix(user_key.get(..8).unwrap_or("0"), 16).unwrap_or(0) as i32
}

fn job_from(r: &Row) -> Job {
    Job {
        id: r.get(0),
        channel: r.get(1),
        message_id: r.get(2),
        address: r.get::<_, Option<String>>(3).unwrap_or_default(),
        user_key: r.get(4),
        user_name: r.get(5),
        kind: r.get(6),
        text: r.get::<_, Option<String>>(7).unwrap_or_default(),
        reply_to: r.get(8),
        attempts: r.get::<_, i64>(9).max(0) as u32,
        reply: r.get(10),
        parts_sent: r.get::<_, i64>(11).max(0) as u32,
        answer_started: r.get(12),
    }
}

/// Queues again the jobs in progress that `held` (a condition on `jobs` with `params`)
/// selects, each counted as an interruption and an attempt; those interrupted
/// [`JOB_INTERRUPTIONS`] times are failed instead. Returns how many were queued again.
fn requeue_interrupted(
    tx: &mut Transaction<'_>,
    held: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let error = interrupted_error();
    let limit = i64::from(JOB_INTERRUPTIONS);
    let mut with_error: Vec<&(dyn ToSql + Sync)> = params.to_vec();
    with_error.push(&error);
    with_error.push(&limit);
    let given_up = tx.execute(
        &format!(
            "UPDATE jobs SET state = 'failed', attempts = attempts + 1,
                             interruptions = interruptions + 1, error = ${},
                             finished_at = {EPOCH}, owner = NULL, {FORGET}
             WHERE state = 'working' AND ({held}) AND interruptions + 1 >= ${}",
            params.len() + 1,
            params.len() + 2
        ),
        &with_error,
    )?;
    let requeued = tx.execute(
        &format!(
            "UPDATE jobs SET state = 'queued', attempts = attempts + 1,
                             interruptions = interruptions + 1, owner = NULL
             WHERE state = 'working' AND ({held})"
        ),
        params,
    )?;
    if given_up > 0 {
        tracing::warn!(
            given_up,
            "messages the server stopped answering {JOB_INTERRUPTIONS} times are given up"
        );
    }
    Ok(requeued)
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

impl Store for PostgresStore {
    fn user_key(&self, channel: &str, user: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.inner.salt.as_bytes());
        h.update([0]);
        h.update(channel.as_bytes());
        h.update([0]);
        h.update(user.as_bytes());
        raymundo_core::to_hex(&h.finalize()[..16])
    }

    fn accept(&self, job: &NewJob) -> Result<Accepted, StoreError> {
        let user_key = self.user_key(&job.channel, &job.address);
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&USER_CLASS, &user_lock(&user_key)],
        )?;
        let fresh = tx.execute(
            &format!(
                "INSERT INTO seen (channel, message_id, at) VALUES ($1, $2, {EPOCH})
                 ON CONFLICT (channel, message_id) DO NOTHING"
            ),
            &[&job.channel, &job.message_id],
        )?;
        if fresh == 0 {
            tx.rollback()?;
            return Ok(Accepted::Duplicate);
        }
        let id: i64 = tx
            .query_one(
                &format!(
                    "INSERT INTO jobs (channel, message_id, user_key, address, user_name, kind,
                                      text, reply_to, state, received_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', {EPOCH})
                     RETURNING id"
                ),
                &[
                    &job.channel,
                    &job.message_id,
                    &user_key,
                    &job.address,
                    &job.user_name,
                    &job.kind,
                    &job.text,
                    &job.reply_to,
                ],
            )?
            .get(0);
        tx.commit()?;
        Ok(Accepted::Queued(id))
    }

    fn claim_next(&self) -> Result<Option<Job>, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&LOCK_CLASS, &CLAIM_LOCK],
        )?;
        // Jobs of servers that stopped renewing their lease (they died) run again.
        requeue_interrupted(&mut tx, &format!("lease_until < {EPOCH}"), &[])?;
        let row = tx.query_opt(
            &format!(
                "SELECT j.id, j.channel, j.message_id, j.address, j.user_key, j.user_name, j.kind,
                        j.text, j.reply_to, j.attempts, j.reply,
                        (SELECT COALESCE(MAX(o.part) + 1, 0) FROM outbound o
                         WHERE o.job_id = j.id),
                        j.answer_started
                 FROM jobs j
                 WHERE j.state = 'queued' AND j.not_before <= {EPOCH}
                   AND NOT EXISTS (SELECT 1 FROM jobs w WHERE w.state = 'working'
                                   AND w.user_key = j.user_key)
                   AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.state = 'queued'
                                   AND e.user_key = j.user_key AND e.id < j.id)
                 ORDER BY j.id LIMIT 1
                 FOR UPDATE OF j SKIP LOCKED"
            ),
            &[],
        )?;
        let job = row.as_ref().map(job_from);
        if let Some(job) = &job {
            tx.execute(
                &format!(
                    "UPDATE jobs SET state = 'working', owner = $2,
                                     lease_until = {EPOCH} + $3
                     WHERE id = $1"
                ),
                &[&job.id, &self.inner.owner, &self.inner.lease_secs],
            )?;
        }
        tx.commit()?;
        Ok(job)
    }

    fn start_answer(&self, job_id: i64) -> Result<(), StoreError> {
        // Only while this server still holds the job, like `save_reply`.
        let mut conn = self.conn()?;
        let n = conn.execute(
            "UPDATE jobs SET answer_started = TRUE
             WHERE id = $1 AND state = 'working' AND owner = $2",
            &[&job_id, &self.inner.owner],
        )?;
        if n == 0 {
            return Err(self.not_held(&mut conn, job_id)?);
        }
        Ok(())
    }

    fn save_reply(&self, job_id: i64, reply: &str) -> Result<(), StoreError> {
        // Only while this server still holds the job: a server that stalled past its lease
        // learns here, before sending anything, that another one took the job over.
        let mut conn = self.conn()?;
        let n = conn.execute(
            "UPDATE jobs SET reply = $2 WHERE id = $1 AND state = 'working' AND owner = $3",
            &[&job_id, &reply, &self.inner.owner],
        )?;
        if n == 0 {
            return Err(self.not_held(&mut conn, job_id)?);
        }
        Ok(())
    }

    fn record_outbound(&self, o: &Outbound) -> Result<(), StoreError> {
        self.conn()?.execute(
            &format!(
                "INSERT INTO outbound (message_id, channel, user_key, job_id, part, in_reply_to, at)
                 VALUES ($1, $2, $3, $4, $5, $6, {EPOCH})
                 ON CONFLICT (message_id) DO UPDATE SET channel = EXCLUDED.channel,
                     user_key = EXCLUDED.user_key, job_id = EXCLUDED.job_id,
                     part = EXCLUDED.part, in_reply_to = EXCLUDED.in_reply_to, at = EXCLUDED.at"
            ),
            &[
                &o.message_id,
                &o.channel,
                &o.user_key,
                &o.job_id,
                &i64::from(o.part),
                &o.in_reply_to,
            ],
        )?;
        Ok(())
    }

    fn outbound(&self, message_id: &str) -> Result<Option<Outbound>, StoreError> {
        let row = self.conn()?.query_opt(
            "SELECT message_id, channel, user_key, job_id, part, in_reply_to
             FROM outbound WHERE message_id = $1",
            &[&message_id],
        )?;
        Ok(row.map(|r| Outbound {
            message_id: r.get(0),
            channel: r.get(1),
            user_key: r.get(2),
            job_id: r.get(3),
            part: r.get::<_, i64>(4).max(0) as u32,
            in_reply_to: r.get(5),
        }))
    }

    fn complete(&self, job_id: i64) -> Result<(), StoreError> {
        let n = self.conn()?.execute(
            &format!(
                "UPDATE jobs SET state = 'done', error = NULL, finished_at = {EPOCH},
                                 owner = NULL, {FORGET}
                 WHERE id = $1 AND (owner = $2 OR owner IS NULL)"
            ),
            &[&job_id, &self.inner.owner],
        )?;
        if n == 0 {
            return Err(self.not_held(&mut *self.conn()?, job_id)?);
        }
        Ok(())
    }

    fn fail(
        &self,
        job_id: i64,
        error: &str,
        retry_after_secs: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let n = match retry_after_secs {
            Some(secs) => conn.execute(
                &format!(
                    "UPDATE jobs SET state = 'queued', attempts = attempts + 1, error = $2,
                                     not_before = {EPOCH} + $3, owner = NULL
                     WHERE id = $1 AND (owner = $4 OR owner IS NULL)"
                ),
                &[
                    &job_id,
                    &error,
                    &(secs.min(i64::MAX as u64 / 2) as i64),
                    &self.inner.owner,
                ],
            )?,
            None => conn.execute(
                &format!(
                    "UPDATE jobs SET state = 'failed', attempts = attempts + 1, error = $2,
                                     finished_at = {EPOCH}, owner = NULL, {FORGET}
                     WHERE id = $1 AND (owner = $3 OR owner IS NULL)"
                ),
                &[&job_id, &error, &self.inner.owner],
            )?,
        };
        if n == 0 {
            return Err(self.not_held(&mut conn, job_id)?);
        }
        Ok(())
    }

    fn requeue_in_progress(&self) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let n = requeue_interrupted(
            &mut tx,
            &format!("owner IS NULL OR owner = $1 OR lease_until < {EPOCH}"),
            &[&self.inner.owner],
        )?;
        tx.commit()?;
        Ok(n as usize)
    }

    fn record_status(&self, s: &DeliveryStatus) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO statuses (message_id, status, timestamp, recipient_key, error_code,
                                   error_title)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (message_id, status) DO UPDATE SET seq = DEFAULT,
                 timestamp = EXCLUDED.timestamp, recipient_key = EXCLUDED.recipient_key,
                 error_code = EXCLUDED.error_code, error_title = EXCLUDED.error_title",
            &[
                &s.message_id,
                &s.status,
                &s.timestamp,
                &s.recipient_key,
                &s.error_code,
                &s.error_title,
            ],
        )?;
        Ok(())
    }

    fn statuses(&self, message_id: &str) -> Result<Vec<DeliveryStatus>, StoreError> {
        let rows = self.conn()?.query(
            "SELECT message_id, status, timestamp, recipient_key, error_code, error_title
             FROM statuses WHERE message_id = $1 ORDER BY timestamp, seq",
            &[&message_id],
        )?;
        Ok(rows
            .iter()
            .map(|r| DeliveryStatus {
                message_id: r.get(0),
                status: r.get(1),
                timestamp: r.get(2),
                recipient_key: r.get(3),
                error_code: r.get(4),
                error_title: r.get(5),
            })
            .collect())
    }

    fn set_feedback(&self, f: &Feedback) -> Result<(), StoreError> {
        self.conn()?.execute(
            &format!(
                "INSERT INTO feedback (message_id, user_key, value, emoji, at)
                 VALUES ($1, $2, $3, $4, {EPOCH})
                 ON CONFLICT (message_id, user_key) DO UPDATE SET value = EXCLUDED.value,
                     emoji = EXCLUDED.emoji, at = EXCLUDED.at"
            ),
            &[&f.message_id, &f.user_key, &i16::from(f.value), &f.emoji],
        )?;
        Ok(())
    }

    fn clear_feedback(&self, message_id: &str, user_key: &str) -> Result<(), StoreError> {
        self.conn()?.execute(
            "DELETE FROM feedback WHERE message_id = $1 AND user_key = $2",
            &[&message_id, &user_key],
        )?;
        Ok(())
    }

    fn feedback(&self, message_id: &str) -> Result<Vec<Feedback>, StoreError> {
        let rows = self.conn()?.query(
            "SELECT message_id, user_key, value, emoji FROM feedback WHERE message_id = $1
             ORDER BY at, user_key",
            &[&message_id],
        )?;
        Ok(rows
            .iter()
            .map(|r| Feedback {
                message_id: r.get(0),
                user_key: r.get(1),
                value: r.get::<_, i16>(2).clamp(-1, 1) as i8,
                emoji: r.get(3),
            })
            .collect())
    }

    fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        let rows = self
            .conn()?
            .query("SELECT state, COUNT(*) FROM jobs GROUP BY state", &[])?;
        let mut counts = QueueCounts::default();
        for r in rows {
            let (state, n): (String, i64) = (r.get(0), r.get(1));
            let n = count(n);
            match state.as_str() {
                s if s == JobState::Queued.as_str() => counts.queued = n,
                s if s == JobState::Working.as_str() => counts.working = n,
                s if s == JobState::Done.as_str() => counts.done = n,
                _ => counts.failed += n,
            }
        }
        Ok(counts)
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let jobs = self.queue_counts()?;
        let mut conn = self.conn()?;
        let totals = conn.query_one(
            "SELECT (SELECT COUNT(*) FROM seen), (SELECT COUNT(*) FROM outbound),
                    (SELECT COUNT(*) FROM feedback WHERE value > 0),
                    (SELECT COUNT(*) FROM feedback WHERE value < 0)",
            &[],
        )?;
        let delivery_failures = conn
            .query(
                "SELECT COALESCE(error_code, 0), COUNT(*) FROM statuses WHERE status = 'failed'
                 GROUP BY 1 ORDER BY 1",
                &[],
            )?
            .iter()
            .map(|r| (r.get::<_, i64>(0), count(r.get(1))))
            .collect();
        let send_failures = conn
            .query(
                "SELECT COALESCE(error, ''), COUNT(*) FROM jobs WHERE state = 'failed'
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20",
                &[],
            )?
            .iter()
            .map(|r| (r.get::<_, String>(0), count(r.get(1))))
            .collect();
        Ok(StoreStats {
            jobs,
            seen: count(totals.get(0)),
            sent: count(totals.get(1)),
            delivery_failures,
            send_failures,
            feedback_up: count(totals.get(2)),
            feedback_down: count(totals.get(3)),
        })
    }
}
