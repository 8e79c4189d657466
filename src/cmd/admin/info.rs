//! INFO [section ...]: Redis 7.0's sections, field names and field order.
//!
//! Clients read INFO with `strstr` and prefix matches (redis-cli --stat finds `used_memory:` before
//! `used_memory_human:`), so every section prints Redis 7.0's fields in Redis 7.0's order, even the ones that
//! are constant here (no modules, no replication backlog). `ferrokv_version` follows
//! `redis_version`. Values come from the server's own counters, the counting allocator and /proc.
//!
//! Sections: server clients memory persistence stats replication cpu modules commandstats errorstats
//! cluster keyspace. No argument or `default` selects all but commandstats; `all` and `everything` select all.
//! Unknown names select nothing, as in Redis. Sections always print in this order, whatever the argument order.

use std::fmt::{Display, Write as _};
use std::sync::OnceLock;

use super::super::args::Keyword;
use super::super::{CmdResult, Ctx};
use crate::config::REDIS_VERSION;
use crate::resp::reply::Reply;
use crate::state::State;
use crate::util::alloc;

type Section = fn(&mut String, &State, i64);

/// Every section: its name, whether `default` includes it, and its writer.
const SECTIONS: [(&str, bool, Section); 12] = [
    ("server", true, server),
    ("clients", true, clients),
    ("memory", true, memory),
    ("persistence", true, persistence),
    ("stats", true, stats),
    ("replication", true, replication),
    ("cpu", true, cpu),
    ("modules", true, modules),
    ("commandstats", false, commandstats),
    ("errorstats", true, errorstats),
    ("cluster", true, cluster),
    ("keyspace", true, keyspace),
];

/// How many evenly spaced TTLs per database the keyspace section averages for `avg_ttl`.
const AVG_TTL_SAMPLES: usize = 1024;

pub(super) fn info(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let selected = select_sections(ctx.args().rest());
    let mut text = String::with_capacity(4096);
    for ((name, _, write), _) in SECTIONS.into_iter().zip(selected).filter(|(_, on)| *on) {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        let title = match name {
            "cpu" => "CPU".to_string(),
            _ => name[..1].to_ascii_uppercase() + &name[1..],
        };
        let _ = write!(text, "# {title}\r\n");
        write(&mut text, ctx.state, ctx.now_ms);
    }
    reply.verbatim("txt", text.as_bytes());
    Ok(())
}

/// Which sections (by index in `SECTIONS`) the arguments select. Redis compares each name as a C string
/// without case (strcasecmp, or `sdsnew` then lowercase), so a name ends at its first NUL.
fn select_sections(names: &[bytes::Bytes]) -> [bool; SECTIONS.len()] {
    let mut selected = [false; SECTIONS.len()];
    if names.is_empty() {
        return SECTIONS.map(|(_, default, _)| default);
    }
    for name in names.iter().map(|name| Keyword::of(name)) {
        for (on, (section, default, _)) in selected.iter_mut().zip(&SECTIONS) {
            *on |= if name.is("all") || name.is("everything") {
                true
            } else if name.is("default") {
                *default
            } else if name.is("module_list") {
                // `module_list` is the name Redis 7.0 gives the modules section in its defaults.
                *section == "modules"
            } else {
                name.is(section)
            };
        }
    }
    selected
}

/// Appends `name:value\r\n`.
fn field(out: &mut String, name: &str, value: impl Display) {
    let _ = write!(out, "{name}:{value}\r\n");
}

fn server(out: &mut String, state: &State, now_ms: i64) {
    let uptime_s = state.started_at.elapsed().as_secs();
    field(out, "redis_version", REDIS_VERSION);
    field(out, "ferrokv_version", env!("CARGO_PKG_VERSION"));
    out.push_str("redis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\n");
    field(out, "os", os_name());
    field(out, "arch_bits", usize::BITS);
    out.push_str(
        "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\n\
         gcc_version:0.0.0\r\n",
    );
    field(out, "process_id", std::process::id());
    field(out, "process_supervised", "no");
    field(out, "run_id", &state.run_id);
    field(out, "tcp_port", state.port);
    field(out, "server_time_usec", crate::clock::unix_us());
    field(out, "uptime_in_seconds", uptime_s);
    field(out, "uptime_in_days", uptime_s / 86400);
    field(out, "hz", state.config.hz);
    field(out, "configured_hz", state.config.hz);
    field(out, "lru_clock", (now_ms / 1000) & ((1 << 24) - 1));
    field(out, "executable", executable());
    let config_file = state.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    field(out, "config_file", config_file);
    field(out, "io_threads_active", 0);
}

