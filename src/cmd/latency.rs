//! LATENCY LATEST HISTORY RESET HISTOGRAM DOCTOR GRAPH HELP (Redis's `latency.c`; DOCTOR's report is in
//! `doctor.rs`, GRAPH's sparkline in `graph.rs`), and `record`, which `cmd::call` runs
//! for a command at or above `latency-monitor-threshold` milliseconds (0 turns the monitor off): the event is
//! `fast-command` for commands flagged `fast`, else `command`. The server's own work reports its events through
//! `State::record_latency` (see `state::latency_monitor`).
//!
//! HISTOGRAM answers from each command's power-of-two duration buckets (`CommandStat::histogram`), as
//! cumulative counts keyed by the bucket's bound, in the microsecond values Redis's HDR histogram prints for
//! its 1024 ns-based power-of-two steps (1, 2, 4, 8, 16, 32, 65, 131, ...).

mod doctor;
mod graph;

use super::admin::reply_help;
use super::errors::{CmdError, CmdResult};
use super::{Ctx, Handlers, Resolved, Table, flag, table};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::state::stats::LatencyHistogram;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("latency", super::admin::container),
    ("latency|latest", latency_latest),
    ("latency|history", latency_history),
    ("latency|reset", latency_reset),
    ("latency|histogram", latency_histogram),
    ("latency|doctor", latency_doctor),
    ("latency|graph", latency_graph),
    ("latency|help", latency_help),
]];

/// Records a command's latency as `fast-command` or `command`.
#[cold]
pub fn record(state: &mut State, cmd: Resolved, duration_us: u64) {
    let event = if cmd.spec.flags & flag::FAST != 0 { "fast-command" } else { "command" };
    let now_s = crate::clock::unix_ms() / 1000;
    state.latency.add_sample(event, now_s, duration_us / 1000);
}

/// LATENCY LATEST: `[event, time of the latest sample, latest ms, worst ms]` per event.
fn latency_latest(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let events = &ctx.state.latency.events;
    reply.array(events.len());
    for (name, history) in events {
        let (time_s, latest_ms) = history.samples.back().copied().unwrap_or_default();
        reply.array(4);
        reply.bulk(name.as_bytes());
        reply.int(time_s);
        reply.int(latest_ms as i64);
        reply.int(history.max_ms as i64);
    }
    Ok(())
}

/// LATENCY HISTORY event: `[time, ms]` per sample, oldest first; empty for an unknown event.
fn latency_history(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let Some(history) = ctx.state.latency.history(&ctx.argv[2]) else {
        reply.array(0);
        return Ok(());
    };
    reply.array(history.samples.len());
    for &(time_s, ms) in &history.samples {
        reply.array(2);
        reply.int(time_s);
        reply.int(ms as i64);
    }
    Ok(())
}

/// LATENCY RESET [event ...]: how many events were forgotten (all of them without arguments).
fn latency_reset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let latency = &mut ctx.state.latency;
    let reset = match argv.len() {
        2 => latency.reset(),
        _ => argv[2..].iter().filter(|event| latency.reset_event(event)).count(),
    };
    reply.int(reset as i64);
    Ok(())
}

/// LATENCY HISTOGRAM [command ...]: each named command (a container: each of its subcommands) that ran since
/// the last CONFIG RESETSTAT, with its calls and cumulative duration histogram; every such command without
/// arguments. Unknown names are skipped.
fn latency_histogram(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let table = table();
    let mut found: Vec<Resolved> = Vec::new();
    if ctx.argv.len() == 2 {
        found.extend((0..table.names.len()).filter_map(|id| resolve_id(table, id)));
    } else {
        for name in &ctx.argv[2..] {
            let Some(cmd) = resolve_name(table, name) else { continue };
            found.push(cmd);
            found.extend(Table::subcommands(cmd));
        }
    }
    let stats = &ctx.state.stats.commands;
    found.retain(|cmd| stats[cmd.id].calls > 0);
    reply.map(found.len());
    for cmd in found {
        reply.bulk(table.names[cmd.id].as_bytes());
        let stat = &stats[cmd.id];
        reply.map(2);
        reply.bulk(b"calls");
        reply.int(stat.calls as i64);
        reply.bulk(b"histogram_usec");
        reply_cumulative(reply, &stat.histogram);
    }
    Ok(())
}

/// The command (or `container|sub`) of table id `id`.
fn resolve_id(table: &Table, id: usize) -> Option<Resolved> {
    resolve_name(table, table.names[id].as_bytes())
}

