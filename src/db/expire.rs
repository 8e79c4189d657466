//! Active expiry: reclaim keys whose TTL passed even if nobody touches them again.
//!
//! Redis's adaptive algorithm (expire.c): in each database, sample `EXPIRE_KEYS_PER_ROUND` keys that have a TTL,
//! delete the stale ones, and repeat at once while more than `EXPIRE_STALE_PERCENT_MAX`% of a sample was stale,
//! because then many more are likely stale. Unlike Redis's 25 ms slow cycle, one call here never runs longer than
//! its `budget` (the caller passes at most `EXPIRE_SLICE_US_MAX`), so the loop never stalls on expiry; when a
//! slice runs out of time the caller schedules another soon, keeping expiry to about a quarter of the CPU.
//!
//! The clock is passed in (`now_ms` for deadlines, `elapsed` for the budget), so tests drive it by hand.

use super::Keyspace;
use crate::limits::{EXPIRE_KEYS_PER_ROUND, EXPIRE_STALE_PERCENT_MAX};
use crate::util::rng::Rng;
use std::time::Duration;

/// Where the cycle resumes, so a slice that ran out of time does not favour the first databases.
#[derive(Debug, Default)]
pub struct ExpireCycle {
    next_db: usize,
}

/// How a slice ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SliceEnd {
    /// Every database looked clean enough.
    Done,
    /// The time budget ran out with stale keys likely left.
    OutOfTime,
}

impl ExpireCycle {
    /// Runs one slice at `now_ms`; `elapsed()` reports the time spent so far and is checked after every round.
    pub fn run_slice(
        &mut self,
        keyspace: &mut Keyspace,
        rng: &mut Rng,
        now_ms: i64,
        budget: Duration,
        mut elapsed: impl FnMut() -> Duration,
    ) -> SliceEnd {
        let dbs = keyspace.dbs.len();
        for _ in 0..dbs {
            let index = self.next_db % dbs;
            let db = &mut keyspace.dbs[index];
            loop {
                let (sampled, deleted) = db.expire_round(rng, EXPIRE_KEYS_PER_ROUND, now_ms);
                if elapsed() >= budget {
                    return SliceEnd::OutOfTime;
                }
                if sampled == 0 || deleted * 100 <= sampled * EXPIRE_STALE_PERCENT_MAX {
                    break;
                }
            }
            self.next_db = index + 1;
        }
        SliceEnd::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value;
    use std::cell::Cell;

    fn keyspace_with_ttls(n: u32, at_ms: i64) -> Keyspace {
        let mut ks = Keyspace::new(2);
        for i in 0..n {
            let key = i.to_string();
            let db = &mut ks.dbs[(i % 2) as usize];
            db.insert_new(key.as_bytes(), Value::Int(1));
            db.set_expire(key.as_bytes(), at_ms, 0);
        }
        ks
    }

    #[test]
    fn reclaims_all_stale_keys_across_slices() {
        let mut ks = keyspace_with_ttls(10_000, 50);
        let mut cycle = ExpireCycle::default();
        let mut rng = Rng::new(9);
        // A fake clock that advances 10 µs per round: a 1 ms budget allows ~100 rounds per slice.
        let ticks = Cell::new(0u64);
        let mut slices = 0;
        while cycle.run_slice(&mut ks, &mut rng, 100, Duration::from_millis(1), || {
            ticks.set(ticks.get() + 10);
            Duration::from_micros(ticks.get())
        }) == SliceEnd::OutOfTime
        {
            ticks.set(0);
            slices += 1;
            assert!(slices < 1000, "expiry must converge");
        }
        assert!(slices > 1, "10k stale keys need more than one 1 ms slice");
        // The last round stops at <=10% stale, so almost everything is gone.
        let left: usize = ks.dbs.iter().map(|d| d.len()).sum();
        assert!(left < 200, "left {left}");
    }

    #[test]
    fn leaves_live_keys_alone() {
        let mut ks = keyspace_with_ttls(1000, 1_000_000);
        let mut cycle = ExpireCycle::default();
        let mut rng = Rng::new(9);
        let end = cycle.run_slice(&mut ks, &mut rng, 100, Duration::from_millis(1), || Duration::ZERO);
        assert_eq!(end, SliceEnd::Done);
        assert_eq!(ks.dbs.iter().map(|d| d.len()).sum::<usize>(), 1000);
    }
}
