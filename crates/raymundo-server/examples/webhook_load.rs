//! Load generator for `raymundo serve`: signed WhatsApp webhook deliveries at a fixed rate
//! from this (second) process, with injected retries (Meta's at-least-once delivery) and
//! one server crash and restart, while the server answers them; then checks that every
//! accepted message got exactly one reply at the local fake Graph API this process runs.
//!
//! Usage: webhook_load RAYMUNDO_BINARY PROJECT_DIR [RATE=200] [SECONDS=10] [USERS=1000] [ack]
//! The project must be built; its `.env` and `data/raymundo.db` are replaced. With `ack`,
//! it stops after printing the acknowledgement latency instead of waiting for every answer
//! (the answers of a long run take the assistant's time, not the server's).

use raymundo_server::signature::meta_signature;
use raymundo_server::testing::FakeChannel;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-app-secret";

const QUESTIONS: &[&str] = &[
    "¿Cuánto tarda en llegar mi pedido?",
    "¿Cuánto cuesta el envío?",
    "¿Cuál es su horario de atención?",
    "¿Puedo devolver un producto?",
    "¿Qué formas de pago aceptan?",
    "¿El sensor H2 funciona con el AX-200?",
    "¿Cómo actualizo el firmware?",
    "¿Hacen factura?",
];

