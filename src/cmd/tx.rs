//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH (Redis's `multi.c`), and the WATCH side of `key_changed`.
//!
//! Between MULTI and EXEC `cmd::call` queues each command instead of running it (`queue_if_in_multi`);
//! one rejected while queuing (unknown, wrong arity) aborts the transaction. EXEC runs the queue through
//! `cmd::call::execute`, so each queued command is checked, run and counted like any other, and replies with an array
//! of their replies. WATCH is optimistic locking: every modification of a watched key, by anyone (including
//! expiry, FLUSHDB and SWAPDB), marks the watchers `dirty_cas` and their next EXEC answers a null array.

use bytes::Bytes;

use super::{CmdError, CmdResult, Ctx, Handlers, Resolved, errors};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::state::session::{ClientId, Multi, WatchedKey};

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] =
    &[&[("multi", multi), ("exec", exec), ("discard", discard), ("watch", watch), ("unwatch", unwatch)]];

/// Commands that run at once inside MULTI rather than being queued (Redis's processCommand list).
const NOT_QUEUED: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// In MULTI, queues `argv` and replies QUEUED; returns false (doing nothing) outside MULTI or for the commands
/// that run at once.
pub fn queue_if_in_multi(state: &mut State, me: ClientId, cmd: Resolved, argv: &[Bytes], reply: &mut Reply) -> bool {
    if state.sessions[me].multi.is_none() || NOT_QUEUED.contains(&crate::cmd::table().names[cmd.id].as_str()) {
        return false;
    }
    if let Some(multi) = &mut state.sessions[me].multi {
        multi.commands.push(argv.to_vec());
    }
    reply.simple("QUEUED");
    true
}

/// A command was rejected before running (unknown, arity, auth) with `err`: inside MULTI that dooms the
/// transaction. A rejected EXEC, in MULTI or not, discards any transaction and names the reason, as Redis's
/// rejectCommand and execCommandAbort do. Returns the error to send.
pub fn reject_in_multi(state: &mut State, me: ClientId, argv: &[Bytes], err: CmdError) -> CmdError {
    if !argv[0].eq_ignore_ascii_case(b"exec") {
        if let Some(multi) = &mut state.sessions[me].multi {
            multi.aborted = true;
        }
        return err;
    }
    state.sessions[me].multi = None;
    state.unwatch_all(me);
    let reason = err.0.strip_prefix(b"ERR ").unwrap_or(&err.0);
    let mut text = b"EXECABORT Transaction discarded because of: ".to_vec();
    text.extend_from_slice(reason);
    CmdError(text.into())
}

fn multi(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let client = ctx.session();
    if client.multi.is_some() {
        return Err("ERR MULTI calls can not be nested".into());
    }
    client.multi = Some(Box::default());
    reply.ok();
    Ok(())
}

fn discard(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if ctx.session().multi.take().is_none() {
        return Err("ERR DISCARD without MULTI".into());
    }
    ctx.state.unwatch_all(ctx.me);
    reply.ok();
    Ok(())
}

fn exec(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let Some(multi) = ctx.session().multi.take() else {
        return Err("ERR EXEC without MULTI".into());
    };
    let Multi { commands, aborted } = *multi;
    let watch_failed = ctx.session().dirty_cas || watched_key_expired(ctx);
    ctx.state.unwatch_all(ctx.me);
    if aborted {
        return Err(errors::EXECABORT.into());
    }
    if watch_failed {
        reply.null_array();
        return Ok(());
    }
    reply.array(commands.len());
    ctx.state.in_exec = true;
    for argv in &commands {
        super::call::execute(ctx.state, ctx.me, argv, reply, None, super::ctx::reborrow_pump(&mut ctx.pump));
    }
    ctx.state.in_exec = false;
    Ok(())
}

/// Redis's isWatchedKeyExpired: a watched key that was live at WATCH and whose TTL has passed since counts as
/// changed, even if nothing has deleted it yet.
fn watched_key_expired(ctx: &mut Ctx<'_>) -> bool {
    let client = &ctx.state.sessions[ctx.me];
    client.watched.iter().any(|wk| !wk.expired && ctx.state.keyspace.dbs[wk.db].holds_stale(&wk.key, ctx.now_ms))
}

fn watch(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if ctx.session().multi.is_some() {
        return Err("ERR WATCH inside MULTI is not allowed".into());
    }
    let (me, db, now_ms) = (ctx.me, ctx.db_index, ctx.now_ms);
    for key in ctx.args().rest() {
        if !ctx.state.watches.add(me, db, key) {
            continue;
        }
        let store = &mut ctx.state.keyspace.dbs[db];
        let expired = store.holds_stale(key, now_ms);
        store.expired_log.get_or_insert_with(Vec::new);
        ctx.state.sessions[me].watched.push(WatchedKey { db, key: key.clone(), expired });
    }
    reply.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ctx.state.unwatch_all(ctx.me);
    ctx.session().dirty_cas = false;
    reply.ok();
    Ok(())
}

/// The WATCH side of `key_changed`: marks every client watching `key` of `db` dirty (Redis's touchWatchedKey).
/// A key that was already expired when watched and is now gone was only cleaned up: no change.
pub fn touch(state: &mut State, db: usize, key: &[u8]) {
    if state.watches.is_empty() {
        return;
    }
    let present = state.keyspace.dbs[db].holds(key);
    for &client in state.watches.watchers(db, key) {
        let client = &mut state.sessions[client];
        let watched = client.watched.iter_mut().find(|wk| wk.db == db && *wk.key == *key);
        match watched {
            Some(wk) if wk.expired && !present => wk.expired = false,
            _ => client.dirty_cas = true,
        }
    }
}

