//! Raw-byte tests of the wire protocol against the server under test (ferrokv, or redis-server under
//! `DIFFTEST_AGAINST_REDIS=1`, which is how the expected bytes below were checked against Redis 7.0.15).
//!
//! Covered: inline commands and their quoting rules, requests sent one byte at a time, large values, deep
//! pipelining, every protocol error (exact reply, then the connection closes, after the replies to the
//! commands that came before it in the same write), isolation of a misbehaving client, many concurrent
//! clients, clean shutdown on SIGTERM, and CLIENT INFO's `qbuf` while a request runs.

mod common;

use common::{RespConn, TestServer, assert_reply, encode_command, escape};
use std::io::Write;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

/// Sends `request` and asserts the exact bytes of the next `expected.len()` replies.
fn assert_replies(conn: &mut RespConn, request: &[u8], expected: &[&[u8]]) {
    conn.send_raw(request);
    for want in expected {
        let got = conn.read_reply();
        assert!(&got == want, "request {}: reply {} but expected {}", escape(request), escape(&got), escape(want));
    }
}

#[test]
fn inline_commands_follow_redis_quoting() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    assert_replies(&mut conn, b"PING\r\n", &[b"+PONG\r\n"]);
    assert_replies(&mut conn, b"SET a \"b c\"\n", &[b"+OK\r\n"]);
    assert_replies(&mut conn, b"GET a\n", &[b"$3\r\nb c\r\n"]);
    assert_replies(&mut conn, b"SET q \"\\x41\\n\\\"z\" \r\nGET q\r\n", &[b"+OK\r\n", b"$4\r\nA\n\"z\r\n"]);
    assert_replies(&mut conn, b"SET r 'it\\'s'\r\nGET r\r\n", &[b"+OK\r\n", b"$4\r\nit's\r\n"]);
    assert_replies(&mut conn, b"ECHO \"\"\r\n", &[b"$0\r\n\r\n"]);
    // \v and \f are isspace() but do not end a word in sdssplitargs: one 3-byte argument each.
    assert_replies(&mut conn, b"ECHO a\x0bb\r\nECHO a\x0cb\r\n", &[b"$3\r\na\x0bb\r\n", b"$3\r\na\x0cb\r\n"]);
    // Blank lines are skipped without a reply, so the next reply is PING's.
    assert_replies(&mut conn, b"\r\n\n   \r\nPING\r\n", &[b"+PONG\r\n"]);
    assert_replies(&mut conn, b"FOO a b\r\n", &[b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"]);
}

#[test]
fn empty_and_null_multibulks_are_skipped() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    assert_replies(&mut conn, b"*0\r\n*-1\r\n*-5\r\nPING\r\n", &[b"+PONG\r\n"]);
    assert!(!conn.is_closed(), "the connection stays open");
}

#[test]
fn requests_sent_one_byte_at_a_time_are_answered_once() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    let requests: [&[u8]; 3] =
        [b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", b"GET k\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"];
    for request in requests {
        for byte in request {
            conn.send_raw(&[*byte]);
            thread::sleep(Duration::from_millis(1));
        }
    }
    assert_reply(conn.read_reply(), b"+OK\r\n");
    assert_reply(conn.read_reply(), b"$5\r\nhello\r\n");
    assert_reply(conn.read_reply(), b"$5\r\nhello\r\n");
    conn.set_read_timeout_ms(200);
    assert!(conn.try_read_reply().is_err(), "no reply beyond the three requests");
}

#[test]
fn large_values_round_trip() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    let value: Vec<u8> = (0..4 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    assert_reply(conn.cmd(&[&b"SET"[..], b"big", &value]), b"+OK\r\n");
    let mut expected = format!("${}\r\n", value.len()).into_bytes();
    expected.extend_from_slice(&value);
    expected.extend_from_slice(b"\r\n");
    let got = conn.cmd(&["GET", "big"]);
    assert!(got == expected, "GET big returned {} bytes that differ from the value", got.len());
}

/// The request and expected reply of pipelined command `i`: PING, SET and GET in turn. Each GET reads the
/// key set just before it, so a reply out of order shows up as a wrong value.
fn pipeline_step(i: usize) -> (Vec<u8>, Vec<u8>) {
    match i % 3 {
        0 => (encode_command(&["PING"]), b"+PONG\r\n".to_vec()),
        1 => (encode_command(&["SET".to_string(), format!("key:{i}"), format!("value:{i}")]), b"+OK\r\n".to_vec()),
        _ => {
            let value = format!("value:{}", i - 1);
            (
                encode_command(&["GET".to_string(), format!("key:{}", i - 1)]),
                format!("${}\r\n{value}\r\n", value.len()).into_bytes(),
            )
        }
    }
}

#[test]
fn ten_thousand_pipelined_commands_are_answered_in_order() {
    const COMMANDS_LEN: usize = 10_000;
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    let (requests, replies): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (0..COMMANDS_LEN).map(pipeline_step).unzip();
    let batch = requests.concat();
    // One write, from another thread: a server may stop reading while its replies are not being read.
    let mut writer = conn.stream().try_clone().expect("clone stream");
    let writing = thread::spawn(move || writer.write_all(&batch));
    for (i, want) in replies.iter().enumerate() {
        let got = conn.read_reply();
        assert!(&got == want, "reply #{i}: got {} want {}", escape(&got), escape(want));
    }
    writing.join().expect("writer thread").expect("write the batch");
}