fn start(bin: &Path, project: &Path, port: u16) -> Child {
    let mut child = Command::new(bin)
        .arg("-C")
        .arg(project)
        .args(["serve", "--port", &port.to_string()])
        .env("RAYMUNDO_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start raymundo serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "serve did not start: {line:?}");
    child
}

fn body(id: &str, user: usize, text: &str) -> Vec<u8> {
    let from = format!("52155{user:08}");
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5215550000", "phone_number_id": "1122334455667"},
            "contacts": [{"profile": {"name": "Carga"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1700000000",
                          "type": "text", "text": {"body": text}}]
        }}]}]
    }))
    .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: webhook_load RAYMUNDO_BINARY PROJECT_DIR [RATE] [SECONDS] [USERS]");
        std::process::exit(2);
    }
    let bin = PathBuf::from(&args[1]);
    let project = PathBuf::from(&args[2]);
    let rate: usize = args.get(3).map(|a| a.parse().unwrap()).unwrap_or(200);
    let secs: usize = args.get(4).map(|a| a.parse().unwrap()).unwrap_or(10);
    let users: usize = args.get(5).map(|a| a.parse().unwrap()).unwrap_or(1000);
    let ack_only = args.get(6).is_some_and(|a| a == "ack");

    let graph = FakeChannel::start();
    std::fs::write(
        project.join(".env"),
        format!(
            "VERIFY_TOKEN=bench\nAPP_SECRET={SECRET}\nWHATSAPP_TOKEN=bench\n\
             PHONE_NUMBER_ID=1122334455667\nGRAPH_URL={}\n",
            graph.url
        ),
    )
    .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(project.join(format!("data/raymundo.db{suffix}")));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Arc::new(Mutex::new(start(&bin, &project, port)));
    let url = format!("http://127.0.0.1:{port}/webhook");

    // The schedule: message i at i/rate seconds; every 10th delivered again 1 s later
    // (Meta's retry).
    let n = rate * secs;
    let mut schedule: Vec<(Duration, usize)> = (0..n)
        .map(|i| (Duration::from_secs_f64(i as f64 / rate as f64), i))
        .collect();
    schedule.extend(
        (0..n)
            .step_by(10)
            .map(|i| (Duration::from_secs_f64(i as f64 / rate as f64 + 1.0), i)),
    );
    schedule.sort();

    let (tx, rx) = mpsc::channel::<(Instant, usize)>();
    let rx = Arc::new(Mutex::new(rx));
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .max_idle_connections_per_host(256)
        .build();
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let lags = Arc::new(Mutex::new(Vec::<f64>::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let accepted = Arc::new(Mutex::new(Vec::<usize>::new()));
    let restarting = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..128)
        .map(|_| {
            let (rx, agent, url) = (rx.clone(), agent.clone(), url.clone());
            let (latencies, lags, refused, accepted) = (
                latencies.clone(),
                lags.clone(),
                refused.clone(),
                accepted.clone(),
            );
            let restarting = restarting.clone();
            std::thread::spawn(move || loop {
                let Ok((due, i)) = rx.lock().unwrap().recv() else {
                    break;
                };
                let b = body(
                    &format!("wamid.load.{i}"),
                    i % users,
                    QUESTIONS[i % QUESTIONS.len()],
                );
                let sig = meta_signature(SECRET, &b);
                let mut retried = false;
                loop {
                    let sent = Instant::now();
                    let r = agent
                        .post(&url)
                        .set("X-Hub-Signature-256", &sig)
                        .set("Content-Type", "application/json")
                        .send_bytes(&b);
                    match r {
                        Ok(resp) if resp.status() == 200 => {
                            if !retried && !restarting.load(Ordering::SeqCst) {
                                latencies
                                    .lock()
                                    .unwrap()
                                    .push(sent.elapsed().as_secs_f64() * 1000.0);
                                lags.lock()
                                    .unwrap()
                                    .push(sent.duration_since(due).as_secs_f64() * 1000.0);
                            }
                            accepted.lock().unwrap().push(i);
                            break;
                        }
                        _ => {
                            // Down (restarting): Meta retries later; so do we.
                            retried = true;
                            *refused.lock().unwrap() += 1;
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    }
                }
            })
        })
        .collect();

    // The crash and restart, halfway.
    let restart = {
        let (server, restarting, bin, project) = (
            server.clone(),
            restarting.clone(),
            bin.clone(),
            project.clone(),
        );
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs_f64(secs as f64 / 2.0));
            restarting.store(true, Ordering::SeqCst);
            let started = Instant::now();
            {
                let mut s = server.lock().unwrap();
                s.kill().unwrap();
                s.wait().unwrap();
                *s = start(&bin, &project, port);
            }
            restarting.store(false, Ordering::SeqCst);
            started.elapsed()
        })
    };

    let t0 = Instant::now();
    for (at, i) in schedule {
        let due = t0 + at;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        tx.send((due, i)).unwrap();
    }
    drop(tx);
    for s in senders {
        s.join().unwrap();
    }
    let send_secs = t0.elapsed().as_secs_f64();
    let downtime = restart.join().unwrap();

    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut lag = lags.lock().unwrap().clone();
    lag.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("deliveries: {} ({} messages + {} injected retries) at {rate}/s over {send_secs:.1} s, {users} users",
        n + n.div_ceil(10), n, n.div_ceil(10));
    println!("ack latency (ms, {} deliveries outside the restart): p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        l.len(), percentile(&l, 0.5), percentile(&l, 0.9), percentile(&l, 0.99), l.last().copied().unwrap_or(f64::NAN));
    println!(
        "client lag behind schedule (ms): p50 {:.2}  p99 {:.2}",
        percentile(&lag, 0.5),
        percentile(&lag, 0.99)
    );
    println!(
        "restart (kill -9, start, model load): {:.1} s; refused deliveries retried: {}",
        downtime.as_secs_f64(),
        refused.lock().unwrap()
    );
    if ack_only {
        let _ = server.lock().unwrap().kill();
        return;
    }
    // Every accepted message answered exactly once.
    let mut distinct: Vec<usize> = accepted.lock().unwrap().clone();
    distinct.sort();
    distinct.dedup();
    let deadline = Instant::now() + Duration::from_secs(1800);
    let replies = loop {
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for m in graph.sent() {
            if let Some(id) = m["context"]["message_id"].as_str() {
                *by_id.entry(id.to_string()).or_default() += 1;
            }
        }
        if by_id.len() >= distinct.len() || Instant::now() > deadline {
            break by_id;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let drained = t0.elapsed().as_secs_f64();
    let lost = distinct
        .iter()
        .filter(|i| !replies.contains_key(&format!("wamid.load.{i}")))
        .count();
    let duplicates = replies.values().filter(|n| **n > 1).count();
    let _ = server.lock().unwrap().kill();

    println!("distinct messages accepted: {}; answered: {}; lost: {lost}; answered twice or more: {duplicates}; all answered after {drained:.1} s",
        distinct.len(), replies.len());
    if lost > 0 || duplicates > 0 {
        std::process::exit(1);
    }
}
