//! LATENCY DOCTOR's report (Redis's createLatencyReport): each event's spikes, average, mean deviation,
//! period and worst (and for `fork`, the fork rate and its grade), then the advice those events call for, in
//! Redis's words and order, and the transparent-huge-pages check.

use std::fmt::Write as _;

use crate::state::State;
use crate::state::latency_monitor::EventHistory;

const DISABLED: &str = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. \
You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep \
space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
const NOTHING: &str = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the \
slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
const OBSERVED: &str = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about \
it, do you Dave?\n\n";
const NO_FIX: &str = "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the \
Redis community to get some help, providing this report in your help request.\n";
const INSPECT_SLOWLOG: &str = "- Check your Slow Log to understand what are the commands you are running which are \
too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n";
const SCHEDULER: &str = "- The system is slow to execute Redis code paths not containing system calls. This usually \
means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system \
load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if \
you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic \
latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if \
you are using Jemalloc. However this may create fragmentation problems.\n";
const HZ: &str = "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' \
configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
const BETTER_VM: &str = "- If you are using a virtual machine, consider upgrading it with a faster one using a \
hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the \
context of the same VM provider, certain kinds of instances can execute fork faster than others.\n";
const LOCAL_DISK: &str = "- It is strongly advised to use local disks for persistence, especially if you are using \
AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n";
const SSD: &str = "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log \
rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However \
Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n";
const DATA_WRITEBACK: &str = "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost \
compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that \
after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before \
Redis restarts.\n";
const DISK_CONTENTION: &str = "- Try to lower the disk contention. This is often caused by other disk intensive \
processes running in the same computer (including other Redis instances).\n";
const NO_APPENDFSYNC: &str = "- Assuming from the point of view of data safety this is viable in your environment, \
you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a \
child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n";
const RELAX_FSYNC: &str = "- Your fsync policy is set to 'always'. It is very hard to get good performances with \
such a setup, if possible try to relax the fsync policy to 'onesec'.\n";
const WRITE_LOAD_INFO: &str = "- Latency during the AOF atomic rename operation or when the final difference is \
flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF \
buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to \
group multiple operations into a single EVALSHA call.\n";
const LARGE_OBJECTS: &str = "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a \
blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment \
those objects into multiple smaller objects.\n";
const MASS_EVICTION: &str = "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large \
objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE \
command), may create sudden memory pressure forcing the server to block trying to evict keys. \n";
const THP: &str = "- I detected a non zero amount of anonymous huge pages used by your process. This creates very \
serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support \
use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into \
/etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already \
disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n";

/// The advice an event calls for.
#[derive(Debug, Default)]
struct Advice {
    better_vm: bool,
    slowlog_enabled: bool,
    slowlog_tuning: bool,
    slowlog_inspect: bool,
    scheduler: bool,
    local_disk: bool,
    ssd: bool,
    data_writeback: bool,
    disk_contention: bool,
    no_appendfsync: bool,
    relax_fsync: bool,
    write_load_info: bool,
    hz: bool,
    large_objects: bool,
    mass_eviction: bool,
    disable_thp: bool,
    /// How many pieces of advice were counted (Redis counts some it then does not print).
    count: usize,
}

/// The whole report.
pub fn report(state: &State) -> String {
    let threshold_ms = state.config.latency_monitor_threshold_ms;
    let events = &state.latency.events;
    if events.is_empty() && threshold_ms == 0 {
        return DISABLED.to_string();
    }
    let mut out = String::new();
    let mut advice = Advice::default();
    let now_s = crate::clock::unix_ms() / 1000;
    for (number, (name, history)) in events.iter().enumerate() {
        if number == 0 {
            out.push_str(OBSERVED);
        }
        event_line(&mut out, number + 1, name, history, now_s);
        if *name == "fork" {
            fork_quality(&mut out, &mut advice, state.persistence.fork_rate_gb_s);
        }
        advise_for(&mut advice, name, state);
        out.push('\n');
    }
    if anon_huge_pages_kb() > 0 {
        advice.disable_thp = true;
        advice.count += 1;
    }
    match (events.is_empty(), advice.count) {
        (true, 0) => out.push_str(NOTHING),
        (false, 0) => out.push_str(NO_FIX),
        _ => advice_text(&mut out, &advice, state),
    }
    out
}

/// `N. event: S latency spikes (average Ams, mean deviation Dms, period P sec). Worst all time event Wms.`
fn event_line(out: &mut String, number: usize, name: &str, history: &EventHistory, now_s: i64) {
    let samples = history.samples.len() as u64;
    let sum: u64 = history.samples.iter().map(|&(_, ms)| ms).sum();
    let avg = sum.checked_div(samples).unwrap_or(0);
    let deviation: u64 = history.samples.iter().map(|&(_, ms)| avg.abs_diff(ms)).sum();
    let mad = deviation.checked_div(samples).unwrap_or(0);
    let oldest_s = history.samples.iter().map(|&(time_s, _)| time_s).min().unwrap_or(now_s);
    let period_s = (now_s - oldest_s).max(1);
    let _ = write!(
        out,
        "{number}. {name}: {samples} latency spikes (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). \
         Worst all time event {}ms.",
        period_s as f64 / samples.max(1) as f64,
        history.max_ms
    );
}

