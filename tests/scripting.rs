//! Scripting end to end: function libraries kept across restarts in the RDB file (ours read by redis-server
//! and Redis's by us) and in the AOF (replayed, and through BGREWRITEAOF with and without an RDB preamble),
//! and a script's writes in the AOF as the commands it ran, wrapped in MULTI/EXEC.

mod common;

use common::TestServer;
use common::scratch::SharedDir;
use std::fs;
use std::time::{Duration, Instant};

const LIBRARY: &str =
    "#!lua name=counters\nredis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)";

fn text(reply: Vec<u8>) -> String {
    String::from_utf8_lossy(&reply).into_owned()
}

fn wait_for_rewrite(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = server.conn();
    while text(conn.cmd(&["INFO", "persistence"])).contains("aof_rewrite_in_progress:1") {
        assert!(Instant::now() < deadline, "rewrite did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn functions_survive_an_rdb_restart_and_debug_reload() {
    let dir = SharedDir::new("scripting", "rdb");
    let args = ["--dir", dir.path(), "--enable-debug-command", "yes"];
    let server = TestServer::ferrokv(&args);
    let mut conn = server.conn();
    assert_eq!(text(conn.cmd(&["FUNCTION", "LOAD", LIBRARY])), "$8\r\ncounters\r\n");
    assert_eq!(text(conn.cmd(&["DEBUG", "RELOAD"])), "+OK\r\n");
    assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":1\r\n");
    assert_eq!(text(conn.cmd(&["SAVE"])), "+OK\r\n");
    drop(conn);
    server.terminate();
    let server = TestServer::ferrokv(&args);
    let mut conn = server.conn();
    assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":2\r\n");
    let listed = text(conn.cmd(&["FUNCTION", "LIST", "WITHCODE"]));
    assert!(listed.contains("counters") && listed.contains("register_function('bump'"), "{listed}");
}

#[test]
fn rdb_functions_interoperate_with_redis() {
    if !common::redis_server_available() {
        common::skip("redis-server is not installed");
        return;
    }
    let dir = SharedDir::new("scripting", "interop");
    let args = ["--dir", dir.path()];
    let ours = TestServer::ferrokv(&args);
    let mut conn = ours.conn();
    conn.cmd(&["FUNCTION", "LOAD", LIBRARY]);
    assert_eq!(text(conn.cmd(&["SAVE"])), "+OK\r\n");
    drop(conn);
    ours.terminate();
    let redis = TestServer::redis(&args);
    let mut conn = redis.conn();
    assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":1\r\n");
    conn.cmd(&["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('hello', function() return 'hi' end)"]);
    assert_eq!(text(conn.cmd(&["SAVE"])), "+OK\r\n");
    drop(conn);
    redis.terminate();
    let ours = TestServer::ferrokv(&args);
    let mut conn = ours.conn();
    assert_eq!(text(conn.cmd(&["FCALL", "hello", "0"])), "$2\r\nhi\r\n");
    assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":2\r\n");
}

#[test]
fn functions_and_script_effects_replay_from_the_aof() {
    for preamble in ["yes", "no"] {
        let dir = SharedDir::new("scripting", &format!("aof-{preamble}"));
        let args = ["--dir", dir.path(), "--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
        let server = TestServer::ferrokv(&args);
        let mut conn = server.conn();
        conn.cmd(&["FUNCTION", "LOAD", LIBRARY]);
        assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":1\r\n");
        let script = "redis.call('incr', KEYS[1]); redis.call('set', KEYS[2], 'x'); return 1";
        assert_eq!(text(conn.cmd(&["EVAL", script, "2", "n", "s"])), ":1\r\n");
        let incr = dir.0.join("appendonlydir/appendonly.aof.1.incr.aof");
        let logged = String::from_utf8_lossy(&fs::read(&incr).unwrap()).replace("\r\n", " ");
        assert!(logged.contains("*1 $5 MULTI *2 $4 incr $1 n *3 $3 set $1 s $1 x *1 $4 EXEC"), "{logged}");
        assert!(!logged.contains("EVAL"), "EVAL itself is not propagated: {logged}");
        drop(conn);
        server.terminate();
        let server = TestServer::ferrokv(&args);
        let mut conn = server.conn();
        assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":3\r\n");
        assert_eq!(text(conn.cmd(&["BGREWRITEAOF"])), "+Background append only file rewriting started\r\n");
        wait_for_rewrite(&server);
        drop(conn);
        server.terminate();
        let server = TestServer::ferrokv(&args);
        let mut conn = server.conn();
        assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":4\r\n", "preamble {preamble}");
        assert_eq!(text(conn.cmd(&["GET", "s"])), "$1\r\nx\r\n");
    }
}

/// A script that never ends (here one that wrote, which SCRIPT KILL could not end) cannot make the server deaf
/// to SIGTERM: the script is ended and the server exits.
#[test]
fn sigterm_ends_an_endless_script() {
    let server = TestServer::ferrokv(&[]);
    let mut conn = server.conn();
    conn.send_raw(&common::encode_command(&["EVAL", "redis.call('set', KEYS[1], 1) while true do end", "1", "k"]));
    std::thread::sleep(Duration::from_millis(200));
    let (status, log) = server.terminate();
    assert!(status.success(), "{status:?}\n{log}");
    let reply = text(conn.read_reply());
    assert!(reply.starts_with("-ERR Script killed by a shutdown signal script: "), "{reply}");
}

