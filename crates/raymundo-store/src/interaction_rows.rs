//! What both backends share about interaction rows: checking a turn before it is written,
//! and turning a row as read (JSON columns still text) into an [`Interaction`].

use crate::{Interaction, NewInteraction, RetrievedChunk, Review, StoreError, Verdict};

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
