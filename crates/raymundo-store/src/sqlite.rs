//! The embedded backend: one SQLite file in WAL mode, migrated by `PRAGMA user_version`.

use crate::{
    interrupted_error, Accepted, DeliveryStatus, Feedback, Job, JobState, NewJob, Outbound,
    QueueCounts, Store, StoreError, StoreStats, JOB_INTERRUPTIONS,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Schema migrations, in order; `PRAGMA user_version` is the number applied.
pub(crate) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE seen (
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (channel, message_id)
) WITHOUT ROWID;
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    user_key TEXT NOT NULL,
    address TEXT,
    user_name TEXT,
    kind TEXT NOT NULL,
    text TEXT,
    reply_to TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL DEFAULT 0,
    reply TEXT,
    error TEXT,
    received_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_by_state ON jobs (state, user_key, id);
CREATE INDEX jobs_queue ON jobs (state, id);
CREATE TABLE outbound (
    message_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    user_key TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    in_reply_to TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX outbound_by_job ON outbound (job_id);
CREATE TABLE statuses (
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    recipient_key TEXT NOT NULL,
    error_code INTEGER,
    error_title TEXT,
    PRIMARY KEY (message_id, status)
);
CREATE TABLE feedback (
    message_id TEXT NOT NULL,
    user_key TEXT NOT NULL,
    value INTEGER NOT NULL,
    emoji TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_key)
);
",
    r"
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    channel TEXT NOT NULL,
    user_key TEXT NOT NULL,
    message_id TEXT,
    message TEXT NOT NULL,
    query TEXT,
    step TEXT NOT NULL,
    intent TEXT,
    parameters TEXT,
    confidence REAL,
    chunks TEXT NOT NULL,
    answer TEXT NOT NULL,
    provider TEXT,
    in_scope INTEGER,
    resolved INTEGER NOT NULL,
    handed_off INTEGER NOT NULL,
    latency TEXT NOT NULL,
    total_ms REAL NOT NULL,
    verdict TEXT,
    corrected_answer TEXT,
    corrected_intent TEXT,
    reviewer TEXT,
    reviewed_at INTEGER
);
CREATE INDEX interactions_by_time ON interactions (at);
CREATE INDEX interactions_by_message ON interactions (channel, message_id);
CREATE INDEX outbound_by_inbound ON outbound (channel, in_reply_to);
CREATE TABLE conversation_pending (
    user_key TEXT PRIMARY KEY,
    pending TEXT NOT NULL
);
CREATE TABLE conversation_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key TEXT NOT NULL,
    speaker TEXT NOT NULL,
    text TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX conversation_by_user ON conversation_messages (user_key, id);
",
    // Interrupted jobs are counted (and given up after `JOB_INTERRUPTIONS`), and a job
    // whose answer began is marked, so that its actions do not run twice.
    r"
ALTER TABLE jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN answer_started INTEGER NOT NULL DEFAULT 0;
",
];

/// The store in one SQLite file.
///
/// One connection behind a mutex: every call is a short transaction, and WAL with
/// `synchronous = FULL` makes an acknowledged message survive a crash or a power cut.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    salt: String,
}

