//! `State`: everything commands may read or change, with none of the event loop's sockets in it. The keyspace,
//! the sessions, config, statistics, the blocked clients' wait queues and the WATCH index live here; the event
//! loop (`server`) owns the poll and the connections and hands `&mut State` to `cmd::call`. The one kind of
//! socket here is MIGRATE's cache of blocking client connections to other instances
//! (`net::migrate_sockets`), which no poll ever sees: the command uses them synchronously, as Redis does.
//!
//! # Invariants
//! - A session leaves `sessions` only in the event loop's `before_sleep` (`free_closed`), so an id named by
//!   an event of the current batch still belongs to the client the event was for.
//! - A session is in a wait queue exactly while its `parked` is set, and listed in the watch index under a
//!   key exactly while the key is in its `watched`.

pub mod aof_status;
pub mod busy_script;
pub mod client_pause;
pub mod eviction_status;
pub mod latency_monitor;
pub mod output_limits;
pub mod persistence;
pub mod propagation;
pub mod replication;
pub mod session;
pub mod slowlog;
pub mod stats;
pub mod subscriptions;
pub mod tracking_table;
pub mod wait_queues;
pub mod watch_index;

use std::any::Any;
use std::time::Instant;

use crate::config::{Config, notify};
use crate::db::Keyspace;
use crate::util::rng::Rng;
use session::{ClientId, Session, Sessions};
use stats::Stats;
use subscriptions::{Outbox, PubSub};
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

/// The server's listening sockets as commands may change them (CONFIG SET port, bind, http-port): the event
/// loop implements it (`server::listeners`), so `state` and `cmd` hold no socket type.
pub trait Listening: std::fmt::Debug {
    /// Makes the TCP listeners match `config`'s port, bind addresses and http-port. On error nothing changed.
    fn rebind(&mut self, config: &Config) -> Result<(), RebindError>;
    /// The RESP port actually bound (it differs from the config when that asked for 0).
    fn port(&self) -> u16;
    /// For the event loop, which owns the implementation, to reach it again.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Why CONFIG SET could not apply a listener directive: the directive to blame and Redis's reason text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebindError {
    pub directive: &'static str,
    pub reason: &'static str,
}

/// `Listening` for a `State` with no event loop (the handler tests): there is nothing to rebind.
#[derive(Debug)]
pub struct NoListeners;

impl Listening for NoListeners {
    fn rebind(&mut self, _config: &Config) -> Result<(), RebindError> {
        Ok(())
    }

