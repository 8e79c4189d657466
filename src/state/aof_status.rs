//! What commands see of the AOF (`aof::Aof`, owned by the event loop): the INFO persistence `aof_*` facts,
//! the write error that makes writes answer -MISCONF, the rewrite BGREWRITEAOF asked for, and the loader
//! DEBUG LOADAOF runs (a function the event loop installs, because `state` and `cmd` do no file I/O).

use super::State;

/// Replays the AOF into a freshly emptied dataset (DEBUG LOADAOF): `Err` carries the log line.
pub type Reload = fn(&mut State) -> Result<(), String>;

#[derive(Debug, Default)]
pub struct AofStatus {
    /// The AOF is on: files open, the stream propagated.
    pub enabled: bool,
    /// The last write or fsync failed with this strerror text: writes answer -MISCONF until one succeeds.
    pub write_error: Option<String>,
    /// BGREWRITEAOF asked for a rewrite, done in the next `before_sleep`.
    pub rewrite_scheduled: bool,
    /// CONFIG SET appendonly yes turned the AOF on and its first rewrite has not succeeded yet: until it does,
    /// no file holds the dataset's log (a shutdown meanwhile is refused without FORCE, as Redis's is).
    pub initial_rewrite: bool,
    pub rewrites: u64,
    /// Seconds the last rewrite took, -1 before the first.
    pub last_rewrite_time_sec: i64,
    pub last_rewrite_ok: bool,
    /// Sizes for INFO and auto rewrite: the base, and base plus incr files.
    pub base_size: u64,
    pub current_size: u64,
    /// An everysec fsync is running on the helper thread.
    pub fsync_in_progress: bool,
    /// Fsyncs postponed because one was still running (INFO `aof_delayed_fsync`).
    pub delayed_fsyncs: u64,
    pub reload: Option<Reload>,
    /// The last rewrite child's copy-on-write bytes (`aof_last_cow_size`).
    pub last_cow_bytes: u64,
}

impl AofStatus {
    /// Redis's -MISCONF text for a failed AOF write, if writes are refused.
    pub fn misconf(&self) -> Option<String> {
        self.write_error.as_ref().map(|e| format!("MISCONF Errors writing to the AOF file: {e}"))
    }
}
