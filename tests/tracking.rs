//! Client-side caching (CLIENT TRACKING and friends) and CLIENT KILL's filters, several clients at once,
//! against redis-server: each script runs on both servers and every frame read (replies and invalidation
//! pushes or messages, RESP2 and RESP3) must be the same bytes, in the same order.
//!
//! A script line is `<client> <request> | <reads>`: client `<client>` sends `<request>` (split on spaces;
//! `{N}` becomes client N's CLIENT ID, `{aN}` and `{lN}` its address and local address), then one frame is read from each client listed in `<reads>`, in that
//! order, so a frame too many or too few fails. A line starting with `~` reads its frames without comparing
//! them; `sleep` lets a short TTL pass. Frames that differ by nature between the servers are reduced first:
//! CLIENT INFO / LIST lines to their `flags`, `redir` (as `{N}`) and `resp` fields, INFO to its `tracking_`
//! lines, and a reply that is a client's ID to `{N}` (only on lines starting with `@`).

mod common;

use common::{RespConn, TestServer, escape, require_redis_with};

const CLIENTS: usize = 4;
const SERVER_ARGS: &[&str] = &["--enable-debug-command", "yes"];

/// One parsed script line.
struct Line<'a> {
    client: usize,
    request: String,
    reads: Vec<usize>,
    compared: bool,
    ids_in_reply: bool,
    text: &'a str,
}

/// What a script may name of a client: its CLIENT ID, address and local address.
struct Identity {
    id: u64,
    addr: String,
    laddr: String,
}

fn parse<'a>(text: &'a str, clients: &[Identity]) -> Line<'a> {
    let (compared, rest) = match text.strip_prefix('~') {
        Some(rest) => (false, rest),
        None => (true, text),
    };
    let (ids_in_reply, rest) = match rest.strip_prefix('@') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (head, reads) = rest.split_once(" | ").unwrap_or((rest, ""));
    let (client, request) = head.split_once(' ').expect("a line names its client");
    let mut request = request.to_string();
    for (n, client) in clients.iter().enumerate() {
        request = request.replace(&format!("{{{n}}}"), &client.id.to_string());
        request = request.replace(&format!("{{a{n}}}"), &client.addr);
        request = request.replace(&format!("{{l{n}}}"), &client.laddr);
    }
    let reads = reads.split_whitespace().map(|r| r.parse().expect("a client number")).collect();
    Line { client: client.parse().expect("a client number"), request, reads, compared, ids_in_reply, text }
}

/// `frame` with what differs by nature between servers reduced (see the module comment).
fn normalize(frame: &[u8], ids: &[u64], ids_in_reply: bool) -> String {
    let text = String::from_utf8_lossy(frame);
    let name_ids = |mut value: String| {
        for (n, id) in ids.iter().enumerate() {
            value = value.replace(&format!("redir={id} "), &format!("redir={{{n}}} "));
            if ids_in_reply {
                // A bare integer reply (GETREDIR), HELLO's `id`, TRACKINGINFO's `redirect`.
                if value == format!(":{id}\r\n") {
                    value = format!(":{{{n}}}\r\n");
                }
                for field in ["id", "redirect", "tracking-redir-broken"] {
                    value = value.replace(&format!("{field}\r\n:{id}\r\n"), &format!("{field}\r\n:{{{n}}}\r\n"));
                }
            }
        }
        value
    };
    if text.contains("laddr=") {
        let kept = ["flags=", "redir=", "resp=", "multi=", "sub="];
        let lines = text.lines().filter(|line| line.contains("laddr="));
        let fields = lines.map(|line| {
            let picked: Vec<&str> = line.split(' ').filter(|f| kept.iter().any(|k| f.starts_with(k))).collect();
            picked.join(" ") + " "
        });
        return name_ids(fields.collect::<Vec<_>>().join("; "));
    }
    if text.contains("# Clients") || text.contains("# Stats") {
        return text.lines().filter(|line| line.starts_with("tracking_")).collect::<Vec<_>>().join(" ");
    }
    escape(name_ids(text.into_owned()).as_bytes())
}

