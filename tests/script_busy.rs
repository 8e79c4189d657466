//! Scripts past `busy-reply-threshold`, end to end on the real binary (and on redis-server with
//! `DIFFTEST_AGAINST_REDIS=1`): while one client's script runs, the others are answered -BUSY from inside it,
//! SCRIPT KILL / FUNCTION KILL end a script that has not written (each only its own kind), one that has
//! written is UNKILLABLE and only SHUTDOWN NOSAVE stops the server, and the script's caller gets Redis's
//! error, then the rest of what it pipelined.

mod common;

use common::{RespConn, TestServer};
use std::time::{Duration, Instant};

const BUSY_EVAL: &str = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const BUSY_FUNCTION: &str =
    "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";
const UNKILLABLE: &str = "-UNKILLABLE Sorry the script already executed write commands against the dataset. You \
                          can either wait the script termination or kill the server in a hard way using the \
                          SHUTDOWN NOSAVE command.\r\n";
const NOTBUSY: &str = "-NOTBUSY No scripts in execution right now.\r\n";
const ENDLESS: &str = "local a = 0 while true do a = a + 1 end";
const LIBRARY: &str = "#!lua name=spinners\n\
                       redis.register_function('spin', function() local a = 0 while true do a = a + 1 end end)";

fn text(reply: Vec<u8>) -> String {
    String::from_utf8_lossy(&reply).into_owned()
}

/// A server whose scripts turn busy after 20 ms, the client that will run the script and another one.
fn server() -> (TestServer, RespConn, RespConn) {
    let server = TestServer::subject(&["--busy-reply-threshold", "20"]);
    let (caller, other) = (server.conn(), server.conn());
    (server, caller, other)
}

/// `caller` sends `argv` (a script that keeps running), and `other` waits until it is answered `busy`.
fn run_busy(caller: &mut RespConn, other: &mut RespConn, argv: &[&str], busy: &str) {
    caller.send_raw(&common::encode_command(argv));
    wait_busy(other, busy);
}

/// Pings until the server answers `busy` (the script passed its threshold), bounded.
fn wait_busy(conn: &mut RespConn, busy: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = text(conn.cmd(&["PING"]));
        if reply == busy {
            return;
        }
        assert_eq!(reply, "+PONG\r\n", "before the script is busy");
        assert!(Instant::now() < deadline, "the script never turned busy");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_busy_script_answers_others_busy_until_script_kill() {
    let (server, mut caller, mut other) = server();
    run_busy(&mut caller, &mut other, &["EVAL", ENDLESS, "0"], BUSY_EVAL);
    for refused in [&["GET", "k"][..], &["FUNCTION", "KILL"], &["FUNCTION", "STATS"], &["SHUTDOWN"], &["INFO"]] {
        assert_eq!(text(other.cmd(refused)), BUSY_EVAL, "{refused:?}");
    }
    // A client that connects meanwhile is accepted and answered too.
    let mut late = server.conn();
    assert_eq!(text(late.cmd(&["SET", "k", "v"])), BUSY_EVAL);
    assert!(text(late.cmd(&["HELLO", "2", "SETNAME", "late"])).starts_with("*14\r\n"));
    assert_eq!(text(other.cmd(&["SCRIPT", "KILL"])), "+OK\r\n");
    let killed = text(caller.read_reply());
    assert!(killed.starts_with("-ERR Script killed by user with SCRIPT KILL... script: "), "{killed}");
    assert!(killed.ends_with(", on @user_script:1.\r\n"), "{killed}");
    assert_eq!(text(other.cmd(&["PING"])), "+PONG\r\n");
    assert_eq!(text(caller.cmd(&["PING"])), "+PONG\r\n");
    assert_eq!(text(other.cmd(&["SCRIPT", "KILL"])), NOTBUSY);
    assert_eq!(text(other.cmd(&["FUNCTION", "KILL"])), NOTBUSY);
    let log = server.log();
    assert!(log.contains("Slow script detected: still in execution after"), "{log}");
    assert!(log.contains("You can try killing the script using the SCRIPT KILL command."), "{log}");
    assert!(log.contains("Lua script killed by user with SCRIPT KILL."), "{log}");
}

/// Once killed, the script errors on every line, so a `pcall` that catches the error cannot keep it alive;
/// and the caller's pipelined command runs after the script's error, not during the script.
#[test]
fn a_killed_script_cannot_catch_the_kill_and_its_caller_pipeline_waits() {
    let (_server, mut caller, mut other) = server();
    let script = "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end";
    let mut pipeline = common::encode_command(&["EVAL", script, "0"]);
    pipeline.extend(common::encode_command(&["INCR", "after"]));
    caller.send_raw(&pipeline);
    wait_busy(&mut other, BUSY_EVAL);
    assert_eq!(text(other.cmd(&["GET", "after"])), BUSY_EVAL);
    assert_eq!(text(other.cmd(&["SCRIPT", "KILL"])), "+OK\r\n");
    let killed = text(caller.read_reply());
    assert!(killed.contains("killed by user"), "{killed}");
    assert_eq!(text(caller.read_reply()), ":1\r\n");
    assert_eq!(text(other.cmd(&["GET", "after"])), "$1\r\n1\r\n");
}

/// A script that wrote cannot be killed; SHUTDOWN without NOSAVE is refused; SHUTDOWN NOSAVE exits.
#[test]
fn a_script_that_wrote_is_unkillable_and_shutdown_nosave_exits() {
    let (server, mut caller, mut other) = server();
    run_busy(
        &mut caller,
        &mut other,
        &["EVAL", "redis.call('set', KEYS[1], 'y') while true do end", "1", "x"],
        BUSY_EVAL,
    );
    assert_eq!(text(other.cmd(&["SCRIPT", "KILL"])), UNKILLABLE);
    assert_eq!(text(other.cmd(&["FUNCTION", "KILL"])), UNKILLABLE);
    assert_eq!(text(other.cmd(&["SHUTDOWN"])), BUSY_EVAL);
    assert_eq!(text(other.cmd(&["PING"])), BUSY_EVAL);
    other.send_raw(&common::encode_command(&["SHUTDOWN", "NOSAVE"]));
    assert!(other.read_to_close().is_empty());
    let port = server.port;
    let (status, log) = server.wait_exit();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("User requested shutdown..."), "{log}");
    assert!(RespConn::try_connect(port).is_err(), "still listening");
}

