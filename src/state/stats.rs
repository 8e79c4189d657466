//! Counters behind INFO (stats, commandstats, errorstats) and the HTTP gateway's `/_metrics`.

use hashbrown::HashMap;

/// Per-command counters, indexed by the command's table id.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommandStat {
    pub calls: u64,
    /// Microseconds spent running the handler.
    pub usec: u64,
    /// Calls refused before running (arity, NOAUTH, OOM, NOREPLICAS, ...), which `calls` leaves out.
    pub rejected_calls: u64,
    /// Calls that ran and replied with an error.
    pub failed_calls: u64,
    /// Durations (LATENCY HISTOGRAM), while `latency-tracking` is on.
    pub histogram: LatencyHistogram,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands: u64,
    pub rejected_connections: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    /// Full syncs served to replicas (`sync_full`).
    pub sync_full: u64,
    /// Error replies by their first word (`ERR`, `WRONGTYPE`), for INFO errorstats.
    pub errors_by_code: HashMap<Box<str>, u64>,
    pub commands: Vec<CommandStat>,
    /// Ring of (time, total_commands) samples for `instantaneous_ops_per_sec`.
    pub ops_samples: OpsSamples,
    /// Command execution times, for `/_metrics`.
    pub latency: LatencyHistogram,
    /// Keys deleted to keep memory under `maxmemory`.
    pub evicted_keys: u64,
    /// Clients closed to keep their memory under `maxmemory-clients`.
    pub evicted_clients: u64,
}

/// Command execution times in power-of-two buckets: bucket `i` counts commands that took under 2^`i` µs
/// (so bucket 0 is under 1 µs), the last bucket everything slower. Recording is one `leading_zeros` and one
/// increment, from the duration the dispatcher already measures, so it adds no clock read.
#[derive(Debug, Default, Clone, Copy)]
pub struct LatencyHistogram {
    pub counts: [u64; LATENCY_BUCKETS],
    /// Sum of all recorded durations, in microseconds.
    pub sum_us: u64,
}

/// Buckets of [`LatencyHistogram`]: the last bounded one is 2^23 µs (about 8 s).
pub const LATENCY_BUCKETS: usize = 25;

impl LatencyHistogram {
    pub fn record(&mut self, duration_us: u64) {
        let bucket = (u64::BITS - duration_us.leading_zeros()) as usize;
        self.counts[bucket.min(LATENCY_BUCKETS - 1)] += 1;
        self.sum_us += duration_us;
    }

    /// The upper bound of bucket `i` in microseconds; `None` for the last, unbounded one.
    pub fn bucket_bound_us(i: usize) -> Option<u64> {
        (i < LATENCY_BUCKETS - 1).then(|| 1 << i)
    }
}

/// Redis's instantaneous metric: the average rate over the last few cron samples.
#[derive(Debug, Default)]
pub struct OpsSamples {
    last_ms: i64,
    last_total: u64,
    rates: [u64; 16],
    next: usize,
}

impl OpsSamples {
    /// Records a sample at `now_ms` with `total` commands processed so far.
    pub fn sample(&mut self, now_ms: i64, total: u64) {
        let elapsed_ms = now_ms - self.last_ms;
        if self.last_ms != 0 && elapsed_ms > 0 {
            self.rates[self.next] = (total - self.last_total) * 1000 / elapsed_ms as u64;
            self.next = (self.next + 1) % self.rates.len();
        }
        self.last_ms = now_ms;
        self.last_total = total;
    }

    pub fn per_sec(&self) -> u64 {
        self.rates.iter().sum::<u64>() / self.rates.len() as u64
    }
}

impl Stats {
    /// Counts one key lookup of a read as a keyspace hit or miss (INFO `keyspace_hits`/`keyspace_misses`).
    pub fn count_lookup(&mut self, found: bool) {
        if found {
            self.keyspace_hits += 1;
        } else {
            self.keyspace_misses += 1;
        }
    }

    /// CONFIG RESETSTAT: zero the counters Redis zeroes.
    pub fn reset(&mut self) {
        let commands = self.commands.len();
        *self = Stats { commands: vec![CommandStat::default(); commands], ..Stats::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_powers_of_two() {
        let mut h = LatencyHistogram::default();
        for us in [0, 1, 2, 3, 4, 1 << 30] {
            h.record(us);
        }
        assert_eq!(&h.counts[..4], &[1, 1, 2, 1]);
        assert_eq!(h.counts[LATENCY_BUCKETS - 1], 1);
        assert_eq!(h.sum_us, 10 + (1 << 30));
        assert_eq!(LatencyHistogram::bucket_bound_us(3), Some(8));
        assert_eq!(LatencyHistogram::bucket_bound_us(LATENCY_BUCKETS - 1), None);
    }
}
