//! `Ctx`: everything a command handler may touch, borrowed for one call.
//!
//! The calling session's reply buffer is moved out of its `Session` for the call (and moved back after, by
//! `cmd::call`), so a handler can hold it while also reaching the rest of the state, including other
//! sessions (CLIENT LIST, CLIENT KILL). The reply is passed beside the `Ctx`, not inside it, so a value
//! borrowed through `ctx` can be written to it. `argv` is a shared slice, and `ctx.args()` a cursor over
//! it that keeps what it returns usable while `ctx` is borrowed mutably. Handlers never see a client's socket: `State`
//! holds none (only MIGRATE's outgoing connections, `net::migrate_sockets`).

use bytes::Bytes;

use super::Resolved;
use super::args::Args;
use super::{CmdError, errors};
use crate::config::notify;
use crate::db::value::Typed;
use crate::db::{Db, Entry, Value, ValueType};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::state::busy_script::EventPump;
use crate::state::session::{ClientId, Session};
use crate::state::wait_queues::BlockTarget;
use crate::util::rng::Rng;

#[derive(Debug)]
pub struct Ctx<'a> {
    pub state: &'a mut State,
    /// The calling session. Its `reply` is empty during the call: use the handler's `reply` argument.
    pub me: ClientId,
    pub argv: &'a [Bytes],
    /// The time snapshot every expiry decision of this command uses.
    pub now_ms: i64,
    /// The selected database of the calling client.
    pub db_index: usize,
    pub cmd: Resolved,
    /// Set by `block`: the command parked instead of replying.
    pub blocked: bool,
    /// When a parked command runs again because a key became ready: that key, the one to serve from.
    pub ready_key: Option<&'a [u8]>,
    /// The event loop, when the command came from a connection: a script that runs past
    /// `busy-reply-threshold` serves other clients through it (`state::busy_script`).
    pub pump: Option<&'a mut dyn EventPump>,
}

/// `ctx.pump` reborrowed for a call that runs commands (EXEC's queue) or a script: a field function, so the
/// rest of `ctx` stays usable beside it.
pub fn reborrow_pump<'x>(pump: &'x mut Option<&mut dyn EventPump>) -> Option<&'x mut dyn EventPump> {
    pump.as_deref_mut().map(|pump| -> &mut dyn EventPump { pump })
}

impl<'a> Ctx<'a> {
    /// A cursor over the arguments after the command's name. It borrows argv, not `self`, so what it returns
    /// stays usable while `ctx` is borrowed mutably.
    pub fn args(&self) -> Args<'a> {
        Args::new(self.argv, 1)
    }

    /// A cursor over the arguments after a subcommand's name (`CLIENT KILL <here>`).
    pub fn sub_args(&self) -> Args<'a> {
        Args::new(self.argv, 2)
    }
}

