//! Pub/sub over the HTTP gateway as Server-Sent Events, over real sockets: `GET /_subscribe/<channel>` and
//! `/_psubscribe/<pattern>` receive what RESP clients (and `POST /_publish/<channel>`) publish and keyspace
//! notifications, as one-line JSON events; the stream's session is a subscriber like any other (PUBSUB, CLIENT
//! LIST, the `pubsub` output limit that cuts a reader that stops reading); the gateway's refusals, auth and
//! CORS apply to it; and it outlives the idle timeouts that close idle clients.

mod common;

use common::http_client::{HttpConn, request_bytes};
use common::{TestServer, assert_reply};
use serde_json::{Value, json};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

/// An event stream read off a raw socket: the response head, then one event at a time.
struct EventStream {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Header names lowercased, with their values.
    headers: Vec<(String, String)>,
    status: u16,
}

impl EventStream {
    /// Sends `GET path` with `headers` and reads the response head.
    fn open(port: u16, path: &str, headers: &[&str]) -> EventStream {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the HTTP port");
        stream.set_read_timeout(Some(Duration::from_millis(common::READ_TIMEOUT_MS))).unwrap();
        stream.write_all(&request_bytes("GET", path, headers, None)).unwrap();
        EventStream::after_request(stream, Vec::new())
    }

