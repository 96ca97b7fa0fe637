//! What both backends share about interaction rows: checking a turn or a review before it
//! is written, the query a filter asks for, and turning a row as read (JSON columns still
//! text) into an [`Interaction`].

use crate::{
    Interaction, InteractionFilter, NewInteraction, RetrievedChunk, Review, StoreError, Verdict,
};

/// The columns read into a [`RawRow`] from `interactions i`, in its order; the last one is
/// the user's 👍/👎, joined through the replies sent for the turn's inbound message.
pub(crate) const COLUMNS: &str =
    "i.id, i.at, i.channel, i.user_key, i.message_id, i.message, i.query,
    i.step, i.intent, i.parameters, i.confidence, i.chunks, i.answer, i.provider, i.in_scope,
    i.resolved, i.handed_off, i.latency, i.total_ms, i.verdict, i.corrected_answer,
    i.corrected_intent, i.reviewer, i.reviewed_at,
    (SELECT CASE WHEN MIN(f.value) < 0 THEN -1 WHEN MAX(f.value) > 0 THEN 1 END
     FROM outbound o JOIN feedback f ON f.message_id = o.message_id
     WHERE o.channel = i.channel AND o.in_reply_to = i.message_id)";

/// A value bound to a parameter of [`select`]'s statement.
pub(crate) enum Bound {
    /// An intent or channel name.
    Text(String),
    /// A time in seconds since the Unix epoch.
    Int(i64),
}

/// The statement reading the turns `filter` asks for, newest first, and the values of its
/// parameters, spelled `{prefix}1`, `{prefix}2`, ... (`?` on SQLite, `$` on PostgreSQL).
/// The rest of the SQL is the same on both.
pub(crate) fn select(filter: &InteractionFilter, prefix: char) -> (String, Vec<Bound>) {
    let mut conditions = vec!["TRUE".to_string()];
    let mut values = Vec::new();
    let mut bind = |value: Bound, column: &str, op: &str| {
        values.push(value);
        format!("i.{column} {op} {prefix}{}", values.len())
    };
    if filter.unreviewed {
        conditions.push("i.verdict IS NULL".into());
    }
    if filter.out_of_scope {
        conditions.push("i.in_scope = FALSE".into());
    }
    if filter.thumbs_down {
        conditions.push(
            "EXISTS (SELECT 1 FROM outbound o JOIN feedback f ON f.message_id = o.message_id
                     WHERE o.channel = i.channel AND o.in_reply_to = i.message_id
                       AND f.value < 0)"
                .into(),
        );
    }
    if let Some(intent) = &filter.intent {
        conditions.push(bind(Bound::Text(intent.clone()), "intent", "="));
    }
    if let Some(channel) = &filter.channel {
        conditions.push(bind(Bound::Text(channel.clone()), "channel", "="));
    }
    if let Some(since) = filter.since {
        conditions.push(bind(Bound::Int(since), "at", ">="));
    }
    let mut sql = format!(
        "SELECT {COLUMNS} FROM interactions i WHERE {} ORDER BY i.id DESC",
        conditions.join(" AND ")
    );
    if filter.limit > 0 {
        sql.push_str(&format!(" LIMIT {}", filter.limit));
    }
    (sql, values)
}

/// A review as written: the reviewer's name trimmed and required, blank corrections as
/// NULL.
pub(crate) struct ReviewRow<'a> {
    pub(crate) verdict: &'static str,
    pub(crate) corrected_answer: Option<&'a str>,
    pub(crate) corrected_intent: Option<&'a str>,
    pub(crate) reviewer: &'a str,
    pub(crate) at: i64,
}

