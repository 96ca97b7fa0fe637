//! `raymundo report --html FILE`: the statistics of `raymundo stats` as one self-contained
//! HTML page (inline CSS and SVG charts, nothing fetched from the network): volume by day,
//! response time per stage, precision per intent, volume by channel, the worst-rated
//! answers to review, and the latest results of `raymundo eval` (saved by each eval run in
//! `data/eval/resultados/`), so quality measured offline and live behaviour sit side by side.

use super::stats::{compute, parse_since, Stats};
use crate::interaction_log::open_recorded;
use anyhow::{Context, Result};
use raymundo_server::html_escape as esc;
use raymundo_store::{Interaction, InteractionFilter};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Flags of `report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the report as HTML to this file.
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
    /// Only turns of the last period (`7d`, `24h`) or since a date (`2026-11-01`).
    #[arg(long, value_name = "PERIOD")]
    since: Option<String>,
    /// Worst-rated answers listed.
    #[arg(long, default_value_t = 20)]
    worst: usize,
}

/// Where eval runs leave their latest results.
pub fn results_dir(root: &Path) -> PathBuf {
    root.join("data").join("eval").join("resultados")
}

/// Keeps the result of an eval run (`retrieval`, `intents` or `answers`) for the report;
/// a failure to write it is only a warning (the eval itself succeeded).
pub fn save_eval(root: &Path, kind: &str, file: &Path, result: Value) {
    let dir = results_dir(root);
    let saved = serde_json::json!({
        "kind": kind,
        "at": chrono::Utc::now().to_rfc3339(),
        "file": file.display().to_string(),
        "result": result,
    });
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        let tmp = dir.join(format!(".{kind}.json.tmp"));
        std::fs::write(&tmp, serde_json::to_vec_pretty(&saved).unwrap_or_default())?;
        std::fs::rename(&tmp, dir.join(format!("{kind}.json")))
    });
    if let Err(e) = written {
        eprintln!(
            "warning: could not keep the eval result in {}: {e}",
            dir.display()
        );
    }
}

/// Writes the report.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let config = crate::project::load_config(root)?;
    let now = chrono::Utc::now();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now.timestamp()))
        .transpose()?;
    let store = open_recorded(&config)?;
    let turns = store.interactions(&InteractionFilter {
        since,
        ..Default::default()
    })?;
    let stats = compute(&turns);
    let mut evals = Vec::new();
    for kind in ["retrieval", "intents", "answers"] {
        let path = results_dir(&config.root).join(format!("{kind}.json"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => evals.push(v),
                Err(e) => eprintln!(
                    "warning: {} is not valid JSON ({e}); left out",
                    path.display()
                ),
            }
        }
    }
    let page = render(
        &stats,
        &worst(&turns, args.worst),
        &evals,
        &now.to_rfc3339(),
        args.since.as_deref(),
    );
    if let Some(dir) = args.html.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.html, page).with_context(|| format!("writing {}", args.html.display()))?;
    println!(
        "Report of {} turns ({} reviewed, {} eval result(s)) written to {}",
        stats.turns,
        stats.reviewed,
        evals.len(),
        args.html.display()
    );
    Ok(())
}

/// The turns a reviewer should look at first: 👎 or reviewed wrong, newest first.
fn worst(turns: &[Interaction], n: usize) -> Vec<&Interaction> {
    turns
        .iter()
        .filter(|i| {
            i.feedback == Some(-1) || i.review.as_ref().is_some_and(|r| r.verdict.is_wrong())
        })
        .take(n)
        .collect()
}

/// Horizontal bars, one per (label, value), scaled to the largest; `unit` follows values.
fn bars(title: &str, rows: &[(String, f64)], unit: &str, decimals: usize) -> String {
    if rows.is_empty() {
        return format!("<h2>{}</h2><p class=\"empty\">Sin datos.</p>", esc(title));
    }
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let (label_w, bar_w, row_h) = (170.0, 420.0, 26.0);
    let height = row_h * rows.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {height}\" width=\"100%\">",
        esc(title),
        label_w + bar_w + 110.0
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let w = (value / max * bar_w).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{:.0}\" width=\"{w:.1}\" height=\"{:.0}\" class=\"bar\"/>\
             <text x=\"{:.1}\" y=\"{:.0}\">{value:.decimals$}{unit}</text>",
            label_w - 8.0,
            y + 17.0,
            esc(label),
            y + 3.0,
            row_h - 8.0,
            label_w + w + 6.0,
            y + 17.0,
        );
    }
    svg.push_str("</svg>");
    format!("<h2>{}</h2>{svg}", esc(title))
}

/// A column chart of a time series (one column per day).
fn series(title: &str, points: &[(String, usize)]) -> String {
    if points.is_empty() {
        return format!("<h2>{}</h2><p class=\"empty\">Sin datos.</p>", esc(title));
    }
    let max = points.iter().map(|p| p.1).max().unwrap_or(1).max(1) as f64;
    let (w, h, left, bottom) = (700.0, 220.0, 40.0, 40.0);
    let step = (w - left) / points.len() as f64;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w} {h}\" width=\"100%\">\
         <line x1=\"{left}\" y1=\"{:.0}\" x2=\"{w}\" y2=\"{:.0}\" class=\"axis\"/>\
         <text x=\"{:.0}\" y=\"14\" text-anchor=\"end\">{max:.0}</text>",
        esc(title),
        h - bottom,
        h - bottom,
        left - 6.0
    );
    let label_every = (points.len() / 8).max(1);
    for (i, (day, n)) in points.iter().enumerate() {
        let bh = *n as f64 / max * (h - bottom - 20.0);
        let x = left + step * i as f64 + step * 0.15;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" class=\"bar\"><title>{}: {n}</title></rect>",
            h - bottom - bh,
            step * 0.7,
            esc(day)
        );
        if i % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
                x + step * 0.35,
                h - bottom + 18.0,
                esc(day.get(5..).unwrap_or(day))
            );
        }
    }
    svg.push_str("</svg>");
    format!("<h2>{}</h2>{svg}", esc(title))
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A table of an eval result's top-level numbers, and of one level of nested numbers.
fn eval_section(v: &Value) -> String {
    let kind = v["kind"].as_str().unwrap_or("?");
    let title = match kind {
        "retrieval" => "Recuperación (raymundo eval retrieval)",
        "intents" => "Intenciones (raymundo eval intents)",
        "answers" => "Respuestas (raymundo eval answers)",
        _ => kind,
    };
    let mut html = format!(
        "<h3>{}</h3><p class=\"meta\">{} · {}</p><table>",
        esc(title),
        esc(v["at"].as_str().unwrap_or("")),
        esc(v["file"].as_str().unwrap_or(""))
    );
    let scalar = |x: &Value| match x {
        Value::Number(n) => n.as_f64().map(|f| {
            if f.fract() == 0.0 {
                format!("{f:.0}")
            } else {
                format!("{f:.3}")
            }
        }),
        Value::String(s) if s.len() < 80 => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    if let Some(o) = v["result"].as_object() {
        for (k, x) in o {
            if let Some(s) = scalar(x) {
                let _ = write!(html, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&s));
            } else if let Some(inner) = x.as_object() {
                let parts: Vec<String> = inner
                    .iter()
                    .filter_map(|(ik, iv)| scalar(iv).map(|s| format!("{ik} {s}")))
                    .take(12)
                    .collect();
                if !parts.is_empty() {
                    let _ = write!(
                        html,
                        "<tr><th>{}</th><td>{}</td></tr>",
                        esc(k),
                        esc(&parts.join(" · "))
                    );
                }
            }
        }
    }
    html.push_str("</table>");
    html
}

/// The whole page.
fn render(
    s: &Stats,
    worst: &[&Interaction],
    evals: &[Value],
    generated: &str,
    since: Option<&str>,
) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Raymundo: informe</title><style>\
         body{font-family:system-ui,sans-serif;max-width:900px;margin:1rem auto;padding:0 1rem;color:#222}\
         .cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem;min-width:9rem}\
         .card b{display:block;font-size:1.5rem}svg text{font-size:12px;fill:#333}.bar{fill:#2f6fb0}.axis{stroke:#999}\
         table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #eee;padding:.3rem;text-align:left;vertical-align:top}\
         .meta,.empty{color:#777}.wrong{background:#fff4f4}</style></head><body>",
    );
    let _ = write!(
        html,
        "<h1>Raymundo: informe</h1><p class=\"meta\">Generado {} · periodo: {}</p>",
        esc(generated),
        esc(since.unwrap_or("todo"))
    );
    let fp = s
        .false_positive_ratio
        .map(percent)
        .unwrap_or_else(|| "—".into());
    let _ = write!(
        html,
        "<div class=\"cards\">\
         <div class=\"card\">Conversaciones (turnos)<b>{}</b></div>\
         <div class=\"card\">Revisados<b>{}</b></div>\
         <div class=\"card\">Resolución automática<b>{}</b></div>\
         <div class=\"card\">Falsos positivos (fuera de contexto)<b>{fp}</b></div>\
         <div class=\"card\">👍 / 👎<b>{} / {}</b></div></div>",
        s.turns,
        s.reviewed,
        percent(s.resolution_rate),
        s.thumbs_up,
        s.thumbs_down
    );
    let days: Vec<(String, usize)> = s.by_day.iter().map(|(d, n)| (d.clone(), *n)).collect();
    html.push_str(&series("Volumen por día", &days));
    let p50: Vec<(String, f64)> = s
        .latency_ms
        .iter()
        .map(|(k, l)| (format!("{k} p50"), l.p50))
        .collect();
    let p95: Vec<(String, f64)> = s
        .latency_ms
        .iter()
        .map(|(k, l)| (format!("{k} p95"), l.p95))
        .collect();
    let mut latency = p50;
    latency.extend(p95);
    latency.sort_by(|a, b| a.0.cmp(&b.0));
    html.push_str(&bars(
        "Tiempo de respuesta por etapa (ms)",
        &latency,
        " ms",
        1,
    ));
    let precision: Vec<(String, f64)> = s
        .precision_by_intent
        .iter()
        .map(|(k, p)| (format!("{k} ({})", p.reviewed), p.precision * 100.0))
        .collect();
    html.push_str(&bars(
        "Precisión por intención (revisados)",
        &precision,
        "%",
        0,
    ));
    let channels: Vec<(String, f64)> = s
        .by_channel
        .iter()
        .map(|(k, n)| (k.clone(), *n as f64))
        .collect();
    html.push_str(&bars("Volumen por canal", &channels, "", 0));

    html.push_str("<h2>Peor valoradas (para revisar)</h2>");
    if worst.is_empty() {
        html.push_str(
            "<p class=\"empty\">Ninguna respuesta con 👎 ni revisada como incorrecta.</p>",
        );
    } else {
        html.push_str(
            "<table><tr><th>#</th><th>Mensaje</th><th>Respuesta</th><th>Valoración</th></tr>",
        );
        for i in worst {
            let mut verdict = String::new();
            if i.feedback == Some(-1) {
                verdict.push_str("👎 ");
            }
            if let Some(r) = &i.review {
                verdict.push_str(r.verdict.as_str());
                if let Some(c) = &r.corrected_answer {
                    verdict.push_str(&format!(" → {c}"));
                }
            }
            let _ = write!(
                html,
                "<tr class=\"wrong\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i.id,
                esc(&i.turn.message),
                esc(&i.turn.answer),
                esc(&verdict)
            );
        }
        html.push_str("</table>");
    }
    html.push_str("<h2>Evaluación sobre los archivos de prueba</h2>");
    if evals.is_empty() {
        html.push_str(
            "<p class=\"empty\">Sin resultados: ejecuta <code>raymundo eval retrieval</code>, \
             <code>raymundo eval intents</code> o <code>raymundo eval answers</code>.</p>",
        );
    }
    for v in evals {
        html.push_str(&eval_section(v));
    }
    html.push_str("</body></html>\n");
    html
}
