//! Transactions over real sockets, several clients at once: WATCH races, invalidation by expiry, FLUSHDB and
//! SWAPDB from another client, EXECABORT, and watches released on disconnect. Runs against ferrokv, or
//! redis-server under `DIFFTEST_AGAINST_REDIS=1` (how the expected bytes were checked).

mod common;

use common::{RespConn, TestServer, assert_reply};
use std::thread;
use std::time::Duration;

/// MULTI, `SET k v`, EXEC on `conn`; returns EXEC's reply.
fn set_in_transaction(conn: &mut RespConn, key: &str, value: &str) -> Vec<u8> {
    assert_reply(conn.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(conn.cmd(&["SET", key, value]), "+QUEUED\r\n");
    conn.cmd(&["EXEC"])
}

#[test]
fn a_write_by_another_client_fails_the_watchers_exec() {
    let server = TestServer::subject(&[]);
    let (mut a, mut b) = (server.conn(), server.conn());
    assert_reply(a.cmd(&["WATCH", "k", "other"]), "+OK\r\n");
    assert_reply(b.cmd(&["SET", "k", "theirs"]), "+OK\r\n");
    assert_reply(set_in_transaction(&mut a, "k", "mine"), "*-1\r\n");
    assert_reply(a.cmd(&["GET", "k"]), "$6\r\ntheirs\r\n");
    // EXEC unwatched everything: the next transaction goes through.
    assert_reply(set_in_transaction(&mut a, "k", "mine"), "*1\r\n+OK\r\n");
    // A watch nobody touches does not fail.
    assert_reply(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_reply(b.cmd(&["GET", "k"]), "$4\r\nmine\r\n");
    assert_reply(set_in_transaction(&mut a, "k", "again"), "*1\r\n+OK\r\n");
}

#[test]
fn expiry_flushdb_and_swapdb_invalidate_watches() {
    let server = TestServer::subject(&[]);
    let (mut a, mut b) = (server.conn(), server.conn());
    assert_reply(a.cmd(&["SET", "t", "v", "PX", "50"]), "+OK\r\n");
    assert_reply(a.cmd(&["WATCH", "t"]), "+OK\r\n");
    thread::sleep(Duration::from_millis(120));
    assert_reply(set_in_transaction(&mut a, "x", "1"), "*-1\r\n");

    assert_reply(a.cmd(&["SET", "f", "v"]), "+OK\r\n");
    assert_reply(a.cmd(&["WATCH", "f"]), "+OK\r\n");
    assert_reply(b.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_reply(set_in_transaction(&mut a, "x", "1"), "*-1\r\n");

    // FLUSHDB of a database without the watched key changes nothing for it.
    assert_reply(a.cmd(&["WATCH", "absent"]), "+OK\r\n");
    assert_reply(b.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_reply(set_in_transaction(&mut a, "x", "1"), "*1\r\n+OK\r\n");

    assert_reply(b.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_reply(b.cmd(&["SET", "s", "in db1"]), "+OK\r\n");
    assert_reply(a.cmd(&["WATCH", "s"]), "+OK\r\n");
    assert_reply(b.cmd(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_reply(set_in_transaction(&mut a, "x", "1"), "*-1\r\n");
}

#[test]
fn queuing_errors_abort_and_runtime_errors_do_not() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    assert_reply(conn.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(conn.cmd(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_reply(conn.cmd(&["INCR", "a", "extra"]), "-ERR wrong number of arguments for 'incr' command\r\n");
    assert_reply(conn.cmd(&["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert_reply(conn.cmd(&["GET", "a"]), "$-1\r\n");

    assert_reply(conn.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(conn.cmd(&["SET", "a", "x"]), "+QUEUED\r\n");
    assert_reply(conn.cmd(&["INCR", "a"]), "+QUEUED\r\n");
    assert_reply(conn.cmd(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_reply(conn.cmd(&["EXEC"]), "*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n");
    assert_reply(conn.cmd(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
}

#[test]
fn a_disconnected_watcher_leaves_nothing_behind() {
    let server = TestServer::subject(&[]);
    let mut b = server.conn();
    for _ in 0..50 {
        let mut a = server.conn();
        assert_reply(a.cmd(&["WATCH", "k"]), "+OK\r\n");
        assert_reply(a.cmd(&["MULTI"]), "+OK\r\n");
    }
    // The watchers are gone; writes still work and a new watcher is only failed by new writes.
    thread::sleep(Duration::from_millis(50));
    assert_reply(b.cmd(&["SET", "k", "v"]), "+OK\r\n");
    let mut a = server.conn();
    assert_reply(a.cmd(&["WATCH", "k"]), "+OK\r\n");
    assert_reply(set_in_transaction(&mut a, "k", "w"), "*1\r\n+OK\r\n");
    let clients = String::from_utf8(b.cmd(&["CLIENT", "LIST"])).unwrap();
    assert_eq!(clients.matches("id=").count(), 2, "{clients}");
}

#[test]
fn no_multi_commands_are_refused_inside_multi_and_abort_it() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    for command in ["SAVE", "SHUTDOWN", "SYNC", "PSYNC"] {
        assert_reply(conn.cmd(&["MULTI"]), "+OK\r\n");
        assert_reply(conn.cmd(&["SET", "foo", "bar"]), "+QUEUED\r\n");
        // PSYNC's arity error comes first, as in processCommand; either way the transaction is doomed.
        let want = if command == "PSYNC" {
            "-ERR wrong number of arguments for 'psync' command\r\n"
        } else {
            "-ERR Command not allowed inside a transaction\r\n"
        };
        assert_reply(conn.cmd(&[command]), want);
        assert_reply(conn.cmd(&["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
        assert_reply(conn.cmd(&["GET", "foo"]), "$-1\r\n");
    }
    // The refused SHUTDOWN did not stop the server.
    assert_reply(conn.cmd(&["PING"]), "+PONG\r\n");
}
