//! `Ctx`: everything a command handler may touch, borrowed for one call.
//!
//! The calling client's argv and reply buffer are moved out of its `Client` for the call (and moved back
//! after), so a handler can hold them while also reaching the rest of the server state, including other
//! clients (CLIENT LIST, CLIENT KILL). The reply is passed beside the `Ctx`, not inside it, so a value borrowed
//! through `ctx` can be written to it. `argv` is a shared slice: `let argv = ctx.argv;` keeps it usable while
//! `ctx` is borrowed mutably. Handlers never see a socket or a poll token.

use bytes::Bytes;

use super::Resolved;
use crate::db::{Db, Value};
use crate::net::client::Client;
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
        let now_ms = self.now_ms;
        let found = self.state.keyspace.dbs[self.db_index].get(key, now_ms);
        if found.is_some() {
            self.state.stats.keyspace_hits += 1;
        } else {
            self.state.stats.keyspace_misses += 1;
        }
        found
    }

    /// Records that `key` in the current database was modified. Every write goes through here, so later
    /// features that react to writes (WATCH, blocked clients, keyspace events) hook in one place.
    pub fn key_changed(&mut self, _key: &[u8]) {
        self.state.dirty += 1;
    }
}
