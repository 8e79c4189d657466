//! MEMORY (Redis's `memoryCommand` in object.c): USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.
//!
//! MEMORY USAGE key [SAMPLES count] answers the bytes the key and its value take in our own structures, the
//! figure INFO's `used_memory` counts them with: the keyspace slot, the key's heap bytes and the value's
//! (`Entry::memory_usage`). Compact encodings are measured exactly; a list's nodes and a hashtable's strings
//! are estimated from the first `count` of them (default 5, 0 for all), as Redis's objectComputeSize samples.
//! Like Redis, the key is found without expiring or touching it (a bare `dictFind`), so a key whose TTL has
//! passed but that no lookup has deleted yet is still measured.
//!
//! MEMORY STATS is Redis 7.0's map, field for field, from `MemoryOverhead`, which INFO memory reads too, so the
//! two never disagree: the allocator's count (`util::alloc`), what clients, the AOF buffer, the script caches
//! and the keyspace tables take, and the rest as the dataset. MEMORY DOCTOR applies Redis's checks to the same
//! figures and answers its texts. The allocator is jemalloc (`util::alloc`), but MALLOC-STATS does not print its
//! statistics yet and PURGE leaves its dirty pages to jemalloc's own decay: both answer as a Redis built with libc.

use super::super::args::Args;
use super::super::errors::{self, CmdResult};
use super::super::{Ctx, Handlers};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::util::alloc;

/// MEMORY's subcommands by full name, bound to their entries in src/cmd/meta/admin.json.
pub(super) const HANDLERS: Handlers = &[
    ("memory|doctor", memory_doctor),
    ("memory|help", memory_help),
    ("memory|malloc-stats", memory_malloc_stats),
    ("memory|purge", memory_purge),
    ("memory|stats", memory_stats),
    ("memory|usage", memory_usage),
];

const HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// Nested items MEMORY USAGE samples without SAMPLES (Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES).
const SAMPLES_DEFAULT: usize = 5;

/// Where the memory goes (Redis's getMemoryOverheadData), for INFO memory and MEMORY STATS / DOCTOR.
#[derive(Debug, Clone, Default)]
pub struct MemoryOverhead {
    pub peak_allocated: u64,
    pub total_allocated: u64,
    pub startup_allocated: u64,
    pub clients_normal: u64,
    pub aof_buffer: u64,
    pub lua_caches: u64,
    pub functions_caches: u64,
    /// (db index, main table bytes, expires index bytes) of each database holding keys.
    pub dbs: Vec<(usize, u64, u64)>,
    pub overhead_total: u64,
    pub total_keys: u64,
    pub rss: u64,
}

impl MemoryOverhead {
    pub fn measure(state: &State) -> MemoryOverhead {
        let total_allocated = alloc::used_memory() as u64;
        let query = |c: &crate::state::session::Session| c.link.as_ref().map_or(0, |link| link.qbuf + link.qbuf_free);
        let clients_normal = state.sessions.iter().map(|(_, c)| (query(c) + c.reply.buf.capacity()) as u64).sum();
        let dbs: Vec<(usize, u64, u64)> = state
            .keyspace
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, db)| !db.is_empty())
            .map(|(index, db)| {
                let (main, expires) = db.table_bytes();
                (index, main as u64, expires as u64)
            })
            .collect();
        let mut overhead = MemoryOverhead {
            peak_allocated: (alloc::peak_memory() as u64).max(total_allocated),
            total_allocated,
            startup_allocated: 0,
            clients_normal,
            aof_buffer: crate::cmd::evict::not_counted_for_evict(state),
            lua_caches: state.scripting.scripts_bytes() as u64,
            functions_caches: state.scripting.functions_bytes() as u64,
            total_keys: state.keyspace.dbs.iter().map(|db| db.len() as u64).sum(),
            rss: super::info::rss_bytes().unwrap_or(total_allocated),
            dbs,
            overhead_total: 0,
        };
        overhead.overhead_total = overhead.startup_allocated
            + overhead.clients_normal
            + overhead.aof_buffer
            + overhead.lua_caches
            + overhead.functions_caches
            + overhead.dbs.iter().map(|(_, main, expires)| main + expires).sum::<u64>();
        overhead
    }

    fn net_usage(&self) -> u64 {
        self.total_allocated.saturating_sub(self.startup_allocated).max(1)
    }

    pub fn dataset(&self) -> u64 {
        self.total_allocated.saturating_sub(self.overhead_total)
    }

    /// Redis computes its percentages and ratios in single precision, which shows in their digits.
    fn percent(part: u64, whole: u64) -> f64 {
        f64::from(part as f32 * 100.0 / whole.max(1) as f32)
    }

    /// RSS over what the allocator handed out: our allocator reports no pages of its own, so this is both
    /// Redis's total fragmentation and its allocator RSS ratio.
    pub fn rss_ratio(&self) -> f64 {
        f64::from(self.rss as f32 / self.total_allocated.max(1) as f32)
    }

    fn rss_extra_bytes(&self) -> i64 {
        self.rss as i64 - self.total_allocated as i64
    }
}

