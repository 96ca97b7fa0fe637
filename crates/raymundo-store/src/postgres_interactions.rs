//! [`Interactions`] on PostgreSQL: the same rows as on SQLite (JSON columns as text, read
//! by the shared parser), feedback joined from the replies sent for the turn's message.

use crate::interaction_rows::{
    encode, finite, parse, review_row, select, validate, Bound, RawRow, COLUMNS,
};
use crate::{
    Interaction, InteractionFilter, Interactions, NewInteraction, PostgresStore, Review, StoreError,
};
use postgres::types::ToSql;
use postgres::Row;

fn raw(r: &Row) -> RawRow {
    RawRow {
        id: r.get(0),
        turn: NewInteraction {
            at: r.get(1),
            channel: r.get(2),
            user_key: r.get(3),
            message_id: r.get(4),
            message: r.get(5),
            query: r.get(6),
            step: r.get(7),
            intent: r.get(8),
            parameters: None,
            confidence: r.get::<_, Option<f64>>(10).map(|c| c as f32),
            chunks: Vec::new(),
            answer: r.get(12),
            provider: r.get(13),
            in_scope: r.get(14),
            resolved: r.get(15),
            handed_off: r.get(16),
            latency_ms: Default::default(),
            total_ms: r.get(18),
        },
        parameters: r.get(9),
        chunks: r.get(11),
        latency: r.get(17),
        verdict: r.get(19),
        review: (r.get(20), r.get(21), r.get(22), r.get(23)),
        feedback: r.get::<_, Option<i32>>(24).map(|v| v.clamp(-1, 1) as i8),
    }
}

impl Interactions for PostgresStore {
    fn record_interaction(&self, turn: &NewInteraction) -> Result<i64, StoreError> {
        validate(turn)?;
        let (chunks, latency) = encode(turn)?;
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Like SQLite's `synchronous = NORMAL` for the log: the commit does not wait for the
        // WAL to reach the disk (a crash of the database server may lose the last turns,
        // never corrupt them); the job queue keeps waiting on every other write.
        tx.batch_execute("SET LOCAL synchronous_commit TO OFF")?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO interactions (at, channel, user_key, message_id, message, query,
                     step, intent, parameters, confidence, chunks, answer, provider, in_scope,
                     resolved, handed_off, latency, total_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                         $17, $18)
                 RETURNING id",
                &[
                    &turn.at,
                    &turn.channel,
                    &turn.user_key,
                    &turn.message_id,
                    &turn.message,
                    &turn.query,
                    &turn.step,
                    &turn.intent,
                    &turn.parameters.as_ref().map(|p| p.to_string()),
                    &turn.confidence.map(|c| finite(c) as f64),
                    &chunks,
                    &turn.answer,
                    &turn.provider,
                    &turn.in_scope,
                    &turn.resolved,
                    &turn.handed_off,
                    &latency,
                    &turn.total_ms,
                ],
            )?
            .get(0);
        tx.commit()?;
        Ok(id)
    }

    fn interaction(&self, id: i64) -> Result<Option<Interaction>, StoreError> {
        let row = self.conn()?.query_opt(
            &format!("SELECT {COLUMNS} FROM interactions i WHERE i.id = $1"),
            &[&id],
        )?;
        row.map(|r| parse(raw(&r))).transpose()
    }

    fn interactions(&self, filter: &InteractionFilter) -> Result<Vec<Interaction>, StoreError> {
        let (sql, values) = select(filter, '$');
        let values: Vec<Box<dyn ToSql + Sync>> = values
            .into_iter()
            .map(|v| -> Box<dyn ToSql + Sync> {
                match v {
                    Bound::Text(t) => Box::new(t),
                    Bound::Int(n) => Box::new(n),
                }
            })
            .collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        let rows = self.conn()?.query(&sql, &params)?;
        rows.iter().map(|r| parse(raw(r))).collect()
    }

    fn review(&self, id: i64, review: &Review) -> Result<(), StoreError> {
        let row = review_row(review)?;
        let n = self.conn()?.execute(
            "UPDATE interactions SET verdict = $2, corrected_answer = $3, corrected_intent = $4,
                                     reviewer = $5, reviewed_at = $6
             WHERE id = $1",
            &[
                &id,
                &row.verdict,
                &row.corrected_answer,
                &row.corrected_intent,
                &row.reviewer,
                &row.at,
            ],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchInteraction(id));
        }
        Ok(())
    }
}
