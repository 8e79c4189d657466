//! CLIENT REPLY OFF and SKIP on every reply path, compared with redis-server: plain replies, errors before
//! and after running, MULTI/EXEC, blocked commands answered later (served, timed out, CLIENT UNBLOCK), and
//! QUIT. Each scenario's client stream runs against both servers and the replies the client received must be
//! the same list of bytes.

mod common;

use common::{RespConn, TestServer, encode_command, require_redis};
use std::thread;
use std::time::{Duration, Instant};

/// One step of a scenario: the subject sends a command, or a second client acts once the subject is blocked.
enum Step {
    Send(&'static [&'static str]),
    /// Waits until the subject is blocked, then runs this command on the helper connection.
    WhenBlocked(&'static [&'static str]),
    /// Waits until the subject is blocked, then CLIENT UNBLOCKs it with this reason.
    UnblockWith(&'static str),
    /// Lets a short BLPOP timeout pass, so the next block is not mistaken for it.
    Pause,
}

use Step::{Pause, Send, UnblockWith, WhenBlocked};

fn blocked_clients(conn: &mut RespConn) -> i64 {
    let info = String::from_utf8(conn.cmd(&["INFO", "clients"])).unwrap();
    let line = info.lines().find_map(|line| line.strip_prefix("blocked_clients:")).expect("blocked_clients");
    line.trim().parse().unwrap()
}

fn wait_blocked(conn: &mut RespConn) {
    let started = Instant::now();
    while blocked_clients(conn) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the subject never blocked");
        thread::sleep(Duration::from_millis(2));
    }
}

/// Runs `steps` on a fresh pair of connections and returns every reply the subject received, ending with the
/// ECHO that closes the scenario.
fn replies(server: &TestServer, steps: &[Step]) -> Vec<Vec<u8>> {
    let mut helper = server.conn();
    assert_eq!(helper.cmd(&["FLUSHALL"]), b"+OK\r\n");
    let mut subject = server.conn();
    let id = String::from_utf8(subject.cmd(&["CLIENT", "ID"])).unwrap();
    let id = id.trim_start_matches(':').trim().to_string();
    for step in steps {
        match step {
            Send(argv) => subject.send_raw(&encode_command(argv)),
            WhenBlocked(argv) => {
                wait_blocked(&mut helper);
                helper.cmd(argv);
            }
            UnblockWith(reason) => {
                wait_blocked(&mut helper);
                helper.cmd(&["CLIENT", "UNBLOCK", &id, reason]);
            }
            Pause => {
                thread::sleep(Duration::from_millis(100));
                assert_eq!(blocked_clients(&mut helper), 0);
            }
        }
    }
    subject.send_raw(&encode_command(&["CLIENT", "REPLY", "ON"]));
    subject.send_raw(&encode_command(&["ECHO", "end"]));
    let mut got = Vec::new();
    loop {
        let reply = subject.read_reply();
        let done = reply == b"$3\r\nend\r\n";
        got.push(reply);
        if done {
            return got;
        }
    }
}

fn same_as_redis(steps: &[Step]) {
    let Some(redis) = require_redis() else { return };
    let ours = TestServer::ferrokv(&[]);
    let want = replies(&redis, steps);
    let got = replies(&ours, steps);
    let show = |list: &[Vec<u8>]| list.iter().map(|r| common::escape(r)).collect::<Vec<_>>().join(" | ");
    assert_eq!(show(&got), show(&want));
}

#[test]
fn reply_off_mutes_every_path() {
    same_as_redis(&[
        Send(&["CLIENT", "REPLY", "OFF"]),
        Send(&["SET", "k", "v"]),
        Send(&["GET", "k"]),
        Send(&["NOSUCH"]),
        Send(&["GET"]),
        Send(&["LPUSH", "k", "x"]),
        Send(&["MULTI"]),
        Send(&["INCR", "n"]),
        Send(&["EXEC"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["PING"]),
        Send(&["BLPOP", "q", "0"]),
        WhenBlocked(&["RPUSH", "q", "a"]),
        Send(&["BLPOP", "none", "0.02"]),
        Pause,
        Send(&["BLPOP", "none", "0"]),
        UnblockWith("ERROR"),
        Send(&["BLMOVE", "none", "dst", "LEFT", "LEFT", "0"]),
        UnblockWith("TIMEOUT"),
        Send(&["CLIENT", "REPLY", "ON"]),
        Send(&["LLEN", "q"]),
        Send(&["GET", "n"]),
    ]);
}

#[test]
fn reply_skip_mutes_the_next_command_only() {
    same_as_redis(&[
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["SET", "k", "v"]),
        Send(&["GET", "k"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["NOSUCH"]),
        Send(&["PING"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["ECHO", "after two skips"]),
        Send(&["ECHO", "answered"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["BLPOP", "q", "0"]),
        WhenBlocked(&["RPUSH", "q", "a", "b"]),
        Send(&["LLEN", "q"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["BLPOP", "none", "0.02"]),
        Pause,
        Send(&["ECHO", "after timeout"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["BLPOP", "none", "0"]),
        UnblockWith("ERROR"),
        Send(&["ECHO", "after unblock"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["MULTI"]),
        Send(&["INCR", "n"]),
        Send(&["EXEC"]),
        Send(&["CLIENT", "REPLY", "SKIP"]),
        Send(&["CLIENT", "REPLY", "ON"]),
        Send(&["ECHO", "on"]),
    ]);
}