fn memory_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::reply_help(reply, "MEMORY", HELP);
    Ok(())
}

/// MEMORY STATS: Redis 7.0's map in its order (a nested map per database holding keys).
fn memory_stats(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let m = MemoryOverhead::measure(ctx.state);
    let int = |reply: &mut Reply, name: &str, n: i64| {
        reply.bulk(name.as_bytes());
        reply.int(n);
    };
    let double = |reply: &mut Reply, name: &str, v: f64| {
        reply.bulk(name.as_bytes());
        reply.double(v);
    };
    reply.map(27 + m.dbs.len());
    int(reply, "peak.allocated", m.peak_allocated as i64);
    int(reply, "total.allocated", m.total_allocated as i64);
    int(reply, "startup.allocated", m.startup_allocated as i64);
    int(reply, "replication.backlog", 0);
    int(reply, "clients.slaves", 0);
    int(reply, "clients.normal", m.clients_normal as i64);
    int(reply, "cluster.links", 0);
    int(reply, "aof.buffer", m.aof_buffer as i64);
    int(reply, "lua.caches", m.lua_caches as i64);
    int(reply, "functions.caches", m.functions_caches as i64);
    for &(index, main, expires) in &m.dbs {
        reply.bulk(format!("db.{index}").as_bytes());
        reply.map(3);
        int(reply, "overhead.hashtable.main", main as i64);
        int(reply, "overhead.hashtable.expires", expires as i64);
        int(reply, "overhead.hashtable.slot-to-keys", 0);
    }
    int(reply, "overhead.total", m.overhead_total as i64);
    int(reply, "keys.count", m.total_keys as i64);
    int(reply, "keys.bytes-per-key", m.net_usage().checked_div(m.total_keys).unwrap_or(0) as i64);
    int(reply, "dataset.bytes", m.dataset() as i64);
    double(reply, "dataset.percentage", MemoryOverhead::percent(m.dataset(), m.net_usage()));
    double(reply, "peak.percentage", MemoryOverhead::percent(m.total_allocated, m.peak_allocated));
    int(reply, "allocator.allocated", m.total_allocated as i64);
    int(reply, "allocator.active", m.total_allocated as i64);
    int(reply, "allocator.resident", m.rss as i64);
    double(reply, "allocator-fragmentation.ratio", 1.0);
    int(reply, "allocator-fragmentation.bytes", 0);
    double(reply, "allocator-rss.ratio", m.rss_ratio());
    int(reply, "allocator-rss.bytes", m.rss_extra_bytes());
    double(reply, "rss-overhead.ratio", 1.0);
    int(reply, "rss-overhead.bytes", 0);
    double(reply, "fragmentation", m.rss_ratio());
    int(reply, "fragmentation.bytes", m.rss_extra_bytes());
    Ok(())
}

const DOCTOR_NO_ISSUE: &str =
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
const DOCTOR_EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't \
    be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and \
    I will be back to our programming as soon as I finished rebooting.\n";
const DOCTOR_ISSUES: &str = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
const DOCTOR_PEAK: &str = " * Peak memory: In the past this instance used more than 150% the memory that is currently \
    using. The allocator is normally not able to release memory after a peak, so you can expect to see a big \
    fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis \
    instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill \
    the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, \
    please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
const DOCTOR_HIGH_RSS: &str = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater \
    than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical \
    allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a \
    peak memory entry above in the report) or may result from a workload that causes the allocator to fragment \
    memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using \
    the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"libc\".\n\n";