/// `uname -s -r -m`, read once from /proc.
fn os_name() -> &'static str {
    static OS: OnceLock<String> = OnceLock::new();
    OS.get_or_init(|| {
        let read = |path| std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default();
        format!("{} {} {}", read("/proc/sys/kernel/ostype"), read("/proc/sys/kernel/osrelease"), std::env::consts::ARCH)
    })
}

fn executable() -> &'static str {
    static EXE: OnceLock<String> = OnceLock::new();
    EXE.get_or_init(|| std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default())
}

fn clients(out: &mut String, state: &State, _now_ms: i64) {
    let links = || state.sessions.iter().filter_map(|(_, c)| c.link.as_ref());
    let max_input = links().map(|link| link.qbuf).max().unwrap_or(0);
    let max_output = state.sessions.iter().map(|(_, c)| c.reply_pending()).max().unwrap_or(0);
    field(out, "connected_clients", links().count());
    field(out, "cluster_connections", 0);
    field(out, "maxclients", state.config.maxclients);
    field(out, "client_recent_max_input_buffer", max_input);
    field(out, "client_recent_max_output_buffer", max_output);
    field(out, "blocked_clients", state.blocking.blocked_clients() + state.pausing.postponed.len());
    field(out, "tracking_clients", state.tracking.clients);
    field(out, "clients_in_timeout_table", state.blocking.clients_with_deadline());
}

fn memory(out: &mut String, state: &State, _now_ms: i64) {
    // The same figures as MEMORY STATS, so the two never disagree.
    let overhead = super::memory::MemoryOverhead::measure(state);
    let (used, peak, rss, clients) =
        (overhead.total_allocated, overhead.peak_allocated, overhead.rss, overhead.clients_normal);
    let dataset = overhead.dataset();
    let heap = alloc::allocator_stats().unwrap_or_default();
    let (allocated, active, resident) = (heap.allocated as u64, heap.active as u64, heap.resident as u64);
    let maxmemory: u64 = config_value(state, "maxmemory").parse().unwrap_or(0);
    let total_system = total_system_memory().unwrap_or(0);
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    field(out, "used_memory", used);
    field(out, "used_memory_human", bytes_to_human(used));
    field(out, "used_memory_rss", rss);
    field(out, "used_memory_rss_human", bytes_to_human(rss));
    field(out, "used_memory_peak", peak);
    field(out, "used_memory_peak_human", bytes_to_human(peak));
    field(out, "used_memory_peak_perc", format!("{:.2}%", ratio(used, peak) * 100.0));
    field(out, "used_memory_overhead", overhead.overhead_total);
    field(out, "used_memory_startup", 0);
    field(out, "used_memory_dataset", dataset);
    field(out, "used_memory_dataset_perc", format!("{:.2}%", ratio(dataset, used) * 100.0));
    field(out, "allocator_allocated", allocated);
    field(out, "allocator_active", active);
    field(out, "allocator_resident", resident);
    field(out, "total_system_memory", total_system);
    field(out, "total_system_memory_human", bytes_to_human(total_system));
    let scripting = &state.scripting;
    let (vm, scripts, functions) = (scripting.memory(), scripting.scripts_bytes(), scripting.functions_bytes());
    let functions_vm = scripting.functions_memory();
    field(out, "used_memory_lua", vm);
    field(out, "used_memory_vm_eval", vm);
    field(out, "used_memory_lua_human", bytes_to_human(vm as u64));
    field(out, "used_memory_scripts_eval", scripts);
    field(out, "number_of_cached_scripts", scripting.cached());
    field(out, "number_of_functions", scripting.functions_count());
    field(out, "number_of_libraries", scripting.libraries().len());
    field(out, "used_memory_vm_functions", functions_vm);
    field(out, "used_memory_vm_total", vm + functions_vm);
    field(out, "used_memory_vm_total_human", bytes_to_human((vm + functions_vm) as u64));
    field(out, "used_memory_functions", functions);
    field(out, "used_memory_scripts", scripts + functions);
    field(out, "used_memory_scripts_human", bytes_to_human((scripts + functions) as u64));
    field(out, "maxmemory", maxmemory);
    field(out, "maxmemory_human", bytes_to_human(maxmemory));
    field(out, "maxmemory_policy", config_value(state, "maxmemory-policy"));
    // Redis's three ratios: free blocks in active pages, resident pages not active, and the process's RSS
    // beyond jemalloc's (code, stacks, the Lua state's glibc heap).
    field(out, "allocator_frag_ratio", format!("{:.2}", ratio(active, allocated)));
    field(out, "allocator_frag_bytes", active as i64 - allocated as i64);
    field(out, "allocator_rss_ratio", format!("{:.2}", ratio(resident, active)));
    field(out, "allocator_rss_bytes", resident as i64 - active as i64);
    field(out, "rss_overhead_ratio", format!("{:.2}", ratio(rss, resident)));
    field(out, "rss_overhead_bytes", rss as i64 - resident as i64);
    field(out, "mem_fragmentation_ratio", format!("{:.2}", ratio(rss, used)));
    field(out, "mem_fragmentation_bytes", rss as i64 - used as i64);
    let aof_buffer = overhead.aof_buffer;
    field(out, "mem_not_counted_for_evict", crate::cmd::evict::not_counted_for_evict(state));
    let replica_buffers = crate::state::replication::buffers_bytes(state);
    out.push_str("mem_replication_backlog:0\r\n");
    field(out, "mem_total_replication_buffers", replica_buffers);
    field(out, "mem_clients_slaves", replica_buffers);
    field(out, "mem_clients_normal", clients);
    out.push_str("mem_cluster_links:0\r\n");
    field(out, "mem_aof_buffer", aof_buffer);
    field(out, "mem_allocator", alloc::ALLOCATOR_NAME);
    out.push_str("active_defrag_running:0\r\n");
    field(out, "lazyfree_pending_objects", crate::db::lazyfree::pending_objects());
    field(out, "lazyfreed_objects", crate::db::lazyfree::freed_objects());
}

