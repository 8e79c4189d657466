//! What `cmd::evict` keeps between eviction passes: the policy parsed from `maxmemory-policy`, the candidate
//! pool, whether a pass that ran out of time continues from the event loop (Redis's evictionTimeProc), and
//! how long memory has been over the limit (INFO's `total_eviction_exceeded_time` and
//! `current_eviction_exceeded_time`).

use std::time::Instant;

use crate::db::eviction_pool::{EvictionPolicy, EvictionPool};

#[derive(Debug, Default)]
pub struct EvictionStatus {
    /// `maxmemory-policy`, parsed when the config changes.
    pub policy: EvictionPolicy,
    pub pool: EvictionPool,
    /// A pass stopped at its time limit with memory still over: the loop runs another one without sleeping.
    pub continues: bool,
    /// Since when memory has been over `maxmemory`, if it is.
    pub exceeded_since: Option<Instant>,
    /// Microseconds memory was over the limit, for the periods that ended.
    pub exceeded_total_us: u64,
    /// Whether the command being run saw memory over the limit when it arrived (Redis's
    /// `pre_command_oom_state`): a script's first write is refused then.
    pub pre_command_oom: bool,
}

impl EvictionStatus {
    /// Starts or ends an over-the-limit period.
    pub fn note_exceeded(&mut self, over: bool) {
        match (over, self.exceeded_since) {
            (true, None) => self.exceeded_since = Some(Instant::now()),
            (false, Some(since)) => {
                self.exceeded_total_us += since.elapsed().as_micros() as u64;
                self.exceeded_since = None;
            }
            _ => {}
        }
    }

    /// INFO's (total, current) eviction-exceeded times in ms.
    pub fn exceeded_ms(&self) -> (u64, u64) {
        let current_us = self.exceeded_since.map_or(0, |since| since.elapsed().as_micros() as u64);
        ((self.exceeded_total_us + current_us) / 1000, current_us / 1000)
    }
}