const DOCTOR_ALLOCATOR_RSS: &str = " * High allocator RSS overhead: This instance has an RSS memory overhead is \
    greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the \
    allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory \
    entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n";
const DOCTOR_CLIENT_BUFFERS: &str = " * Big client buffers: The clients output buffers in this instance are greater \
    than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to \
    channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients \
    sending commands with large replies or very large sequences of commands in the same pipeline. Please use the \
    CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand \
    better why certain clients are using a big amount of memory.\n\n";
const DOCTOR_SCRIPTS: &str = " * Many scripts: There seem to be many cached scripts in this instance (more than \
    1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and \
    ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may \
    end up consuming most of your memory.\n\n";
const DOCTOR_END: &str = "I'm here to keep you safe, Sam. I want to help you.\n";

/// The doctor's findings (getMemoryDoctorReport's checks on the same figures as MEMORY STATS). Redis's
/// allocator-fragmentation and process-RSS checks never fire here: our allocator keeps no pages of its own,
/// so all of RSS beyond the allocations is the allocator's, which the RSS checks report.
fn doctor_report(m: &MemoryOverhead, clients: u64, scripts: usize) -> String {
    if m.total_allocated < 5 << 20 {
        return DOCTOR_EMPTY.into();
    }
    let big_rss = m.rss_ratio() > 1.4 && m.rss_extra_bytes() > 10 << 20;
    let findings = [
        (m.peak_allocated as f32 / m.total_allocated as f32 > 1.5, DOCTOR_PEAK),
        (big_rss, DOCTOR_HIGH_RSS),
        (m.rss_ratio() > 1.1 && m.rss_extra_bytes() > 10 << 20, DOCTOR_ALLOCATOR_RSS),
        (m.clients_normal / clients.max(1) > 200 * 1024, DOCTOR_CLIENT_BUFFERS),
        (scripts > 1000, DOCTOR_SCRIPTS),
    ];
    let found: Vec<&str> = findings.iter().filter(|(on, _)| *on).map(|(_, text)| *text).collect();
    if found.is_empty() {
        return DOCTOR_NO_ISSUE.into();
    }
    let mut report = String::from(DOCTOR_ISSUES);
    found.iter().for_each(|text| report.push_str(text));
    report.push_str(DOCTOR_END);
    report
}

fn memory_doctor(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let m = MemoryOverhead::measure(ctx.state);
    let clients = ctx.state.sessions.iter().filter(|(_, s)| s.link.is_some()).count() as u64;
    let report = doctor_report(&m, clients, ctx.state.scripting.cached());
    reply.verbatim("txt", report.as_bytes());
    Ok(())
}

/// What a Redis built without jemalloc answers.
fn memory_malloc_stats(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.verbatim("txt", b"Stats not supported for the current allocator");
    Ok(())
}

/// With the system allocator Redis has nothing to purge and answers OK.
fn memory_purge(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.ok();
    Ok(())
}

/// MEMORY USAGE key [SAMPLES count]: the options are checked before the key is looked up, as in Redis.
fn memory_usage(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.sub_args();
    let key = args.next_key()?;
    let samples = memory_usage_samples(args)?;
    match ctx.db().find_raw(key) {
        Some(entry) => reply.int(entry.memory_usage(samples) as i64),
        None => reply.null(),
    }
    Ok(())
}

