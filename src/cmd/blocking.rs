//! Serving blocked clients (Redis's `blocked.c`): parking, waking by re-running, timeouts, CLIENT UNBLOCK.
//!
//! A blocking command that finds nothing calls `Ctx::block`, which parks the client here; its argv stays in
//! the client and its later input waits. `key_changed` signals keys with waiters; after every command the
//! dispatcher's caller runs `serve_ready`, which re-runs each waiter's command from the start, in queue order,
//! through the ordinary dispatcher, while the key still holds a value of the wanted type. A re-run that
//! replies has been served and leaves every queue; one that calls `block` again keeps its place. Because a
//! served command is an ordinary command, its own writes signal further keys, so chains (BLMOVE into a list
//! another client waits on) are served in the same pass.

use bytes::Bytes;
use std::time::Instant;

use crate::db::ValueType;
use crate::state::State;
use crate::state::wait_queues::DbKey;

/// Parks client `me` on `keys` of `db` (see `Ctx::block`). A client already parked (a re-run that found
/// nothing after all) keeps its place and its deadline.
pub fn park(state: &mut State, me: usize, db: usize, keys: &[Bytes], kind: ValueType, deadline_ms: Option<i64>) {
    if state.clients[me].parked.is_some() {
        return;
    }
    let id = state.clients[me].id;
    let parked = state.blocking.park(me, id, db, keys, kind, deadline_ms);
    state.clients[me].parked = Some(parked);
}

/// Takes client `me` out of every wait queue and the timeout index; false if it was not blocked.
pub fn unpark(state: &mut State, me: usize) -> bool {
    let Some(client) = state.clients.get_mut(me) else { return false };
    let Some(parked) = client.parked.take() else { return false };
    client.argv.clear();
    let id = client.id;
    state.blocking.unpark(me, id, parked);
    true
}

/// Serves the keys made ready since the last call, and those their serving makes ready, in Redis's order:
/// keys in the order they were signalled, each key's waiters first come first served.
pub fn serve_ready(state: &mut State, now_ms: i64) {
    while state.blocking.has_ready() {
        for ready in state.blocking.take_ready() {
            serve_key(state, &ready, now_ms);
        }
    }
}

/// Serves `ready`'s waiters from the front while the key can serve them. Each step costs O(1) in the number of
/// waiters: a client that is served leaves the queue, one that blocks again keeps its place and is stepped over.
fn serve_key(state: &mut State, ready: &DbKey, now_ms: i64) {
    let mut cursor = state.blocking.first_waiter(ready);
    while let Some((node, client)) = cursor {
        let kind = state.clients[client].parked.as_ref().expect("a queued client is parked").kind;
        let (db, key) = ready;
        let serves = state.keyspace.dbs[*db].peek(key, now_ms).is_some_and(|e| e.value.value_type() == kind);
        if !serves {
            // Empty or of another type: nobody behind can be served either; they keep waiting.
            return;
        }
        // Read before the re-run, which may unlink `node` (served) but no other node of this queue.
        let next = state.blocking.next_waiter(node);
        rerun(state, client, now_ms);
        cursor = next;
    }
}

/// Runs parked client `me`'s command again; if it replied, the client is served and leaves the queues.
fn rerun(state: &mut State, me: usize, now_ms: i64) {
    let client = &mut state.clients[me];
    let argv = std::mem::take(&mut client.argv);
    let mut reply = std::mem::take(&mut client.reply);
    let before = reply.len();
    super::dispatch::process_command(state, me, &argv, &mut reply, now_ms, Instant::now());
    let client = &mut state.clients[me];
    client.reply = reply;
    client.argv = argv;
    if client.reply.len() > before {
        unpark(state, me);
        state.unblocked.push(me);
    }
}

/// Answers every client whose deadline has passed with Redis's timeout reply, a null array.
pub fn expire_deadlines(state: &mut State, now_ms: i64) {
    if state.blocking.next_deadline().is_none_or(|at| at >= now_ms) {
        return;
    }
    for client in state.blocking.expired(now_ms) {
        finish(state, client, None);
    }
}

/// CLIENT UNBLOCK: ends client `me`'s block as a timeout (`error` None) or with `error`; false if not blocked.
pub fn unblock(state: &mut State, me: usize, error: Option<&str>) -> bool {
    if state.clients.get(me).is_none_or(|c| c.parked.is_none()) {
        return false;
    }
    finish(state, me, error);
    true
}

fn finish(state: &mut State, me: usize, error: Option<&str>) {
    let client = &mut state.clients[me];
    let mut reply = std::mem::take(&mut client.reply);
    match error {
        Some(text) => reply.error(text),
        None => reply.null_array(),
    }
    // The command is counted when its block ends, as Redis counts a blocked command once it replies.
    let cmd_id = client.last_command;
    if let Some(id) = cmd_id {
        state.stats.commands[id].calls += 1;
    }
    super::dispatch::record_errors(state, &mut reply, cmd_id);
    state.clients[me].reply = reply;
    unpark(state, me);
    state.unblocked.push(me);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;

    fn entries(t: &TestServer) -> usize {
        t.server.state.blocking.entries()
    }

    /// Runs a blocking command that must park, keeping its argv in the client as `Server::execute` does.
    fn block(t: &mut TestServer, client: usize, request: &str) {
        assert_eq!(t.run(client, request), "", "{request} should block");
        t.server.state.clients[client].argv =
            request.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
    }

    #[test]
    fn every_way_out_of_a_block_empties_the_queues_and_deadlines() {
        let mut t = TestServer::new();
        let (a, b, pusher) = (t.connect(), t.connect(), t.connect());
        // Served: one waiter on two keys with a deadline, one forever.
        block(&mut t, a, "BLPOP k1 k2 100");
        block(&mut t, b, "BLPOP k2 0");
        assert_eq!(t.server.state.blocking.blocked_clients(), 2);
        assert_eq!(t.run(pusher, "RPUSH k2 x y"), ":2\r\n");
        serve_ready(&mut t.server.state, crate::clock::unix_ms());
        assert_eq!(entries(&t), 0);
        assert!(t.server.state.clients[a].reply.buf.ends_with(b"$1\r\nx\r\n"));
        assert!(t.server.state.clients[b].reply.buf.ends_with(b"$1\r\ny\r\n"));
        // Timed out.
        block(&mut t, a, "BLPOP k1 0.001");
        expire_deadlines(&mut t.server.state, crate::clock::unix_ms() + 10);
        assert_eq!(entries(&t), 0);
        // Unblocked, then closed while blocked.
        block(&mut t, a, "BLPOP k1 0");
        assert!(unblock(&mut t.server.state, a, Some("UNBLOCKED test")));
        block(&mut t, b, "BLMOVE k1 k3 LEFT LEFT 5");
        t.server.state.close_asap(b);
        assert_eq!(entries(&t), 0);
        assert_eq!(t.server.state.blocking.blocked_clients(), 0);
        assert!(t.server.state.unblocked.contains(&a));
    }
}