/// Replies that depend on how a script's values convert (RESP3 booleans and verbatim strings, a set sorted
/// BY a constant, arguments that are numbers, nil or many), byte for byte as redis-server's, to a RESP2
/// and to a RESP3 client.
#[test]
fn script_conversions_match_redis() {
    let Some(redis) = common::require_redis_with(&["--enable-debug-command", "yes"]) else { return };
    let ours = TestServer::ferrokv(&["--enable-debug-command", "yes"]);
    let scripts = [
        "redis.setresp(3); return false",
        "redis.setresp(3); return {true, false}",
        "return false",
        "redis.setresp(3); return redis.call('debug', 'protocol', 'false')",
        "redis.setresp(3); return redis.call('debug', 'protocol', 'true')",
        "redis.setresp(3); return redis.call('debug', 'protocol', 'verbatim')",
        "redis.setresp(3); return {verbatim_string={format='txt', string='some text'}}",
        "return {verbatim_string={format='mkd', string='x'}}",
        "redis.call('del', 's') redis.call('sadd', 's', 'c', 'a', 'b', 'aa', 'z') return redis.call('sort', 's', 'by', '_')",
        "redis.call('del', 's') redis.call('sadd', 's', 'y', 'x') return redis.call('sort', 's', 'by', '_', 'get', '#', 'get', '_:*')",
        "return redis.call('get', 'k', nil)",
        "return redis.pcall('get', nil)",
        "return redis.call()",
        "return redis.call('echo', 0.5)",
        "return redis.call('echo', 12345678901234)",
        "return redis.call('echo', -3)",
        "return redis.call('mset', 'm1', 1, 'm2', 2, 'm3', 3, 'm4', 4, 'm5', 5)",
        "return redis.call('mget', 'm1', 'm2', 'm3', 'm4', 'm5', 'nokey')",
        // 8001 arguments: the reply still has room on Lua's stack.
        "local a = {} for i = 1, 7999 do a[i] = 1 end return redis.call('lpush', 'massive', unpack(a))",
    ];
    for resp in ["2", "3"] {
        let (mut a, mut b) = (ours.conn(), redis.conn());
        a.cmd(&["HELLO", resp]);
        b.cmd(&["HELLO", resp]);
        for script in scripts {
            let (got, want) = (text(a.cmd(&["EVAL", script, "0"])), text(b.cmd(&["EVAL", script, "0"])));
            assert_eq!(got, want, "RESP{resp} client, script: {script}");
        }
    }
}

/// INFO's field `name` as a number.
fn info_number(conn: &mut common::RespConn, name: &str) -> u64 {
    let info = text(conn.cmd(&["INFO", "memory"]));
    let line = info.lines().find_map(|l| l.strip_prefix(&format!("{name}:")[..])).expect(name);
    line.trim().parse().expect(name)
}

/// EVAL and FUNCTION have a Lua state each, as in Redis 7.0: INFO reports both, a script cannot see what a
/// function's state holds, and SCRIPT FLUSH gives EVAL a fresh state, taking with it what scripts left in
/// Lua's heap (the functions' state keeps its libraries).
#[test]
fn script_flush_gives_eval_a_fresh_state_apart_from_the_functions() {
    let server = TestServer::ferrokv(&[]);
    let mut conn = server.conn();
    assert_eq!(text(conn.cmd(&["FUNCTION", "LOAD", LIBRARY])), "$8\r\ncounters\r\n");
    let functions_vm = info_number(&mut conn, "used_memory_vm_functions");
    assert!(functions_vm > 0, "the functions' state is reported");
    assert_eq!(info_number(&mut conn, "used_memory_vm_eval"), 0, "no script ran yet");
    let fresh = text(conn.cmd(&["EVAL", "collectgarbage('collect') return collectgarbage('count') * 1024", "0"]));
    let fresh: u64 = fresh.trim_start_matches(':').trim().parse().expect("a number");
    // Each cached script's compiled function and its 1 KB constant live in EVAL's heap (the constants
    // differ: Lua interns equal strings once).
    for i in 0..200 {
        conn.cmd(&["EVAL", &format!("return #'{i}{}'", "x".repeat(1000)), "0"]);
    }
    let grown = info_number(&mut conn, "used_memory_vm_eval");
    assert!(grown > fresh + 100_000, "200 cached scripts of 1 KB: {grown} against {fresh}");
    assert_eq!(info_number(&mut conn, "used_memory_vm_total"), grown + functions_vm);
    assert_eq!(text(conn.cmd(&["SCRIPT", "FLUSH"])), "+OK\r\n");
    assert_eq!(info_number(&mut conn, "used_memory_vm_eval"), 0, "the state went with the scripts");
    let after = text(conn.cmd(&["EVAL", "collectgarbage('collect') return collectgarbage('count') * 1024", "0"]));
    let after: u64 = after.trim_start_matches(':').trim().parse().expect("a number");
    assert!(after <= fresh + 1024, "a fresh state: {after} against {fresh}");
    assert_eq!(text(conn.cmd(&["FCALL", "bump", "1", "n"])), ":1\r\n", "the library is still loaded");
}
