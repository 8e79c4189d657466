//! Pub/sub and keyspace notifications, several clients at once, against redis-server: each script runs on
//! both servers, and every frame each client reads (replies and pushes, RESP2 and RESP3) must be the same
//! bytes. A step names the client that sends, the command, and how many frames each client then reads, so
//! a frame too many or too few fails on the read timeout or in the comparison.

mod common;

use common::{RespConn, TestServer, escape, require_redis};

/// One request and the frames it makes each client receive.
struct Step {
    client: usize,
    request: &'static str,
    frames: [usize; 3],
    /// Compare this step's frames (false for replies that name the server, such as HELLO's id).
    compared: bool,
}

/// A compared step (`sleep` as the request waits 20 ms instead of sending anything): `client` sends `request` (space-separated), then each client reads `frames[i]` frames.
const fn s(client: usize, request: &'static str, frames: [usize; 3]) -> Step {
    Step { client, request, frames, compared: true }
}

/// A step whose frames are read but not compared.
const fn uncompared(client: usize, request: &'static str, frames: [usize; 3]) -> Step {
    Step { client, request, frames, compared: false }
}

/// Runs `script` on `server` with three fresh clients; returns the transcript of compared frames.
fn transcript(server: &TestServer, script: &[Step]) -> Vec<String> {
    let mut clients: Vec<RespConn> = (0..3).map(|_| server.conn()).collect();
    let mut lines = Vec::new();
    for (index, step) in script.iter().enumerate() {
        if step.request == "sleep" {
            // Lets a short TTL pass; the server itself is not told.
            std::thread::sleep(std::time::Duration::from_millis(20));
            continue;
        }
        let argv: Vec<&str> = step.request.split(' ').collect();
        clients[step.client].send_raw(&common::encode_command(&argv));
        for (reader, &count) in step.frames.iter().enumerate() {
            for _ in 0..count {
                let frame = clients[reader].try_read_reply().unwrap_or_else(|err| {
                    panic!("{}: step {index} ({}) client {reader}: {err}", server.name(), step.request)
                });
                if step.compared {
                    lines.push(format!("{index} {} -> client {reader}: {}", step.request, escape(&frame)));
                }
            }
        }
    }
    for (reader, client) in clients.iter_mut().enumerate() {
        client.set_read_timeout_ms(50);
        if let Ok(extra) = client.try_read_reply() {
            panic!("{}: client {reader} got an unexpected frame {}", server.name(), escape(&extra));
        }
    }
    lines
}

