//! Serving blocked clients (Redis's `blocked.c`): parking, waking by re-running, timeouts, CLIENT UNBLOCK.
//!
//! A blocking command that finds nothing calls `Ctx::block`, which parks the session here with a copy of its
//! argv; the connection's later input waits. `key_changed` signals keys with waiters; when the outermost
//! `cmd::call` ends it runs `serve_ready`, which re-runs each waiter's command through `call` for the key that
//! became ready, keys in the order they became ready and each key's waiters in queue order, while the key
//! holds a value of the wanted type. A re-run that replies has been served and leaves every queue; one that
//! blocks again keeps its place. Because a served command is an ordinary command, its own writes signal
//! further keys, so chains (BLMOVE into a list another client waits on) are served in the same pass.

use bytes::Bytes;

use super::call::{Outcome, answer_parked, call_serving};
use crate::state::State;
use crate::state::session::ClientId;
use crate::state::wait_queues::{BlockTarget, DbKey};

/// Parks session `me` as `target` says, to run `argv` again (see `Ctx::block`). A session already parked (a
/// re-run that found nothing after all) keeps its place and its deadline.
pub fn park(state: &mut State, me: ClientId, target: BlockTarget<'_>, argv: &[Bytes]) {
    if state.sessions[me].parked.is_some() {
        return;
    }
    let id = state.sessions[me].id;
    let parked = state.blocking.park(me, id, target, argv.to_vec());
    state.sessions[me].parked = Some(parked);
}

/// Serves the keys made ready since the last call, and those their serving makes ready, in Redis's order:
/// keys in the order they were signalled, each key's waiters first come first served.
pub fn serve_ready(state: &mut State) {
    while state.blocking.has_ready() {
        for ready in state.blocking.take_ready() {
            serve_key(state, &ready);
        }
    }
}

/// Serves `ready`'s waiters from the front while the key can serve them. Each step costs O(1) in the number of
/// waiters: a client that is served leaves the queue, one that blocks again keeps its place and is stepped over.
///
/// The time snapshot is taken afresh for each key, as handleClientsBlockedOnKeys's updateCachedTime: a key
/// whose TTL passed while the command that made it ready ran (MULTI with PEXPIRE and DEBUG SLEEP) is expired
/// now, propagated as DEL and serves nobody.
fn serve_key(state: &mut State, ready: &DbKey) {
    state.now_ms = state.now_ms.max(crate::clock::unix_ms());
    let mut cursor = state.blocking.first_waiter(ready);
    while let Some((node, client)) = cursor {
        let kind = state.sessions[client].parked.as_ref().expect("a queued client is parked").kind;
        let (db, key) = ready;
        let serves = state.keyspace.dbs[*db].peek(key, state.now_ms).is_some_and(|e| e.value.value_type() == kind);
        if !serves {
            // A deletion by expiry here is nobody's command's: announce and propagate it now.
            super::notify::drain_key_logs(state);
            crate::state::propagation::propagate_expired_apart(state);
            // Empty or of another type: nobody behind can be served either; they keep waiting, except
            // XREADGROUP readers, whose stream (and group) is gone.
            fail_group_readers(state, ready);
            return;
        }
        // Read before the re-run, which may unlink `node` (served) but no other node of this queue.
        let next = state.blocking.next_waiter(node);
        rerun(state, client, key);
        cursor = next;
    }
}

/// Ends the wait of every XREADGROUP parked on `ready` with Redis 7.0's error: the key was deleted or now
/// holds another type, so the group it reads from no longer exists.
fn fail_group_readers(state: &mut State, ready: &DbKey) {
    let mut readers = Vec::new();
    let mut cursor = state.blocking.first_waiter(ready);
    while let Some((node, client)) = cursor {
        let parked = state.sessions[client].parked.as_ref().expect("a queued client is parked");
        if parked.argv.first().is_some_and(|name| name.eq_ignore_ascii_case(b"xreadgroup")) {
            readers.push(client);
        }
        cursor = state.blocking.next_waiter(node);
    }
    for client in readers {
        finish(state, client, Some("UNBLOCKED the stream key no longer exists"));
    }
}

