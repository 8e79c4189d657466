//! What the server knows about its snapshots (Redis's `server.rdb_*`, `lastsave`, `stat_fork_*` fields):
//! the running fork child, the last save's time and outcome, and the last load's counts. `persist` changes
//! them; INFO persistence, LASTSAVE and the MISCONF check read them.

use crate::child::Child;

#[derive(Debug)]
pub struct Persistence {
    /// The one fork child (BGSAVE's, or later BGREWRITEAOF's).
    pub child: Option<Child>,
    /// Unix seconds of the last successful save, or of the start (LASTSAVE, `rdb_last_save_time`).
    pub last_save_s: i64,
    /// Whether the last BGSAVE (or SAVE) succeeded (`rdb_last_bgsave_status`).
    pub last_bgsave_ok: bool,
    /// Unix ms of the last BGSAVE attempt, for the 5 s back-off after a failure (CONFIG_BGSAVE_RETRY_DELAY).
    pub last_bgsave_try_ms: i64,
    /// Seconds the last BGSAVE took, -1 before the first (`rdb_last_bgsave_time_sec`).
    pub last_bgsave_time_s: i64,
    /// `rdb_last_cow_size`.
    pub last_cow_bytes: u64,
    /// `State::dirty` when the running BGSAVE forked: what its success makes saved.
    pub dirty_at_fork: u64,
    /// BGSAVE SCHEDULE is waiting for another child to end.
    pub bgsave_scheduled: bool,
    /// `rdb_saves`, `total_forks`, `latest_fork_usec`.
    pub saves: u64,
    pub forks: u64,
    pub latest_fork_us: u64,
    /// GB of dataset forked per second at the last fork (Redis's stat_fork_rate, which LATENCY DOCTOR grades).
    pub fork_rate_gb_s: f64,
    /// `rdb_last_load_keys_loaded`, `rdb_last_load_keys_expired`.
    pub last_load_keys: u64,
    pub last_load_expired: u64,
}

impl Persistence {
    pub fn new(now_ms: i64) -> Persistence {
        Persistence {
            child: None,
            last_save_s: now_ms / 1000,
            last_bgsave_ok: true,
            last_bgsave_try_ms: 0,
            last_bgsave_time_s: -1,
            last_cow_bytes: 0,
            dirty_at_fork: 0,
            bgsave_scheduled: false,
            saves: 0,
            forks: 0,
            latest_fork_us: 0,
            fork_rate_gb_s: 0.0,
            last_load_keys: 0,
            last_load_expired: 0,
        }
    }

    /// Whether a BGSAVE child runs now.
    pub fn rdb_child_running(&self) -> bool {
        self.child.as_ref().is_some_and(|c| c.kind == crate::child::ChildKind::Rdb)
    }
}
