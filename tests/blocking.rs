//! Blocking list commands over real sockets with many clients: FIFO service of waiters, several keys, timeouts,
//! BLMOVE chains, MULTI, disconnects, CLIENT UNBLOCK, and thousands of waiters at once; and blocking stream
//! reads (XREAD, XREADGROUP): several consumers of a group served in order, `$` pinned, timeouts, a group
//! destroyed or a stream deleted and recreated while clients wait. After each scenario
//! INFO must show no blocked client and no pending deadline, so the wait queues and the timeout index cannot
//! leak. Runs against ferrokv, or redis-server under `DIFFTEST_AGAINST_REDIS=1` (how the bytes were checked).

mod common;

use common::{RespConn, TestServer, assert_reply, encode_command};
use std::thread;
use std::time::{Duration, Instant};

/// Sends a command without waiting for its reply (the client blocks).
fn send(conn: &mut RespConn, argv: &[&str]) {
    conn.send_raw(&encode_command(argv));
}

/// An INFO clients field of the server, read through `conn`.
fn info_field(conn: &mut RespConn, name: &str) -> i64 {
    let info = String::from_utf8(conn.cmd(&["INFO", "clients"])).unwrap();
    let line = info.lines().find_map(|line| line.strip_prefix(&format!("{name}:"))).expect("field in INFO");
    line.trim().parse().unwrap()
}

/// Waits until exactly `count` clients are blocked, so later commands find them parked in this order.
fn wait_blocked(conn: &mut RespConn, count: i64) {
    let started = Instant::now();
    while info_field(conn, "blocked_clients") != count {
        assert!(started.elapsed() < Duration::from_secs(10), "never reached {count} blocked clients");
        thread::sleep(Duration::from_millis(2));
    }
}