/// Runs parked session `me`'s command again for `ready_key`; if it replied, it is served and leaves the queues.
fn rerun(state: &mut State, me: ClientId, ready_key: &[u8]) {
    let argv = state.sessions[me].parked.as_ref().map(|parked| parked.argv.clone()).unwrap_or_default();
    if call_serving(state, me, &argv, Some(ready_key), None) != Outcome::Blocked {
        state.unpark(me);
        state.unblocked.push(me);
    }
}

/// Answers every client whose deadline has passed with Redis's timeout reply, a null array.
pub fn expire_deadlines(state: &mut State) {
    let now_ms = state.now_ms;
    if state.blocking.next_deadline().is_none_or(|at| at >= now_ms) {
        return;
    }
    for client in state.blocking.expired(now_ms) {
        finish(state, client, None);
    }
}

/// CLIENT UNBLOCK: ends session `me`'s block as a timeout (`error` None) or with `error`; false if not blocked.
pub fn unblock(state: &mut State, me: ClientId, error: Option<&str>) -> bool {
    if state.sessions.get(me).is_none_or(|s| s.parked.is_none()) {
        return false;
    }
    finish(state, me, error);
    true
}

fn finish(state: &mut State, me: ClientId, error: Option<&str>) {
    // WAIT's timeout reply is the count of replicas that acknowledged, every other block's a null array.
    let waited = state.sessions[me].parked.as_ref().is_some_and(|p| p.argv[0].eq_ignore_ascii_case(b"wait"));
    let acked = waited.then(|| super::replica_sync::wait_ended(state, me));
    answer_parked(state, me, |reply| match (error, acked) {
        (Some(text), _) => reply.error(text),
        (None, Some(acked)) => reply.int(acked),
        (None, None) => reply.null_array(),
    });
    state.unpark(me);
    state.unblocked.push(me);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;

    fn entries(t: &TestServer) -> usize {
        t.state.blocking.entries()
    }

    /// Runs a blocking command that must park.
    fn block(t: &mut TestServer, client: ClientId, request: &str) {
        assert_eq!(t.run(client, request), "", "{request} should block");
    }

    #[test]
    fn every_way_out_of_a_block_empties_the_queues_and_deadlines() {
        let mut t = TestServer::new();
        let (a, b, pusher) = (t.connect(), t.connect(), t.connect());
        // Served: one waiter on two keys with a deadline, one forever.
        block(&mut t, a, "BLPOP k1 k2 100");
        block(&mut t, b, "BLPOP k2 0");
        assert_eq!(t.state.blocking.blocked_clients(), 2);
        assert_eq!(t.run(pusher, "RPUSH k2 x y"), ":2\r\n");
        assert_eq!(entries(&t), 0);
        assert!(t.state.sessions[a].reply.buf.ends_with(b"$1\r\nx\r\n"));
        assert!(t.state.sessions[b].reply.buf.ends_with(b"$1\r\ny\r\n"));
        // Timed out.
        block(&mut t, a, "BLPOP k1 0.001");
        t.state.now_ms = crate::clock::unix_ms() + 10;
        expire_deadlines(&mut t.state);
        assert_eq!(entries(&t), 0);
        // Unblocked, then closed while blocked.
        block(&mut t, a, "BLPOP k1 0");
        assert!(unblock(&mut t.state, a, Some("UNBLOCKED test")));
        block(&mut t, b, "BLMOVE k1 k3 LEFT LEFT 5");
        t.state.close_asap(b);
        assert_eq!(entries(&t), 0);
        assert_eq!(t.state.blocking.blocked_clients(), 0);
        assert!(t.state.unblocked.contains(&a));
    }
}