impl SqliteStore {
    /// Opens (creating if needed, with its folder) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return Err(open_err(rusqlite::Error::InvalidPath(PathBuf::from(
                    format!("{} ({e})", dir.display()),
                ))));
            }
        }
        let conn = Connection::open(path).map_err(open_err)?;
        Self::setup(conn, path)
    }

    /// A private database in memory (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, Path::new(":memory:"))
    }

    fn setup(conn: Connection, path: &Path) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Deleted and overwritten rows (a job's phone number, once answered) are zeroed on
        // disk, not left in free space where a copy of the file would still hold them.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                database: path.display().to_string(),
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))?;
        }
        let salt = match conn
            .query_row("SELECT value FROM meta WHERE key = 'salt'", [], |r| {
                r.get(0)
            })
            .optional()?
        {
            Some(s) => s,
            None => {
                let s = fresh_salt();
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('salt', ?1)",
                    params![s],
                )?;
                s
            }
        };
        Ok(Self {
            conn: Mutex::new(conn),
            salt,
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied (SQLite
        // rolls it back), so the connection stays usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// 16 random bytes as hex, from the operating system (a hash of time and process where
/// there is no `/dev/urandom`).
pub(crate) fn fresh_salt() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_os {
        let mut h = Sha256::new();
        h.update(format!("{:?}{}", SystemTime::now(), std::process::id()).as_bytes());
        bytes.copy_from_slice(&h.finalize()[..16]);
    }
    raymundo_core::to_hex(&bytes)
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Forgets a finished job's personal data.
const FORGET: &str = "address = NULL, user_name = NULL, text = NULL, reply = NULL";

impl Store for SqliteStore {
    fn user_key(&self, channel: &str, user: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.salt.as_bytes());
        h.update([0]);
        h.update(channel.as_bytes());
        h.update([0]);
        h.update(user.as_bytes());
        raymundo_core::to_hex(&h.finalize()[..16])
    }

    fn accept(&self, job: &NewJob) -> Result<Accepted, StoreError> {
        let user_key = self.user_key(&job.channel, &job.address);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now();
        let fresh = tx.execute(
            "INSERT OR IGNORE INTO seen (channel, message_id, at) VALUES (?1, ?2, ?3)",
            params![job.channel, job.message_id, at],
        )?;
        if fresh == 0 {
            return Ok(Accepted::Duplicate);
        }
        tx.execute(
            "INSERT INTO jobs (channel, message_id, user_key, address, user_name, kind, text,
                               reply_to, state, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9)",
            params![
                job.channel,
                job.message_id,
                user_key,
                job.address,
                job.user_name,
                job.kind,
                job.text,
                job.reply_to,
                at
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Accepted::Queued(id))
    }

    fn claim_next(&self) -> Result<Option<Job>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let job = tx
            .query_row(
                "SELECT j.id, j.channel, j.message_id, j.address, j.user_key, j.user_name, j.kind,
                        j.text, j.reply_to, j.attempts, j.reply,
                        (SELECT COALESCE(MAX(o.part) + 1, 0) FROM outbound o WHERE o.job_id = j.id),
                        j.answer_started
                 FROM jobs j
                 WHERE j.state = 'queued' AND j.not_before <= ?1
                   AND NOT EXISTS (SELECT 1 FROM jobs w WHERE w.state = 'working'
                                   AND w.user_key = j.user_key)
                   AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.state = 'queued'
                                   AND e.user_key = j.user_key AND e.id < j.id)
                 ORDER BY j.id LIMIT 1",
                params![now()],
                |r| {
                    Ok(Job {
                        id: r.get(0)?,
                        channel: r.get(1)?,
                        message_id: r.get(2)?,
                        address: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                        user_key: r.get(4)?,
                        user_name: r.get(5)?,
                        kind: r.get(6)?,
                        text: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                        reply_to: r.get(8)?,
                        attempts: r.get(9)?,
                        reply: r.get(10)?,
                        parts_sent: r.get(11)?,
                        answer_started: r.get(12)?,
                    })
                },
            )
            .optional()?;
        if let Some(job) = &job {
            tx.execute(
                "UPDATE jobs SET state = 'working' WHERE id = ?1",
                params![job.id],
            )?;
        }
        tx.commit()?;
        Ok(job)
    }

    fn start_answer(&self, job_id: i64) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE jobs SET answer_started = 1 WHERE id = ?1 AND state = 'working'",
            params![job_id],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchJob(job_id));
        }
        Ok(())
    }

    fn save_reply(&self, job_id: i64, reply: &str) -> Result<(), StoreError> {
        let n = self.conn().execute(
            "UPDATE jobs SET reply = ?2 WHERE id = ?1 AND state = 'working'",
            params![job_id, reply],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchJob(job_id));
        }
        Ok(())
    }

    fn record_outbound(&self, o: &Outbound) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO outbound (message_id, channel, user_key, job_id, part,
                                              in_reply_to, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                o.message_id,
                o.channel,
                o.user_key,
                o.job_id,
                o.part,
                o.in_reply_to,
                now()
            ],
        )?;
        Ok(())
    }

    fn outbound(&self, message_id: &str) -> Result<Option<Outbound>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT message_id, channel, user_key, job_id, part, in_reply_to
                 FROM outbound WHERE message_id = ?1",
                params![message_id],
                |r| {
                    Ok(Outbound {
                        message_id: r.get(0)?,
                        channel: r.get(1)?,
                        user_key: r.get(2)?,
                        job_id: r.get(3)?,
                        part: r.get(4)?,
                        in_reply_to: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    fn complete(&self, job_id: i64) -> Result<(), StoreError> {
        let n = self.conn().execute(
            &format!(
                "UPDATE jobs SET state = 'done', error = NULL, finished_at = ?2, {FORGET}
                 WHERE id = ?1"
            ),
            params![job_id, now()],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchJob(job_id));
        }
        Ok(())
    }

    fn fail(
        &self,
        job_id: i64,
        error: &str,
        retry_after_secs: Option<u64>,
    ) -> Result<(), StoreError> {
        let n = match retry_after_secs {
            Some(secs) => self.conn().execute(
                "UPDATE jobs SET state = 'queued', attempts = attempts + 1, error = ?2,
                                 not_before = ?3
                 WHERE id = ?1",
                params![job_id, error, now() + secs as i64],
            )?,
            None => self.conn().execute(
                &format!(
                    "UPDATE jobs SET state = 'failed', attempts = attempts + 1, error = ?2,
                                     finished_at = ?3, {FORGET}
                     WHERE id = ?1"
                ),
                params![job_id, error, now()],
            )?,
        };
        if n == 0 {
            return Err(StoreError::NoSuchJob(job_id));
        }
        Ok(())
    }

    fn requeue_in_progress(&self) -> Result<usize, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let given_up = tx.execute(
            &format!(
                "UPDATE jobs SET state = 'failed', attempts = attempts + 1,
                                 interruptions = interruptions + 1, error = ?1,
                                 finished_at = ?2, {FORGET}
                 WHERE state = 'working' AND interruptions + 1 >= ?3"
            ),
            params![interrupted_error(), now(), JOB_INTERRUPTIONS],
        )?;
        let requeued = tx.execute(
            "UPDATE jobs SET state = 'queued', attempts = attempts + 1,
                             interruptions = interruptions + 1
             WHERE state = 'working'",
            [],
        )?;
        tx.commit()?;
        if given_up > 0 {
            tracing::warn!(
                given_up,
                "messages the server stopped answering {JOB_INTERRUPTIONS} times are given up"
            );
        }
        Ok(requeued)
    }

    fn record_status(&self, s: &DeliveryStatus) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO statuses (message_id, status, timestamp, recipient_key,
                                              error_code, error_title)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                s.message_id,
                s.status,
                s.timestamp,
                s.recipient_key,
                s.error_code,
                s.error_title
            ],
        )?;
        Ok(())
    }

    fn statuses(&self, message_id: &str) -> Result<Vec<DeliveryStatus>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT message_id, status, timestamp, recipient_key, error_code, error_title
             FROM statuses WHERE message_id = ?1 ORDER BY timestamp, rowid",
        )?;
        let rows = stmt.query_map(params![message_id], |r| {
            Ok(DeliveryStatus {
                message_id: r.get(0)?,
                status: r.get(1)?,
                timestamp: r.get(2)?,
                recipient_key: r.get(3)?,
                error_code: r.get(4)?,
                error_title: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_feedback(&self, f: &Feedback) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO feedback (message_id, user_key, value, emoji, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![f.message_id, f.user_key, f.value, f.emoji, now()],
        )?;
        Ok(())
    }

    fn clear_feedback(&self, message_id: &str, user_key: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM feedback WHERE message_id = ?1 AND user_key = ?2",
            params![message_id, user_key],
        )?;
        Ok(())
    }

    fn feedback(&self, message_id: &str) -> Result<Vec<Feedback>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT message_id, user_key, value, emoji FROM feedback WHERE message_id = ?1
             ORDER BY at, user_key",
        )?;
        let rows = stmt.query_map(params![message_id], |r| {
            Ok(Feedback {
                message_id: r.get(0)?,
                user_key: r.get(1)?,
                value: r.get(2)?,
                emoji: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
        let mut counts = QueueCounts::default();
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
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
        let conn = self.conn();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, u64>(0));
        let seen = count("SELECT COUNT(*) FROM seen")?;
        let sent = count("SELECT COUNT(*) FROM outbound")?;
        let feedback_up = count("SELECT COUNT(*) FROM feedback WHERE value > 0")?;
        let feedback_down = count("SELECT COUNT(*) FROM feedback WHERE value < 0")?;
        let mut stmt = conn.prepare(
            "SELECT COALESCE(error_code, 0), COUNT(*) FROM statuses WHERE status = 'failed'
             GROUP BY 1 ORDER BY 1",
        )?;
        let delivery_failures = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare(
            "SELECT COALESCE(error, ''), COUNT(*) FROM jobs WHERE state = 'failed'
             GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20",
        )?;
        let send_failures = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(StoreStats {
            jobs,
            seen,
            sent,
            delivery_failures,
            send_failures,
            feedback_up,
            feedback_down,
        })
    }
}