/// One configuration value as CONFIG GET renders it (empty if unknown).
fn config_value(state: &State, name: &str) -> String {
    state.config.get(&[name.as_bytes()]).into_iter().next().map(|(_, value)| value).unwrap_or_default()
}

/// Resident set size, from /proc/self/status (`VmRSS`, in kB).
pub(super) fn rss_bytes() -> Option<u64> {
    proc_kb_field("/proc/self/status", "VmRSS:")
}

fn total_system_memory() -> Option<u64> {
    proc_kb_field("/proc/meminfo", "MemTotal:")
}

/// A `<label> <n> kB` line of a /proc file, in bytes.
fn proc_kb_field(path: &str, label: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(label))?;
    let kb: u64 = line[label.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024)
}

/// Redis's `bytesToHuman`: B below 1 KiB, then K, M, G, T, P with two decimals.
fn bytes_to_human(n: u64) -> String {
    const UNITS: [char; 5] = ['K', 'M', 'G', 'T', 'P'];
    if n < 1024 {
        return format!("{n}B");
    }
    for (power, unit) in (1..).zip(UNITS) {
        if n < 1u64 << (10 * (power + 1)) {
            return format!("{:.2}{unit}", n as f64 / (1u64 << (10 * power)) as f64);
        }
    }
    format!("{n}B")
}

fn persistence(out: &mut String, state: &State, _now_ms: i64) {
    let p = &state.persistence;
    out.push_str(
        "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\n\
         current_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n",
    );
    field(out, "rdb_changes_since_last_save", state.dirty);
    field(out, "rdb_bgsave_in_progress", u8::from(p.rdb_child_running()));
    field(out, "rdb_last_save_time", p.last_save_s);
    field(out, "rdb_last_bgsave_status", if p.last_bgsave_ok { "ok" } else { "err" });
    field(out, "rdb_last_bgsave_time_sec", p.last_bgsave_time_s);
    let current =
        p.child.as_ref().filter(|_| p.rdb_child_running()).map_or(-1, |c| c.started.elapsed().as_secs() as i64);
    field(out, "rdb_current_bgsave_time_sec", current);
    field(out, "rdb_saves", p.saves);
    field(out, "rdb_last_cow_size", p.last_cow_bytes);
    field(out, "rdb_last_load_keys_expired", p.last_load_expired);
    field(out, "rdb_last_load_keys_loaded", p.last_load_keys);
    let rewriting = state.persistence.child.as_ref().filter(|c| c.kind == crate::child::ChildKind::Aof);
    aof_fields(out, &state.aof, rewriting.map(|c| c.started.elapsed().as_secs() as i64));
}

