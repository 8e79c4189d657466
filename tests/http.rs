//! The HTTP/JSON gateway over real sockets: every route, keep-alive and pipelining, `Expect: 100-continue`,
//! each limit and error, percent-decoding, TTLs seen from both protocols, values written by one protocol and
//! read by the other, and hostile clients that must not disturb anyone else.

mod common;

use common::TestServer;
use common::http_client::{HttpConn, HttpResponse, request_bytes};
use serde_json::{Value, json};
use std::thread;
use std::time::{Duration, Instant};

fn server() -> TestServer {
    TestServer::ferrokv_with_http(&[])
}

fn http(server: &TestServer) -> HttpConn {
    HttpConn::connect(server.http_port)
}

fn assert_error(response: &HttpResponse, status: u16, contains: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    let error = response.json()["error"].as_str().map(str::to_owned).unwrap_or_default();
    assert!(error.contains(contains), "error {error:?} lacks {contains:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
}

#[test]
fn health_unknown_routes_and_wrong_methods() {
    let server = server();
    let mut conn = http(&server);
    let health = conn.request("GET", "/_health", None);
    assert_eq!((health.status, health.json()), (200, json!({"status": "ok"})));
    assert_error(&conn.request("GET", "/_nothing", None), 404, "no such route");
    assert_error(&conn.request("GET", "/a/b/c", None), 404, "no such route");
    let wrong = conn.request("GET", "/_redis", None);
    assert_error(&wrong, 405, "method not allowed");
    assert_eq!(wrong.header("allow"), Some("POST"));
    assert_error(&conn.request("PATCH", "/k", Some("{}")), 405, "method not allowed");
    assert_error(&conn.request("GET", "/k/incr", None), 405, "method not allowed");
    assert_error(&conn.request("POST", "/_health", None), 405, "method not allowed");
}

#[test]
fn create_read_update_delete() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    let body = r#"{"value": {"theme": "dark", "n": [1, 2.50]}}"#;
    let created = conn.request("POST", "/user-config/", Some(body));
    assert_eq!(created.json(), json!({"status": "ok", "action": "created", "key": "user-config", "expires_at": null}));
    assert_eq!(conn.request("POST", "/user-config", Some(body)).json()["action"], "updated");
    // Stored as compact JSON text, exactly as sent (number spelling and key order kept).
    assert_eq!(resp.cmd(&["GET", "user-config"]), b"$29\r\n{\"theme\":\"dark\",\"n\":[1,2.50]}\r\n");
    let read = conn.request("GET", "/user-config", None);
    assert_eq!(read.status, 200);
    assert_eq!(
        read.json(),
        json!({"key": "user-config", "value": {"theme": "dark", "n": [1, 2.5]}, "ttl_remaining": -1})
    );
    let updated = conn.request("PUT", "/user-config", Some(r#"{"new_value": "light"}"#));
    assert_eq!(updated.json()["action"], "updated");
    assert_eq!(conn.request("GET", "/user-config", None).json()["value"], "light");
    assert_error(&conn.request("PUT", "/missing", Some(r#"{"value": 1}"#)), 404, "Key not found");
    assert_eq!(resp.cmd(&["EXISTS", "missing"]), b":0\r\n");
    let deleted = conn.request("DELETE", "/user-config", None);
    assert_eq!(deleted.json(), json!({"status": "ok", "action": "deleted", "key": "user-config"}));
    assert_error(&conn.request("DELETE", "/user-config", None), 404, "Key not found");
    assert_error(&conn.request("GET", "/user-config", None), 404, "Key not found");
}

#[test]
fn ttls_are_seen_from_both_protocols() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    let created = conn.request("POST", "/session", Some(r#"{"value": "abc", "ttl": 100}"#)).json();
    let expires_at = created["expires_at"].as_str().expect("an expiry time");
    assert!(expires_at.ends_with('Z') && expires_at.len() == 24, "{expires_at}");
    let ttl = conn.request("GET", "/session", None).json()["ttl_remaining"].as_i64().unwrap();
    assert!((99..=100).contains(&ttl), "{ttl}");
    assert!(matches!(&resp.cmd(&["TTL", "session"])[..], b":100\r\n" | b":99\r\n"));
    // PUT without ttl keeps the TTL; with one, replaces it.
    assert!(conn.request("PUT", "/session", Some(r#"{"value": 2}"#)).json()["expires_at"].is_string());
    assert!(matches!(&resp.cmd(&["TTL", "session"])[..], b":100\r\n" | b":99\r\n"));
    conn.request("PUT", "/session", Some(r#"{"value": 3, "ttl": 5000}"#));
    assert!(matches!(&resp.cmd(&["TTL", "session"])[..], b":5000\r\n" | b":4999\r\n"));
    // Expiry set over HTTP is seen over RESP, and the other way round.
    conn.request("POST", "/short", Some(r#"{"value": 1, "ttl": 1}"#));
    assert_eq!(resp.cmd(&["SET", "shorter", "x", "PX", "50"]), b"+OK\r\n");
    thread::sleep(Duration::from_millis(1100));
    assert_eq!(resp.cmd(&["EXISTS", "short"]), b":0\r\n");
    assert_error(&conn.request("GET", "/shorter", None), 404, "Key not found");
}

#[test]
fn values_cross_protocols() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    resp.cmd(&["SET", "plain", "hello \"world\""]);
    resp.cmd(&["SET", "number", "42"]);
    resp.cmd(&["SET", "doc", "{\"a\": [true, null]}"]);
    assert_eq!(conn.request("GET", "/plain", None).json()["value"], "hello \"world\"");
    assert_eq!(conn.request("GET", "/number", None).json()["value"], 42);
    assert_eq!(conn.request("GET", "/doc", None).json()["value"], json!({"a": [true, null]}));
    conn.request("POST", "/from-http", Some(r#"{"value": "text"}"#));
    assert_eq!(resp.cmd(&["GET", "from-http"]), b"$6\r\n\"text\"\r\n");
    // Collections come back as JSON arrays and objects.
    resp.cmd(&["RPUSH", "list", "a", "b"]);
    resp.cmd(&["HSET", "hash", "f", "1"]);
    assert_eq!(conn.request("GET", "/list", None).json()["value"], json!(["a", "b"]));
    assert_eq!(conn.request("GET", "/hash", None).json()["value"], json!({"f": "1"}));
    resp.cmd(&["SADD", "set", "7"]);
    assert_eq!(conn.request("GET", "/set", None).json()["value"], json!(["7"]));
    // A sorted set is its [member, score] pairs in order; JSON has no infinity, so that score is a string.
    resp.cmd(&["ZADD", "zset", "2", "b", "1.5", "a", "inf", "c"]);
    assert_eq!(conn.request("GET", "/zset", None).json()["value"], json!([["a", 1.5], ["b", 2], ["c", "inf"]]));
    // A stream is its entries: [ID, [field, value, ...]] each.
    resp.cmd(&["XADD", "stream", "1-1", "f", "v", "g", "w"]);
    resp.cmd(&["XADD", "stream", "2-0", "f", "x"]);
    let entries = json!([["1-1", ["f", "v", "g", "w"]], ["2-0", ["f", "x"]]]);
    assert_eq!(conn.request("GET", "/stream", None).json()["value"], entries);
}

#[test]
fn bad_input_writes_nothing() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    for (body, message) in [
        ("{\"value\": ", "must be a JSON object"),
        ("[1, 2]", "must be a JSON object"),
        ("", "must be a JSON object"),
        (r#"{"ttl": 5}"#, "no \"value\" field"),
        (r#"{"value": 1, "ttl": 0}"#, "ttl must be a positive integer"),
        (r#"{"value": 1, "ttl": -3}"#, "ttl must be a positive integer"),
        (r#"{"value": 1, "ttl": 1.5}"#, "ttl must be a positive integer"),
        (r#"{"value": 1, "ttl": "10"}"#, "ttl must be a positive integer"),
    ] {
        assert_error(&conn.request("POST", "/k", Some(body)), 400, message);
    }
    assert_error(&conn.request("POST", "/", Some(r#"{"value": 1}"#)), 400, "key is empty");
    assert_error(&conn.request("POST", "/a%zz", Some(r#"{"value": 1}"#)), 400, "percent-escape");
    assert_eq!(resp.cmd(&["DBSIZE"]), b":0\r\n");
}

#[test]
fn counters() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    assert_eq!(conn.request("POST", "/hits/incr", None).json(), json!({"key": "hits", "value": 1}));
    assert_eq!(conn.request("POST", "/hits/incr", Some(r#"{"by": 5}"#)).json()["value"], 6);
    assert_eq!(conn.request("POST", "/hits/decr/", Some(r#"{"by": 10}"#)).json()["value"], -4);
    assert_eq!(resp.cmd(&["GET", "hits"]), b"$2\r\n-4\r\n");
    assert_error(&conn.request("POST", "/hits/incr", Some(r#"{"by": "x"}"#)), 400, "by must be an integer");
    resp.cmd(&["SET", "word", "abc"]);
    assert_error(&conn.request("POST", "/word/incr", None), 409, "not an integer");
    resp.cmd(&["SET", "big", &i64::MAX.to_string()]);
    assert_error(&conn.request("POST", "/big/incr", None), 409, "overflow");
}

#[test]
fn listing_pages_through_every_key() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    for i in 0..40 {
        resp.cmd(&["SET", &format!("user:{i}"), &i.to_string()]);
    }
    resp.cmd(&["SET", "other", "x"]);
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    for page in 0.. {
        assert!(page < 100, "the scan did not finish");
        let body = conn.request("GET", &format!("/?match=user:*&count=5&cursor={cursor}"), None).json();
        let keys = body["keys"].as_array().unwrap();
        assert_eq!(body["count"].as_u64().unwrap() as usize, keys.len());
        seen.extend(keys.iter().map(|k| k.as_str().unwrap().to_string()));
        cursor = body["cursor"].as_str().unwrap().to_string();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 40);
    let all = conn.request("GET", "/?count=1000&values=true&match=user%3A1*", None).json();
    assert_eq!(all["cursor"], "0");
    assert_eq!(all["items"]["user:12"], 12);
    assert_eq!(all["items"].as_object().unwrap().len(), 11);
    assert_error(&conn.request("GET", "/?count=0", None), 400, "count must be");
    assert_error(&conn.request("GET", "/?count=5000", None), 400, "count must be");
    assert_error(&conn.request("GET", "/?cursor=abc", None), 400, "cursor");
}

#[test]
fn keys_are_percent_decoded_and_underscore_paths_reserved() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    conn.request("POST", "/a%2Fb%20c+d", Some(r#"{"value": 1}"#));
    assert_eq!(resp.cmd(&["EXISTS", "a/b c+d"]), b":1\r\n");
    conn.request("POST", "/%5Fhidden", Some(r#"{"value": 2}"#));
    assert_eq!(resp.cmd(&["EXISTS", "_hidden"]), b":1\r\n");
    assert_eq!(conn.request("GET", "/%5fhidden", None).json()["key"], "_hidden");
    assert_error(&conn.request("GET", "/_hidden", None), 404, "reserved");
    conn.request("POST", "/%E2%82%AC", Some(r#"{"value": 3}"#));
    assert_eq!(resp.cmd(&["GET", "€"]), b"$1\r\n3\r\n");
}

#[test]
fn command_api() {
    let server = server();
    let mut conn = http(&server);
    let ok = conn.request("POST", "/_redis", Some(r#"["SET", "k", "v", "EX", 100]"#));
    assert_eq!((ok.status, ok.json()), (200, json!({"result": "OK"})));
    assert_eq!(conn.request("POST", "/_redis/", Some(r#"["GET","k"]"#)).json(), json!({"result": "v"}));
    assert_eq!(conn.request("POST", "/_redis", Some(r#"["GET","nope"]"#)).json(), json!({"result": null}));
    assert_eq!(conn.request("POST", "/_redis", Some(r#"["TTL","k"]"#)).json(), json!({"result": 100}));
    assert_error(&conn.request("POST", "/_redis", Some(r#"["INCR","k"]"#)), 400, "ERR value is not an integer");
    assert_error(&conn.request("POST", "/_redis", Some(r#"["NOPE"]"#)), 400, "ERR unknown command 'NOPE'");
    assert_error(&conn.request("POST", "/_redis", Some("[]")), 400, "the command is empty");
    assert_error(&conn.request("POST", "/_redis", Some(r#"["GET", {}]"#)), 400, "strings or numbers");
    assert_error(&conn.request("POST", "/_redis", Some(r#"{"GET": 1}"#)), 400, "JSON array");
    assert_error(&conn.request("POST", "/_redis", Some(r#"["MULTI"]"#)), 400, "not supported over HTTP");
    assert_error(&conn.request("POST", "/_redis", Some(r#"["subscribe","c"]"#)), 400, "not supported over HTTP");
    assert_error(&conn.request("POST", "/_redis", Some(r#"["CLIENT","REPLY","OFF"]"#)), 400, "no reply");
    // The connection's session does not leak into the next request.
    assert_eq!(conn.request("POST", "/_redis", Some(r#"["PING"]"#)).json(), json!({"result": "PONG"}));
    conn.request("POST", "/_redis", Some(r#"["SELECT","3"]"#));
    assert_eq!(conn.request("POST", "/_redis", Some(r#"["GET","k"]"#)).json(), json!({"result": "v"}));
    let encoded = conn.request_with("POST", "/_redis", &["Upstash-Encoding: base64"], Some(r#"["MGET","k","x"]"#));
    assert_eq!(encoded.json(), json!({"result": ["dg==", null]}));
    let set_ok = conn.request_with("POST", "/_redis", &["Upstash-Encoding: base64"], Some(r#"["SET","k","v"]"#));
    assert_eq!(set_ok.json(), json!({"result": "OK"}));
}

#[test]
fn pipeline_and_multi_exec() {
    let server = server();
    let mut conn = http(&server);
    let body = r#"[["SET","n","1"],["INCR","n"],["INCR","nope","x"],["GET","n"],["MGET","n","m"]]"#;
    let results = conn.request("POST", "/_redis/pipeline", Some(body));
    assert_eq!(results.status, 200);
    assert_eq!(
        results.json(),
        json!([
            {"result": "OK"},
            {"result": 2},
            {"error": "ERR wrong number of arguments for 'incr' command"},
            {"result": "2"},
            {"result": ["2", null]}
        ])
    );
    assert_error(&conn.request("POST", "/_redis/pipeline", Some(r#"[["SET","a","1"],[]]"#)), 400, "empty");
    assert_eq!(conn.request("POST", "/_redis", Some(r#"["EXISTS","a"]"#)).json(), json!({"result": 0}));
    assert_error(&conn.request("POST", "/_redis/pipeline", Some("[]")), 400, "from 1 to");
    let body = r#"[["SET","t","x"],["INCR","t"],["RPUSH","l","a","b"],["LRANGE","l",0,-1]]"#;
    let results = conn.request("POST", "/_redis/multi-exec", Some(body));
    assert_eq!(results.status, 200, "{}", results.text());
    assert_eq!(
        results.json(),
        json!([
            {"result": "OK"},
            {"error": "ERR value is not an integer or out of range"},
            {"result": 2},
            {"result": ["a", "b"]}
        ])
    );
    // A command rejected while queuing aborts the whole transaction: nothing is written.
    let aborted = conn.request("POST", "/_redis/multi-exec", Some(r#"[["SET","u","1"],["INCR","u","x"]]"#));
    assert_error(&aborted, 400, "EXECABORT");
    assert_eq!(conn.request("POST", "/_redis", Some(r#"["EXISTS","u"]"#)).json(), json!({"result": 0}));
    assert_error(&conn.request("POST", "/_redis/multi-exec", Some(r#"[["EXEC"]]"#)), 400, "not supported");
}

#[test]
fn bearer_auth_with_requirepass() {
    let server = TestServer::ferrokv_with_http(&["--requirepass", "s3cret"]);
    let mut conn = http(&server);
    assert_eq!(conn.request("GET", "/_health", None).status, 200);
    let denied = conn.request("GET", "/k", None);
    assert_error(&denied, 401, "authentication required");
    assert_eq!(denied.header("www-authenticate"), Some("Bearer"));
    assert_error(&conn.request_with("GET", "/k", &["Authorization: Bearer wrong"], None), 401, "invalid password");
    assert_error(&conn.request("POST", "/_redis", Some(r#"["PING"]"#)), 401, "authentication required");
    assert_error(&conn.request("GET", "/_metrics", None), 401, "authentication required");
    let auth = ["Authorization: Bearer s3cret"];
    assert_eq!(conn.request_with("POST", "/k", &auth, Some(r#"{"value": 1}"#)).status, 200);
    assert_eq!(conn.request_with("GET", "/k", &auth, None).json()["value"], 1);
    assert_eq!(conn.request_with("POST", "/_redis", &auth, Some(r#"["GET","k"]"#)).json(), json!({"result": "1"}));
    // Authentication lasts one request, not the connection.
    assert_eq!(conn.request("GET", "/k", None).status, 401);
}

#[test]
fn metrics_in_prometheus_text() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    resp.cmd(&["SET", "a", "1", "EX", "100"]);
    resp.cmd(&["GET", "a"]);
    let metrics = conn.request("GET", "/_metrics", None);
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = metrics.text();
    for line in [
        "ferrokv_connected_clients{protocol=\"http\"} 1\n",
        "ferrokv_connected_clients{protocol=\"resp\"} 1\n",
        "ferrokv_commands_total{cmd=\"get\"} 1\n",
        "ferrokv_keys{db=\"0\"} 1\n",
        "ferrokv_expiring_keys{db=\"0\"} 1\n",
        "# TYPE ferrokv_command_duration_seconds histogram\n",
        "ferrokv_command_duration_seconds_bucket{le=\"+Inf\"} ",
        "ferrokv_used_memory_bytes ",
        "ferrokv_uptime_seconds ",
        "ferrokv_expired_keys_total 0\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn keep_alive_and_pipelined_requests() {
    let server = server();
    let mut conn = http(&server);
    let mut batch = request_bytes("POST", "/p", &[], Some(r#"{"value": 1}"#));
    batch.extend(request_bytes("POST", "/p/incr", &[], None));
    batch.extend(request_bytes("GET", "/p", &[], None));
    batch.extend(request_bytes("GET", "/_nope", &[], None));
    batch.extend(request_bytes("DELETE", "/p", &[], None));
    conn.send_raw(&batch);
    let statuses: Vec<u16> = (0..5).map(|_| conn.read_response().status).collect();
    assert_eq!(statuses, [200, 200, 200, 404, 200]);
    // Split at every byte: the parser waits for the rest.
    let request = request_bytes("POST", "/split", &[], Some(r#"{"value": [1]}"#));
    for byte in &request {
        conn.send_raw(std::slice::from_ref(byte));
    }
    assert_eq!(conn.read_response().json()["action"], "created");
    let closing = conn.request_with("GET", "/split", &["Connection: close"], None);
    assert_eq!(closing.header("connection"), Some("close"));
    assert!(conn.is_closed());
    let mut old = http(&server);
    old.send_raw(b"GET /_health HTTP/1.0\r\n\r\n");
    assert_eq!(old.read_response().status, 200);
    assert!(old.is_closed());
}

#[test]
fn expect_100_continue() {
    let server = server();
    let mut conn = http(&server);
    let body = r#"{"value": "after continue"}"#;
    let head = format!(
        "POST /c HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    conn.send_raw(head.as_bytes());
    assert_eq!(conn.read_response().status, 100);
    conn.send_raw(body.as_bytes());
    assert_eq!(conn.read_response().json()["action"], "created");
    // With the body already sent, no interim response.
    conn.send_raw(format!("{head}{body}").as_bytes());
    assert_eq!(conn.read_response().json()["action"], "updated");
}

#[test]
fn head_and_body_limits() {
    let server = TestServer::ferrokv_with_http(&["--http-max-body", "1000"]);
    let mut big_header = http(&server);
    big_header.send_raw(format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000)).as_bytes());
    assert_error(&big_header.read_response(), 431, "too large");
    assert!(big_header.is_closed());
    let mut many = http(&server);
    many.send_raw(format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(100)).as_bytes());
    assert_error(&many.read_response(), 431, "too large");
    // Refused from the declared length alone, before any of the body is sent.
    let mut huge = http(&server);
    huge.send_raw(b"POST /k HTTP/1.1\r\nContent-Length: 1001\r\n\r\n");
    assert_error(&huge.read_response(), 413, "http-max-body");
    assert!(huge.is_closed());
    let mut fits = http(&server);
    let value = format!("{{\"value\": \"{}\"}}", "v".repeat(980));
    assert_eq!(fits.request("POST", "/k", Some(&value)).status, 200);
    let mut chunked = http(&server);
    chunked.send_raw(b"POST /k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_error(&chunked.read_response(), 501, "Transfer-Encoding");
    let mut garbage = http(&server);
    garbage.send_raw(b"\x00\x01\x02 not http at all\r\n\r\n");
    assert_error(&garbage.read_response(), 400, "malformed");
    assert!(garbage.is_closed());
    let mut resp_on_http = http(&server);
    resp_on_http.send_raw(b"*1\r\n$4\r\nPING\r\n\r\n");
    assert_error(&resp_on_http.read_response(), 400, "malformed");
}

#[test]
fn large_body_within_the_default_limit() {
    let server = server();
    let mut conn = http(&server);
    let mut resp = server.conn();
    let big = "x".repeat(4 * 1024 * 1024);
    let body = format!("{{\"value\": \"{big}\"}}");
    assert_eq!(conn.request("POST", "/big", Some(&body)).status, 200);
    assert_eq!(resp.cmd(&["STRLEN", "big"]), format!(":{}\r\n", big.len() + 2).as_bytes());
    assert_eq!(conn.request("GET", "/big", None).json()["value"].as_str().map(str::len), Some(big.len()));
}

#[test]
fn idle_and_slow_connections_time_out() {
    let server = TestServer::ferrokv_with_http(&["--http-idle-timeout", "1"]);
    let mut idle = http(&server);
    assert_eq!(idle.request("GET", "/_health", None).status, 200);
    let mut slow = http(&server);
    slow.set_read_timeout_ms(200);
    let started = Instant::now();
    // A slowloris: one byte of a head every 100 ms, never finishing.
    let mut timed_out = None;
    for byte in b"GET /_health HTTP/1.1\r\nX-Slow: ".iter().cycle().take(60) {
        if let Ok(response) = slow.try_read_response() {
            timed_out = Some(response);
            break;
        }
        slow.send_raw(std::slice::from_ref(byte));
        thread::sleep(Duration::from_millis(100));
    }
    let response = timed_out.expect("the slow client got a 408");
    assert_error(&response, 408, "http-idle-timeout");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(idle.is_closed(), "the idle keep-alive connection was closed");
}

/// Garbage, huge headers, a huge declared body and a slowloris at once: RESP and HTTP clients are served
/// promptly all along.
#[test]
fn hostile_clients_do_not_disturb_others() {
    let server = TestServer::ferrokv_with_http(&["--http-idle-timeout", "2"]);
    let mut resp = server.conn();
    let mut good = http(&server);
    let mut hostile: Vec<HttpConn> = (0..4).map(|_| http(&server)).collect();
    hostile[0].send_raw(&vec![0xffu8; 64 * 1024]);
    hostile[1].send_raw(format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(100_000)).as_bytes());
    hostile[2].send_raw(b"POST /k HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n");
    hostile[3].send_raw(b"GET / HTTP/1.1\r\nHost");
    for round in 0..20 {
        let started = Instant::now();
        assert_eq!(resp.cmd(&["SET", "r", &round.to_string()]), b"+OK\r\n");
        assert_eq!(good.request("GET", "/r", None).json()["value"], json!(round));
        assert!(started.elapsed() < Duration::from_millis(500), "round {round} took {:?}", started.elapsed());
        hostile[3].send_raw(b"x");
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(resp.cmd(&["PING"]), b"+PONG\r\n");
    let value: Value = good.request("GET", "/_health", None).json();
    assert_eq!(value["status"], "ok");
}

#[test]
fn curl_script_covers_every_route() {
    if std::process::Command::new("curl").arg("--version").output().is_err() {
        common::skip("curl is not installed");
        return;
    }
    let server = server();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http_curl.sh");
    let output = std::process::Command::new("bash")
        .args([script, &format!("http://127.0.0.1:{}", server.http_port)])
        .output()
        .expect("run the curl script");
    assert!(
        output.status.success(),
        "curl script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The browser checks over raw sockets (tests/browser.rs drives a real browser): Host, Origin, CORS and the
/// JSON-only bodies, each refused before anything runs.
#[test]
fn web_pages_are_refused_unless_their_origin_is_allowed() {
    let server = TestServer::ferrokv_with_http(&["--http-allow-origins", "http://app.example:3000"]);
    let mut resp = server.conn();
    let mut conn = http(&server);
    let hostile = conn.request_with("POST", "/k", &["Origin: http://evil.example"], Some(r#"{"value": 1}"#));
    assert_error(&hostile, 403, "origin not allowed");
    assert_eq!(hostile.header("access-control-allow-origin"), None);
    let form = b"POST /_redis HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 19\r\n\r\n[\"SET\",\"k\",\"pwned\"]";
    conn.send_raw(form);
    assert_error(&conn.read_response(), 415, "application/json");
    let mut rebound = http(&server);
    rebound.send_raw(b"GET /k HTTP/1.1\r\nHost: rebind.example:7379\r\n\r\n");
    assert_error(&rebound.read_response(), 421, "Host not served");
    assert_eq!(resp.cmd(&["EXISTS", "k"]), b":0\r\n");

    let preflight = conn.request_with(
        "OPTIONS",
        "/_redis",
        &["Origin: http://app.example:3000", "Access-Control-Request-Method: POST"],
        None,
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("http://app.example:3000"));
    assert_eq!(preflight.header("access-control-allow-methods"), Some("GET, POST, PUT, DELETE"));
    assert_eq!(preflight.header("vary"), Some("Origin"));
    let allowed =
        conn.request_with("POST", "/_redis", &["Origin: http://app.example:3000"], Some(r#"["SET","k","v"]"#));
    assert_eq!(allowed.json(), json!({"result": "OK"}));
    assert_eq!(allowed.header("access-control-allow-origin"), Some("http://app.example:3000"));
    let disallowed_preflight = conn.request_with(
        "OPTIONS",
        "/_redis",
        &["Origin: http://evil.example", "Access-Control-Request-Method: POST"],
        None,
    );
    assert_error(&disallowed_preflight, 403, "origin not allowed");
    // Plain clients (curl, programs) send no Origin and are served as before.
    assert_eq!(conn.request("GET", "/k", None).json()["value"], "v");
}

/// Every refusal an allowed origin's page gets names that origin in its CORS headers, so the page can read why
/// (a 415 would otherwise be an opaque network error); another origin's refusals never do.
#[test]
fn refusals_to_an_allowed_origin_carry_its_cors_headers() {
    let allowed = "http://app.example";
    let server = TestServer::ferrokv_with_http(&[
        "--http-allow-origins",
        allowed,
        "--http-max-body",
        "100",
        "--requirepass",
        "pw",
    ]);
    let many_headers = "X-Filler: y\r\n".repeat(80);
    let long_header = format!("X-Filler: {}\r\n", "y".repeat(20_000));
    // (status, request line, headers before Origin, headers after it)
    let cases: &[(u16, &str, &str, &str)] = &[
        (
            415,
            "POST /_redis",
            "Authorization: Bearer pw\r\n",
            "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n[]",
        ),
        (401, "GET /k", "", "\r\n"),
        (404, "GET /_nothing", "Authorization: Bearer pw\r\n", "\r\n"),
        (405, "GET /_redis", "Authorization: Bearer pw\r\n", "\r\n"),
        (405, "GET /_publish/c", "Authorization: Bearer pw\r\n", "\r\n"),
        (413, "POST /k", "Content-Length: 1000\r\n", "Content-Type: application/json\r\n\r\n"),
        (431, "GET /k", &many_headers, "\r\n"),
        (431, "GET /k", "", &format!("{long_header}\r\n")),
        (400, "GET /k", "", "Not a header line\r\n\r\n"),
        (501, "POST /k", "Transfer-Encoding: chunked\r\n", "\r\n"),
        (417, "POST /k", "", "Expect: 200-ok\r\n\r\n"),
    ];
    for (status, line, before, after) in cases {
        for (origin, expected_status, cors) in
            [(allowed, *status, Some(allowed)), ("http://evil.example", *status, None)]
        {
            // A refusal the head parser makes comes before the origin check; the rest are 403 for evil.
            let parsed_before_origin = matches!(status, 413 | 431 | 400 | 501 | 417);
            let expected_status = if cors.is_none() && !parsed_before_origin { 403 } else { expected_status };
            let mut conn = http(&server);
            conn.send_raw(
                format!("{line} HTTP/1.1\r\nHost: localhost\r\n{before}Origin: {origin}\r\n{after}").as_bytes(),
            );
            let response = conn.read_response();
            assert_eq!(response.status, expected_status, "{line} from {origin}: {}", response.text());
            assert_eq!(response.header("access-control-allow-origin"), cors, "{status} {line} from {origin}");
            assert_eq!(response.header("vary"), cors.map(|_| "Origin"), "{status} {line} from {origin}");
        }
    }
    // A Host the gateway does not serve is refused, readably for an allowed page.
    let mut conn = http(&server);
    conn.send_raw(format!("GET /k HTTP/1.1\r\nHost: rebind.example\r\nOrigin: {allowed}\r\n\r\n").as_bytes());
    let misdirected = conn.read_response();
    assert_eq!((misdirected.status, misdirected.header("access-control-allow-origin")), (421, Some(allowed)));
    // Two Origin headers: which one to trust is ambiguous, so no CORS at all.
    let mut conn = http(&server);
    conn.send_raw(
        format!("GET /k HTTP/1.1\r\nHost: localhost\r\nOrigin: {allowed}\r\nOrigin: {allowed}\r\n\r\n").as_bytes(),
    );
    let twice = conn.read_response();
    assert_eq!((twice.status, twice.header("access-control-allow-origin")), (400, None));
}

/// Past `maxclients`, an HTTP client gets a 503 and a close, never a silent hang (RESP clients get Redis's
/// `-ERR max number of clients reached`, tests/hardening.rs); an event stream counts as a client.
#[test]
fn a_client_past_maxclients_gets_a_503() {
    let server = TestServer::ferrokv_with_http(&["--maxclients", "2"]);
    let mut resp = server.conn();
    // Polls `request` over RESP until it answers `want` (bounded).
    let mut until = |request: &[&str], want: &[u8]| {
        let answered = (0..500).any(|_| {
            let reply = resp.cmd(request);
            reply.windows(want.len()).any(|w| w == want) || {
                thread::sleep(Duration::from_millis(10));
                false
            }
        });
        assert!(answered, "{request:?} never answered {:?}", String::from_utf8_lossy(want));
    };
    // The start-up probe's connection is gone, then the stream is the second client.
    until(&["INFO", "clients"], b"connected_clients:1\r\n");
    let mut stream = http(&server);
    stream.send_raw(&request_bytes("GET", "/_subscribe/c", &[], None));
    until(&["PUBSUB", "NUMSUB", "c"], b"*2\r\n$1\r\nc\r\n:1\r\n");
    let mut refused = http(&server);
    let response = refused.read_response();
    assert_error(&response, 503, "max number of clients reached");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(refused.is_closed());
    let stats = String::from_utf8(resp.cmd(&["INFO", "stats"])).unwrap();
    assert!(stats.contains("rejected_connections:1\r\n"), "{stats}");
}