/// A client's identity, from its CLIENT INFO line.
fn identity(client: &mut RespConn) -> Identity {
    let info = String::from_utf8_lossy(&client.cmd(&["CLIENT", "INFO"])).into_owned();
    let field = |name: &str| {
        let prefix = format!("{name}=");
        let token = info.split_whitespace().find(|token| token.starts_with(&prefix)).expect("the field");
        token[prefix.len()..].to_string()
    };
    Identity { id: field("id").parse().expect("an id"), addr: field("addr"), laddr: field("laddr") }
}

/// Runs `script` on `server` with fresh clients; returns the transcript of compared frames.
fn transcript(server: &TestServer, script: &[&str]) -> Vec<String> {
    let mut clients: Vec<RespConn> = (0..CLIENTS).map(|_| server.conn()).collect();
    let identities: Vec<Identity> = clients.iter_mut().map(identity).collect();
    let ids: Vec<u64> = identities.iter().map(|i| i.id).collect();
    let mut out = Vec::new();
    for (index, text) in script.iter().enumerate() {
        if *text == "sleep" {
            std::thread::sleep(std::time::Duration::from_millis(120));
            continue;
        }
        let line = parse(text, &identities);
        let argv: Vec<&str> = line.request.split(' ').collect();
        clients[line.client].send_raw(&common::encode_command(&argv));
        for &reader in &line.reads {
            let frame = clients[reader]
                .try_read_reply()
                .unwrap_or_else(|err| panic!("{}: line {index} `{}` client {reader}: {err}", server.name(), line.text));
            if line.compared {
                out.push(format!(
                    "{index} `{}` -> {reader}: {}",
                    line.text,
                    normalize(&frame, &ids, line.ids_in_reply)
                ));
            }
        }
    }
    for (reader, client) in clients.iter_mut().enumerate() {
        client.set_read_timeout_ms(100);
        if let Ok(extra) = client.try_read_reply() {
            panic!("{}: client {reader} got an unexpected frame {}", server.name(), escape(&extra));
        }
    }
    out
}

/// The script on ferrokv and on redis-server, frame for frame.
fn check(script: &[&str]) {
    let Some(redis) = require_redis_with(SERVER_ARGS) else { return };
    let ferrokv = TestServer::ferrokv(SERVER_ARGS);
    let (ours, theirs) = (transcript(&ferrokv, script), transcript(&redis, script));
    if let Some((ours, theirs)) = ours.iter().zip(&theirs).find(|(ours, theirs)| ours != theirs) {
        panic!("ferrokv and redis-server differ:\n  ferrokv:      {ours}\n  redis-server: {theirs}");
    }
    assert_eq!(ours.len(), theirs.len(), "the transcripts' lengths");
}

#[test]
fn tracking_options_and_their_errors() {
    check(&[
        "0 CLIENT TRACKING | 0",
        "0 CLIENT TRACKING maybe | 0",
        "0 CLIENT TRACKING on foo | 0",
        "0 CLIENT TRACKING on REDIRECT | 0",
        "0 CLIENT TRACKING on REDIRECT x | 0",
        "0 CLIENT TRACKING on REDIRECT 0 | 0",
        "0 CLIENT TRACKING on REDIRECT 999999 | 0",
        "0 CLIENT TRACKING on REDIRECT {1} REDIRECT {2} | 0",
        "0 CLIENT TRACKING on PREFIX a | 0",
        "0 CLIENT TRACKING on OPTIN OPTOUT | 0",
        "0 CLIENT TRACKING on BCAST OPTIN | 0",
        "0 CLIENT TRACKING on BCAST OPTOUT NOLOOP | 0",
        "0 CLIENT TRACKING on BCAST PREFIX FOOBAR PREFIX FOO | 0",
        "0 CLIENT TRACKING on BCAST PREFIX a\0x PREFIX a | 0",
        // Redis reports an overlap found for a later prefix, and enables tracking anyway.
        "0 CLIENT TRACKING on BCAST PREFIX a PREFIX b PREFIX bc | 0 0",
        "0 CLIENT TRACKINGINFO | 0",
        "0 CLIENT TRACKING on BCAST PREFIX zz PREFIX a | 0",
        "0 CLIENT TRACKING on BCAST PREFIX ab | 0",
        "0 CLIENT TRACKING on | 0",
        "0 CLIENT TRACKING on BCAST PREFIX c | 0",
        "0 CLIENT TRACKINGINFO | 0",
        "0 CLIENT INFO | 0",
        "0 CLIENT TRACKING off | 0",
        "0 CLIENT TRACKING on BCAST | 0",
        "0 CLIENT TRACKING on BCAST PREFIX x | 0",
        "0 CLIENT TRACKINGINFO | 0",
        "0 CLIENT TRACKING off | 0",
        "0 CLIENT CACHING yes | 0",
        "0 CLIENT CACHING | 0",
        "0 CLIENT TRACKING on OPTIN | 0",
        "0 CLIENT CACHING no | 0",
        "0 CLIENT CACHING maybe | 0",
        "0 CLIENT TRACKING on OPTOUT | 0",
        "0 CLIENT CACHING yes | 0",
        "0 CLIENT TRACKINGINFO | 0",
        "0 CLIENT TRACKING off | 0",
        "0 CLIENT TRACKING on OPTOUT NOLOOP | 0",
        "0 CLIENT CACHING no | 0",
        "0 CLIENT TRACKINGINFO | 0",
        "@0 HELLO 3 | 0",
        "0 CLIENT TRACKINGINFO | 0",
        "0 CLIENT TRACKING off | 0",
        "0 CLIENT TRACKINGINFO | 0",
        "@0 CLIENT GETREDIR | 0",
        "0 CLIENT TRACKING on REDIRECT {1} | 0",
        "@0 CLIENT GETREDIR | 0",
        "@0 CLIENT TRACKINGINFO | 0",
        "0 CLIENT INFO | 0",
    ]);
}

