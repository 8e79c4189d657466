//! The latency monitor (Redis's `latency.c`): for each event class, the samples at or above
//! `latency-monitor-threshold`, one per second (the worst of that second), the last `SAMPLES_MAX` of them, with
//! the latest and the all-time worst. The events are Redis 7.0's: `command` and `fast-command` (from
//! `cmd::call`), `expire-cycle`, `eviction-cycle`, `eviction-del`, `fork`, `aof-write` with its split into
//! `aof-write-pending-fsync`, `aof-write-active-child` and `aof-write-alone`, `aof-fsync-always`, `aof-fstat`,
//! `aof-rename` and `rdb-unlink-temp-file`.

use std::collections::VecDeque;

use super::State;

/// Samples kept per event (Redis's LATENCY_TS_LEN).
const SAMPLES_MAX: usize = 160;

/// One event's history.
#[derive(Debug, Default)]
pub struct EventHistory {
    /// (Unix seconds, milliseconds), oldest first.
    pub samples: VecDeque<(i64, u64)>,
    pub max_ms: u64,
}

/// Every event seen since the last reset, in the order first seen.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    pub events: Vec<(&'static str, EventHistory)>,
}

impl State {
    /// Whether work that took `duration_us` is a latency event: two comparisons in the usual case.
    #[inline]
    pub fn latency_wanted(&self, duration_us: u64) -> bool {
        let threshold_ms = self.config.latency_monitor_threshold_ms;
        threshold_ms > 0 && duration_us / 1000 >= threshold_ms
    }

    /// Records `event` if it took at least the threshold (Redis's latencyAddSampleIfNeeded).
    pub fn record_latency(&mut self, event: &'static str, duration_us: u64) {
        if self.latency_wanted(duration_us) {
            self.latency.add_sample(event, crate::clock::unix_ms() / 1000, duration_us / 1000);
        }
    }
}

impl LatencyMonitor {
    /// Records `latency_ms` for `event` at `now_s`; a sample in the same second as the last keeps the worse.
    pub fn add_sample(&mut self, event: &'static str, now_s: i64, latency_ms: u64) {
        let index = match self.events.iter().position(|(name, _)| *name == event) {
            Some(index) => index,
            None => {
                self.events.push((event, EventHistory::default()));
                self.events.len() - 1
            }
        };
        let history = &mut self.events[index].1;
        history.max_ms = history.max_ms.max(latency_ms);
        match history.samples.back_mut() {
            Some((time_s, worst_ms)) if *time_s == now_s => *worst_ms = (*worst_ms).max(latency_ms),
            _ => {
                if history.samples.len() == SAMPLES_MAX {
                    history.samples.pop_front();
                }
                history.samples.push_back((now_s, latency_ms));
            }
        }
    }

    pub fn history(&self, event: &[u8]) -> Option<&EventHistory> {
        self.events.iter().find(|(name, _)| name.as_bytes() == event).map(|(_, history)| history)
    }

    /// Forgets `event` (named in any case, as Redis compares it); false if it had no samples.
    pub fn reset_event(&mut self, event: &[u8]) -> bool {
        let before = self.events.len();
        self.events.retain(|(name, _)| !name.as_bytes().eq_ignore_ascii_case(event));
        self.events.len() != before
    }

    /// Forgets every event; returns how many there were.
    pub fn reset(&mut self) -> usize {
        std::mem::take(&mut self.events).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_and_a_bounded_history() {
        let mut monitor = LatencyMonitor::default();
        monitor.add_sample("command", 10, 5);
        monitor.add_sample("command", 10, 9);
        monitor.add_sample("command", 11, 3);
        let history = monitor.history(b"command").unwrap();
        assert_eq!(Vec::from(history.samples.clone()), vec![(10, 9), (11, 3)]);
        assert_eq!(history.max_ms, 9);
        for second in 0..200 {
            monitor.add_sample("fast-command", second, 1);
        }
        assert_eq!(monitor.history(b"fast-command").unwrap().samples.len(), SAMPLES_MAX);
        assert!(monitor.reset_event(b"command") && !monitor.reset_event(b"command"));
        assert_eq!(monitor.reset(), 1);
    }
}