impl Ctx<'_> {
    /// The calling client's selected database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.state.keyspace.dbs[self.db_index]
    }

    /// The calling session.
    pub fn session(&mut self) -> &mut Session {
        &mut self.state.sessions[self.me]
    }

    /// Looks up `key` for reading, counting keyspace hits and misses as Redis does.
    pub fn read_key(&mut self, key: &[u8]) -> Option<&Value> {
        self.lookup_counted(key, true).map(|e| &e.value)
    }

    /// Looks up `key` for reading as a `T` (a list, hash or set): `None` if missing, WRONGTYPE if another type.
    pub fn read_typed<T: Typed>(&mut self, key: &[u8]) -> Result<Option<&T>, CmdError> {
        self.read_typed_and_rng(key).map(|(typed, _)| typed)
    }

    /// Looks up `key` for writing as a `T`: `None` if missing (nothing is created), WRONGTYPE if another type.
    pub fn write_typed<T: Typed>(&mut self, key: &[u8]) -> Result<Option<&mut T>, CmdError> {
        self.write_typed_and_rng(key).map(|(typed, _)| typed)
    }

    /// Looks up `key` for reading without marking it accessed (Redis's `LOOKUP_NOTOUCH`: TTL, TYPE, EXISTS,
    /// OBJECT), counting keyspace hits and misses as `read_key` does.
    pub fn peek_key(&mut self, key: &[u8]) -> Option<&Entry> {
        self.lookup_counted(key, false)
    }

    fn lookup_counted(&mut self, key: &[u8], touch: bool) -> Option<&Entry> {
        let now_ms = self.now_ms;
        let stats = &mut self.state.stats;
        let db = &mut self.state.keyspace.dbs[self.db_index];
        let found = if touch { db.get_entry(key, now_ms).map(|e| &*e) } else { db.peek(key, now_ms) };
        stats.count_lookup(found.is_some());
        if found.is_none() && self.state.config.notify_keyspace_events & notify::KEY_MISS != 0 {
            self.state.key_misses.push((self.db_index, key.into()));
        }
        found
    }

    /// `read_typed` together with the server's random generator, borrowed side by side (SRANDMEMBER,
    /// HRANDFIELD).
    pub fn read_typed_and_rng<T: Typed>(&mut self, key: &[u8]) -> Result<(Option<&T>, &mut Rng), CmdError> {
        let state = &mut *self.state;
        let value = state.keyspace.dbs[self.db_index].get(key, self.now_ms);
        state.stats.count_lookup(value.is_some());
        if value.is_none() && state.config.notify_keyspace_events & notify::KEY_MISS != 0 {
            state.key_misses.push((self.db_index, key.into()));
        }
        let typed = match value {
            None => None,
            Some(value) => Some(T::of(value).ok_or(CmdError::from(errors::WRONGTYPE))?),
        };
        Ok((typed, &mut state.rng))
    }

    /// `write_typed` together with the server's random generator (SPOP).
    pub fn write_typed_and_rng<T: Typed>(&mut self, key: &[u8]) -> Result<(Option<&mut T>, &mut Rng), CmdError> {
        let state = &mut *self.state;
        let typed = match state.keyspace.dbs[self.db_index].get_mut(key, self.now_ms) {
            None => None,
            Some(value) => Some(T::of_mut(value).ok_or(CmdError::from(errors::WRONGTYPE))?),
        };
        Ok((typed, &mut state.rng))
    }

    /// Records that `key` in the current database was modified. Every write goes through here, so what reacts to
    /// writes (WATCH, blocked clients, later keyspace events) hooks in one place and cannot drift apart.
    pub fn key_changed(&mut self, key: &[u8]) {
        self.key_changed_in(self.db_index, key);
    }

    /// `key_changed` for a key of database `db_index`, which MOVE and COPY ... DB write to.
    pub fn key_changed_in(&mut self, db_index: usize, key: &[u8]) {
        self.key_changed_in_by(db_index, key, 1);
    }

    /// `key_changed` counting `changes` into `State::dirty` (INFO's `rdb_changes_since_last_save`, which the
    /// save points read) instead of one: Redis counts per element in most families (SADD of three new members
    /// is 3, HSET of two pairs is 2, LTRIM counts the elements it removed), and a command writing two keys
    /// (RENAME, LMOVE) counts 1 in all, so its second key counts 0.
    pub fn key_changed_by(&mut self, key: &[u8], changes: usize) {
        self.key_changed_in_by(self.db_index, key, changes);
    }

    /// `key_changed_by` for a key of database `db_index`.
    pub fn key_changed_in_by(&mut self, db_index: usize, key: &[u8], changes: usize) {
        self.state.dirty += changes as u64;
        self.state.blocking.signal(db_index, key);
        super::tx::touch(self.state, db_index, key);
        super::tracking::key_changed(self.state, key, Some(self.me));
    }

    /// Sends the keyspace notification `event` (Redis 7.0's name for the change, e.g. `set`, `lpush`, `del`) of
    /// `class` (a `config::notify` bit) about `key` of the current database; call it beside `key_changed`.
    /// Keys expiry deleted or the command created are announced first (`expired`, `new`), as Redis does.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        self.notify_in(self.db_index, class, event, key);
    }

    /// `notify` for a key of database `db_index` (MOVE, COPY ... DB).
    pub fn notify_in(&mut self, db_index: usize, class: u32, event: &str, key: &[u8]) {
        super::notify::drain_key_logs(self.state);
        super::notify::keyspace_event(self.state, class, event, key, db_index);
    }

    /// Called just before database `db_index` is emptied (FLUSHDB, FLUSHALL): invalidates the WATCHes of its keys
    /// that exist, as Redis's touchAllWatchedKeysInDb does, and signals its waited-on keys. It does not count `dirty`: each of those commands
    /// counts it its own way.
    pub fn db_flushing(&mut self, db_index: usize) {
        super::tx::touch_db(self.state, db_index, db_index, None, self.now_ms);
        // Waiters see their keys gone: XREADGROUP readers are answered (Redis's signalFlushedDb).
        self.state.blocking.signal_db(db_index);
    }

    /// Called after SWAPDB exchanged databases `a` and `b`: invalidates WATCHes of keys present on either side
    /// and wakes clients blocked on keys that the swap made ready.
    pub fn dbs_swapped(&mut self, a: usize, b: usize) {
        super::tx::touch_db(self.state, a, b, Some(a), self.now_ms);
        super::tx::touch_db(self.state, b, a, Some(b), self.now_ms);
        self.state.blocking.signal_db(a);
        self.state.blocking.signal_db(b);
    }

    /// Called by a blocking command (BLPOP, BLMOVE, ...) that found nothing to serve: parks the caller on `keys`
    /// until one of them holds a value of type `kind`, when the command runs again from the start, or until
    /// `deadline_ms` (unix ms; `None` waits forever), when it gets the null array Redis sends on timeout. The
    /// command writes no reply of its own before calling this. Inside EXEC it times out at once, as in Redis.
    pub fn block(&mut self, keys: &[Bytes], kind: ValueType, deadline_ms: Option<i64>, reply: &mut Reply) {
        if self.state.in_exec {
            reply.null_array();
            return;
        }
        self.blocked = true;
        let target = BlockTarget { db: self.db_index, keys, kind, deadline_ms };
        super::blocking::park(self.state, self.me, target, self.argv);
    }

    /// `block` parking `argv` instead of this command's own (XREAD parks with `$` resolved to an ID).
    pub fn block_as(
        &mut self,
        keys: &[Bytes],
        kind: ValueType,
        deadline_ms: Option<i64>,
        argv: Vec<Bytes>,
        reply: &mut Reply,
    ) {
        if self.state.in_exec {
            reply.null_array();
            return;
        }
        self.blocked = true;
        let target = BlockTarget { db: self.db_index, keys, kind, deadline_ms };
        super::blocking::park(self.state, self.me, target, &argv);
    }

    /// Whether writes are propagated (the AOF is on): a command builds its replacement argv only then.
    pub fn propagating(&self) -> bool {
        self.state.propagation.enabled
    }

    /// Propagates `make()` instead of this command's argv, if the command changes the dataset (Redis's
    /// rewriteClientCommandVector): SET EX as SET PXAT, INCRBYFLOAT as SET KEEPTTL, ... See
    /// `state::propagation`.
    pub fn propagate_as<I: IntoIterator<Item = Bytes>>(&mut self, make: impl FnOnce() -> I) {
        if self.propagating() {
            self.state.propagation.replace(make());
        }
    }

    /// Propagates `make()` in this command's execution unit, after what was propagated before it (Redis's
    /// alsoPropagate); with `prevent_propagation`, a command propagates as several others (SPOP as SREMs).
    pub fn also_propagate<I: IntoIterator<Item = Bytes>>(&mut self, make: impl FnOnce() -> I) {
        if self.propagating() {
            crate::state::propagation::push_expired(self.state);
            self.state.propagation.push(self.db_index, make());
        }
    }

    /// This command's argv is not propagated even though it changed the dataset.
    pub fn prevent_propagation(&mut self) {
        self.state.propagation.prevent();
    }

    /// Ends the execution unit so far: what was propagated is encoded now (SPOP with a count does this every
    /// 1024 members, as Redis does, so one unit never holds a huge MULTI).
    pub fn propagate_pending(&mut self) {
        crate::state::propagation::push_expired(self.state);
        self.state.propagation.end_unit();
    }

    /// The keys a blocking command tries, in order: all of `keys`, or, when its parked command runs again
    /// for a key that became ready, that key alone (Redis serves a waiter from the ready key, so with `BLPOP
    /// q d` waiting, `RPUSH d x` then `RPUSH q y` in one transaction hands it `d x`).
    pub fn keys_to_serve<'k>(&self, keys: &'k [Bytes]) -> &'k [Bytes] {
        match self.ready_key.and_then(|ready| keys.iter().position(|key| **key == *ready)) {
            Some(index) => std::slice::from_ref(&keys[index]),
            None => keys,
        }
    }
}
