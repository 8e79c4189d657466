//! Counters behind INFO (stats, commandstats, errorstats) and, later, the metrics endpoint.

use hashbrown::HashMap;

/// Per-command counters, indexed by the command's table id.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommandStat {
    pub calls: u64,
    /// Microseconds spent running the handler.
    pub usec: u64,
    /// Calls that replied with an error.
    pub failed_calls: u64,
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
    /// Error replies by their first word (`ERR`, `WRONGTYPE`), for INFO errorstats.
    pub errors_by_code: HashMap<Box<str>, u64>,
    pub commands: Vec<CommandStat>,
    /// Ring of (time, total_commands) samples for `instantaneous_ops_per_sec`.
    pub ops_samples: OpsSamples,
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
    /// CONFIG RESETSTAT: zero the counters Redis zeroes.
    pub fn reset(&mut self) {
        let commands = self.commands.len();
        *self = Stats { commands: vec![CommandStat::default(); commands], ..Stats::default() };
    }
}
