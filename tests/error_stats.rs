//! INFO's error statistics against redis-server: the same command stream must leave the same
//! `total_error_replies`, the same errorstats section and the same calls, rejected_calls and failed_calls in
//! commandstats (durations aside). Commands refused before they run count as rejected, those that ran and
//! failed as failed; a script's error that came from a command is counted once, where the command failed.

mod common;

use common::{RespConn, TestServer, require_redis};

/// Each case is a command stream, run after CONFIG RESETSTAT; its statistics are compared.
const CASES: &[&[&[&str]]] = &[
    // Refused before running: arity, unknown command and subcommand, then failures while running.
    &[&["GET"], &["NOSUCHCOMMAND", "x"], &["CONFIG", "NOSUCH"], &["SET", "s", "1"], &["LPUSH", "s", "x"]],
    &[&["INCR", "s"], &["SET", "s", "x"], &["INCR", "s"], &["SELECT", "99"]],
    // A transaction refused while queuing, then EXECABORT; a nested MULTI fails as it runs.
    &[&["MULTI"], &["GET"], &["SET", "k", "v"], &["EXEC"], &["MULTI"], &["MULTI"], &["DISCARD"]],
    // Out of memory, outside and inside scripts, with redis.call, redis.pcall and the pcall's table returned.
    &[
        &["CONFIG", "SET", "maxmemory", "1"],
        &["SET", "x", "y"],
        &["EVAL", "return redis.call('set','x','y')", "1", "x"],
        &["EVAL", "local t = redis.pcall('set','x','y') return t['err'] ~= nil", "1", "x"],
        &["EVAL", "return redis.pcall('set','x','y')", "1", "x"],
        &["GET", "x"],
        &["CONFIG", "SET", "maxmemory", "0"],
    ],
    // A command's error raised, caught, and returned by a script.
    &[
        &["EVAL", "return redis.call('select',99)", "0"],
        &["EVAL", "local t = redis.pcall('select',99) return 1", "0"],
        &["EVAL", "return redis.pcall('select',99)", "0"],
    ],
    // Refusals inside scripts: read-only script writes, unknown command, wrong arity, no-script command.
    &[
        &["EVAL_RO", "return redis.call('set','x','y')", "1", "x"],
        &["EVAL_RO", "local t = redis.pcall('set','x','y') return 1", "1", "x"],
        &["EVAL", "return redis.call('nosuchcommand')", "0"],
        &["EVAL", "return redis.call('get')", "0"],
        &["EVAL", "return redis.pcall('multi')", "0"],
    ],
    // Errors the script makes itself, counted when the script replies.
    &[
        &["EVAL", "return redis.error_reply('MY_ERR custom msg')", "0"],
        &["EVAL", "return {err='Own error'}", "0"],
        &["EVAL", "error('raised')", "0"],
        &["EVAL", "return redis.call()", "0"],
        &["EVAL", "syntax error here", "0"],
        &["EVALSHA", "0000000000000000000000000000000000000000", "0"],
    ],
];

/// The statistics a stream leaves, sorted: total_error_replies, the errorstats lines and each commandstats
/// line without its durations.
fn statistics(conn: &mut RespConn) -> Vec<String> {
    let info = String::from_utf8_lossy(&conn.cmd(&["INFO", "everything"])).into_owned();
    let mut kept = Vec::new();
    for line in info.lines() {
        if line.starts_with("total_error_replies:") || line.starts_with("errorstat_") {
            kept.push(line.to_string());
        } else if let Some(stat) = line.strip_prefix("cmdstat_") {
            let (name, fields) = stat.split_once(':').unwrap_or((stat, ""));
            let counts: Vec<&str> = fields.split(',').filter(|f| !f.starts_with("usec")).collect();
            kept.push(format!("{name}:{}", counts.join(",")));
        }
    }
    // Redis lists commands in its command table's hash order.
    kept.sort();
    kept
}

fn run(server: &TestServer, case: &[&[&str]]) -> (Vec<String>, Vec<String>) {
    let mut conn = server.conn();
    conn.cmd(&["CONFIG", "RESETSTAT"]);
    let replies = case.iter().map(|argv| String::from_utf8_lossy(&conn.cmd(argv)).into_owned()).collect();
    // INFO itself is counted once its reply is written, so it is not among the lines it shows.
    (replies, statistics(&mut conn))
}

#[test]
fn error_statistics_count_as_in_redis() {
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    for case in CASES {
        let (expected_replies, expected) = run(&redis, case);
        let (replies, stats) = run(&ferrokv, case);
        assert_eq!(replies, expected_replies, "replies to {case:?}");
        assert_eq!(stats, expected, "statistics after {case:?}");
    }
}
