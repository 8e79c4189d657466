//! `GET /_metrics`: the server's counters in Prometheus's text exposition format (version 0.0.4).
//!
//! Families, all prefixed `ferrokv_`: `connected_clients{protocol}`, `connections_received_total`,
//! `commands_total{cmd}` and `command_failures_total{cmd}` (commands that were called, named as INFO's
//! commandstats names them), `errors_total{code}`, `keys{db}` and `expiring_keys{db}` (databases holding keys),
//! `expired_keys_total`, `used_memory_bytes`, `uptime_seconds`, and the histogram
//! `command_duration_seconds` (`cmd::call`'s power-of-two buckets, cumulative as Prometheus wants them).
//! Rendering walks the clients once and the command table once: cheap enough for a scrape every few seconds.

use std::fmt::Write;

use super::Exchange;
use super::response::PROMETHEUS_TEXT;
use super::route::{Answered, Success};
use crate::state::State;
use crate::state::stats::LatencyHistogram;
use crate::util::alloc;

pub fn render(ex: &mut Exchange<'_>, out: &mut Vec<u8>) -> Answered {
    let mut text = String::with_capacity(4096);
    write_metrics(&mut text, ex.state);
    out.extend_from_slice(text.as_bytes());
    Ok(Success { status: 200, content_type: PROMETHEUS_TEXT, stream: false })
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP ferrokv_{name} {help}\n# TYPE ferrokv_{name} {kind}");
}

/// Everything `/_metrics` shows, in a fixed order.
fn write_metrics(out: &mut String, state: &State) {
    let connected = state.sessions.iter().filter(|(_, c)| c.link.is_some()).count();
    let http = state.sessions.iter().filter(|(_, c)| c.is_http()).count();
    family(out, "connected_clients", "gauge", "Client connections open now, by protocol.");
    let _ = writeln!(out, "ferrokv_connected_clients{{protocol=\"resp\"}} {}", connected - http);
    let _ = writeln!(out, "ferrokv_connected_clients{{protocol=\"http\"}} {http}");
    family(out, "connections_received_total", "counter", "Connections accepted since start.");
    let _ = writeln!(out, "ferrokv_connections_received_total {}", state.stats.total_connections_received);
    write_command_counts(out, state);
    family(out, "errors_total", "counter", "Error replies by error code.");
    let mut codes: Vec<_> = state.stats.errors_by_code.iter().collect();
    codes.sort_unstable();
    for (code, count) in codes {
        let _ = writeln!(out, "ferrokv_errors_total{{code=\"{}\"}} {count}", escape_label(code));
    }
    family(out, "keys", "gauge", "Keys per database (databases holding keys).");
    for (index, db) in state.keyspace.dbs.iter().enumerate().filter(|(_, db)| !db.is_empty()) {
        let _ = writeln!(out, "ferrokv_keys{{db=\"{index}\"}} {}", db.len());
    }
    family(out, "expiring_keys", "gauge", "Keys with a TTL per database (databases holding keys).");
    for (index, db) in state.keyspace.dbs.iter().enumerate().filter(|(_, db)| !db.is_empty()) {
        let _ = writeln!(out, "ferrokv_expiring_keys{{db=\"{index}\"}} {}", db.expires_len());
    }
    family(out, "expired_keys_total", "counter", "Keys deleted because their TTL passed.");
    let _ = writeln!(out, "ferrokv_expired_keys_total {}", state.keyspace.expired_count());
    family(out, "used_memory_bytes", "gauge", "Heap bytes allocated (INFO used_memory).");
    let _ = writeln!(out, "ferrokv_used_memory_bytes {}", alloc::used_memory());
    family(out, "uptime_seconds", "gauge", "Seconds since the server started.");
    let _ = writeln!(out, "ferrokv_uptime_seconds {}", state.started_at.elapsed().as_secs());
    write_latency(out, &state.stats.latency);
}

fn write_command_counts(out: &mut String, state: &State) {
    let called = || {
        crate::cmd::table()
            .names
            .iter()
            .zip(&state.stats.commands)
            .filter(|(_, s)| s.calls + s.failed_calls + s.rejected_calls > 0)
    };
    family(out, "commands_total", "counter", "Commands processed, by command.");
    for (name, stat) in called() {
        let _ = writeln!(out, "ferrokv_commands_total{{cmd=\"{}\"}} {}", escape_label(name), stat.calls);
    }
    family(out, "command_failures_total", "counter", "Commands that replied with an error, by command.");
    for (name, stat) in called() {
        let _ = writeln!(out, "ferrokv_command_failures_total{{cmd=\"{}\"}} {}", escape_label(name), stat.failed_calls);
    }
}

fn write_latency(out: &mut String, latency: &LatencyHistogram) {
    family(out, "command_duration_seconds", "histogram", "Time spent executing commands.");
    let mut cumulative = 0;
    for (i, count) in latency.counts.iter().enumerate() {
        cumulative += count;
        match LatencyHistogram::bucket_bound_us(i) {
            Some(bound_us) => {
                let le = bound_us as f64 / 1e6;
                let _ = writeln!(out, "ferrokv_command_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
            }
            None => {
                let _ = writeln!(out, "ferrokv_command_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}");
            }
        }
    }
    let _ = writeln!(out, "ferrokv_command_duration_seconds_sum {}", latency.sum_us as f64 / 1e6);
    let _ = writeln!(out, "ferrokv_command_duration_seconds_count {cumulative}");
}

/// A label value with Prometheus's escapes (backslash, quote, newline); error codes come from user input.
fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn renders_every_family() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "SET k v EX 100");
        t.run(me, "GET k");
        t.run(me, "INCR k");
        let mut text = String::new();
        write_metrics(&mut text, &t.state);
        for line in [
            "ferrokv_connected_clients{protocol=\"resp\"} 1",
            "ferrokv_connected_clients{protocol=\"http\"} 0",
            "ferrokv_commands_total{cmd=\"get\"} 1",
            "ferrokv_command_failures_total{cmd=\"incr\"} 1",
            "ferrokv_errors_total{code=\"ERR\"} 1",
            "ferrokv_keys{db=\"0\"} 1",
            "ferrokv_expiring_keys{db=\"0\"} 1",
            "ferrokv_expired_keys_total 0",
            "ferrokv_command_duration_seconds_bucket{le=\"0.000001\"} ",
            "ferrokv_command_duration_seconds_bucket{le=\"+Inf\"} 3",
            "ferrokv_command_duration_seconds_count 3",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(text.contains("# TYPE ferrokv_command_duration_seconds histogram\n"));
    }
}