/// Nothing may remain blocked or in the timeout table.
fn assert_nothing_blocked(conn: &mut RespConn) {
    wait_blocked(conn, 0);
    assert_eq!(info_field(conn, "clients_in_timeout_table"), 0);
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let server = TestServer::subject(&[]);
    let mut pusher = server.conn();
    let mut waiters: Vec<RespConn> = (0..3).map(|_| server.conn()).collect();
    for (index, waiter) in waiters.iter_mut().enumerate() {
        send(waiter, &["BLPOP", "q", "0"]);
        wait_blocked(&mut pusher, index as i64 + 1);
    }
    assert_reply(pusher.cmd(&["RPUSH", "q", "a", "b"]), ":2\r\n");
    assert_reply(waiters[0].read_reply(), "*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    assert_reply(waiters[1].read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nb\r\n");
    wait_blocked(&mut pusher, 1);
    assert_reply(pusher.cmd(&["LPUSH", "q", "c"]), ":1\r\n");
    assert_reply(waiters[2].read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nc\r\n");
    assert_reply(pusher.cmd(&["EXISTS", "q"]), ":0\r\n");
    assert_nothing_blocked(&mut pusher);
}

#[test]
fn a_waiter_on_several_keys_takes_the_first_that_gets_data() {
    let server = TestServer::subject(&[]);
    let (mut pusher, mut waiter) = (server.conn(), server.conn());
    send(&mut waiter, &["BRPOP", "k1", "k2", "0"]);
    wait_blocked(&mut pusher, 1);
    assert_reply(pusher.cmd(&["RPUSH", "k2", "x", "y"]), ":2\r\n");
    assert_reply(waiter.read_reply(), "*2\r\n$2\r\nk2\r\n$1\r\ny\r\n");
    // With data on both keys, key order decides.
    assert_reply(pusher.cmd(&["RPUSH", "k1", "z"]), ":1\r\n");
    assert_reply(waiter.cmd(&["BLPOP", "k2", "k1", "0"]), "*2\r\n$2\r\nk2\r\n$1\r\nx\r\n");
    assert_nothing_blocked(&mut pusher);
}

#[test]
fn timeouts_answer_a_null_array_and_errors_come_first() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    let started = Instant::now();
    assert_reply(conn.cmd(&["BLPOP", "none", "0.1"]), "*-1\r\n");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(100), "timed out early, after {waited:?}");
    assert_reply(conn.cmd(&["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"]), "*-1\r\n");
    assert_reply(conn.cmd(&["BLPOP", "none", "-1"]), "-ERR timeout is negative\r\n");
    assert_reply(conn.cmd(&["BLPOP", "none", "soon"]), "-ERR timeout is not a float or out of range\r\n");
    assert_reply(conn.cmd(&["SET", "str", "v"]), "+OK\r\n");
    assert_reply(
        conn.cmd(&["BLPOP", "str", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    assert!(conn.cmd(&["HELLO", "3"]).starts_with(b"%"));
    assert_reply(conn.cmd(&["BLPOP", "none", "0.01"]), "_\r\n");
    assert_nothing_blocked(&mut conn);
}

#[test]
fn a_key_of_another_type_wakes_nobody() {
    let server = TestServer::subject(&[]);
    let (mut writer, mut waiter) = (server.conn(), server.conn());
    send(&mut waiter, &["BLPOP", "k", "0"]);
    wait_blocked(&mut writer, 1);
    assert_reply(writer.cmd(&["SET", "k", "string"]), "+OK\r\n");
    assert_reply(writer.cmd(&["DEL", "k"]), ":1\r\n");
    wait_blocked(&mut writer, 1);
    assert_reply(writer.cmd(&["RPUSH", "k", "v"]), ":1\r\n");
    assert_reply(waiter.read_reply(), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert_nothing_blocked(&mut writer);
}

#[test]
fn blmove_chains_serve_the_next_waiter() {
    let server = TestServer::subject(&[]);
    let mut pusher = server.conn();
    let (mut first, mut second) = (server.conn(), server.conn());
    send(&mut first, &["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut pusher, 1);
    send(&mut second, &["BRPOPLPUSH", "b", "c", "0"]);
    wait_blocked(&mut pusher, 2);
    assert_reply(pusher.cmd(&["RPUSH", "a", "v"]), ":1\r\n");
    assert_reply(first.read_reply(), "$1\r\nv\r\n");
    assert_reply(second.read_reply(), "$1\r\nv\r\n");
    assert_reply(pusher.cmd(&["LRANGE", "c", "0", "-1"]), "*1\r\n$1\r\nv\r\n");
    assert_reply(pusher.cmd(&["EXISTS", "a", "b"]), ":0\r\n");
    assert_nothing_blocked(&mut pusher);
}

#[test]
fn a_key_that_expired_during_the_transaction_wakes_nobody() {
    let server = TestServer::subject(&["--enable-debug-command", "yes"]);
    let (mut writer, mut waiter) = (server.conn(), server.conn());
    assert_reply(writer.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    send(&mut waiter, &["BRPOP", "k", "0"]);
    wait_blocked(&mut writer, 1);
    assert_reply(writer.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(writer.cmd(&["RPUSH", "k", "hello"]), "+QUEUED\r\n");
    assert_reply(writer.cmd(&["PEXPIRE", "k", "100"]), "+QUEUED\r\n");
    assert_reply(writer.cmd(&["DEBUG", "SLEEP", "0.2"]), "+QUEUED\r\n");
    assert_reply(writer.cmd(&["EXEC"]), "*3\r\n:1\r\n:1\r\n+OK\r\n");
    // The waiter is served with a fresh clock, as Redis does: the key is gone, so it still waits.
    assert_eq!(info_field(&mut writer, "blocked_clients"), 1);
    assert_reply(writer.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_reply(writer.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]), ":1\r\n");
    assert_reply(writer.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "+OK\r\n");
    assert_nothing_blocked(&mut writer);
}

#[test]
fn a_push_undone_in_the_same_transaction_wakes_nobody() {
    let server = TestServer::subject(&[]);
    let (mut writer, mut waiter) = (server.conn(), server.conn());
    send(&mut waiter, &["BLPOP", "k", "0"]);
    wait_blocked(&mut writer, 1);
    assert_reply(writer.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(writer.cmd(&["LPUSH", "k", "v"]), "+QUEUED\r\n");
    assert_reply(writer.cmd(&["DEL", "k"]), "+QUEUED\r\n");
    assert_reply(writer.cmd(&["EXEC"]), "*2\r\n:1\r\n:1\r\n");
    wait_blocked(&mut writer, 1);
    // Inside MULTI a blocking command does not block: it answers like its timeout.
    assert_reply(writer.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(writer.cmd(&["BLPOP", "k", "0"]), "+QUEUED\r\n");
    assert_reply(writer.cmd(&["EXEC"]), "*1\r\n*-1\r\n");
    assert_reply(writer.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]), ":1\r\n");
    assert_nothing_blocked(&mut writer);
}

#[test]
fn disconnected_and_unblocked_waiters_leave_the_queues() {
    let server = TestServer::subject(&[]);
    let mut admin = server.conn();
    {
        let mut gone = server.conn();
        send(&mut gone, &["BLPOP", "k", "100"]);
        wait_blocked(&mut admin, 1);
    }
    assert_nothing_blocked(&mut admin);
    assert_reply(admin.cmd(&["RPUSH", "k", "kept"]), ":1\r\n");
    assert_reply(admin.cmd(&["LLEN", "k"]), ":1\r\n");

    let mut waiter = server.conn();
    let id = String::from_utf8(waiter.cmd(&["CLIENT", "ID"])).unwrap();
    let id = id.trim_start_matches(':').trim();
    send(&mut waiter, &["BLPOP", "none", "0"]);
    wait_blocked(&mut admin, 1);
    assert_reply(admin.cmd(&["CLIENT", "UNBLOCK", id]), ":1\r\n");
    assert_reply(waiter.read_reply(), "*-1\r\n");
    send(&mut waiter, &["BLPOP", "none", "10"]);
    wait_blocked(&mut admin, 1);
    assert_reply(admin.cmd(&["CLIENT", "UNBLOCK", id, "ERROR"]), ":1\r\n");
    assert_reply(waiter.read_reply(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_reply(admin.cmd(&["CLIENT", "UNBLOCK", id]), ":0\r\n");
    // The waiter works normally afterwards, including what it pipelined behind its block.
    send(&mut waiter, &["BLPOP", "k", "0"]);
    assert_reply(waiter.read_reply(), "*2\r\n$1\r\nk\r\n$4\r\nkept\r\n");
    assert_nothing_blocked(&mut admin);
}

#[test]
fn pipelined_commands_behind_a_block_run_after_it() {
    let server = TestServer::subject(&[]);
    let (mut pusher, mut waiter) = (server.conn(), server.conn());
    let mut request = encode_command(&["BLPOP", "k", "0"]);
    request.extend(encode_command(&["PING"]));
    waiter.send_raw(&request);
    wait_blocked(&mut pusher, 1);
    assert_reply(pusher.cmd(&["RPUSH", "k", "v"]), ":1\r\n");
    assert_reply(waiter.read_reply(), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert_reply(waiter.read_reply(), "+PONG\r\n");
}

/// Open files this process may have (the soft RLIMIT_NOFILE), from /proc; 1024 when unreadable.
fn open_files_max() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let line = limits.lines().find(|line| line.starts_with("Max open files"));
    line.and_then(|line| line.split_whitespace().nth(3)).and_then(|soft| soft.parse().ok()).unwrap_or(1024)
}

#[test]
fn two_thousand_waiters_are_all_served() {
    // Both ends of every connection count against the limit when the server is our child; .ci/run raises it.
    let waiters_max = open_files_max().saturating_sub(100) / 2;
    if waiters_max < 2000 {
        eprintln!("open-file limit allows only {waiters_max} waiters; run with `ulimit -n 8192` for the full 2000");
    }
    let waiters_len = 2000.min(waiters_max) / 10 * 10;
    let server = TestServer::subject(&[]);
    let mut pusher = server.conn();
    let mut waiters: Vec<RespConn> = (0..waiters_len).map(|_| server.conn()).collect();
    for (index, waiter) in waiters.iter_mut().enumerate() {
        let key = format!("k{}", index % 10);
        send(waiter, &["BLPOP", &key, "0"]);
    }
    wait_blocked(&mut pusher, waiters_len as i64);
    for key in 0..10 {
        let mut push = vec!["RPUSH".to_string(), format!("k{key}")];
        push.extend((0..waiters_len / 10).map(|n| n.to_string()));
        assert_reply(pusher.cmd(&push), format!(":{}\r\n", waiters_len / 10));
    }
    for (index, waiter) in waiters.iter_mut().enumerate() {
        let key = format!("k{}", index % 10);
        let value = (index / 10).to_string();
        let want = format!("*2\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n", key.len(), value.len());
        assert_reply(waiter.read_reply(), want);
    }
    assert_nothing_blocked(&mut pusher);
    assert_reply(pusher.cmd(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn keys_made_ready_are_served_in_the_order_they_became_ready() {
    // Redis serves a waiter from the key that became ready first, not from the first of its own keys.
    let server = TestServer::subject(&[]);
    let mut pusher = server.conn();
    let mut waiter = server.conn();
    send(&mut waiter, &["BLPOP", "q", "d", "5"]);
    wait_blocked(&mut pusher, 1);
    assert_reply(pusher.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(pusher.cmd(&["RPUSH", "d", "d1"]), "+QUEUED\r\n");
    assert_reply(pusher.cmd(&["RPUSH", "q", "q1"]), "+QUEUED\r\n");
    assert_reply(pusher.cmd(&["EXEC"]), "*2\r\n:1\r\n:1\r\n");
    assert_reply(waiter.read_reply(), "*2\r\n$1\r\nd\r\n$2\r\nd1\r\n");
    assert_reply(pusher.cmd(&["LRANGE", "q", "0", "-1"]), "*1\r\n$2\r\nq1\r\n");
    assert_nothing_blocked(&mut pusher);
}

#[test]
fn client_reply_off_and_skip_mute_the_replies_of_blocked_commands() {
    let server = TestServer::subject(&[]);
    let mut pusher = server.conn();
    // OFF: the pop happens when the key is pushed, and nothing is sent for it.
    let mut muted = server.conn();
    send(&mut muted, &["CLIENT", "REPLY", "OFF"]);
    send(&mut muted, &["BLPOP", "off", "0"]);
    wait_blocked(&mut pusher, 1);
    assert_reply(pusher.cmd(&["RPUSH", "off", "a", "b"]), ":2\r\n");
    send(&mut muted, &["CLIENT", "REPLY", "ON"]);
    assert_reply(muted.read_reply(), "+OK\r\n");
    assert_reply(pusher.cmd(&["LRANGE", "off", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
    // SKIP: the blocked command's timeout reply is skipped, the next command answers again.
    send(&mut muted, &["CLIENT", "REPLY", "SKIP"]);
    send(&mut muted, &["BLPOP", "skip", "0.05"]);
    send(&mut muted, &["PING"]);
    assert_reply(muted.read_reply(), "+PONG\r\n");
    // SKIP over a block that is served: the value is taken, its reply is not sent.
    send(&mut muted, &["CLIENT", "REPLY", "SKIP"]);
    send(&mut muted, &["BLPOP", "served", "0"]);
    wait_blocked(&mut pusher, 1);
    assert_reply(pusher.cmd(&["RPUSH", "served", "x"]), ":1\r\n");
    send(&mut muted, &["ECHO", "after"]);
    assert_reply(muted.read_reply(), "$5\r\nafter\r\n");
    assert_reply(pusher.cmd(&["EXISTS", "served"]), ":0\r\n");
    assert_nothing_blocked(&mut pusher);
}

#[test]
fn the_idle_timeout_closes_idle_clients_but_not_blocked_ones() {
    // Redis's clientsCronHandleTimeout skips blocked clients: their block has its own timeout.
    let server = TestServer::subject(&["--timeout", "1"]);
    let mut idle = server.conn();
    assert_reply(idle.cmd(&["PING"]), "+PONG\r\n");
    let mut waiter = server.conn();
    send(&mut waiter, &["BLPOP", "q", "0"]);
    let mut pusher = server.conn();
    wait_blocked(&mut pusher, 1);
    let started = Instant::now();
    while !idle.is_closed() {
        assert!(started.elapsed() < Duration::from_secs(10), "the idle client was never closed");
        // The pusher stays active, so only the idle client and the waiter pass the timeout.
        assert_reply(pusher.cmd(&["PING"]), "+PONG\r\n");
    }
    // The waiter has now been idle for longer than the timeout; it is still served.
    thread::sleep(Duration::from_millis(800));
    assert_reply(pusher.cmd(&["RPUSH", "q", "x"]), ":1\r\n");
    assert_reply(waiter.read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
    assert_nothing_blocked(&mut pusher);
}

#[test]
fn sorted_set_waiters_are_served_in_order_with_their_pop_shape() {
    let server = TestServer::subject(&[]);
    let mut adder = server.conn();
    let mut waiters: Vec<RespConn> = (0..3).map(|_| server.conn()).collect();
    send(&mut waiters[0], &["BZPOPMIN", "z", "0"]);
    wait_blocked(&mut adder, 1);
    send(&mut waiters[1], &["BZPOPMAX", "other", "z", "0"]);
    wait_blocked(&mut adder, 2);
    send(&mut waiters[2], &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"]);
    wait_blocked(&mut adder, 3);
    // A value of another type under the key wakes nobody.
    assert_reply(adder.cmd(&["SET", "z", "x"]), "+OK\r\n");
    assert_reply(adder.cmd(&["DEL", "z"]), ":1\r\n");
    assert_reply(adder.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]), ":4\r\n");
    assert_reply(waiters[0].read_reply(), "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_reply(waiters[1].read_reply(), "*3\r\n$1\r\nz\r\n$1\r\nd\r\n$1\r\n4\r\n");
    assert_reply(
        waiters[2].read_reply(),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    assert_reply(adder.cmd(&["EXISTS", "z"]), ":0\r\n");
    assert_nothing_blocked(&mut adder);
}

#[test]
fn sorted_set_pops_time_out_and_check_arguments_first() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    let started = Instant::now();
    assert_reply(conn.cmd(&["BZPOPMIN", "none", "0.1"]), "*-1\r\n");
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_reply(conn.cmd(&["BZMPOP", "0.05", "2", "none", "nope", "MAX"]), "*-1\r\n");
    assert_reply(conn.cmd(&["BZPOPMAX", "none", "-1"]), "-ERR timeout is negative\r\n");
    assert_reply(conn.cmd(&["BZMPOP", "x", "1", "none", "MIN"]), "-ERR timeout is not a float or out of range\r\n");
    assert_reply(conn.cmd(&["BZMPOP", "x", "0", "none", "MIN"]), "-ERR numkeys should be greater than 0\r\n");
    assert_reply(conn.cmd(&["SET", "s", "v"]), "+OK\r\n");
    assert_reply(
        conn.cmd(&["BZPOPMIN", "s", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    // Inside MULTI a blocking pop with nothing to pop answers at once.
    assert_reply(conn.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(conn.cmd(&["BZPOPMIN", "none", "0"]), "+QUEUED\r\n");
    assert_reply(conn.cmd(&["EXEC"]), "*1\r\n*-1\r\n");
    assert_nothing_blocked(&mut conn);
}

#[test]
fn a_sorted_set_made_and_emptied_in_one_transaction_wakes_nobody() {
    let server = TestServer::subject(&[]);
    let (mut adder, mut waiter) = (server.conn(), server.conn());
    send(&mut waiter, &["BZPOPMIN", "z", "0"]);
    wait_blocked(&mut adder, 1);
    assert_reply(adder.cmd(&["MULTI"]), "+OK\r\n");
    assert_reply(adder.cmd(&["ZADD", "z", "1", "a"]), "+QUEUED\r\n");
    assert_reply(adder.cmd(&["ZREM", "z", "a"]), "+QUEUED\r\n");
    assert_reply(adder.cmd(&["EXEC"]), "*2\r\n:1\r\n:1\r\n");
    wait_blocked(&mut adder, 1);
    assert_reply(adder.cmd(&["ZADD", "z", "5", "e"]), ":1\r\n");
    assert_reply(waiter.read_reply(), "*3\r\n$1\r\nz\r\n$1\r\ne\r\n$1\r\n5\r\n");
    assert_nothing_blocked(&mut adder);
}

/// `[key, [[id, [field, value]]]]` as XREAD's RESP2 reply for one stream and one entry.
fn one_entry(key: &str, id: &str, field: &str, value: &str) -> String {
    format!(
        "*1\r\n*2\r\n${}\r\n{key}\r\n*1\r\n*2\r\n${}\r\n{id}\r\n*2\r\n${}\r\n{field}\r\n${}\r\n{value}\r\n",
        key.len(),
        id.len(),
        field.len(),
        value.len()
    )
}

#[test]
fn group_consumers_blocked_at_once_are_served_in_arrival_order() {
    let server = TestServer::subject(&[]);
    let mut writer = server.conn();
    assert_reply(writer.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]), "+OK\r\n");
    let mut consumers: Vec<RespConn> = (0..3).map(|_| server.conn()).collect();
    for (index, (consumer, name)) in consumers.iter_mut().zip(["alice", "bob", "carol"]).enumerate() {
        send(consumer, &["XREADGROUP", "GROUP", "g", name, "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"]);
        wait_blocked(&mut writer, index as i64 + 1);
    }
    // One XADD serves the first waiter only: the entry is delivered, the others keep waiting.
    assert_reply(writer.cmd(&["XADD", "s", "1-0", "f", "a"]), "$3\r\n1-0\r\n");
    assert_reply(consumers[0].read_reply(), one_entry("s", "1-0", "f", "a"));
    wait_blocked(&mut writer, 2);
    assert_reply(writer.cmd(&["XADD", "s", "2-0", "f", "b"]), "$3\r\n2-0\r\n");
    assert_reply(consumers[1].read_reply(), one_entry("s", "2-0", "f", "b"));
    assert_reply(writer.cmd(&["XADD", "s", "3-0", "f", "c"]), "$3\r\n3-0\r\n");
    assert_reply(consumers[2].read_reply(), one_entry("s", "3-0", "f", "c"));
    let pending = writer.cmd(&["XPENDING", "s", "g"]);
    assert!(pending.starts_with(b"*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n"), "{}", common::escape(&pending));
    assert_nothing_blocked(&mut writer);
}

#[test]
fn xread_dollar_is_pinned_when_the_client_parks_and_blocks_time_out() {
    let server = TestServer::subject(&[]);
    let mut writer = server.conn();
    writer.cmd(&["XADD", "s", "5-0", "old", "x"]);
    let (mut reader, mut timed) = (server.conn(), server.conn());
    send(&mut reader, &["XREAD", "BLOCK", "0", "STREAMS", "other", "s", "$", "$"]);
    send(&mut timed, &["XREAD", "BLOCK", "30", "STREAMS", "s", "$"]);
    wait_blocked(&mut writer, 2);
    assert_reply(timed.read_reply(), "*-1\r\n");
    // Two entries in one transaction: the reader, parked after 5-0, gets both from the ready key only.
    writer.cmd(&["MULTI"]);
    writer.cmd(&["XADD", "s", "6-0", "f", "a"]);
    writer.cmd(&["XADD", "s", "7-0", "f", "b"]);
    writer.cmd(&["EXEC"]);
    let got = reader.read_reply();
    let want = "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\nf\r\n$1\r\na\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nf\r\n$1\r\nb\r\n";
    assert_reply(got, want);
    assert_nothing_blocked(&mut writer);
}

#[test]
fn destroyed_groups_and_deleted_streams_end_or_keep_the_wait() {
    let server = TestServer::subject(&[]);
    let mut writer = server.conn();
    writer.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let (mut grouped, mut plain) = (server.conn(), server.conn());
    send(&mut grouped, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    send(&mut plain, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut writer, 2);
    assert_reply(writer.cmd(&["XGROUP", "DESTROY", "s", "g"]), ":1\r\n");
    assert_reply(grouped.read_reply(), "-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
    // A group reader whose stream is deleted is told so; a plain reader waits on for the recreated stream.
    writer.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    send(&mut grouped, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
    wait_blocked(&mut writer, 2);
    assert_reply(writer.cmd(&["DEL", "s"]), ":1\r\n");
    assert_reply(grouped.read_reply(), "-UNBLOCKED the stream key no longer exists\r\n");
    wait_blocked(&mut writer, 1);
    assert_reply(writer.cmd(&["XADD", "s", "1-0", "f", "v"]), "$3\r\n1-0\r\n");
    assert_reply(plain.read_reply(), one_entry("s", "1-0", "f", "v"));
    assert_nothing_blocked(&mut writer);
}
