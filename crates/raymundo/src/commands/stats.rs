//! `raymundo stats`: how Raymundo is doing, from the interaction log in the project's
//! database (`[server] database`): automatic resolution rate, precision per intent from
//! reviewed turns, response time per stage, the false-positive ratio, volume by channel and
//! by day.

use anyhow::{bail, Context, Result};
use raymundo_eval::percentile;
use raymundo_store::{Interaction, InteractionFilter, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Flags of `stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only turns of the last period: `30m`, `24h`, `7d`, `4w`, or since a date
    /// (`2026-11-01`, UTC). Default: every turn.
    #[arg(long, value_name = "PERIOD")]
    since: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Response times of one stage, milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// Turns that went through the stage.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Reviewed turns of one intent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentPrecision {
    /// Reviewed turns the intent was recognised in.
    pub reviewed: usize,
    /// Those reviewed correct, with the intent label kept.
    pub correct: usize,
    /// `correct / reviewed`.
    pub precision: f64,
}

/// What `stats` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Turns counted.
    pub turns: usize,
    /// Turns with a review.
    pub reviewed: usize,
    /// Turns answered in scope (or acted on), not handed off, not reviewed wrong, over all
    /// turns.
    pub resolution_rate: f64,
    /// Reviewed answers given from the documents that the reviewer marked out of scope,
    /// over the reviewed answers given from the documents (`None`: none reviewed).
    pub false_positive_ratio: Option<f64>,
    /// Precision per intent, from reviewed turns.
    pub precision_by_intent: BTreeMap<String, IntentPrecision>,
    /// Response time per stage and end to end (`total`).
    pub latency_ms: BTreeMap<String, Latency>,
    /// Turns per channel.
    pub by_channel: BTreeMap<String, usize>,
    /// Turns per day (UTC).
    pub by_day: BTreeMap<String, usize>,
    /// Turns whose reply got a 👍 / a 👎.
    pub thumbs_up: usize,
    /// See `thumbs_up`.
    pub thumbs_down: usize,
}

/// The statistics of `turns`.
pub fn compute(turns: &[Interaction]) -> Stats {
    let wrong = |i: &Interaction| i.review.as_ref().is_some_and(|r| r.verdict.is_wrong());
    let resolved = turns
        .iter()
        .filter(|i| i.turn.resolved && !i.turn.handed_off && !wrong(i))
        .count();
    let reviewed: Vec<&Interaction> = turns.iter().filter(|i| i.review.is_some()).collect();
    let answered: Vec<&&Interaction> = reviewed
        .iter()
        .filter(|i| i.turn.step == "answer" && i.turn.in_scope == Some(true))
        .collect();
    let false_positives = answered
        .iter()
        .filter(|i| i.review.as_ref().map(|r| r.verdict) == Some(Verdict::OutOfScope))
        .count();
    let mut precision_by_intent: BTreeMap<String, IntentPrecision> = BTreeMap::new();
    for i in &reviewed {
        let (Some(intent), Some(review)) = (&i.turn.intent, &i.review) else {
            continue;
        };
        let label_kept = review.corrected_intent.as_ref().is_none_or(|c| c == intent);
        let entry = precision_by_intent
            .entry(intent.clone())
            .or_insert(IntentPrecision {
                reviewed: 0,
                correct: 0,
                precision: 0.0,
            });
        entry.reviewed += 1;
        if review.verdict == Verdict::Correct && label_kept {
            entry.correct += 1;
        }
    }
    for p in precision_by_intent.values_mut() {
        p.precision = ratio(p.correct, p.reviewed);
    }
    let mut stages: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_channel = BTreeMap::new();
    let mut by_day = BTreeMap::new();
    for i in turns {
        for (stage, ms) in &i.turn.latency_ms {
            stages.entry(stage.clone()).or_default().push(*ms);
        }
        stages
            .entry("total".to_string())
            .or_default()
            .push(i.turn.total_ms);
        *by_channel.entry(i.turn.channel.clone()).or_insert(0) += 1;
        *by_day.entry(day(i.turn.at)).or_insert(0) += 1;
    }
    let latency_ms = stages
        .into_iter()
        .map(|(stage, mut v)| {
            v.sort_by(f64::total_cmp);
            let l = Latency {
                count: v.len(),
                p50: percentile(&v, 0.50),
                p95: percentile(&v, 0.95),
                p99: percentile(&v, 0.99),
            };
            (stage, l)
        })
        .collect();
    Stats {
        turns: turns.len(),
        reviewed: reviewed.len(),
        resolution_rate: ratio(resolved, turns.len()),
        false_positive_ratio: (!answered.is_empty())
            .then(|| ratio(false_positives, answered.len())),
        precision_by_intent,
        latency_ms,
        by_channel,
        by_day,
        thumbs_up: turns.iter().filter(|i| i.feedback == Some(1)).count(),
        thumbs_down: turns.iter().filter(|i| i.feedback == Some(-1)).count(),
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// The UTC date of a Unix time, `YYYY-MM-DD`.
fn day(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The Unix time `period` (`7d`, `24h`, `30m`, `4w` or `YYYY-MM-DD`) means, counted back
/// from `now`.
pub fn parse_since(period: &str, now: i64) -> Result<i64> {
    let p = period.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(p, "%Y-%m-%d") {
        let start = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(start.and_utc().timestamp());
    }
    let unit = p.chars().last().unwrap_or(' ');
    let seconds = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => bail!(
            "--since {period:?}: expected a number and a unit (30m, 24h, 7d, 4w) or a date (2026-11-01)"
        ),
    };
    let n: i64 = p[..p.len() - 1]
        .parse()
        .ok()
        .filter(|n| *n >= 0)
        .with_context(|| {
            format!(
                "--since {period:?}: {:?} is not a whole number",
                &p[..p.len() - 1]
            )
        })?;
    Ok(now - n * seconds)
}

/// Prints the statistics of the project's interaction log.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let config = crate::project::load_config(root)?;
    let now = chrono::Utc::now().timestamp();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now))
        .transpose()?;
    let store = crate::interaction_log::open_recorded(&config)?;
    let turns = store.interactions(&InteractionFilter {
        since,
        ..Default::default()
    })?;
    let stats = compute(&turns);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print!("{}", render(&stats));
    }
    Ok(())
}

/// The statistics as text for a person.
fn render(s: &Stats) -> String {
    let mut out = format!(
        "Turns: {} ({} reviewed, {} 👍, {} 👎)\nAutomatic resolution rate: {:.1}%\n",
        s.turns,
        s.reviewed,
        s.thumbs_up,
        s.thumbs_down,
        s.resolution_rate * 100.0
    );
    match s.false_positive_ratio {
        Some(r) => out.push_str(&format!(
            "False positives (answered, reviewed out of scope): {:.1}%\n",
            r * 100.0
        )),
        None => out.push_str("False positives: no reviewed answers yet\n"),
    }
    if !s.precision_by_intent.is_empty() {
        out.push_str("\nPrecision per intent (reviewed turns):\n");
        for (intent, p) in &s.precision_by_intent {
            out.push_str(&format!(
                "  {intent:<28} {:>5.1}%  ({}/{})\n",
                p.precision * 100.0,
                p.correct,
                p.reviewed
            ));
        }
    }
    if !s.latency_ms.is_empty() {
        out.push_str("\nResponse time (ms):         p50      p95      p99    turns\n");
        for (stage, l) in &s.latency_ms {
            out.push_str(&format!(
                "  {stage:<22} {:>8.1} {:>8.1} {:>8.1} {:>8}\n",
                l.p50, l.p95, l.p99, l.count
            ));
        }
    }
    out.push_str("\nBy channel:\n");
    for (c, n) in &s.by_channel {
        out.push_str(&format!("  {c:<12} {n}\n"));
    }
    out.push_str("\nBy day (UTC):\n");
    for (d, n) in &s.by_day {
        out.push_str(&format!("  {d}  {n}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use raymundo_store::{NewInteraction, Review};

    fn turn(id: i64, channel: &str, intent: Option<&str>, in_scope: bool) -> Interaction {
        Interaction {
            id,
            turn: NewInteraction {
                at: 1_763_942_400 + id * 3600 * 12,
                channel: channel.into(),
                user_key: "k".into(),
                step: if intent.is_some() { "act" } else { "answer" }.into(),
                intent: intent.map(str::to_string),
                in_scope: Some(in_scope),
                resolved: in_scope,
                latency_ms: BTreeMap::from([("search".into(), id as f64)]),
                total_ms: 100.0 * id as f64,
                ..Default::default()
            },
            feedback: None,
            review: None,
        }
    }

    fn review(verdict: Verdict, corrected_intent: Option<&str>) -> Option<Review> {
        Some(Review {
            verdict,
            corrected_answer: None,
            corrected_intent: corrected_intent.map(str::to_string),
            reviewer: "ana".into(),
            at: 0,
        })
    }

    #[test]
    fn resolution_precision_false_positives_and_volume() {
        let mut turns = vec![
            turn(1, "whatsapp", None, true),
            turn(2, "whatsapp", None, true),
            turn(3, "cli", None, false),
            turn(4, "chat_api", Some("crear_presentacion"), true),
            turn(5, "chat_api", Some("crear_presentacion"), true),
        ];
        // Answer 2 was outside the documents yet answered: a false positive, not resolved.
        turns[1].review = review(Verdict::OutOfScope, None);
        turns[0].review = review(Verdict::Correct, None);
        turns[3].review = review(Verdict::Correct, None);
        turns[4].review = review(Verdict::Correct, Some("none"));
        turns[4].feedback = Some(-1);
        let s = compute(&turns);
        assert_eq!(s.turns, 5);
        assert!((s.resolution_rate - 3.0 / 5.0).abs() < 1e-9);
        assert_eq!(s.false_positive_ratio, Some(0.5));
        let p = &s.precision_by_intent["crear_presentacion"];
        assert_eq!((p.reviewed, p.correct, p.precision), (2, 1, 0.5));
        assert_eq!(s.by_channel["chat_api"], 2);
        assert_eq!(s.by_day.values().sum::<usize>(), 5);
        assert_eq!(s.by_day.len(), 3);
        assert_eq!(s.latency_ms["total"].p50, 300.0);
        assert_eq!(s.latency_ms["total"].p99, 500.0);
        assert_eq!(s.thumbs_down, 1);
    }

    #[test]
    fn since_accepts_periods_and_dates_and_names_what_is_wrong() {
        assert_eq!(
            parse_since("7d", 1_000_000).unwrap(),
            1_000_000 - 7 * 86_400
        );
        assert_eq!(parse_since("30m", 10_000).unwrap(), 10_000 - 1800);
        assert_eq!(parse_since("2026-11-01", 0).unwrap(), 1_793_491_200);
        let err = parse_since("7 days", 0).unwrap_err().to_string();
        assert!(err.contains("7 days") && err.contains("7d"), "{err}");
        let err = parse_since("xd", 0).unwrap_err().to_string();
        assert!(err.contains("not a whole number"), "{err}");
    }
}