/// The fork rate and its grade; a poor one advises a better VM.
fn fork_quality(out: &mut String, advice: &mut Advice, rate_gb_s: f64) {
    let quality = match rate_gb_s {
        r if r < 10.0 => "terrible",
        r if r < 25.0 => "poor",
        r if r < 100.0 => "good",
        _ => "excellent",
    };
    if rate_gb_s < 25.0 {
        advice.better_vm = true;
        advice.count += 1;
    }
    let _ = write!(out, " Fork rate is {rate_gb_s:.2} GB/sec ({quality}).");
}

fn advise_for(advice: &mut Advice, event: &str, state: &State) {
    match event {
        "command" => {
            let slowlog_us = state.config.slowlog_log_slower_than_us;
            if slowlog_us < 0 {
                advice.slowlog_enabled = true;
                advice.count += 1;
            } else if slowlog_us as u64 / 1000 > state.config.latency_monitor_threshold_ms {
                advice.slowlog_tuning = true;
                advice.count += 1;
            }
            advice.slowlog_inspect = true;
            advice.large_objects = true;
            advice.count += 2;
        }
        "fast-command" => {
            advice.scheduler = true;
            advice.count += 1;
        }
        "aof-write-pending-fsync" => {
            (advice.local_disk, advice.disk_contention, advice.ssd, advice.data_writeback) = (true, true, true, true);
            advice.count += 4;
        }
        "aof-write-active-child" => {
            (advice.no_appendfsync, advice.data_writeback, advice.ssd) = (true, true, true);
            advice.count += 3;
        }
        "aof-write-alone" => {
            (advice.local_disk, advice.data_writeback, advice.ssd) = (true, true, true);
            advice.count += 3;
        }
        "aof-fsync-always" => {
            advice.relax_fsync = true;
            advice.count += 1;
        }
        "aof-fstat" | "rdb-unlink-temp-file" => {
            (advice.disk_contention, advice.local_disk) = (true, true);
            advice.count += 2;
        }
        "aof-rewrite-diff-write" | "aof-rename" => {
            (advice.write_load_info, advice.data_writeback, advice.ssd, advice.local_disk) = (true, true, true, true);
            advice.count += 4;
        }
        "expire-cycle" => {
            advice.hz = true;
            advice.large_objects = true;
            advice.count += 2;
        }
        "eviction-del" => {
            advice.large_objects = true;
            advice.count += 1;
        }
        "eviction-cycle" => {
            advice.mass_eviction = true;
            advice.count += 1;
        }
        _ => {}
    }
}

fn advice_text(out: &mut String, advice: &Advice, state: &State) {
    let threshold_us = state.config.latency_monitor_threshold_ms * 1000;
    out.push_str("\nI have a few advices for you:\n\n");
    if advice.better_vm {
        out.push_str(BETTER_VM);
    }
    if advice.slowlog_enabled {
        let _ = writeln!(
            out,
            "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log \
             Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is \
             disabled Redis is not able to log slow commands execution for you."
        );
    }
    if advice.slowlog_tuning {
        let _ = writeln!(
            out,
            "- Your current Slow Log configuration only logs events that are slower than your configured latency \
             monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'."
        );
    }
    let texts = [
        (advice.slowlog_inspect, INSPECT_SLOWLOG),
        (advice.scheduler, SCHEDULER),
        (advice.local_disk, LOCAL_DISK),
        (advice.ssd, SSD),
        (advice.data_writeback, DATA_WRITEBACK),
        (advice.disk_contention, DISK_CONTENTION),
        (advice.no_appendfsync, NO_APPENDFSYNC),
        (advice.relax_fsync && state.config.appendfsync == "always", RELAX_FSYNC),
        (advice.write_load_info, WRITE_LOAD_INFO),
        (advice.hz && state.config.hz < 100, HZ),
        (advice.large_objects, LARGE_OBJECTS),
        (advice.mass_eviction, MASS_EVICTION),
        (advice.disable_thp, THP),
    ];
    for (wanted, text) in texts {
        if wanted {
            out.push_str(text);
        }
    }
}

/// AnonHugePages of this process, in kB (Redis's THPGetAnonHugePagesSize); 0 if it cannot be read.
fn anon_huge_pages_kb() -> u64 {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return 0 };
    smaps
        .lines()
        .filter_map(|line| line.strip_prefix("AnonHugePages:"))
        .filter_map(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum()
}