/// The script on ferrokv and on redis-server, frame for frame.
fn check(script: &[Step]) {
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let want = transcript(&redis, script);
    let got = transcript(&ferrokv, script);
    for (got, want) in got.iter().zip(&want) {
        assert_eq!(got, want);
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn channels_patterns_and_shard_channels_in_resp2() {
    check(&[
        s(0, "SUBSCRIBE c1 c2 c1", [3, 0, 0]),
        s(1, "PSUBSCRIBE c* x?", [0, 2, 0]),
        s(2, "PUBLISH c1 hello", [1, 1, 1]),
        s(2, "PUBLISH xy there", [0, 1, 1]),
        s(2, "PUBLISH nobody m", [0, 0, 1]),
        s(0, "GET k", [1, 0, 0]),
        s(0, "CLIENT LIST", [1, 0, 0]),
        s(0, "MULTI", [1, 0, 0]),
        s(0, "PING", [1, 0, 0]),
        s(0, "PING hi", [1, 0, 0]),
        s(2, "PUBSUB NUMSUB c1 c2 c3", [0, 0, 1]),
        s(2, "PUBSUB NUMPAT", [0, 0, 1]),
        s(2, "PUBSUB CHANNELS x*", [0, 0, 1]),
        s(2, "PUBSUB CHANNELS c1", [0, 0, 1]),
        s(2, "PUBSUB CHANNELS a b", [0, 0, 1]),
        s(2, "PUBSUB NUMPAT x", [0, 0, 1]),
        s(2, "PUBSUB nosuch", [0, 0, 1]),
        s(2, "PUBSUB HELP", [0, 0, 1]),
        s(2, "SUBSCRIBE", [0, 0, 1]),
        s(2, "PUBLISH onlychannel", [0, 0, 1]),
        s(0, "UNSUBSCRIBE c2 nope", [2, 0, 0]),
        s(2, "PUBLISH c2 gone", [0, 1, 1]),
        s(0, "UNSUBSCRIBE", [1, 0, 0]),
        s(0, "UNSUBSCRIBE", [1, 0, 0]),
        s(0, "GET k", [1, 0, 0]),
        s(1, "PUNSUBSCRIBE x?", [0, 1, 0]),
        s(1, "PUNSUBSCRIBE", [0, 1, 0]),
        s(1, "PUNSUBSCRIBE", [0, 1, 0]),
        s(0, "SSUBSCRIBE s1 s1", [2, 0, 0]),
        s(1, "SUBSCRIBE s1", [0, 1, 0]),
        s(2, "SPUBLISH s1 shard", [1, 0, 1]),
        s(2, "PUBLISH s1 global", [0, 1, 1]),
        s(2, "PUBSUB SHARDCHANNELS", [0, 0, 1]),
        s(2, "PUBSUB SHARDNUMSUB s1 s2", [0, 0, 1]),
        s(0, "SUNSUBSCRIBE", [1, 0, 0]),
        s(0, "SUNSUBSCRIBE", [1, 0, 0]),
        s(1, "RESET", [0, 1, 0]),
        s(2, "PUBLISH s1 after-reset", [0, 0, 1]),
    ]);
}

#[test]
fn resp3_pushes_interleave_with_replies_and_survive_client_reply_off() {
    check(&[
        uncompared(0, "HELLO 3", [1, 0, 0]),
        s(0, "SUBSCRIBE me", [1, 0, 0]),
        s(0, "GET k", [1, 0, 0]),
        s(0, "PUBLISH me self", [2, 0, 0]),
        s(1, "PUBLISH me other", [1, 1, 0]),
        s(0, "CLIENT REPLY OFF", [0, 0, 0]),
        s(0, "PUBLISH me muted", [1, 0, 0]),
        s(0, "PSUBSCRIBE m*", [1, 0, 0]),
        s(1, "PUBLISH me both", [2, 1, 0]),
        s(0, "CLIENT REPLY ON", [1, 0, 0]),
        s(0, "MULTI", [1, 0, 0]),
        s(0, "PUBLISH me queued", [1, 0, 0]),
        s(0, "UNSUBSCRIBE me", [1, 0, 0]),
        // The array's two items are PUBLISH's two pushes (channel and pattern); its reply and UNSUBSCRIBE's
        // push, the rest of the array, read as two more frames.
        s(0, "EXEC", [3, 0, 0]),
        s(0, "PING", [1, 0, 0]),
        s(1, "MULTI", [0, 1, 0]),
        s(1, "SUBSCRIBE t", [0, 1, 0]),
        s(1, "GET k", [0, 1, 0]),
        s(1, "EXEC", [0, 1, 0]),
        s(1, "GET k", [0, 1, 0]),
        s(2, "PUBLISH t x", [0, 1, 1]),
    ]);
}

#[test]
fn keyspace_and_keyevent_notifications_name_each_change() {
    check(&[
        s(2, "CONFIG SET notify-keyspace-events KEA", [0, 0, 1]),
        s(0, "PSUBSCRIBE *", [1, 0, 0]),
        s(1, "SET foo bar", [2, 1, 0]),
        s(1, "SET foo bar EX 100", [4, 1, 0]),
        s(1, "PERSIST foo", [2, 1, 0]),
        s(1, "APPEND foo x", [2, 1, 0]),
        s(1, "INCR n", [2, 1, 0]),
        s(1, "INCRBYFLOAT n 1.5", [2, 1, 0]),
        s(1, "SETRANGE foo 1 z", [2, 1, 0]),
        s(1, "MSET a 1 b 2", [4, 1, 0]),
        s(1, "RENAME a c", [4, 1, 0]),
        s(1, "GETDEL c", [2, 1, 0]),
        s(1, "EXPIRE b 100", [2, 1, 0]),
        s(1, "EXPIRE b -1", [2, 1, 0]),
        s(1, "DEL foo n missing", [4, 1, 0]),
        s(1, "RPUSH l a b c", [2, 1, 0]),
        s(1, "LPUSH l z", [2, 1, 0]),
        s(1, "LPOP l", [2, 1, 0]),
        s(1, "LSET l 0 q", [2, 1, 0]),
        s(1, "LINSERT l BEFORE q p", [2, 1, 0]),
        s(1, "LREM l 1 p", [2, 1, 0]),
        s(1, "LMOVE l l2 RIGHT LEFT", [4, 1, 0]),
        s(1, "LTRIM l 1 0", [4, 1, 0]),
        s(1, "RPOP l2", [4, 1, 0]),
        s(1, "HSET h f 1 g 2", [2, 1, 0]),
        s(1, "HINCRBY h f 1", [2, 1, 0]),
        s(1, "HINCRBYFLOAT h f 1.5", [2, 1, 0]),
        s(1, "HSETNX h z 1", [2, 1, 0]),
        s(1, "HDEL h f g z", [4, 1, 0]),
        s(1, "SADD s a b", [2, 1, 0]),
        s(1, "SREM s a", [2, 1, 0]),
        s(1, "SMOVE s t b", [6, 1, 0]),
        s(1, "SADD u x", [2, 1, 0]),
        s(1, "SUNIONSTORE v t u", [2, 1, 0]),
        s(1, "SINTERSTORE v t u", [2, 1, 0]),
        s(1, "SPOP t 5", [4, 1, 0]),
        s(1, "SET m 1", [2, 1, 0]),
        s(1, "MOVE m 1", [4, 1, 0]),
        s(1, "COPY u w", [2, 1, 0]),
        s(2, "CONFIG SET notify-keyspace-events En", [0, 0, 1]),
        s(1, "SET fresh 1", [1, 1, 0]),
        s(1, "SET fresh 2", [0, 1, 0]),
        s(2, "CONFIG SET notify-keyspace-events Km", [0, 0, 1]),
        s(1, "GET nothing", [1, 1, 0]),
        s(1, "GET fresh", [0, 1, 0]),
        s(2, "CONFIG SET notify-keyspace-events Exg", [0, 0, 1]),
        s(1, "SET gone 1 PX 1", [1, 1, 0]),
        s(1, "sleep", [0, 0, 0]),
        s(1, "GET gone", [1, 1, 0]),
        s(2, "CONFIG SET notify-keyspace-events g", [0, 0, 1]),
        s(1, "SET quiet 1", [0, 1, 0]),
    ]);
}

/// The events of the sorted-set, geo, SORT STORE, bitmap and HyperLogLog commands, a blocked BZPOPMIN and
/// BZMPOP served by a later ZADD, and the `new` events of the keys they create.
#[test]
fn sorted_set_geo_sort_bitmap_and_hll_notifications() {
    check(&[
        s(2, "CONFIG SET notify-keyspace-events KEA", [0, 0, 1]),
        s(0, "PSUBSCRIBE *", [1, 0, 0]),
        s(1, "ZADD z 1 a 2 b 3 c", [2, 1, 0]),
        s(1, "ZADD z 1 a", [0, 1, 0]),
        s(1, "ZADD z XX 5 nope", [0, 1, 0]),
        s(1, "ZADD z INCR 1 a", [2, 1, 0]),
        s(1, "ZINCRBY z 1 b", [2, 1, 0]),
        s(1, "ZREM z a nope", [2, 1, 0]),
        s(1, "ZREM z nope", [0, 1, 0]),
        s(1, "ZADD z 4 d 5 e 6 f", [2, 1, 0]),
        s(1, "ZREMRANGEBYSCORE z 6 6", [2, 1, 0]),
        s(1, "ZREMRANGEBYRANK z 0 0", [2, 1, 0]),
        s(1, "ZREMRANGEBYLEX z [d [d", [2, 1, 0]),
        s(1, "ZREMRANGEBYLEX z [x [y", [0, 1, 0]),
        s(1, "ZPOPMIN z", [2, 1, 0]),
        s(1, "ZPOPMAX z 5", [4, 1, 0]),
        s(1, "ZPOPMIN z", [0, 1, 0]),
        s(1, "ZADD z 1 a 2 b 3 c", [2, 1, 0]),
        s(1, "ZRANGESTORE z2 z 0 1", [2, 1, 0]),
        s(1, "ZRANGESTORE z2 z 5 6", [2, 1, 0]),
        s(1, "ZRANGESTORE z2 z 5 6", [0, 1, 0]),
        s(1, "ZUNIONSTORE u 1 z", [2, 1, 0]),
        s(1, "ZINTERSTORE u 2 z nothing", [2, 1, 0]),
        s(1, "ZDIFFSTORE u 1 z", [2, 1, 0]),
        s(1, "ZMPOP 1 z MIN COUNT 2", [2, 1, 0]),
        s(1, "ZMPOP 1 z MAX COUNT 2", [4, 1, 0]),
        s(1, "ZADD z 1 a 2 b", [2, 1, 0]),
        s(1, "BZPOPMIN z 0", [2, 1, 0]),
        s(1, "BZPOPMAX z 0", [4, 1, 0]),
        s(1, "ZADD z 1 a 2 b", [2, 1, 0]),
        s(1, "BZMPOP 0 1 z MAX COUNT 5", [4, 1, 0]),
        s(1, "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", [2, 1, 0]),
        s(1, "GEOADD g 13.361389 38.115556 Palermo", [0, 1, 0]),
        s(1, "GEORADIUS g 15 37 200 km STORE gs", [2, 1, 0]),
        s(1, "GEORADIUS g 15 37 200 km STOREDIST gs", [2, 1, 0]),
        s(1, "GEORADIUSBYMEMBER g Palermo 500 km STORE gs", [2, 1, 0]),
        s(1, "GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 200 km", [2, 1, 0]),
        s(1, "GEOSEARCHSTORE gs g FROMLONLAT 0 0 BYRADIUS 1 km", [2, 1, 0]),
        s(1, "GEORADIUS nothing 15 37 200 km STORE g2", [0, 1, 0]),
        s(1, "RPUSH l 3 1 2", [2, 1, 0]),
        s(1, "SORT l STORE ls", [2, 1, 0]),
        s(1, "SORT nothing STORE ls", [2, 1, 0]),
        s(1, "SORT nothing STORE ls", [0, 1, 0]),
        s(1, "SETBIT b 7 1", [2, 1, 0]),
        s(1, "SETBIT b 7 1", [0, 1, 0]),
        s(1, "SETBIT b 7 0", [2, 1, 0]),
        s(1, "SETBIT b 100 0", [2, 1, 0]),
        s(1, "BITOP OR b2 b", [2, 1, 0]),
        s(1, "BITOP OR b2 nothing", [2, 1, 0]),
        s(1, "BITFIELD bf SET u8 0 255", [2, 1, 0]),
        s(1, "BITFIELD bf SET u8 0 255", [0, 1, 0]),
        s(1, "BITFIELD bf GET u8 0", [0, 1, 0]),
        s(1, "BITFIELD bf INCRBY u8 0 1", [2, 1, 0]),
        s(1, "PFADD h a b c", [2, 1, 0]),
        s(1, "PFADD h a", [0, 1, 0]),
        s(1, "PFADD h2", [2, 1, 0]),
        s(1, "PFCOUNT h", [0, 1, 0]),
        s(1, "PFCOUNT h", [0, 1, 0]),
        s(1, "PFMERGE h3 h h2", [2, 1, 0]),
        s(1, "PFMERGE h3", [2, 1, 0]),
        s(2, "BZPOPMIN zb 0", [0, 0, 0]),
        s(1, "ZADD zb 1 a", [6, 1, 1]),
        s(2, "BZMPOP 0 1 zb MAX COUNT 3", [0, 0, 0]),
        s(1, "ZADD zb 1 a 2 b", [6, 1, 1]),
        s(2, "CONFIG SET notify-keyspace-events En", [0, 0, 1]),
        s(1, "ZADD nz 1 a", [1, 1, 0]),
        s(1, "GEOADD ng 13.361389 38.115556 Palermo", [1, 1, 0]),
        s(1, "SETBIT nb 1 1", [1, 1, 0]),
        s(1, "BITFIELD nf SET u8 0 1", [1, 1, 0]),
        s(1, "PFADD nh a", [1, 1, 0]),
        s(1, "PFMERGE nm nh", [1, 1, 0]),
        s(1, "ZUNIONSTORE nu 1 nz", [1, 1, 0]),
        s(1, "SORT nz ALPHA STORE ns", [1, 1, 0]),
    ]);
}

/// Every stream command's events, the implicit consumer creation of XREADGROUP (also when a blocked one is
/// served), XCLAIM and XAUTOCLAIM included, and `new` for XADD and XGROUP CREATE MKSTREAM.
#[test]
fn stream_notifications() {
    check(&[
        s(2, "CONFIG SET notify-keyspace-events KEAn", [0, 0, 1]),
        s(0, "PSUBSCRIBE *", [1, 0, 0]),
        s(1, "XADD s 1-1 f v", [4, 1, 0]),
        s(1, "XADD s MAXLEN 1 2-1 f v", [4, 1, 0]),
        s(1, "XADD s MAXLEN 5 3-1 f v", [2, 1, 0]),
        s(1, "XADD n NOMKSTREAM 4-1 f v", [0, 1, 0]),
        s(1, "XTRIM s MAXLEN 10", [0, 1, 0]),
        s(1, "XTRIM s MINID 3-1", [2, 1, 0]),
        s(1, "XTRIM nothing MAXLEN 0", [0, 1, 0]),
        s(1, "XDEL s 9-9", [0, 1, 0]),
        s(1, "XDEL s 3-1", [2, 1, 0]),
        s(1, "XSETID s 10-1", [2, 1, 0]),
        s(1, "XSETID s 0-1", [0, 1, 0]),
        s(1, "XGROUP CREATE m g $ MKSTREAM", [4, 1, 0]),
        s(1, "XGROUP CREATE s g 0", [2, 1, 0]),
        s(1, "XGROUP CREATE s g 0", [0, 1, 0]),
        s(1, "XGROUP SETID s g 0", [2, 1, 0]),
        s(1, "XGROUP CREATECONSUMER s g c1", [2, 1, 0]),
        s(1, "XGROUP CREATECONSUMER s g c1", [0, 1, 0]),
        s(1, "XGROUP DELCONSUMER s g nope", [0, 1, 0]),
        s(1, "XGROUP DELCONSUMER s g c1", [2, 1, 0]),
        s(1, "XADD s 11-1 f v", [2, 1, 0]),
        s(1, "XADD s 12-1 f v", [2, 1, 0]),
        s(1, "XREADGROUP GROUP g a STREAMS m >", [0, 1, 0]),
        s(1, "XREADGROUP GROUP g a STREAMS m 0", [2, 1, 0]),
        s(1, "XREADGROUP GROUP g a COUNT 1 STREAMS s m > >", [2, 1, 0]),
        s(1, "XREADGROUP GROUP g a STREAMS s >", [0, 1, 0]),
        s(1, "XCLAIM s g b 0 9-9", [0, 1, 0]),
        s(1, "XCLAIM s g b 0 11-1", [2, 1, 0]),
        s(1, "XCLAIM s g b 0 11-1", [0, 1, 0]),
        s(1, "XAUTOCLAIM s g c 0 99-0", [0, 1, 0]),
        s(1, "XAUTOCLAIM s g c 0 0 COUNT 1", [2, 1, 0]),
        s(1, "XREADGROUP GROUP g d NOACK STREAMS s >", [2, 1, 0]),
        s(1, "XREADGROUP GROUP g e STREAMS s >", [0, 1, 0]),
        s(2, "XREADGROUP GROUP g e BLOCK 0 STREAMS s >", [0, 0, 0]),
        s(1, "XADD s 13-1 f v", [4, 1, 1]),
        s(1, "XACK s g 11-1", [0, 1, 0]),
        s(1, "XGROUP DESTROY s nope", [0, 1, 0]),
        s(1, "XGROUP DESTROY s g", [2, 1, 0]),
        s(1, "XADD s MINID 13-1 14-1 f v", [4, 1, 0]),
        s(1, "DEL s m", [4, 1, 0]),
    ]);
}

/// RESTORE announces `restore`, and a replaced key that an already-past ABSTTL drops at once `del`.
#[test]
fn restore_notifies_restore_or_del() {
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let mut heard = Vec::new();
    for server in [&redis, &ferrokv] {
        let (mut listener, mut writer) = (server.conn(), server.conn());
        writer.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        listener.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        writer.cmd(&["ZADD", "z", "1", "a"]);
        let payload = writer.cmd(&["DUMP", "z"]);
        let (_, payload) = payload.split_at(payload.iter().position(|&b| b == b'\n').expect("a bulk") + 1);
        let payload = &payload[..payload.len() - 2];
        writer.cmd(&[&b"RESTORE"[..], b"r", b"0", payload]);
        writer.cmd(&[&b"RESTORE"[..], b"r", b"1", payload, b"REPLACE", b"ABSTTL"]);
        writer.cmd(&[&b"RESTORE"[..], b"r", b"1", payload, b"ABSTTL"]);
        writer.cmd(&["SET", "end", "1"]);
        let frames: Vec<String> = std::iter::repeat_with(|| escape(&listener.read_reply())).take(4).collect();
        heard.push(frames);
    }
    assert_eq!(heard[1], heard[0]);
    assert!(heard[0][1].contains("restore") && heard[0][2].contains("del"), "{:?}", heard[0]);
}

#[test]
fn active_expiry_sends_expired_events() {
    let Some(redis) = require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    for server in [&redis, &ferrokv] {
        let (mut listener, mut writer) = (server.conn(), server.conn());
        writer.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
        listener.cmd(&["SUBSCRIBE", "__keyevent@0__:expired"]);
        writer.cmd(&["SET", "short", "v", "PX", "20"]);
        // Nobody touches the key: only the active cycle can delete it and send the event.
        let frame = listener.read_reply();
        assert_eq!(
            escape(&frame),
            escape(b"*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$5\r\nshort\r\n"),
            "{}",
            server.name()
        );
    }
}
