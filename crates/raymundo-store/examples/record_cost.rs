//! Measures the cost of recording one turn: in a SQLite store on this machine's disk
//! (`cargo run --release -p raymundo-store --example record_cost [N] [DIR]`) or in a
//! PostgreSQL database (`... record_cost [N] postgres://user:password@host:port/database`).

use raymundo_store::{NewInteraction, RetrievedChunk};
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let target = std::env::args().nth(2);
    let dir = match target.as_deref() {
        Some(d) if !d.contains("://") => tempfile::tempdir_in(d),
        _ => tempfile::tempdir(),
    }
    .expect("a temporary folder");
    let spec = match target {
        Some(url) if url.contains("://") => url,
        _ => "raymundo.db".to_string(),
    };
    let store = raymundo_store::open(&spec, dir.path()).expect("open the store");
    let mut turn = NewInteraction {
        at: 1_700_000_000,
        channel: "whatsapp".into(),
        user_key: store.user_key("whatsapp", "5215550001"),
        message: "¿Cuál es el horario de atención los sábados en la sucursal centro?".into(),
        step: "answer".into(),
        confidence: Some(0.2),
        chunks: (0..5)
            .map(|i| RetrievedChunk {
                doc: format!("faq/horarios-{i}.md"),
                position: i,
                score: 0.8 - i as f32 * 0.05,
            })
            .collect(),
        answer: "Los sábados abrimos de 10 a 14 h en la sucursal centro. ".repeat(4),
        provider: Some("local".into()),
        in_scope: Some(true),
        resolved: true,
        latency_ms: BTreeMap::from([
            ("classify".into(), 12.0),
            ("embed".into(), 9.0),
            ("search".into(), 1.0),
            ("answer".into(), 900.0),
        ]),
        total_ms: 925.0,
        ..Default::default()
    };
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        turn.message_id = Some(format!("wamid.{i}"));
        let t = Instant::now();
        store.record_interaction(&turn).expect("record");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{n} turns recorded: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        p(0.5),
        p(0.95),
        p(0.99),
        times[times.len() - 1]
    );
}
