//! Learning of new versions: `LISTEN` on [`CHANNEL`] over a dedicated connection, and a poll
//! of the current version as a fallback (a notification sent while the connection was down is
//! not replayed), reconnecting after errors.

use super::schema::CHANNEL;
use super::PgIndex;
use postgres::fallible_iterator::FallibleIterator;
use std::time::Duration;

impl PgIndex {
    /// Blocks, calling `on_new(version)` each time the database's current version differs
    /// from the last one seen (this index's at first), until `on_new` returns `false`. A new
    /// version is seen at once through `NOTIFY`, or within `poll` when notifications are not
    /// delivered (a pooler in transaction mode, a dropped connection). Connection failures
    /// are reported to `on_error` and retried every `poll`.
    pub fn follow(
        &self,
        poll: Duration,
        mut on_new: impl FnMut(i64) -> bool,
        mut on_error: impl FnMut(String),
    ) {
        let mut seen = self.version;
        loop {
            let mut client = match raymundo_pg::connect(self.pool.config()) {
                Ok(c) => c,
                Err(e) => {
                    on_error(e.to_string());
                    std::thread::sleep(poll);
                    continue;
                }
            };
            if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                on_error(raymundo_pg::describe(&e));
                std::thread::sleep(poll);
                continue;
            }
            loop {
                let current = client.query_opt("SELECT version FROM raymundo_index_current", &[]);
                match current {
                    Ok(Some(row)) => {
                        let v: i64 = row.get(0);
                        if v != seen {
                            seen = v;
                            if !on_new(v) {
                                return;
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        on_error(raymundo_pg::describe(&e));
                        break;
                    }
                }
                // Wait for a notification (then drain the others) or the poll interval.
                let mut notifications = client.notifications();
                let waited = notifications.timeout_iter(poll).next();
                match waited {
                    Ok(Some(_)) => while let Ok(Some(_)) = notifications.iter().next() {},
                    Ok(None) => {}
                    Err(e) => {
                        on_error(raymundo_pg::describe(&e));
                        break;
                    }
                }
            }
            std::thread::sleep(poll);
        }
    }
}