#[test]
fn resp3_invalidations_come_after_the_reply_of_ones_own_command() {
    check(&[
        "@0 HELLO 3 | 0",
        "~0 CLIENT TRACKING on | 0",
        "1 MSET a{t} 1 b{t} 2 | 1",
        "0 MGET a{t} b{t} nokey | 0",
        "0 HSET h f 1 | 0",
        "0 HGET h f | 0",
        "0 HDEL h f | 0 0",
        "1 SET a{t} 3 | 1 0",
        "1 SET a{t} 4 | 1",
        "0 GET b{t} | 0",
        "0 MULTI | 0",
        "0 INCR b{t} | 0",
        "0 GET a{t} | 0",
        "0 EXEC | 0 0",
        "0 GET a{t} | 0",
        "0 DEBUG SET-ACTIVE-EXPIRE 0 | 0",
        "0 SET v 1 PX 50 | 0",
        "0 GET v | 0",
        "sleep",
        "0 MGET a{t} v | 0 0",
        "0 DEBUG SET-ACTIVE-EXPIRE 1 | 0",
        "0 GET a{t} | 0",
        "0 SET a{t} 1 | 0 0",
        "0 INFO | 0",
        "0 CLIENT TRACKING off | 0",
        "0 INFO | 0",
    ]);
}

#[test]
fn redirection_to_resp2_subscribers_resp3_clients_and_broken_redirects() {
    check(&[
        "1 SUBSCRIBE __redis__:invalidate | 1",
        "0 CLIENT TRACKING on REDIRECT {1} | 0",
        "0 GET k | 0",
        "3 SET k 1 | 3 1",
        // A RESP2 redirect client that subscribed to nothing gets nothing.
        "0 CLIENT TRACKING on REDIRECT {2} | 0",
        "0 GET k | 0",
        "3 SET k 2 | 3",
        "@2 HELLO 3 | 2",
        "0 GET k | 0",
        "3 SET k 3 | 3 2",
        // A flush: a null in the tracking client's protocol, wherever it goes.
        "0 GET k | 0",
        "3 FLUSHALL | 3 2",
        "0 CLIENT TRACKING on REDIRECT {1} | 0",
        "3 FLUSHDB | 3 1",
        "@0 HELLO 3 | 0",
        "0 CLIENT TRACKING on REDIRECT {2} | 0",
        "0 GET k | 0",
        "2 QUIT | 2",
        "@3 SET k 4 | 3 0",
        "3 SET k 5 | 3",
        "0 GET k | 0",
        "@3 SET k 6 | 3 0",
        "@0 CLIENT TRACKINGINFO | 0",
        "0 CLIENT INFO | 0",
        "0 CLIENT TRACKING on | 0",
        "0 CLIENT INFO | 0",
        "0 FLUSHALL | 0 0",
        "3 DEBUG RELOAD | 3 0",
        "0 RESET | 0",
        "0 CLIENT TRACKINGINFO | 0",
        "3 INFO | 3",
    ]);
}