    /// Reads the head of the response to a request already sent on `stream` (`buf`: bytes read already).
    fn after_request(stream: TcpStream, buf: Vec<u8>) -> EventStream {
        let mut events = EventStream { stream, buf, headers: Vec::new(), status: 0 };
        let head = events.read_until(b"\r\n\r\n").expect("a response head");
        let head = String::from_utf8(head).unwrap();
        let mut lines = head.lines();
        events.status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap();
        events.headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        events
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The next event's text (its lines, without the blank line that ends it).
    fn next_raw(&mut self) -> String {
        let event = self.read_until(b"\n\n").unwrap_or_else(|e| panic!("reading an event: {e}"));
        String::from_utf8(event).unwrap().trim_end().to_string()
    }

    /// The next event's data, as JSON.
    fn next(&mut self) -> Value {
        let event = self.next_raw();
        let data = event.strip_prefix("data: ").unwrap_or_else(|| panic!("not a data line: {event:?}"));
        assert!(!data.contains('\n'), "one line of data per event: {event:?}");
        serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"))
    }

    /// The bytes up to and including `end`, consumed.
    fn read_until(&mut self, end: &[u8]) -> io::Result<Vec<u8>> {
        loop {
            if let Some(at) = self.buf.windows(end.len()).position(|w| w == end) {
                return Ok(self.buf.drain(..at + end.len()).collect());
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk)? {
                0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed")),
                n => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until the server closes the connection; returns how many bytes came.
    fn drain_to_close(&mut self) -> usize {
        let mut total = self.buf.len();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return total,
                Err(e) => panic!("the stream was not closed ({e}) after {total} bytes"),
            }
        }
    }
}

fn numsub(resp: &mut common::RespConn, channel: &str) -> Vec<u8> {
    resp.cmd(&["PUBSUB", "NUMSUB", channel])
}

#[test]
fn messages_published_over_resp_and_http_arrive_as_events() {
    let server = TestServer::ferrokv_with_http(&[]);
    let mut resp = server.conn();
    let mut channel = EventStream::open(server.http_port, "/_subscribe/news", &[]);
    assert_eq!(channel.status, 200);
    assert_eq!(channel.header("content-type"), Some("text/event-stream"));
    assert_eq!(channel.header("cache-control"), Some("no-cache"));
    assert_eq!(channel.header("connection"), Some("close"));
    assert_eq!(channel.header("content-length"), None, "the body lasts as long as the connection");
    let mut pattern = EventStream::open(server.http_port, "/_psubscribe/n*", &[]);
    assert_eq!(pattern.status, 200);
    // The head comes once the subscription is made: a PUBLISH now reaches both.
    assert_reply(numsub(&mut resp, "news"), "*2\r\n$4\r\nnews\r\n:1\r\n");
    assert_reply(resp.cmd(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    assert_reply(resp.cmd(&["PUBLISH", "news", "line one\nline \"two\""]), ":2\r\n");
    assert_eq!(channel.next(), json!({"channel": "news", "message": "line one\nline \"two\""}));
    assert_eq!(pattern.next(), json!({"pattern": "n*", "channel": "news", "message": "line one\nline \"two\""}));
    // A RESP subscriber hears what HTTP publishes, and so do the streams, in order.
    let mut subscriber = server.conn();
    subscriber.cmd(&["SUBSCRIBE", "news"]);
    let mut http = HttpConn::connect(server.http_port);
    let published = http.request("POST", "/_publish/news", Some(r#"{"message": "from http"}"#));
    assert_eq!((published.status, published.json()), (200, json!({"channel": "news", "receivers": 3})));
    let object = http.request("POST", "/_publish/news", Some(r#"{"message": {"n": [1, 2.50]}}"#));
    assert_eq!(object.json()["receivers"], 3);
    assert_reply(subscriber.read_reply(), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$9\r\nfrom http\r\n");
    assert_reply(subscriber.read_reply(), "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$14\r\n{\"n\":[1,2.50]}\r\n");
    assert_eq!(channel.next()["message"], "from http");
    assert_eq!(channel.next()["message"], r#"{"n":[1,2.50]}"#);
    assert_eq!(pattern.next()["message"], "from http");
    // Other channels are not heard; the streams are subscribers in CLIENT LIST.
    assert_reply(resp.cmd(&["PUBLISH", "other", "x"]), ":0\r\n");
    let list = String::from_utf8(resp.cmd(&["CLIENT", "LIST"])).unwrap();
    assert!(list.contains("flags=P db=0 sub=1 psub=0") && list.contains("cmd=subscribe"), "{list}");
    assert!(list.contains("flags=P db=0 sub=0 psub=1") && list.contains("cmd=psubscribe"), "{list}");
    // A client that leaves is unsubscribed.
    drop(channel);
    let mut left = false;
    for _ in 0..200 {
        if numsub(&mut resp, "news") == b"*2\r\n$4\r\nnews\r\n:1\r\n" {
            left = true;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(left, "the closed stream is still subscribed: {:?}", numsub(&mut resp, "news"));
}

#[test]
fn keyspace_notifications_binary_messages_and_encoded_names() {
    let server = TestServer::ferrokv_with_http(&[]);
    let mut resp = server.conn();
    assert_reply(resp.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), "+OK\r\n");
    let mut keyspace = EventStream::open(server.http_port, "/_psubscribe/__keyspace@0__:*", &[]);
    let mut keyevent = EventStream::open(server.http_port, "/_subscribe/__keyevent@0__:del", &[]);
    assert_reply(resp.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_reply(resp.cmd(&["DEL", "k"]), ":1\r\n");
    let set = json!({"pattern": "__keyspace@0__:*", "channel": "__keyspace@0__:k", "message": "set"});
    assert_eq!(keyspace.next(), set);
    assert_eq!(keyspace.next()["message"], "del");
    assert_eq!(keyevent.next(), json!({"channel": "__keyevent@0__:del", "message": "k"}));
    // A channel holding `/` travels percent-encoded; with Upstash-Encoding: base64 strings are base64, so
    // bytes that are not UTF-8 arrive intact.
    let mut binary = EventStream::open(server.http_port, "/_subscribe/a%2Fb", &["Upstash-Encoding: base64"]);
    assert_reply(resp.cmd(&[&b"PUBLISH"[..], b"a/b", b"\xff\x00\r\n"]), ":1\r\n");
    assert_eq!(binary.next(), json!({"channel": "YS9i", "message": "/wANCg=="}));
    let mut plain = EventStream::open(server.http_port, "/_subscribe/a%2Fb", &[]);
    assert_reply(resp.cmd(&[&b"PUBLISH"[..], b"a/b", b"\xffok"]), ":2\r\n");
    assert_eq!(plain.next(), json!({"channel": "a/b", "message": "\u{fffd}ok"}));
}

#[test]
fn a_stream_is_its_connection_s_last_response() {
    let server = TestServer::ferrokv_with_http(&[]);
    let mut resp = server.conn();
    let mut stream = TcpStream::connect(("127.0.0.1", server.http_port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(common::READ_TIMEOUT_MS))).unwrap();
    // Pipelined: a request before the stream is answered first; one after it is never answered (the
    // stream does not end), and its bytes are dropped rather than run.
    let mut pipelined = request_bytes("POST", "/before/incr", &[], None);
    pipelined.extend(request_bytes("GET", "/_subscribe/c", &[], None));
    pipelined.extend(request_bytes("POST", "/after/incr", &[], None));
    stream.write_all(&pipelined).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&buf).contains("text/event-stream") {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let at = text.find("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream").expect("the stream's head");
    assert!(text[..at].contains("\"value\":1"), "{text}");
    let mut events = EventStream::after_request(stream, buf[at..].to_vec());
    assert_reply(resp.cmd(&["PUBLISH", "c", "m"]), ":1\r\n");
    assert_eq!(events.next(), json!({"channel": "c", "message": "m"}));
    assert_reply(resp.cmd(&["MGET", "before", "after"]), "*2\r\n$1\r\n1\r\n$-1\r\n");
    // More input is read (so a client that leaves is noticed) and dropped.
    events.stream.write_all(&request_bytes("POST", "/later/incr", &[], None)).unwrap();
    assert_reply(resp.cmd(&["PUBLISH", "c", "n"]), ":1\r\n");
    assert_eq!(events.next()["message"], "n");
    assert_reply(resp.cmd(&["EXISTS", "later"]), ":0\r\n");
}

#[test]
fn a_reader_that_stops_reading_is_cut_at_the_pubsub_limit() {
    let server = TestServer::ferrokv_with_http(&["--client-output-buffer-limit", "pubsub", "1mb", "0", "0"]);
    let mut resp = server.conn();
    let mut slow = EventStream::open(server.http_port, "/_subscribe/firehose", &[]);
    let mut fast = EventStream::open(server.http_port, "/_subscribe/firehose", &[]);
    let message = "x".repeat(100_000);
    // The slow stream reads nothing: once the kernel's buffers are full its output grows past 1 MB and it is
    // cut. The publisher is never held back, and the stream that reads (one message behind at most) keeps
    // everything.
    let mut published = 0;
    loop {
        let receivers = resp.cmd(&["PUBLISH", "firehose", &message]);
        published += 1;
        assert_eq!(fast.next()["message"].as_str().map(str::len), Some(message.len()));
        if receivers == b":1\r\n" {
            break;
        }
        assert_reply(&receivers, ":2\r\n");
        assert!(published < 2000, "200 MB published and the stream that reads nothing is still subscribed");
    }
    assert_reply(resp.cmd(&["PUBLISH", "firehose", "end"]), ":1\r\n");
    assert_eq!(fast.next()["message"], "end");
    let log = server.log();
    let cut = log.lines().find(|l| l.contains("overcoming of output buffer limits")).unwrap_or_else(|| panic!("{log}"));
    assert!(cut.contains("flags=P") && cut.contains("cmd=subscribe"), "{cut}");
    let received = slow.drain_to_close();
    assert!(received < published * message.len(), "the slow stream got all {received} bytes: it was not cut");
}

#[test]
fn streams_pass_the_gateway_s_checks_and_auth() {
    let origin = "http://app.example";
    let server = TestServer::ferrokv_with_http(&["--requirepass", "pw", "--http-allow-origins", origin]);
    let mut resp = server.conn();
    assert_reply(resp.cmd(&["AUTH", "pw"]), "+OK\r\n");
    let refused = |path: &str, headers: &[&str]| EventStream::open(server.http_port, path, headers).status;
    assert_eq!(refused("/_subscribe/c", &[]), 401);
    assert_eq!(refused("/_subscribe/c", &["Authorization: Bearer wrong"]), 401);
    assert_eq!(refused("/_subscribe/c", &["Authorization: Bearer pw", "Origin: http://evil.example"]), 403);
    let mut http = HttpConn::connect(server.http_port);
    let bearer = ["Authorization: Bearer pw"];
    assert_eq!(http.request_with("POST", "/_subscribe/c", &bearer, Some("{}")).status, 405);
    assert_eq!(http.request_with("GET", "/_publish/c", &bearer, None).status, 405);
    assert_eq!(http.request_with("POST", "/_publish/c", &bearer, Some(r#"{"msg": 1}"#)).status, 400);
    assert_eq!(http.request_with("GET", "/_subscribe/c/d", &bearer, None).status, 404);
    assert_eq!(http.request_with("GET", "/_subscribe/%zz", &bearer, None).status, 400);
    assert_eq!(http.request_with("POST", "/_publish/c", &[], Some(r#"{"message": 1}"#)).status, 401);
    assert_reply(resp.cmd(&["PUBSUB", "NUMSUB", "c"]), "*2\r\n$1\r\nc\r\n:0\r\n");
    // An allowed origin with the password gets the stream, with its CORS header.
    let mut allowed = EventStream::open(
        server.http_port,
        "/_subscribe/c",
        &["Authorization: Bearer pw", "Origin: http://app.example"],
    );
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(origin));
    assert_eq!(allowed.header("vary"), Some("Origin"));
    let published = http.request_with("POST", "/_publish/c", &bearer, Some(r#"{"message": 7}"#));
    assert_eq!(published.json(), json!({"channel": "c", "receivers": 1}));
    assert_eq!(allowed.next(), json!({"channel": "c", "message": "7"}));
}

#[test]
fn streams_and_subscribers_outlive_the_idle_timeouts() {
    let server = TestServer::ferrokv_with_http(&["--http-idle-timeout", "1", "--timeout", "1"]);
    let mut events = EventStream::open(server.http_port, "/_subscribe/c", &[]);
    let mut subscriber = server.conn();
    subscriber.cmd(&["SUBSCRIBE", "c"]);
    let mut idle_http = HttpConn::connect(server.http_port);
    assert_eq!(idle_http.request("GET", "/_health", None).status, 200);
    let mut idle_resp = server.conn();
    assert_reply(idle_resp.cmd(&["PING"]), "+PONG\r\n");
    // Well past both timeouts (the cron runs ten times a second): the idle clients are closed, the
    // subscribers are not.
    thread::sleep(Duration::from_millis(2500));
    assert!(idle_http.is_closed() && idle_resp.is_closed(), "idle clients are closed");
    let mut publisher = server.conn();
    assert_reply(publisher.cmd(&["PUBLISH", "c", "still here"]), ":2\r\n");
    assert_eq!(events.next()["message"], "still here");
    assert_reply(subscriber.read_reply(), "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$10\r\nstill here\r\n");
}

#[test]
fn a_quiet_stream_gets_a_heartbeat_comment() {
    let server = TestServer::ferrokv_with_http(&[]);
    let mut events = EventStream::open(server.http_port, "/_subscribe/quiet", &[]);
    // Nothing is published: after 15 s a comment line comes (EventSource ignores it; proxies see traffic).
    events.stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    assert_eq!(events.next_raw(), ": keep-alive");
    let mut resp = server.conn();
    assert_reply(resp.cmd(&["PUBLISH", "quiet", "after"]), ":1\r\n");
    assert_eq!(events.next(), json!({"channel": "quiet", "message": "after"}));
}