#[test]
fn function_kill_ends_a_busy_function_and_script_kill_is_refused() {
    let (server, mut caller, mut other) = server();
    assert_eq!(text(other.cmd(&["FUNCTION", "LOAD", LIBRARY])), "$8\r\nspinners\r\n");
    run_busy(&mut caller, &mut other, &["FCALL", "spin", "0"], BUSY_FUNCTION);
    assert_eq!(text(other.cmd(&["SCRIPT", "KILL"])), BUSY_FUNCTION);
    let stats = text(other.cmd(&["FUNCTION", "STATS"]));
    let running = "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n\
                   $5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:";
    assert!(stats.starts_with(running), "{stats}");
    assert!(
        stats.ends_with(
            "$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n"
        ),
        "{stats}"
    );
    assert_eq!(text(other.cmd(&["FUNCTION", "KILL"])), "+OK\r\n");
    assert_eq!(
        text(caller.read_reply()),
        "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n"
    );
    assert!(text(other.cmd(&["FUNCTION", "STATS"])).contains("running_script\r\n$-1\r\n"));
    assert_eq!(text(other.cmd(&["PING"])), "+PONG\r\n");
    assert!(server.log().contains("You can try killing the script using the FUNCTION KILL command."));
}

/// A script inside MULTI/EXEC: the others get -BUSY, and the killed script's error is its entry in EXEC's
/// array; a read-only EVAL_RO is killed the same way.
#[test]
fn scripts_in_exec_and_eval_ro_are_killed_as_redis_kills_them() {
    let (_server, mut caller, mut other) = server();
    assert_eq!(text(caller.cmd(&["MULTI"])), "+OK\r\n");
    assert_eq!(text(caller.cmd(&["SET", "k", "1"])), "+QUEUED\r\n");
    assert_eq!(text(caller.cmd(&["EVAL_RO", ENDLESS, "0"])), "+QUEUED\r\n");
    run_busy(&mut caller, &mut other, &["EXEC"], BUSY_EVAL);
    // The transaction wrote before its script, but only the script's own writes make it unkillable (Redis's
    // SCRIPT_WRITE_DIRTY is the script's).
    assert_eq!(text(other.cmd(&["SCRIPT", "KILL"])), "+OK\r\n");
    let exec = text(caller.read_reply());
    assert!(exec.starts_with("*2\r\n+OK\r\n-ERR Script killed by user with SCRIPT KILL..."), "{exec}");
    assert_eq!(text(other.cmd(&["GET", "k"])), "$1\r\n1\r\n");
}

/// A script that passes the threshold and then ends by itself returns its result, and its caller's link
/// works on; the others' replies were written while it ran.
#[test]
fn a_busy_script_that_ends_by_itself_returns_its_result() {
    let (_server, mut caller, mut other) = server();
    let script = "redis.call('set', KEYS[1], 'y') local i = 0 while i < 30000000 do i = i + 1 end return 'done'";
    run_busy(&mut caller, &mut other, &["EVAL", script, "1", "x"], BUSY_EVAL);
    assert_eq!(text(caller.read_reply()), "$4\r\ndone\r\n");
    assert_eq!(text(other.cmd(&["GET", "x"])), "$1\r\ny\r\n");
    assert_eq!(text(caller.cmd(&["PING"])), "+PONG\r\n");
}

/// A script sent over the HTTP gateway serves the loop too (ferrokv's own gateway, so no Redis run).
#[test]
fn a_busy_script_from_the_http_gateway_can_be_killed() {
    let server = TestServer::ferrokv_with_http(&["--busy-reply-threshold", "20"]);
    let mut http = common::http_client::HttpConn::connect(server.http_port);
    let mut other = server.conn();
    let body = format!(r#"["EVAL", "{ENDLESS}", "0"]"#);
    http.send_raw(&common::http_client::request_bytes("POST", "/_redis", &[], Some(&body)));
    wait_busy(&mut other, BUSY_EVAL);
    assert_eq!(text(other.cmd(&["SCRIPT", "KILL"])), "+OK\r\n");
    let response = http.read_response();
    assert!(response.text().contains("Script killed by user with SCRIPT KILL..."), "{}", response.text());
    assert_eq!(text(other.cmd(&["PING"])), "+PONG\r\n");
}