/// The rest of `args` as SAMPLES options (the last one wins; 0 means every item), or Redis's error for a bad
/// one.
fn memory_usage_samples(mut args: Args<'_>) -> Result<usize, errors::CmdError> {
    let mut samples = SAMPLES_DEFAULT;
    while let Some(option) = args.next_option() {
        if !option.is("samples") || args.remaining() == 0 {
            return Err(errors::SYNTAX.into());
        }
        samples = match args.next_int()? {
            ..0 => return Err(errors::SYNTAX.into()),
            0 => usize::MAX,
            n => n as usize,
        };
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::TestServer;

    #[test]
    fn usage_options_and_errors_as_redis() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "MEMORY USAGE nokey"), "$-1\r\n");
        // Options are parsed before the lookup, so a missing key still gets the option's error.
        assert_eq!(t.run(me, "MEMORY USAGE nokey SAMPLES x"), "-ERR value is not an integer or out of range\r\n");
        t.run(me, "SET k v");
        for bad in ["SAMPLES", "SAMPLES -1", "COUNT 3", "k"] {
            assert_eq!(t.run(me, &format!("MEMORY USAGE k {bad}")), "-ERR syntax error\r\n", "{bad}");
        }
        assert!(t.run(me, "MEMORY USAGE k SAMPLES 0 samples 3").starts_with(':'));
        assert_eq!(t.run(me, "MEMORY USAGE"), "-ERR wrong number of arguments for 'memory|usage' command\r\n");
        assert_eq!(t.run(me, "MEMORY foo"), "-ERR unknown subcommand 'foo'. Try MEMORY HELP.\r\n");
        assert!(t.run(me, "MEMORY HELP").starts_with("*14\r\n+MEMORY <subcommand>"));
    }

    /// The integer of a `:n` reply.
    fn int(reply: String) -> i64 {
        reply.trim_start_matches(':').trim_end().parse().unwrap_or_else(|_| panic!("not an integer: {reply}"))
    }

    #[test]
    fn stats_shape_and_doctor_texts() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "SET k v");
        let stats = t.run(me, "MEMORY STATS");
        assert!(stats.starts_with("*56\r\n$14\r\npeak.allocated\r\n:"), "{stats}");
        assert!(stats.contains("$4\r\ndb.0\r\n*6\r\n$23\r\noverhead.hashtable.main\r\n:"), "{stats}");
        assert!(stats.contains("$10\r\nkeys.count\r\n:1\r\n"), "{stats}");
        assert_eq!(t.run(me, "MEMORY PURGE"), "+OK\r\n");
        assert_eq!(t.run(me, "MEMORY MALLOC-STATS"), "$45\r\nStats not supported for the current allocator\r\n");
        let small = super::MemoryOverhead { total_allocated: 1 << 20, ..Default::default() };
        assert_eq!(super::doctor_report(&small, 1, 0), super::DOCTOR_EMPTY);
        let healthy = super::MemoryOverhead {
            total_allocated: 50 << 20,
            peak_allocated: 60 << 20,
            rss: 55 << 20,
            ..Default::default()
        };
        assert_eq!(super::doctor_report(&healthy, 1, 0), super::DOCTOR_NO_ISSUE);
        let peaked = super::MemoryOverhead { peak_allocated: 200 << 20, ..healthy.clone() };
        let report = super::doctor_report(&peaked, 1, 2000);
        assert!(report.starts_with(super::DOCTOR_ISSUES) && report.ends_with(super::DOCTOR_END), "{report}");
        assert!(report.contains("* Peak memory:") && report.contains("* Many scripts:"), "{report}");
    }

    #[test]
    fn usage_grows_with_the_value() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "SET int 12345");
        t.run(me, "SET short abc");
        t.run(me, &format!("SET long {}", "x".repeat(1000)));
        let of_int = int(t.run(me, "MEMORY USAGE int"));
        assert_eq!(int(t.run(me, "MEMORY USAGE short")), of_int, "inline strings cost only the slot");
        assert!(int(t.run(me, "MEMORY USAGE long")) >= of_int + 1000);
        for i in 0..200 {
            t.run(me, &format!("RPUSH list {}", "e".repeat(100 + i)));
            t.run(me, &format!("HSET hash field{i} {}", "v".repeat(30)));
            t.run(me, &format!("SADD set member-{}-{i}", "m".repeat(30)));
        }
        for key in ["list", "hash", "set"] {
            let all = int(t.run(me, &format!("MEMORY USAGE {key} SAMPLES 0")));
            assert!(all > 200 * 30, "{key}: {all}");
            let sampled = int(t.run(me, &format!("MEMORY USAGE {key}")));
            assert!(sampled * 2 > all && sampled < all * 2, "{key}: {sampled} sampled, {all} in all");
        }
    }

    #[test]
    fn usage_measures_a_stale_key_without_expiring_it() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "DEBUG SET-ACTIVE-EXPIRE 0");
        t.run(me, "SET k v PX 1");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(t.run(me, "MEMORY USAGE k").starts_with(':'));
        assert_eq!(t.run(me, "EXISTS k"), ":0\r\n");
        assert_eq!(t.run(me, "MEMORY USAGE k"), "$-1\r\n");
    }
}