#[test]
fn bcast_prefixes_noloop_and_their_broadcast() {
    check(&[
        "@0 HELLO 3 | 0",
        "0 CLIENT TRACKING on BCAST PREFIX a: PREFIX b: NOLOOP | 0",
        "@1 HELLO 3 | 1",
        "1 CLIENT TRACKING on BCAST | 1",
        "3 MULTI | 3",
        "3 INCR a:2 | 3",
        "3 INCR a:1 | 3",
        "3 INCR b:1 | 3",
        "3 INCR c:1 | 3",
        "3 EXEC | 3 0 0 1",
        "0 SET a:3 x | 0 1",
        "0 SET a:4 x | 0 1",
        "3 SET a:4 y | 3 0 1",
        "0 CLIENT INFO | 0",
        "0 INFO | 0",
        "3 SET p 1 PX 30 | 3 1",
        "sleep",
        "3 PING | 3 1",
        "1 CLIENT TRACKING off | 1",
        "0 CLIENT TRACKING off | 0",
        "0 INFO | 0",
    ]);
}

#[test]
fn optin_optout_caching_and_scripts() {
    check(&[
        "@0 HELLO 3 | 0",
        "0 CLIENT TRACKING on OPTIN | 0",
        "0 GET a | 0",
        "1 SET a 1 | 1",
        "0 CLIENT CACHING yes | 0",
        "0 GET a | 0",
        "1 SET a 2 | 1 0",
        "0 CLIENT CACHING yes | 0",
        "0 NOSUCH | 0",
        "0 GET z | 0",
        "0 CLIENT CACHING yes | 0",
        "0 GET | 0",
        "0 GET y | 0",
        "1 MSET z 1 y 1 | 1",
        "0 CLIENT CACHING yes | 0",
        "0 MULTI | 0",
        "0 GET a | 0",
        "0 GET b | 0",
        "0 EXEC | 0",
        "0 GET c | 0",
        "1 MSET a 3 b 3 c 3 | 1 0 0",
        "0 CLIENT TRACKING off | 0",
        "0 CLIENT TRACKING on OPTOUT | 0",
        "0 CLIENT CACHING no | 0",
        "0 GET a | 0",
        "0 GET b | 0",
        "1 MSET a 4 b 4 | 1 0",
        "0 CLIENT TRACKING off | 0",
        "0 CLIENT TRACKING on | 0",
        "0 EVAL redis.call('set','s3','bar') 2 s1 s2 | 0",
        "1 MSET s1 1 s2 1 s3 1 | 1",
        "0 EVAL redis.call('get','s3') 2 s1 s2 | 0",
        "1 MSET s2 2 s1 2 | 1 0 0",
        "0 EVAL_RO redis.call('ping') 1 s1 | 0",
        "1 SET s1 3 | 1",
        "0 EVAL_RO redis.call('get','s1') 1 s1 | 0",
        "1 SET s1 4 | 1 0",
        "0 CLIENT TRACKING on NOLOOP | 0",
        "0 GET s1 | 0",
        "0 EVAL redis.call('set','s1','5') 1 s1 | 0",
        "0 GET s1 | 0",
        "1 SET s1 6 | 1 0",
    ]);
}

#[test]
fn blocked_waiters_get_their_reply_before_the_invalidation() {
    check(&[
        "@0 HELLO 3 | 0",
        "0 CLIENT TRACKING on | 0",
        "1 RPUSH dst a | 1",
        "0 LRANGE dst 0 -1 | 0",
        "0 BLMOVE src dst LEFT LEFT 0 | ",
        "~2 PING | 2",
        "1 RPUSH src foo | 1 0 0",
    ]);
}