/// A database-wide change to watched database `watched_db` (Redis's touchAllWatchedKeysInDb): its former keys
/// are now in database `old` and it holds the keys of `new`, or nothing when emptied. FLUSHDB passes
/// (`db`, `db`, None) before emptying; SWAPDB passes (`a`, `b`, Some(`a`)) after exchanging, and the reverse.
///
/// A watched key present on neither side is untouched. Stale keys (TTL passed, not yet deleted) follow Redis:
/// a key that was stale at WATCH and is now gone, or replaced by another stale key, is no change; a missing key
/// replaced by a stale one is no change either, but from then on counts as watched-while-stale.
pub fn touch_db(state: &mut State, watched_db: usize, old: usize, new: Option<usize>, now_ms: i64) {
    if !state.watches.any_in(watched_db) {
        return;
    }
    let dbs = &state.keyspace.dbs;
    let touched: Vec<(Bytes, Vec<ClientId>)> = state
        .watches
        .in_db(watched_db)
        .filter(|(key, _)| dbs[old].holds(key) || new.is_some_and(|new| dbs[new].holds(key)))
        .map(|(key, watchers)| (key.clone(), watchers.to_vec()))
        .collect();
    for (key, watchers) in touched {
        let existed = dbs[old].holds(&key);
        let replaced = new.filter(|&new| dbs[new].holds(&key));
        let replaced_stale = replaced.is_some_and(|new| dbs[new].holds_stale(&key, now_ms));
        for client in watchers {
            let client = &mut state.sessions[client];
            let Some(wk) = client.watched.iter_mut().find(|wk| wk.db == watched_db && wk.key == key) else {
                continue;
            };
            match (wk.expired, replaced.is_some(), replaced_stale) {
                // Stale at WATCH and now gone: expiry would have deleted it anyway.
                (true, false, _) => wk.expired = false,
                // Stale at WATCH and replaced with another stale key: still logically absent.
                (true, true, true) => {}
                (false, _, true) if !existed => wk.expired = true,
                _ => client.dirty_cas = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn closing_watchers_releases_every_watch() {
        let mut t = TestServer::new();
        let (a, b) = (t.connect(), t.connect());
        assert_eq!(t.run(a, "WATCH k1 k2 k1"), "+OK\r\n");
        assert_eq!(t.run(b, "WATCH k2"), "+OK\r\n");
        let state = &mut t.state;
        assert_eq!(state.watches.len(), 2);
        assert!(state.keyspace.dbs[0].expired_log.is_some());
        state.close_asap(a);
        assert_eq!(state.watches.len(), 1);
        assert_eq!(t.run(b, "UNWATCH"), "+OK\r\n");
        let state = &t.state;
        assert!(state.watches.is_empty());
        assert!(state.keyspace.dbs[0].expired_log.is_none(), "no expiry log once nobody watches");
    }

    /// Runs `setup` (which may leave stale keys), sleeps past their TTLs, WATCHes `x` in db `watch_db`, runs
    /// `change`, and gives the EXEC reply of a transaction holding one PING.
    fn exec_after(setup: &[&str], watch_db: usize, change: &str) -> String {
        let mut t = TestServer::new();
        let me = t.connect();
        let expire_at = crate::clock::unix_ms() + 30;
        for command in setup {
            t.run(me, &command.replace("{at}", &expire_at.to_string()));
        }
        std::thread::sleep(std::time::Duration::from_millis(60));
        t.run(me, &format!("SELECT {watch_db}"));
        assert_eq!(t.run(me, "WATCH x"), "+OK\r\n");
        t.run(me, change);
        t.run(me, "MULTI");
        t.run(me, "PING");
        t.run(me, "EXEC")
    }

    #[test]
    fn database_wide_changes_leave_stale_watched_keys_alone() {
        let pong = "*1\r\n+PONG\r\n";
        // Replies checked against Redis 7.0 (multi.tcl's stale-key tests and their live-key counterparts).
        assert_eq!(exec_after(&["SET x foo PXAT {at}"], 0, "FLUSHDB"), pong);
        assert_eq!(exec_after(&["SELECT 1", "SET x foo PXAT {at}"], 1, "SWAPDB 0 1"), pong);
        assert_eq!(exec_after(&["SET x foo PXAT {at}"], 1, "SWAPDB 0 1"), pong);
        let both_stale = ["SELECT 1", "SET x foo PXAT {at}", "SELECT 0", "SET x bar PXAT {at}"];
        assert_eq!(exec_after(&both_stale, 1, "SWAPDB 0 1"), pong);
        assert_eq!(exec_after(&["SET x foo"], 0, "FLUSHDB"), "*-1\r\n");
        assert_eq!(exec_after(&["SET x foo"], 1, "SWAPDB 0 1"), "*-1\r\n");
        assert_eq!(
            exec_after(&["SELECT 1", "SET x foo PXAT {at}", "SELECT 0", "SET x bar"], 1, "SWAPDB 0 1"),
            "*-1\r\n"
        );
    }

    #[test]
    fn a_key_already_expired_at_watch_is_no_change_when_expiry_deletes_it() {
        let mut t = TestServer::new();
        let me = t.connect();
        let now = crate::clock::unix_ms();
        assert_eq!(t.run(me, &format!("SET k v PXAT {}", now + 30)), "+OK\r\n");
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert_eq!(t.run(me, "WATCH k"), "+OK\r\n");
        assert_eq!(t.run(me, "GET k"), "$-1\r\n");
        assert_eq!(t.run(me, "MULTI"), "+OK\r\n");
        assert_eq!(t.run(me, "EXEC"), "*0\r\n");
    }
}
