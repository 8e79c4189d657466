//! What commands may touch: the keyspace, the sessions, config, statistics, the wait queues and the watch index.

pub mod stats;
pub mod wait_queues;
pub mod watch_index;

use slab::Slab;
use std::time::Instant;

use crate::cmd::Table;
use crate::config::Config;
use crate::db::Keyspace;
use crate::net::client::Client;
use crate::util::rng::Rng;
use stats::Stats;
use wait_queues::Blocking;
use watch_index::Watches;

/// How SHUTDOWN (or a signal) asked the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// SIGTERM / SIGINT: save if configured (when persistence exists), then exit 0.
    Requested,
    /// The SHUTDOWN command. `save`: `Some(false)` for NOSAVE, `Some(true)` for SAVE (even without save
    /// points), `None` to follow the save points. `force`: exit even if that save fails.
    Command { save: Option<bool>, force: bool },
}

/// Everything commands may read or change.
#[derive(Debug)]
pub struct State {
    pub keyspace: Keyspace,
    pub clients: Slab<Client>,
    pub config: Config,
    pub stats: Stats,
    pub table: Table,
    pub rng: Rng,
    /// Changes since start (Redis's `dirty`; will drive `save` points).
    pub dirty: u64,
    pub next_client_id: u64,
    pub shutdown: Option<Shutdown>,
    /// Whether the active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: bool,
    /// 40 hex chars, new each start (INFO run_id).
    pub run_id: String,
    pub started_at: Instant,
    pub started_unix_ms: i64,
    /// The TCP port actually bound (differs from config when it asked for 0).
    pub port: u16,
    /// Clients marked `close_asap`, freed in `before_sleep`.
    pub closing: Vec<usize>,
    /// Blocked clients' wait queues, deadlines and ready keys.
    pub blocking: Blocking,
    /// Which clients WATCH which keys.
    pub watches: Watches,
    /// Clients that stopped being blocked (served, timed out, CLIENT UNBLOCK): the event loop queues their
    /// replies and resumes their input.
    pub unblocked: Vec<usize>,
    /// Set while EXEC runs its queued commands: blocking commands then answer at once, as Redis's do.
    pub in_exec: bool,
}

impl State {
    /// Marks client `key` to be closed at the next `before_sleep`, without writing more.
    pub fn close_asap(&mut self, key: usize) {
        if let Some(client) = self.clients.get_mut(key)
            && !client.close_asap
        {
            client.close_asap = true;
            self.closing.push(key);
            // A client on its way out must not be served a value (it would be lost), stay in a wait queue, or
            // keep watching keys.
            crate::cmd::blocking::unpark(self, key);
            crate::cmd::tx::unwatch_all(self, key);
        }
    }
}