/// Bytes that break the protocol, and the exact error Redis 7.0 sends before closing the connection.
const PROTOCOL_ERRORS: &[(&[u8], &[u8])] = &[
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*+1\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1 \r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"SET a \"b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"SET a \"b\"c\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"SET a 'b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
];

/// Inputs over the 64 KiB line limits, which Redis rejects before seeing a line end.
fn oversized_lines() -> Vec<(Vec<u8>, &'static [u8])> {
    const LINE_LEN: usize = 64 * 1024 + 1;
    vec![
        (vec![b'a'; LINE_LEN], b"-ERR Protocol error: too big inline request\r\n"),
        ([&b"*"[..], &vec![b'1'; LINE_LEN]].concat(), b"-ERR Protocol error: too big mbulk count string\r\n"),
        ([&b"*1\r\n$"[..], &vec![b'1'; LINE_LEN]].concat(), b"-ERR Protocol error: too big bulk count string\r\n"),
    ]
}

#[test]
fn protocol_errors_reply_after_earlier_commands_then_close() {
    const EARLIER: &[u8] = b"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n";
    const EARLIER_REPLIES: &[u8] = b"+PONG\r\n+OK\r\n";
    let server = TestServer::subject(&[]);
    let cases = PROTOCOL_ERRORS.iter().map(|&(bad, error)| (bad.to_vec(), error)).chain(oversized_lines());
    for (bad, error) in cases {
        let mut conn = server.conn();
        conn.send_raw(&[EARLIER, &bad].concat());
        let got = conn.read_to_close();
        let want = [EARLIER_REPLIES, error].concat();
        assert!(
            got == want,
            "after {}: got {} want {}",
            escape(&bad[..bad.len().min(40)]),
            escape(&got),
            escape(&want)
        );
    }
}

#[test]
fn a_misbehaving_client_does_not_disturb_others() {
    let server = TestServer::subject(&[]);
    let mut good = server.conn();
    assert_reply(good.cmd(&["SET", "shared", "1"]), b"+OK\r\n");
    let mut half_sent = server.conn();
    half_sent.send_raw(b"*3\r\n$3\r\nSET\r\n$6\r\nshared\r\n$100\r\nonly-part");
    let mut bad = server.conn();
    bad.send_raw(b"*abc\r\n");
    assert_reply(bad.read_to_close(), b"-ERR Protocol error: invalid multibulk length\r\n");
    let mut gone = server.conn();
    gone.send_raw(b"*2\r\n$3\r\nGET\r\n");
    drop(gone);
    assert_reply(good.cmd(&["GET", "shared"]), b"$1\r\n1\r\n");
    assert_reply(good.cmd(&["SET", "shared", "2"]), b"+OK\r\n");
    assert!(!half_sent.is_closed(), "an incomplete request keeps its connection open");
}

#[test]
fn two_hundred_concurrent_clients_each_set_and_get() {
    const CLIENTS_LEN: usize = 200;
    let server = TestServer::subject(&[]);
    let port = server.port;
    // Everyone connects before anyone sends, so all connections are open at once.
    let barrier = Arc::new(Barrier::new(CLIENTS_LEN));
    let clients: Vec<_> = (0..CLIENTS_LEN)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut conn = RespConn::connect(port);
                barrier.wait();
                let (key, value) = (format!("client:{i}"), format!("value-{i}"));
                assert_reply(conn.cmd(&["SET", &key, &value]), b"+OK\r\n");
                assert_reply(conn.cmd(&["GET", &key]), format!("${}\r\n{value}\r\n", value.len()).into_bytes());
                conn.cmd(&["INCR", "clients"]);
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }
    let mut conn = server.conn();
    assert_reply(conn.cmd(&["GET", "clients"]), format!("${}\r\n{CLIENTS_LEN}\r\n", CLIENTS_LEN.to_string().len()));
}

#[test]
fn sigterm_exits_cleanly_and_logs_it() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    assert_reply(conn.cmd(&["SET", "k", "v"]), b"+OK\r\n");
    let (status, log) = server.terminate();
    assert!(status.success(), "exit status {status}; log:\n{log}");
    assert!(log.contains("ready to exit"), "log does not say it is ready to exit:\n{log}");
    assert!(conn.is_closed(), "clients are disconnected");
}

/// The `qbuf=` field of a CLIENT LIST / CLIENT INFO line.
fn qbuf_of(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let field = text.split(' ').find(|field| field.starts_with("qbuf=")).expect("a qbuf field");
    field["qbuf=".len()..].to_string()
}

#[test]
fn client_info_counts_the_running_requests_in_qbuf() {
    // Redis trims its query buffer only after running every request of one read, so a client sees its own
    // CLIENT INFO (26 bytes), and requests pipelined before it in the same write, in `qbuf`.
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    assert_eq!(qbuf_of(&conn.cmd(&["CLIENT", "INFO"])), "26");
    let mut pipelined = encode_command(&["PING"]);
    pipelined.extend(encode_command(&["CLIENT", "INFO"]));
    conn.send_raw(&pipelined);
    assert_eq!(conn.read_reply(), b"+PONG\r\n");
    assert_eq!(qbuf_of(&conn.read_reply()), "40");
    // Between requests a client's buffer is empty again, as another client's CLIENT LIST shows.
    let id = String::from_utf8_lossy(&conn.cmd(&["CLIENT", "ID"]))[1..].trim().to_string();
    let listed = server.conn().cmd(&["CLIENT", "LIST", "ID", &id]);
    assert_eq!(qbuf_of(&listed), "0");
}