/// INFO persistence's `aof_*` lines, in Redis's order; the sizes only while the AOF is on, as Redis.
fn aof_fields(out: &mut String, aof: &crate::state::aof_status::AofStatus, rewriting_s: Option<i64>) {
    let status = |ok: bool| if ok { "ok" } else { "err" };
    field(out, "aof_enabled", u8::from(aof.enabled));
    field(out, "aof_rewrite_in_progress", u8::from(rewriting_s.is_some()));
    field(out, "aof_rewrite_scheduled", u8::from(aof.rewrite_scheduled));
    field(out, "aof_last_rewrite_time_sec", aof.last_rewrite_time_sec);
    field(out, "aof_current_rewrite_time_sec", rewriting_s.unwrap_or(-1));
    field(out, "aof_last_bgrewrite_status", status(aof.last_rewrite_ok));
    field(out, "aof_rewrites", aof.rewrites);
    field(out, "aof_rewrites_consecutive_failures", u8::from(!aof.last_rewrite_ok));
    field(out, "aof_last_write_status", status(aof.write_error.is_none()));
    field(out, "aof_last_cow_size", aof.last_cow_bytes);
    out.push_str("module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
    if aof.enabled {
        field(out, "aof_current_size", aof.current_size);
        field(out, "aof_base_size", aof.base_size);
        out.push_str("aof_pending_rewrite:0\r\naof_buffer_length:0\r\n");
        field(out, "aof_pending_bio_fsync", u8::from(aof.fsync_in_progress));
        field(out, "aof_delayed_fsync", aof.delayed_fsyncs);
    }
}

fn stats(out: &mut String, state: &State, _now_ms: i64) {
    let s = &state.stats;
    field(out, "total_connections_received", s.total_connections_received);
    field(out, "total_commands_processed", s.total_commands);
    field(out, "instantaneous_ops_per_sec", s.ops_samples.per_sec());
    field(out, "total_net_input_bytes", s.net_input_bytes);
    field(out, "total_net_output_bytes", s.net_output_bytes);
    out.push_str(
        "total_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:0.00\r\n\
         instantaneous_output_kbps:0.00\r\ninstantaneous_input_repl_kbps:0.00\r\n\
         instantaneous_output_repl_kbps:0.00\r\n",
    );
    field(out, "rejected_connections", s.rejected_connections);
    field(out, "sync_full", state.stats.sync_full);
    out.push_str("sync_partial_ok:0\r\nsync_partial_err:0\r\n");
    field(out, "expired_keys", state.keyspace.expired_count());
    out.push_str("expired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\n");
    field(out, "evicted_keys", s.evicted_keys);
    field(out, "evicted_clients", s.evicted_clients);
    let (exceeded_total_ms, exceeded_current_ms) = state.eviction.exceeded_ms();
    field(out, "total_eviction_exceeded_time", exceeded_total_ms);
    field(out, "current_eviction_exceeded_time", exceeded_current_ms);
    field(out, "keyspace_hits", s.keyspace_hits);
    field(out, "keyspace_misses", s.keyspace_misses);
    field(out, "pubsub_channels", state.pubsub.channel_count(false));
    field(out, "pubsub_patterns", state.pubsub.pattern_count());
    field(out, "pubsubshard_channels", state.pubsub.channel_count(true));
    field(out, "latest_fork_usec", state.persistence.latest_fork_us);
    field(out, "total_forks", state.persistence.forks);
    field(out, "migrate_cached_sockets", state.migrate_sockets.len());
    out.push_str(
        "slave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\n\
         active_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\n\
         total_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n",
    );
    field(out, "tracking_total_keys", state.tracking.total_keys());
    field(out, "tracking_total_items", state.tracking.total_items());
    field(out, "tracking_total_prefixes", state.tracking.prefixes.len());
    out.push_str("unexpected_error_replies:0\r\n");
    field(out, "total_error_replies", s.total_error_replies);
    out.push_str(
        "dump_payload_sanitizations:0\r\ntotal_reads_processed:0\r\ntotal_writes_processed:0\r\n\
         io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\n\
         reply_buffer_expands:0\r\n",
    );
}

fn replication(out: &mut String, state: &State, now_ms: i64) {
    use crate::state::replication as repl;
    out.push_str("role:master\r\n");
    field(out, "connected_slaves", state.replication.replicas.len());
    if state.config.min_replicas_to_write != 0 && state.config.min_replicas_max_lag_s != 0 {
        field(out, "min_slaves_good_slaves", repl::good_replicas(state, now_ms));
    }
    for (index, &id) in state.replication.replicas.iter().enumerate() {
        let Some(replica) = state.sessions[id].replica.as_ref() else { continue };
        let ip = replica.announced_ip.clone().unwrap_or_else(|| repl::replica_ip(state, id));
        let lag_s = (now_ms - replica.ack_ms).max(0) / 1000;
        let _ = write!(
            out,
            "slave{index}:ip={ip},port={},state={},offset={},lag={lag_s}\r\n",
            replica.listening_port,
            replica.state.name(),
            replica.ack_offset
        );
    }
    out.push_str("master_failover_state:no-failover\r\n");
    field(out, "master_replid", &state.replication.replid);
    out.push_str("master_replid2:0000000000000000000000000000000000000000\r\n");
    field(out, "master_repl_offset", state.replication.offset);
    // No backlog is kept (every sync is full), so the backlog fields say it is inactive.
    out.push_str("second_repl_offset:-1\r\nrepl_backlog_active:0\r\n");
    field(out, "repl_backlog_size", state.config.repl_backlog_size);
    out.push_str("repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n");
}

/// Clock ticks per second in /proc's CPU times (USER_HZ, 100 on every Linux build that matters).
const TICKS_PER_SECOND: u64 = 100;

fn cpu(out: &mut String, _state: &State, _now_ms: i64) {
    // INFO runs on the main (and only command) thread, so thread-self is the main thread.
    let process = proc_cpu_ticks("/proc/self/stat").unwrap_or_default();
    let thread = proc_cpu_ticks("/proc/thread-self/stat").unwrap_or_default();
    let seconds = |ticks: u64| {
        let micros = ticks * (1_000_000 / TICKS_PER_SECOND);
        format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
    };
    field(out, "used_cpu_sys", seconds(process[1]));
    field(out, "used_cpu_user", seconds(process[0]));
    field(out, "used_cpu_sys_children", seconds(process[3]));
    field(out, "used_cpu_user_children", seconds(process[2]));
    field(out, "used_cpu_sys_main_thread", seconds(thread[1]));
    field(out, "used_cpu_user_main_thread", seconds(thread[0]));
}

/// utime, stime, cutime, cstime (fields 14 to 17) of a /proc stat file, in clock ticks. The fields are counted
/// after the command name's closing parenthesis, since the name may contain spaces.
fn proc_cpu_ticks(path: &str) -> Option<[u64; 4]> {
    let text = std::fs::read_to_string(path).ok()?;
    let after_name = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name, so utime (14) is the 12th.
    let mut fields = after_name.split_whitespace().skip(11);
    let mut ticks = [0u64; 4];
    for tick in &mut ticks {
        *tick = fields.next()?.parse().ok()?;
    }
    Some(ticks)
}

fn modules(_out: &mut String, _state: &State, _now_ms: i64) {}

fn commandstats(out: &mut String, state: &State, _now_ms: i64) {
    for (name, stat) in crate::cmd::table().names.iter().zip(&state.stats.commands) {
        if stat.calls == 0 && stat.failed_calls == 0 && stat.rejected_calls == 0 {
            continue;
        }
        let per_call = if stat.calls == 0 { 0.0 } else { stat.usec as f64 / stat.calls as f64 };
        let _ = write!(
            out,
            "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            stat.calls, stat.usec, stat.rejected_calls, stat.failed_calls
        );
    }
}

/// Error codes in byte order, as Redis keeps them in a radix tree.
fn errorstats(out: &mut String, state: &State, _now_ms: i64) {
    let mut codes: Vec<(&str, u64)> = state.stats.errors_by_code.iter().map(|(code, n)| (&**code, *n)).collect();
    codes.sort_unstable();
    for (code, count) in codes {
        let _ = write!(out, "errorstat_{code}:count={count}\r\n");
    }
}

fn cluster(out: &mut String, _state: &State, _now_ms: i64) {
    out.push_str("cluster_enabled:0\r\n");
}

/// `dbN:keys=K,expires=E,avg_ttl=T` for every database that has keys, exactly Redis 7.0's shape.
fn keyspace(out: &mut String, state: &State, now_ms: i64) {
    for (index, db) in state.keyspace.dbs.iter().enumerate() {
        if db.is_empty() && db.expires_len() == 0 {
            continue;
        }
        let avg_ttl = db.avg_ttl_ms(now_ms, AVG_TTL_SAMPLES);
        let _ = write!(out, "db{index}:keys={},expires={},avg_ttl={avg_ttl}\r\n", db.len(), db.expires_len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;
    use bytes::Bytes;

    #[test]
    fn info_text_layout() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "INFO cluster"), "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
        assert_eq!(
            t.run(me, "INFO keyspace cluster"),
            "$44\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n\r\n"
        );
        assert_eq!(t.run(me, "INFO nosuch"), "$0\r\n\r\n");
        t.run(me, "SET k v");
        t.run(me, "SELECT 3");
        t.run(me, "SET k2 v");
        let keyspace = t.run(me, "INFO keyspace");
        assert!(
            keyspace
                .ends_with("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n\r\n")
        );
        let all = t.run(me, "INFO");
        let headers: Vec<&str> = all.split("\r\n").filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            headers,
            [
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Errorstats",
                "# Cluster",
                "# Keyspace"
            ]
        );
        // redis-cli --stat finds fields by prefix, so `used_memory:` must come before `used_memory_human:`.
        assert!(all.find("\r\nused_memory:").unwrap() < all.find("\r\nused_memory_human:").unwrap());
        assert!(all.contains("\r\nredis_version:7.0.15\r\nferrokv_version:"));
        assert!(all.contains("\r\nconnected_clients:1\r\n"));
        assert!(t.run(me, "INFO commandstats").contains("cmdstat_set:calls=2,"));
        t.run(me, "HELLO 3");
        assert!(t.run(me, "INFO cluster").starts_with("=34\r\ntxt:# Cluster\r\n"));
    }

    fn selected(names: &[&str]) -> Vec<&'static str> {
        let names: Vec<Bytes> = names.iter().map(|n| Bytes::copy_from_slice(n.as_bytes())).collect();
        SECTIONS.iter().zip(select_sections(&names)).filter(|(_, on)| *on).map(|((name, _, _), _)| *name).collect()
    }

    #[test]
    fn section_selection() {
        let default = [
            "server",
            "clients",
            "memory",
            "persistence",
            "stats",
            "replication",
            "cpu",
            "modules",
            "errorstats",
            "cluster",
            "keyspace",
        ];
        assert_eq!(selected(&[]), default);
        assert_eq!(selected(&["DEFAULT"]), default);
        assert_eq!(selected(&["all"]).len(), SECTIONS.len());
        assert_eq!(selected(&["everything"]).len(), SECTIONS.len());
        assert_eq!(selected(&["keyspace", "Server"]), ["server", "keyspace"]);
        assert_eq!(selected(&["commandstats"]), ["commandstats"]);
        assert_eq!(selected(&["module_list"]), ["modules"]);
        // Names end at a NUL, as the C strings Redis compares: checked against redis-server 7.0.15.
        assert_eq!(selected(&["server\0x"]), ["server"]);
        assert_eq!(selected(&["Default\0x"]), default);
        assert!(selected(&["nosuch"]).is_empty());
    }

    #[test]
    fn human_bytes_like_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1_615_688), "1.54M");
        assert_eq!(bytes_to_human(25_276_063_744), "23.54G");
        assert_eq!(bytes_to_human(u64::MAX), format!("{}B", u64::MAX));
    }

    #[test]
    fn cpu_ticks_from_proc_stat() {
        assert!(proc_cpu_ticks("/proc/self/stat").is_some());
        let dir = std::env::temp_dir().join(format!("ferrokv-stat-{}", std::process::id()));
        std::fs::write(&dir, "12 (a b) c) S 1 2 3 4 5 6 7 8 9 10 111 222 333 444 20 0").unwrap();
        assert_eq!(proc_cpu_ticks(dir.to_str().unwrap()), Some([111, 222, 333, 444]));
        std::fs::remove_file(&dir).unwrap();
    }
}