#[test]
fn the_table_bound_evicts_keys_with_an_invalidation() {
    check(&[
        "@0 HELLO 3 | 0",
        "0 CLIENT TRACKING on | 0",
        "0 MGET k1 k2 k3 | 0",
        "1 INFO | 1",
        "1 CONFIG SET tracking-table-max-keys 1 | 1",
        // Which keys go is random: the two invalidations are counted, not compared.
        "~0 PING | 0 0 0",
        "1 INFO | 1",
        "1 CONFIG SET tracking-table-max-keys 0 | 1",
    ]);
}

#[test]
fn client_kill_filters() {
    check(&[
        "1 CLIENT SETNAME one | 1",
        "2 SUBSCRIBE ch | 2",
        "0 CLIENT KILL ID | 0",
        "0 CLIENT KILL ID 0 | 0",
        "0 CLIENT KILL ID x | 0",
        "0 CLIENT KILL TYPE foo | 0",
        "0 CLIENT KILL USER nobody | 0",
        "0 CLIENT KILL SKIPME maybe | 0",
        "0 CLIENT KILL MAXAGE 1 | 0",
        "0 CLIENT KILL ADDR 1.2.3.4:5 | 0",
        "0 CLIENT KILL LADDR 1.2.3.4:5 | 0",
        "0 CLIENT KILL 1.2.3.4:5 | 0",
        "0 CLIENT KILL TYPE master | 0",
        "0 CLIENT KILL TYPE replica | 0",
        "0 CLIENT KILL TYPE slave | 0",
        "0 CLIENT KILL ID {1} TYPE pubsub | 0",
        "0 CLIENT KILL TYPE pubsub | 0",
        "0 CLIENT LIST TYPE pubsub | 0",
        "0 CLIENT KILL ID {1} USER default SKIPME yes | 0",
        "0 CLIENT KILL TYPE normal SKIPME yes | 0",
        "0 CLIENT KILL ID {0} | 0",
        "0 CLIENT KILL ID {0} SKIPME no | 0",
    ]);
}

#[test]
fn client_kill_by_address_user_and_the_old_form() {
    check(&[
        "0 CLIENT KILL ADDR {a1} LADDR {l1} | 0",
        "0 CLIENT KILL ADDR {a0} | 0",
        "0 CLIENT KILL ADDR {a0} SKIPME no ID {1} LADDR {l1} | 0",
        "0 CLIENT KILL USER default ADDR {a2} | 0",
        "0 CLIENT KILL {a3} | 0",
        "0 CLIENT KILL {a3} | 0",
        "0 CLIENT NO-EVICT maybe | 0",
        "0 CLIENT NO-EVICT | 0",
        "0 CLIENT NO-EVICT on x | 0",
        "0 CLIENT NO-EVICT ON | 0",
        "0 CLIENT INFO | 0",
        "0 CLIENT NO-EVICT off | 0",
        "0 MULTI | 0",
        "0 CLIENT INFO | 0",
        "0 DISCARD | 0",
        "0 CLIENT KILL {a0} | 0",
    ]);
}

/// A subscriber that reads nothing while megabytes are published to it: on both servers its unsent output
/// shows as `omem` bytes in `oll` nodes beyond the static buffer's `obl`, and in `tot-mem`.
#[test]
fn output_buffer_fields_show_unsent_replies() {
    let Some(redis) = require_redis_with(SERVER_ARGS) else { return };
    let ferrokv = TestServer::ferrokv(SERVER_ARGS);
    for server in [&redis, &ferrokv] {
        let mut reader = server.conn();
        reader.cmd(&["SUBSCRIBE", "big"]);
        let mut publisher = server.conn();
        let message = "x".repeat(100_000);
        for _ in 0..200 {
            publisher.cmd(&["PUBLISH", "big", &message]);
        }
        let list = String::from_utf8_lossy(&publisher.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"])).into_owned();
        let field = |name: &str| -> u64 {
            let prefix = format!(" {name}=");
            let start = list.find(&prefix).unwrap_or_else(|| panic!("{}: no {name} in {list}", server.name()));
            list[start + prefix.len()..].split(' ').next().unwrap().parse().unwrap()
        };
        let (obl, oll, omem, tot) = (field("obl"), field("oll"), field("omem"), field("tot-mem"));
        assert!(omem > 1_000_000 && oll > 0 && obl <= 16384 && tot > omem, "{}: {list}", server.name());
    }
}
