//! Prometheus metrics in the text exposition format, written by hand: counters and
//! histograms keyed by name and labels (label values are routes, channels, kinds and
//! providers, never user data).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Help texts; every metric the server records is listed here.
const HELP: &[(&str, &str, &str)] = &[
    (
        "raymundo_http_requests_total",
        "counter",
        "HTTP requests by route and status.",
    ),
    (
        "raymundo_http_request_seconds",
        "histogram",
        "HTTP request latency by route (for the webhook: the acknowledgement).",
    ),
    (
        "raymundo_webhook_events_total",
        "counter",
        "Webhook events by channel and kind (message, duplicate, status, reaction, ignored).",
    ),
    (
        "raymundo_answer_seconds",
        "histogram",
        "Time to produce a reply, by channel.",
    ),
    (
        "raymundo_send_seconds",
        "histogram",
        "Time to send a reply's parts, by channel.",
    ),
    (
        "raymundo_replies_total",
        "counter",
        "Replies produced, by channel and provider.",
    ),
    (
        "raymundo_errors_total",
        "counter",
        "Errors by stage (answer, send, store) and kind.",
    ),
    (
        "raymundo_rate_limited_total",
        "counter",
        "Messages over the per-sender rate limit, by channel.",
    ),
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    histograms: Mutex<BTreeMap<(&'static str, String), Histogram>>,
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let v = v
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = write!(s, "{k}=\"{v}\"");
    }
    s
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(&self, name: &'static str, pairs: &[(&str, &str)]) {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *c.entry((name, labels(pairs))).or_default() += 1;
    }

    /// Records a duration in a histogram.
    pub fn observe(&self, name: &'static str, pairs: &[(&str, &str)], seconds: f64) {
        let mut h = self.histograms.lock().unwrap_or_else(|p| p.into_inner());
        let hist = h.entry((name, labels(pairs))).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                hist.counts[i] += 1;
            }
        }
        hist.sum += seconds;
        hist.count += 1;
    }

    /// The value of a counter (tests and `/stats`).
    pub fn counter(&self, name: &'static str, pairs: &[(&str, &str)]) -> u64 {
        let c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        c.get(&(name, labels(pairs))).copied().unwrap_or(0)
    }

    /// The exposition text, with `gauges` (name, help, value) appended.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let histograms = self.histograms.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for ((_, l), v) in counters
                .range((*name, String::new())..)
                .take_while(|((n, _), _)| n == name)
            {
                let _ = writeln!(out, "{name}{{{l}}} {v}");
            }
            for ((_, l), h) in histograms
                .range((*name, String::new())..)
                .take_while(|((n, _), _)| n == name)
            {
                let sep = if l.is_empty() { "" } else { "," };
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "{name}_bucket{{{l}{sep}le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(out, "{name}_bucket{{{l}{sep}le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "{name}_sum{{{l}}} {}", h.sum);
                let _ = writeln!(out, "{name}_count{{{l}}} {}", h.count);
            }
        }
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_buckets_and_gauges() {
        let m = Metrics::default();
        m.inc(
            "raymundo_http_requests_total",
            &[("route", "/webhook"), ("status", "200")],
        );
        m.inc(
            "raymundo_http_requests_total",
            &[("route", "/webhook"), ("status", "200")],
        );
        m.observe(
            "raymundo_http_request_seconds",
            &[("route", "/webhook")],
            0.004,
        );
        let text = m.render(&[("raymundo_queue_depth", "Queued messages.", 3.0)]);
        assert!(
            text.contains("raymundo_http_requests_total{route=\"/webhook\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "raymundo_http_request_seconds_bucket{route=\"/webhook\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "raymundo_http_request_seconds_bucket{route=\"/webhook\",le=\"0.0025\"} 0"
            ),
            "{text}"
        );
        assert!(
            text.contains("raymundo_http_request_seconds_count{route=\"/webhook\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE raymundo_queue_depth gauge\nraymundo_queue_depth 3"),
            "{text}"
        );
    }
}
