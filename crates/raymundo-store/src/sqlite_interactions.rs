//! [`Interactions`] on SQLite: one row per turn, the review in the same row, feedback
//! joined from the replies Raymundo sent for the turn's inbound message.

use crate::interaction_rows::{
    encode, finite, parse, review_row, select, validate, Bound, RawRow, COLUMNS,
};
use crate::{
    Interaction, InteractionFilter, Interactions, NewInteraction, Review, SqliteStore, StoreError,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};
use serde_json::Value;

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: r.get(0)?,
        turn: NewInteraction {
            at: r.get(1)?,
            channel: r.get(2)?,
            user_key: r.get(3)?,
            message_id: r.get(4)?,
            message: r.get(5)?,
            query: r.get(6)?,
            step: r.get(7)?,
            intent: r.get(8)?,
            parameters: None,
            confidence: r.get::<_, Option<f64>>(10)?.map(|c| c as f32),
            chunks: Vec::new(),
            answer: r.get(12)?,
            provider: r.get(13)?,
            in_scope: r.get(14)?,
            resolved: r.get(15)?,
            handed_off: r.get(16)?,
            latency_ms: Default::default(),
            total_ms: r.get(18)?,
        },
        parameters: r.get(9)?,
        chunks: r.get(11)?,
        latency: r.get(17)?,
        verdict: r.get(19)?,
        review: (r.get(20)?, r.get(21)?, r.get(22)?, r.get(23)?),
        feedback: r.get(24)?,
    })
}

impl Interactions for SqliteStore {
    fn record_interaction(&self, turn: &NewInteraction) -> Result<i64, StoreError> {
        validate(turn)?;
        let (chunks, latency) = encode(turn)?;
        let conn = self.conn();
        // The log is written without waiting for the disk (`synchronous = NORMAL`: still
        // safe from a crash of the process, a power cut may lose the last turns), which
        // takes a turn from ~4 ms to well under 1 ms at p95 here; the job queue, which
        // must survive a power cut, keeps `FULL` on every other write.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let inserted = conn
            .prepare_cached(
                "INSERT INTO interactions (at, channel, user_key, message_id, message, query, step,
                 intent, parameters, confidence, chunks, answer, provider, in_scope, resolved,
                 handed_off, latency, total_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    turn.at,
                    turn.channel,
                    turn.user_key,
                    turn.message_id,
                    turn.message,
                    turn.query,
                    turn.step,
                    turn.intent,
                    turn.parameters.as_ref().map(Value::to_string),
                    turn.confidence.map(|c| finite(c) as f64),
                    chunks,
                    turn.answer,
                    turn.provider,
                    turn.in_scope,
                    turn.resolved,
                    turn.handed_off,
                    latency,
                    turn.total_ms,
                ])
            });
        conn.pragma_update(None, "synchronous", "FULL")?;
        inserted?;
        Ok(conn.last_insert_rowid())
    }

    fn interaction(&self, id: i64) -> Result<Option<Interaction>, StoreError> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM interactions i WHERE i.id = ?1"),
                params![id],
                raw,
            )
            .optional()?;
        row.map(parse).transpose()
    }

    fn interactions(&self, filter: &InteractionFilter) -> Result<Vec<Interaction>, StoreError> {
        let (sql, values) = select(filter, '?');
        let values = values.into_iter().map(|v| match v {
            Bound::Text(t) => SqlValue::Text(t),
            Bound::Int(n) => SqlValue::Integer(n),
        });
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(params_from_iter(values), raw)?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        drop(conn);
        rows.into_iter().map(parse).collect()
    }

    fn review(&self, id: i64, review: &Review) -> Result<(), StoreError> {
        let row = review_row(review)?;
        let n = self.conn().execute(
            "UPDATE interactions SET verdict = ?2, corrected_answer = ?3, corrected_intent = ?4,
                                     reviewer = ?5, reviewed_at = ?6
             WHERE id = ?1",
            params![
                id,
                row.verdict,
                row.corrected_answer,
                row.corrected_intent,
                row.reviewer,
                row.at
            ],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchInteraction(id));
        }
        Ok(())
    }
}