    fn port(&self) -> u16 {
        0
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Everything commands may read or change.
#[derive(Debug)]
pub struct State {
    pub keyspace: Keyspace,
    pub sessions: Sessions,
    pub config: Config,
    pub stats: Stats,
    pub rng: Rng,
    /// Changes since the last successful save (Redis's `dirty`, which drives the `save` points).
    pub dirty: u64,
    pub next_client_id: u64,
    pub shutdown: Option<Shutdown>,
    /// Whether the active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: bool,
    /// DEBUG PAUSE-CRON 1: the cron (and the expiry slices it starts) does nothing until 0.
    pub cron_paused: bool,
    /// 40 hex chars, new each start (INFO run_id).
    pub run_id: String,
    pub started_at: Instant,
    pub started_unix_ms: i64,
    /// The TCP port actually bound (differs from config when it asked for 0).
    pub port: u16,
    /// The listening sockets, for CONFIG SET to rebind.
    pub listening: Box<dyn Listening>,
    /// Sessions marked `close_asap`, freed in `before_sleep`.
    pub closing: Vec<ClientId>,
    /// Blocked clients' wait queues, deadlines and ready keys.
    pub blocking: Blocking,
    /// Which clients WATCH which keys.
    pub watches: Watches,
    /// Sessions whose block ended (served, timed out, CLIENT UNBLOCK): the event loop writes their replies and
    /// resumes their input.
    pub unblocked: Vec<ClientId>,
    /// The time commands run under: the wall clock read once per batch of requests (every expiry decision of
    /// a command uses it), and the end of the previous command, from which the next one is timed (one clock
    /// read per command, not two). Set by `begin_batch`.
    pub now_ms: i64,
    pub last_call_end: Instant,
    /// How deep `cmd::call` is nested (EXEC's commands, served waiters): keys made ready are served, and
    /// expired keys passed to WATCH, only when the outermost call ends.
    pub call_depth: u32,
    /// Set while EXEC runs its queued commands: blocking commands then answer at once, as Redis's do.
    pub in_exec: bool,
    /// Set while a Lua script runs (its commands also see `in_exec`): the few refusals Redis keeps for
    /// scripts only (CLIENT_SCRIPT) read it.
    pub in_script: bool,
    /// The script running past `busy-reply-threshold`, while other clients are answered from inside it.
    pub busy: Option<busy_script::Busy>,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS 1: scripts may call commands flagged `noscript`.
    pub script_disable_deny: bool,
    /// The output buffer of the script's client (`cmd::eval::ScriptClient`), lent to each run and given back
    /// empty, so that its capacity is kept and a script's `redis.call` replies without allocating.
    pub script_out: crate::resp::reply::Reply,
    /// The propagated command stream (what the AOF records).
    pub propagation: propagation::Propagation,
    /// The replicas and the replication id and offset.
    pub replication: replication::Replication,
    /// The AOF as INFO, -MISCONF and BGREWRITEAOF see it.
    pub aof: aof_status::AofStatus,
    /// Snapshots: the fork child, the last save's time and outcome (see `crate::persist`).
    pub persistence: persistence::Persistence,
    /// Channels, patterns and shard channels with their subscribers.
    pub pubsub: PubSub,
    /// Where push frames go while a command runs, and the sessions they woke for a write.
    pub outbox: Outbox,
    /// The channel name of the keyspace notification being sent, reused from one to the next.
    pub notify_channel: Vec<u8>,
    /// Keys read lookups missed while `keymiss` events are on, by database; sent by `cmd::notify`.
    pub key_misses: Vec<(usize, Box<[u8]>)>,
    /// SLOWLOG's entries.
    pub slowlog: slowlog::SlowLog,
    /// CLIENT PAUSE, and the sessions whose command waits for its end.
    pub pausing: client_pause::Pausing,
    /// Sessions that ran MONITOR.
    pub monitors: Vec<ClientId>,
    /// The latency monitor's events.
    pub latency: latency_monitor::LatencyMonitor,
    /// The Lua engine and the script cache (EVAL, SCRIPT).
    pub scripting: crate::scripting::Engine,
    /// Client-side caching: the keys tracking clients read, the BCAST prefixes.
    pub tracking: tracking_table::TrackingTable,
    /// maxmemory's eviction between passes (see `cmd::evict`).
    pub eviction: eviction_status::EvictionStatus,
    /// MIGRATE's cached connections to target instances, closed by the cron once idle.
    pub migrate_sockets: crate::net::migrate_sockets::MigrateSockets,
}

impl State {
    pub fn new(config: Config, command_count: usize, listening: Box<dyn Listening>) -> State {
        let mut rng = Rng::from_entropy();
        let run_id: String = (0..40).map(|_| char::from(b"0123456789abcdef"[rng.below(16)])).collect();
        let replid = (0..40).map(|_| char::from(b"0123456789abcdef"[rng.below(16)])).collect();
        let now = Instant::now();
        let mut state = State {
            keyspace: Keyspace::new(config.databases),
            sessions: Sessions::default(),
            config,
            stats: Stats { commands: vec![Default::default(); command_count], ..Stats::default() },
            rng,
            dirty: 0,
            next_client_id: 1,
            shutdown: None,
            active_expire_enabled: true,
            cron_paused: false,
            run_id,
            started_at: now,
            started_unix_ms: crate::clock::unix_ms(),
            port: listening.port(),
            listening,
            closing: Vec::new(),
            blocking: Blocking::default(),
            watches: Watches::default(),
            unblocked: Vec::new(),
            now_ms: crate::clock::unix_ms(),
            last_call_end: now,
            call_depth: 0,
            in_exec: false,
            in_script: false,
            busy: None,
            script_disable_deny: false,
            script_out: Default::default(),
            propagation: propagation::Propagation::default(),
            replication: replication::Replication::new(replid),
            aof: aof_status::AofStatus { last_rewrite_time_sec: -1, last_rewrite_ok: true, ..Default::default() },
            persistence: persistence::Persistence::new(crate::clock::unix_ms()),
            pubsub: PubSub::default(),
            outbox: Outbox::default(),
            notify_channel: Vec::new(),
            key_misses: Vec::new(),
            slowlog: slowlog::SlowLog::default(),
            pausing: client_pause::Pausing::default(),
            monitors: Vec::new(),
            latency: latency_monitor::LatencyMonitor::default(),
            scripting: Default::default(),
            tracking: Default::default(),
            eviction: Default::default(),
            migrate_sockets: Default::default(),
        };
        state.sync_key_logs();
        state.configure_keyspace();
        state
    }

    /// Turns the AOF's stream on or off (the AOF was enabled or disabled); off drops what was pending for it.
    pub fn set_propagating(&mut self, on: bool) {
        self.propagation.to_aof = on;
        if !on {
            self.propagation.stream.clear();
        }
        self.propagation_consumers_changed();
    }

    /// Collects the propagated stream exactly while the AOF or a replica reads it.
    pub fn propagation_consumers_changed(&mut self) {
        let on = self.propagation.to_aof || self.propagation.to_replicas;
        if on == self.propagation.enabled {
            return;
        }
        self.propagation.enabled = on;
        for db in &mut self.keyspace.dbs {
            db.propagate_expired = on;
            db.expired_to_propagate.clear();
        }
        if !on {
            self.propagation.discard_unit();
        }
    }

    /// Turns the databases' expired-key and new-key logs (see `Db::expired_log`) on where keyspace
    /// notifications or WATCHes need them, and off elsewhere; run at start and after CONFIG SET.
    pub fn sync_key_logs(&mut self) {
        let flags = self.config.notify_keyspace_events;
        for (index, db) in self.keyspace.dbs.iter_mut().enumerate() {
            if expired_events_on(flags) || self.watches.any_in(index) || self.tracking.clients > 0 {
                db.expired_log.get_or_insert_with(Vec::new);
            } else {
                db.expired_log = None;
            }
            if new_events_on(flags) {
                db.new_log.get_or_insert_with(Vec::new);
            } else {
                db.new_log = None;
            }
        }
    }

    /// Gives the databases and the eviction the policy the config says (`maxmemory-policy`, `lfu-*`, the
    /// `lazyfree-lazy-*` directives the keyspace applies itself); run at start, after CONFIG SET and a load.
    pub fn configure_keyspace(&mut self) {
        self.eviction.policy = self.eviction_policy();
        self.keyspace.configure(self.db_policy());
    }

    /// The `maxmemory-policy` in force.
    pub fn eviction_policy(&self) -> crate::db::eviction_pool::EvictionPolicy {
        crate::db::eviction_pool::EvictionPolicy::from_name(&self.config.maxmemory_policy)
    }

    /// What the databases need of the config (see `configure_keyspace`).
    pub fn db_policy(&self) -> crate::db::Policy {
        let (config, policy) = (&self.config, self.eviction_policy());
        crate::db::Policy {
            access: crate::db::access::AccessPolicy {
                lfu: policy.is_lfu(),
                lfu_log_factor: config.lfu_log_factor,
                lfu_decay_time_min: config.lfu_decay_time_min,
            },
            lazy_expire: config.lazyfree_lazy_expire,
            lazy_server_del: config.lazyfree_lazy_server_del,
            unshared_integers: config.maxmemory != 0 && policy.tracks_access(),
        }
    }

    /// Whether keyspace notifications need the databases' expired or new-key logs.
    pub fn key_events_logged(&self) -> bool {
        let flags = self.config.notify_keyspace_events;
        expired_events_on(flags) || new_events_on(flags)
    }

    /// Takes a new time snapshot for the requests about to run (see `now_ms`).
    pub fn begin_batch(&mut self) {
        self.now_ms = crate::clock::unix_ms();
        self.last_call_end = Instant::now();
    }

    /// Adds a session (with a new CLIENT ID), authenticated unless a password is configured.
    pub fn add_session(&mut self, link: Option<session::Link>) -> ClientId {
        let id = self.next_client_id;
        self.next_client_id += 1;
        let authenticated = self.config.requirepass.is_none();
        self.sessions.insert(Session::new(id, link, crate::clock::unix_ms(), authenticated))
    }

    /// Marks session `id` to be closed at the next `before_sleep`, without writing more.
    pub fn close_asap(&mut self, id: ClientId) {
        if let Some(session) = self.sessions.get_mut(id)
            && !session.close_asap
        {
            session.close_asap = true;
            self.closing.push(id);
            // A session on its way out must not be served a value (it would be lost), stay in a wait queue,
            // keep watching keys or receive messages.
            self.unpark(id);
            self.unwatch_all(id);
            self.pubsub.forget(&mut self.sessions, id);
            self.pausing.postponed.retain(|&held| held != id);
            self.monitors.retain(|&monitor| monitor != id);
            replication::detach(self, id);
            self.disable_tracking(id);
        }
    }

    /// Turns CLIENT TRACKING off for session `id`; with the last tracking client gone, expiry stops logging
    /// deleted keys for it.
    pub fn disable_tracking(&mut self, id: ClientId) {
        if self.sessions[id].tracking.is_some() {
            tracking_table::disable(&mut self.tracking, &mut self.sessions, id);
            if self.tracking.clients == 0 {
                self.sync_key_logs();
            }
        }
    }

    /// Takes session `id` out of every wait queue and the timeout index; false if it was not blocked.
    pub fn unpark(&mut self, id: ClientId) -> bool {
        let Some(session) = self.sessions.get_mut(id) else { return false };
        let Some(parked) = session.parked.take() else { return false };
        self.blocking.unpark(id, session.id, parked);
        true
    }

    /// Forgets every key session `id` watches (EXEC, DISCARD, UNWATCH, disconnect) and clears its dirty flag.
    pub fn unwatch_all(&mut self, id: ClientId) {
        let session = &mut self.sessions[id];
        session.dirty_cas = false;
        for wk in std::mem::take(&mut session.watched) {
            self.watches.remove(id, wk.db, &wk.key);
            if !self.watches.any_in(wk.db)
                && !expired_events_on(self.config.notify_keyspace_events)
                && self.tracking.clients == 0
            {
                self.keyspace.dbs[wk.db].expired_log = None;
            }
        }
    }
}

/// Whether `expired` events are published (the `x` class, with `K` or `E`).
fn expired_events_on(flags: u32) -> bool {
    flags & notify::EXPIRED != 0 && flags & (notify::KEYSPACE | notify::KEYEVENT) != 0
}

/// Whether `new` events are published (the `n` class, with `K` or `E`).
fn new_events_on(flags: u32) -> bool {
    flags & notify::NEW != 0 && flags & (notify::KEYSPACE | notify::KEYEVENT) != 0
}