/// Checks `review` and gives the values to write.
pub(crate) fn review_row(review: &Review) -> Result<ReviewRow<'_>, StoreError> {
    fn blank(s: &Option<String>) -> Option<&str> {
        s.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let reviewer = review.reviewer.trim();
    if reviewer.is_empty() {
        return Err(StoreError::Invalid(
            "review: the reviewer's name is empty".into(),
        ));
    }
    Ok(ReviewRow {
        verdict: review.verdict.as_str(),
        corrected_answer: blank(&review.corrected_answer),
        corrected_intent: blank(&review.corrected_intent),
        reviewer,
        at: review.at,
    })
}

/// A row as read, before its JSON columns are parsed.
pub(crate) struct RawRow {
    pub(crate) id: i64,
    pub(crate) turn: NewInteraction,
    pub(crate) parameters: Option<String>,
    pub(crate) chunks: String,
    pub(crate) latency: String,
    pub(crate) verdict: Option<String>,
    pub(crate) review: (Option<String>, Option<String>, Option<String>, Option<i64>),
    pub(crate) feedback: Option<i8>,
}

pub(crate) fn corrupt(id: i64, what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("interaction {id}, {what}: {e}"))
}

pub(crate) fn parse(row: RawRow) -> Result<Interaction, StoreError> {
    let id = row.id;
    let mut turn = row.turn;
    turn.parameters = row
        .parameters
        .map(|p| serde_json::from_str(&p))
        .transpose()
        .map_err(|e| corrupt(id, "parameters", e))?;
    let chunks: Vec<(String, u32, f32)> =
        serde_json::from_str(&row.chunks).map_err(|e| corrupt(id, "chunks", e))?;
    turn.chunks = chunks
        .into_iter()
        .map(|(doc, position, score)| RetrievedChunk {
            doc,
            position,
            score,
        })
        .collect();
    turn.latency_ms = serde_json::from_str(&row.latency).map_err(|e| corrupt(id, "latency", e))?;
    let review = match row.verdict {
        None => None,
        Some(v) => {
            let (corrected_answer, corrected_intent, reviewer, at) = row.review;
            Some(Review {
                verdict: Verdict::parse(&v).map_err(|e| corrupt(id, "verdict", e))?,
                corrected_answer,
                corrected_intent,
                reviewer: reviewer.unwrap_or_default(),
                at: at.unwrap_or_default(),
            })
        }
    };
    Ok(Interaction {
        id,
        turn,
        feedback: row.feedback,
        review,
    })
}

pub(crate) fn validate(turn: &NewInteraction) -> Result<(), StoreError> {
    let invalid = |what: &str| Err(StoreError::Invalid(format!("interaction: {what}")));
    if turn.channel.trim().is_empty() {
        return invalid("the channel is empty");
    }
    if turn.user_key.trim().is_empty() {
        return invalid("the user key is empty");
    }
    if !turn.total_ms.is_finite() || turn.total_ms < 0.0 {
        return invalid(&format!(
            "total time {} ms is not a duration",
            turn.total_ms
        ));
    }
    if let Some((stage, ms)) = turn
        .latency_ms
        .iter()
        .find(|(_, ms)| !ms.is_finite() || **ms < 0.0)
    {
        return invalid(&format!("stage {stage:?} took {ms} ms, not a duration"));
    }
    if let Some(p) = &turn.parameters {
        if !p.is_object() {
            return invalid("parameters must be a JSON object");
        }
    }
    Ok(())
}

/// A score as stored: NaN and infinities (never expected) become 0.
pub(crate) fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// The JSON texts stored for a turn's chunks (`[[doc, position, score], ...]`) and latency
/// per stage.
pub(crate) fn encode(turn: &NewInteraction) -> Result<(String, String), StoreError> {
    let chunks: Vec<serde_json::Value> = turn
        .chunks
        .iter()
        .map(|c| serde_json::json!([c.doc, c.position, finite(c.score)]))
        .collect();
    let latency = serde_json::to_string(&turn.latency_ms)
        .map_err(|e| StoreError::Invalid(format!("latency: {e}")))?;
    Ok((serde_json::Value::Array(chunks).to_string(), latency))
}