/// A command by its full name (`get`, `client|id`), any case.
fn resolve_name(table: &Table, name: &[u8]) -> Option<Resolved> {
    let mut parts = name.splitn(2, |&b| b == b'|');
    let top = table.lookup(parts.next()?)?;
    match parts.next() {
        Some(sub) => table.lookup_sub(top, sub),
        None => Some(top),
    }
}

/// The histogram as Redis prints it: for each bucket where the cumulative count grows, its bound in µs
/// (1024 ns × 2^i, in whole µs) and the count so far.
fn reply_cumulative(reply: &mut Reply, histogram: &LatencyHistogram) {
    let steps = histogram.counts.iter().filter(|&&count| count > 0).count();
    reply.map(steps);
    let mut cumulative = 0;
    for (bucket, &count) in histogram.counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        cumulative += count;
        reply.int(((1024u64 << bucket) / 1000) as i64);
        reply.int(cumulative as i64);
    }
}

/// LATENCY DOCTOR: the report, as verbatim text.
fn latency_doctor(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.verbatim("txt", doctor::report(ctx.state).as_bytes());
    Ok(())
}

/// LATENCY GRAPH event: the event's sparkline, as verbatim text; an error when it has no samples.
fn latency_graph(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let event = &ctx.argv[2];
    let Some((name, history)) = ctx.state.latency.events.iter().find(|(name, _)| name.as_bytes() == &event[..]) else {
        let mut text = b"ERR No samples available for event '".to_vec();
        text.extend_from_slice(event);
        text.push(b'\'');
        return Err(CmdError(text.into()));
    };
    let graph = graph::render(name, history, crate::clock::unix_ms() / 1000);
    reply.verbatim("txt", graph.as_bytes());
    Ok(())
}

fn latency_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply_help(
        reply,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified \
             command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn histograms_count_calls_per_command_and_subcommand() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "CONFIG RESETSTAT");
        t.run(me, "SET a b");
        t.run(me, "CLIENT ID");
        let got = t.run(me, "LATENCY HISTOGRAM set client nosuch");
        assert!(
            got.starts_with("*4\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n*2\r\n:"),
            "{got}"
        );
        assert!(got.contains("$9\r\nclient|id\r\n*4\r\n$5\r\ncalls\r\n:1\r\n"), "{got}");
        assert_eq!(t.run(me, "LATENCY HISTORY command"), "*0\r\n");
        assert_eq!(t.run(me, "LATENCY RESET command other"), ":0\r\n");
        assert!(t.run(me, "LATENCY DOCTOR").contains("Latency monitoring is disabled in this Redis instance."));
        t.state.latency.add_sample("command", 1, 30);
        let report = t.run(me, "LATENCY DOCTOR");
        assert!(report.contains("1. command: 1 latency spikes (average 30ms, mean deviation 0ms, period "), "{report}");
        assert!(report.contains("- Check your Slow Log to understand"), "{report}");
    }

    #[test]
    fn the_servers_own_work_is_sampled_at_the_threshold() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "CONFIG SET latency-monitor-threshold 2");
        crate::persist::note_fork(&mut t.state, 7_400);
        t.state.record_latency("aof-write", 1_999);
        t.state.record_latency("aof-fsync-always", 2_000);
        let latest = t.run(me, "LATENCY LATEST");
        assert!(latest.starts_with("*2\r\n*4\r\n$4\r\nfork\r\n:"), "{latest}");
        assert!(latest.contains("\r\n:7\r\n:7\r\n*4\r\n$16\r\naof-fsync-always\r\n:"), "{latest}");
        assert!(latest.ends_with(":2\r\n:2\r\n"), "{latest}");
        assert!(t.run(me, "INFO stats").contains("latest_fork_usec:7400\r\n"));
        // A test process forking its few megabytes in 7.4 ms forks at well under 10 GB/s.
        let report = t.run(me, "LATENCY DOCTOR");
        assert!(report.contains("1. fork: 1 latency spikes (average 7ms, "), "{report}");
        assert!(report.contains(" GB/sec (terrible).\n2. aof-fsync-always: "), "{report}");
        assert!(report.contains("\n- If you are using a virtual machine, consider upgrading it"), "{report}");
        assert!(!report.contains("relax the fsync policy"), "appendfsync is not always: {report}");
        t.run(me, "CONFIG SET latency-monitor-threshold 0");
        t.state.record_latency("fork", 90_000);
        assert_eq!(t.run(me, "LATENCY HISTORY fork").matches(":7\r\n").count(), 1);
    }
}
