//! maxmemory end to end: the OOM refusals byte for byte against redis-server, each eviction policy against
//! a model of what it must keep, the hit ratio of an allkeys-lru cache against redis-server's on the same
//! trace, evicted-key events and AOF records, lazy freeing, and a reader that never reads held at its
//! output-buffer limit.
//!
//! The LRU clock ticks in seconds (in Redis too), so the tests that need "older" and "newer" keys let a
//! second pass between the two phases instead of relying on the order within one second.

mod common;

use common::{Rng, TestServer, escape, pipeline, used_memory};
use std::time::Duration;

/// The INFO field `name` as a number.
fn info_field(server: &TestServer, section: &str, name: &str) -> u64 {
    let reply = server.conn().cmd(&["INFO", section]);
    let info = String::from_utf8_lossy(&reply).into_owned();
    let prefix = format!("{name}:");
    let line = info.lines().find(|line| line.starts_with(&prefix)).unwrap_or_else(|| panic!("{name} in INFO"));
    line[prefix.len()..].trim().parse().expect("a number")
}

fn set_config(server: &TestServer, name: &str, value: &str) {
    assert_eq!(server.conn().cmd(&["CONFIG", "SET", name, value]), b"+OK\r\n", "{name} {value}");
}

/// Sets `maxmemory` to the memory in use now plus `headroom` bytes.
fn limit_to_current_plus(server: &TestServer, headroom: u64) -> u64 {
    let limit = used_memory(server) + headroom;
    set_config(server, "maxmemory", &limit.to_string());
    limit
}

fn exists(server: &TestServer, key: &str) -> bool {
    server.conn().cmd(&["EXISTS", key]) == b":1\r\n"
}

/// Writes `count` keys `<prefix><i>` with `value_len`-byte values, each with a TTL of `ttl_s` (+ i) if given.
fn fill(server: &TestServer, prefix: &str, count: usize, value_len: usize, ttl_s: Option<u64>) {
    let mut conn = server.conn();
    let value = "v".repeat(value_len);
    for chunk in (0..count).collect::<Vec<_>>().chunks(50) {
        let requests: Vec<Vec<String>> = chunk
            .iter()
            .map(|i| match ttl_s {
                Some(ttl) => vec![
                    "SET".into(),
                    format!("{prefix}{i}"),
                    value.clone(),
                    "EX".into(),
                    (ttl + *i as u64).to_string(),
                ],
                None => vec!["SET".into(), format!("{prefix}{i}"), value.clone()],
            })
            .collect();
        pipeline(&mut conn, &requests);
    }
}

/// The requests of the OOM comparison: every refusal path processCommand and scriptCall have, and what
/// still works over the limit.
const OOM_SCRIPT: &[&[&str]] = &[
    &["SET", "k", "v"],
    &["GET", "existing"],
    &["LPUSH", "l", "a"],
    &["DEL", "existing"],
    &["MULTI"],
    &["GET", "x"],
    &["EXEC"],
    &["MULTI"],
    &["EXEC"],
    &["EVAL", "return redis.call('set', 'k', 'v')", "0"],
    &["EVAL", "return redis.pcall('set', 'k', 'v')", "0"],
    &["EVAL", "return redis.call('get', 'k')", "0"],
    &["EVAL", "#!lua\nreturn redis.call('get', 'k')", "0"],
    &["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"],
    &["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'k', 'v')", "0"],
    &["EVAL", "return redis.call('del', 'k')", "0"],
    &["PING"],
];

/// Runs `steps` (each an argv and whether `maxmemory` is 1 byte while it runs, set from a second connection)
/// on ferrokv and on redis-server, and asserts the replies are the same bytes; returns ferrokv's.
fn same_replies_as_redis(steps: &[(&[&str], bool)]) -> Vec<String> {
    let Some(redis) = common::require_redis() else { return Vec::new() };
    let ferrokv = TestServer::ferrokv(&[]);
    let mut transcripts = Vec::new();
    for server in [&ferrokv, &redis] {
        let (mut conn, mut admin) = (server.conn(), server.conn());
        let replies: Vec<String> = steps
            .iter()
            .map(|(argv, limited)| {
                admin.cmd(&["CONFIG", "SET", "maxmemory", if *limited { "1" } else { "0" }]);
                escape(&conn.cmd(argv))
            })
            .collect();
        transcripts.push(replies);
    }
    for (i, (argv, _)) in steps.iter().enumerate() {
        assert_eq!(transcripts[0][i], transcripts[1][i], "{argv:?}");
    }
    transcripts.swap_remove(0)
}

#[test]
fn oom_refusals_are_redis_bytes() {
    let setup: [(&[&str], bool); 1] = [(&["SET", "existing", "1"], false)];
    let steps: Vec<(&[&str], bool)> = setup.into_iter().chain(OOM_SCRIPT.iter().map(|argv| (*argv, true))).collect();
    let replies = same_replies_as_redis(&steps);
    if let Some(first_refusal) = replies.get(1) {
        assert!(first_refusal.starts_with("\"-OOM command not allowed when used memory > 'maxmemory'."));
    }
}

#[test]
fn allkeys_lru_keeps_the_recently_used_keys() {
    let server = TestServer::subject(&[]);
    set_config(&server, "maxmemory-policy", "allkeys-lru");
    fill(&server, "cold:", 4000, 200, None);
    fill(&server, "hot:", 400, 200, None);
    let limit = limit_to_current_plus(&server, 64 * 1024);
    std::thread::sleep(Duration::from_millis(1100));
    let mut conn = server.conn();
    // In pipelines of 50, so the replies (200 bytes each) stay well inside the headroom: 400 replies at once
    // go over the limit, and the evictions during the reads pick among the hot keys not read yet too, which
    // are as idle as the cold ones then.
    for chunk in (0..400).collect::<Vec<_>>().chunks(50) {
        let reads: Vec<Vec<String>> = chunk.iter().map(|i| vec!["GET".into(), format!("hot:{i}")]).collect();
        pipeline(&mut conn, &reads);
    }
    // About 1500 keys' worth must go: a model LRU evicts only cold keys (every hot key was read after them).
    fill(&server, "new:", 1500, 200, None);
    let evicted = info_field(&server, "stats", "evicted_keys");
    assert!(evicted >= 1000, "{} evicted only {evicted}", server.name());
    let hot_kept = (0..400).filter(|i| exists(&server, &format!("hot:{i}"))).count();
    // Sampling approximates the model: both servers keep all 400 here (the pool always holds a cold key),
    // where evicting the same number of keys at random would keep about 290.
    assert!(hot_kept >= 396, "{}: {hot_kept} of 400 hot keys kept", server.name());
    assert!(used_memory(&server) <= limit + 64 * 1024, "{}: over the limit", server.name());
}

#[test]
fn allkeys_lfu_keeps_the_frequently_used_keys() {
    let server = TestServer::subject(&[]);
    set_config(&server, "maxmemory-policy", "allkeys-lfu");
    fill(&server, "cold:", 3000, 200, None);
    fill(&server, "hot:", 300, 200, None);
    let mut conn = server.conn();
    for _ in 0..30 {
        let reads: Vec<Vec<String>> = (0..300).map(|i| vec!["GET".into(), format!("hot:{i}")]).collect();
        pipeline(&mut conn, &reads);
    }
    let freq = String::from_utf8(conn.cmd(&["OBJECT", "FREQ", "hot:7"])).unwrap();
    assert!(freq.trim_start_matches(':').trim().parse::<u32>().unwrap() > 5, "{freq}");
    limit_to_current_plus(&server, 64 * 1024);
    fill(&server, "new:", 1500, 200, None);
    assert!(info_field(&server, "stats", "evicted_keys") >= 1000);
    let hot_kept = (0..300).filter(|i| exists(&server, &format!("hot:{i}"))).count();
    assert!(hot_kept >= 297, "{}: {hot_kept} of 300 hot keys kept", server.name());
}

#[test]
fn volatile_policies_never_evict_keys_without_a_ttl() {
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
        let server = TestServer::subject(&[]);
        set_config(&server, "maxmemory-policy", policy);
        fill(&server, "persistent:", 1000, 200, None);
        fill(&server, "volatile:", 1000, 200, Some(10_000));
        limit_to_current_plus(&server, 32 * 1024);
        fill(&server, "more:", 600, 200, Some(10_000));
        assert!(info_field(&server, "stats", "evicted_keys") >= 400, "{policy}");
        let kept = (0..1000).filter(|i| exists(&server, &format!("persistent:{i}"))).count();
        assert_eq!(kept, 1000, "{policy} evicted keys without a TTL on {}", server.name());
        // Once only keys without a TTL could go, writes are refused.
        let mut conn = server.conn();
        let mut refused = None;
        for i in 0..5000 {
            let reply = conn.cmd(&["SET", &format!("plain:{i}"), &"p".repeat(200)]);
            if reply != b"+OK\r\n" {
                refused = Some(reply);
                break;
            }
        }
        assert_eq!(
            refused.as_deref(),
            Some(&b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"[..]),
            "{policy}"
        );
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_deadlines_first() {
    let server = TestServer::subject(&[]);
    set_config(&server, "maxmemory-policy", "volatile-ttl");
    set_config(&server, "maxmemory-samples", "10");
    // Key i expires in 10000 + i seconds: the lowest indexes are the nearest deadlines.
    fill(&server, "t:", 3000, 200, Some(10_000));
    limit_to_current_plus(&server, 32 * 1024);
    fill(&server, "later:", 600, 200, Some(1_000_000));
    let evicted: Vec<usize> = (0..3000).filter(|i| !exists(&server, &format!("t:{i}"))).collect();
    assert!(evicted.len() >= 400, "{}", evicted.len());
    let mean = evicted.iter().sum::<usize>() / evicted.len();
    assert!(mean < 900, "{}: mean index of the evicted keys {mean}", server.name());
    assert!((2000..3000).all(|i| exists(&server, &format!("t:{i}"))), "a far deadline was evicted");
    assert!((0..600).all(|i| exists(&server, &format!("later:{i}"))));
}

#[test]
fn allkeys_random_evicts_until_under_the_limit() {
    let server = TestServer::subject(&[]);
    set_config(&server, "maxmemory-policy", "allkeys-random");
    fill(&server, "a:", 2000, 200, None);
    let limit = limit_to_current_plus(&server, 32 * 1024);
    fill(&server, "b:", 2000, 200, None);
    let evicted = info_field(&server, "stats", "evicted_keys");
    assert!(evicted >= 1500, "{evicted}");
    // Random: both generations lose keys.
    let old_kept = (0..2000).filter(|i| exists(&server, &format!("a:{i}"))).count();
    assert!(old_kept > 100 && old_kept < 1900, "{old_kept}");
    assert!(used_memory(&server) <= limit + 32 * 1024);
    assert!(info_field(&server, "memory", "maxmemory") == limit);
}

/// A zipf-like key choice over `keys` keys: low indexes far more often.
fn skewed_key(rng: &mut Rng, keys: usize) -> usize {
    // Inverse of a power law: u^3 puts most of the mass near 0.
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    ((u * u * u) * keys as f64) as usize
}

/// Runs a GET-then-SET-on-miss trace against `server` limited to about `capacity` keys of this shape;
/// returns its hit ratio.
fn cache_hit_ratio(server: &TestServer, capacity: usize) -> f64 {
    let value = "x".repeat(100);
    // Measure this server's cost per key, then size maxmemory to `capacity` of them.
    let before = used_memory(server);
    fill(server, "probe:", 5000, 100, None);
    let per_key = (used_memory(server) - before) / 5000;
    server.conn().cmd(&["FLUSHALL"]);
    set_config(server, "maxmemory-policy", "allkeys-lru");
    set_config(server, "maxmemory", &(used_memory(server) + per_key * capacity as u64).to_string());
    let mut rng = Rng::new(42);
    let mut conn = server.conn();
    let (mut hits, mut total) = (0u64, 0u64);
    for _ in 0..400 {
        let keys: Vec<String> = (0..250).map(|_| format!("key:{}", skewed_key(&mut rng, 160_000))).collect();
        let gets: Vec<u8> = keys.iter().flat_map(|k| common::encode_command(&["GET", k])).collect();
        conn.send_raw(&gets);
        let mut misses = Vec::new();
        for key in &keys {
            total += 1;
            if conn.read_reply() == b"$-1\r\n" {
                misses.push(vec!["SET".to_string(), key.clone(), value.clone()]);
            } else {
                hits += 1;
            }
        }
        pipeline(&mut conn, &misses);
    }
    hits as f64 / total as f64
}

#[test]
fn lru_cache_hit_ratio_matches_redis() {
    let Some(redis) = common::require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    let ours = cache_hit_ratio(&ferrokv, 20000);
    let theirs = cache_hit_ratio(&redis, 20000);
    eprintln!("hit ratio: ferrokv {ours:.3}, redis {theirs:.3}");
    assert!((ours - theirs).abs() < 0.04, "ferrokv {ours:.3} against redis {theirs:.3}");
    assert!(info_field(&ferrokv, "stats", "evicted_keys") > 1000);
}

#[test]
fn evicted_keys_are_announced_and_logged_as_del() {
    let server = TestServer::ferrokv(&["--appendonly", "yes", "--notify-keyspace-events", "Ee"]);
    let mut subscriber = server.conn();
    subscriber.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
    set_config(&server, "maxmemory-policy", "allkeys-random");
    fill(&server, "k:", 500, 200, None);
    limit_to_current_plus(&server, 16 * 1024);
    fill(&server, "n:", 300, 200, None);
    let evicted = info_field(&server, "stats", "evicted_keys");
    assert!(evicted > 100, "{evicted}");
    let message = subscriber.read_reply();
    let text = String::from_utf8_lossy(&message);
    assert!(text.starts_with("*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n"), "{text}");
    let key = text.lines().last().unwrap().to_string();
    assert!(!exists(&server, &key));
    // The AOF holds a DEL for it (the incr file is written before any later reply).
    server.conn().cmd(&["PING"]);
    let dir = server.dir().join("appendonlydir");
    let aof: Vec<u8> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".incr."))
        .flat_map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    let del = format!("*2\r\n$3\r\nDEL\r\n${}\r\n{key}\r\n", key.len());
    assert!(aof.windows(del.len()).any(|w| w == del.as_bytes()), "no DEL of {key} in the AOF");
}

/// CONFIG SET maxmemory below the memory in use evicts at once, inside the CONFIG SET, as Redis's
/// updateMaxmemory does: the event is out before the next command, and the same bytes as redis-server's.
#[test]
fn config_set_maxmemory_evicts_at_once() {
    let Some(redis) = common::require_redis() else { return };
    let ferrokv = TestServer::ferrokv(&[]);
    for server in [&ferrokv, &redis] {
        let mut subscriber = server.conn();
        subscriber.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
        subscriber.cmd(&["PSUBSCRIBE", "*"]);
        set_config(server, "maxmemory-policy", "allkeys-lru");
        server.conn().cmd(&["SET", "foo", "bar"]);
        set_config(server, "maxmemory", "1");
        let message = escape(&subscriber.read_reply());
        assert_eq!(
            message,
            escape(b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$22\r\n__keyevent@0__:evicted\r\n$3\r\nfoo\r\n")
        );
        set_config(server, "maxmemory", "0");
        assert!(!exists(server, "foo"));
    }
}

#[test]
fn eviction_invalidates_watch() {
    let server = TestServer::subject(&[]);
    set_config(&server, "maxmemory-policy", "allkeys-lru");
    // Eviction samples keys: with 5 a round, about 380 evictions among 1,400 keys miss the idlest one about
    // a third of the time; 64 a round (the most Redis allows) makes that vanishingly rare, so the test is
    // about WATCH, not about luck.
    set_config(&server, "maxmemory-samples", "64");
    fill(&server, "w:", 1000, 200, None);
    let mut watcher = server.conn();
    watcher.cmd(&["WATCH", "w:0"]);
    limit_to_current_plus(&server, 8 * 1024);
    std::thread::sleep(Duration::from_millis(1100));
    let mut conn = server.conn();
    let reads: Vec<Vec<String>> = (1..1000).map(|i| vec!["GET".into(), format!("w:{i}")]).collect();
    pipeline(&mut conn, &reads);
    // w:0 is now the idlest key; writing enough evicts it.
    fill(&server, "n:", 400, 200, None);
    assert!(!exists(&server, "w:0"), "{}: the idlest key survived", server.name());
    watcher.cmd(&["MULTI"]);
    watcher.cmd(&["PING"]);
    assert_eq!(watcher.cmd(&["EXEC"]), b"*-1\r\n");
}

#[test]
fn unlink_and_flush_async_free_on_the_helper_thread() {
    let server = TestServer::subject(&[]);
    let mut conn = server.conn();
    let members: Vec<String> = (0..50_000).map(|i| format!("member-{i}")).collect();
    let mut sadd = vec!["SADD".to_string(), "big".to_string()];
    sadd.extend(members.iter().cloned());
    conn.cmd(&sadd);
    let peak = used_memory(&server);
    conn.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(conn.cmd(&["UNLINK", "big"]), b":1\r\n");
    let freed = wait_for(|| info_field(&server, "memory", "lazyfreed_objects") == 1);
    assert!(freed, "lazyfreed_objects never reached 1");
    assert_eq!(info_field(&server, "memory", "lazyfree_pending_objects"), 0);
    assert!(used_memory(&server) + 1_000_000 < peak);
    // A small value is freed in place.
    conn.cmd(&["SADD", "small", "a", "b"]);
    conn.cmd(&["UNLINK", "small"]);
    // FLUSHALL ASYNC counts one object per key, and lazyfree-lazy-user-flush makes a bare FLUSHDB async.
    fill(&server, "f:", 100, 10, None);
    conn.cmd(&["FLUSHALL", "ASYNC"]);
    assert!(wait_for(|| info_field(&server, "memory", "lazyfreed_objects") == 101));
    set_config(&server, "lazyfree-lazy-user-flush", "yes");
    fill(&server, "f:", 10, 10, None);
    conn.cmd(&["FLUSHDB"]);
    assert!(wait_for(|| info_field(&server, "memory", "lazyfreed_objects") == 111));
    // DEL frees lazily only under lazyfree-lazy-user-del.
    conn.cmd(&sadd);
    conn.cmd(&["DEL", "big"]);
    assert_eq!(info_field(&server, "memory", "lazyfreed_objects"), 111);
    set_config(&server, "lazyfree-lazy-user-del", "yes");
    conn.cmd(&sadd);
    conn.cmd(&["DEL", "big"]);
    assert!(wait_for(|| info_field(&server, "memory", "lazyfreed_objects") == 112));
    // An overwrite under lazyfree-lazy-server-del.
    set_config(&server, "lazyfree-lazy-server-del", "yes");
    conn.cmd(&sadd);
    conn.cmd(&["SET", "big", "now a string"]);
    assert!(wait_for(|| info_field(&server, "memory", "lazyfreed_objects") == 113));
}

/// Polls `condition` every 10 ms for up to 5 s.
fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn a_reader_that_never_reads_is_held_at_its_output_limit() {
    // With no limit for normal clients, the server stops reading a client whose unsent replies pile up, so
    // its memory stays bounded however much it pipelines.
    let server = TestServer::ferrokv(&[]);
    let mut conn = server.conn();
    conn.cmd(&["SET", "big", &"b".repeat(100_000)]);
    let before = used_memory(&server);
    let slow = server.conn();
    let request = common::encode_command(&["GET", "big"]);
    let burst: Vec<u8> = (0..6000).flat_map(|_| request.iter().copied()).collect();
    // 600 MB of replies asked for; the socket's buffers take a few MB, the server holds the rest back.
    let writer = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut slow.stream(), &burst);
        slow
    });
    std::thread::sleep(Duration::from_millis(500));
    let grown = used_memory(&server).saturating_sub(before);
    // ferrokv pauses a client's input past 64 MB of unsent replies (limits::REPLY_PAUSE_BYTES).
    assert!(grown < 160 * 1024 * 1024, "the server grew by {grown} bytes for a client that never reads");
    drop(writer);
    // With a hard limit, the same client is disconnected.
    set_config(&server, "client-output-buffer-limit", "normal 1mb 0 0");
    let mut slow = server.conn();
    slow.send_raw(&(0..100).flat_map(|_| request.iter().copied()).collect::<Vec<u8>>());
    std::thread::sleep(Duration::from_millis(300));
    assert!(wait_for(|| server.log().contains("scheduled to be closed ASAP for overcoming of output buffer limits")));
}

#[test]
fn maxmemory_clients_evicts_the_biggest_client() {
    let server = TestServer::subject(&[]);
    set_config(&server, "maxmemory-clients", "1mb");
    let mut exempt = server.conn();
    assert_eq!(exempt.cmd(&["CLIENT", "NO-EVICT", "on"]), b"+OK\r\n");
    let mut small = server.conn();
    small.cmd(&["PING"]);
    // A request whose 3 MB argument is still arriving: its query buffer alone is over the limit.
    let mut big = server.conn();
    big.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n");
    // The server may evict the client (closing its socket) before all of this is written.
    let _ = big.try_send_raw(&vec![b'x'; 2_000_000]);
    assert!(wait_for(|| info_field(&server, "stats", "evicted_clients") == 1), "{} evicted no client", server.name());
    assert!(big.is_closed());
    assert_eq!(small.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(exempt.cmd(&["PING"]), b"+PONG\r\n");
    if server.kind == common::ServerKind::Ferrokv {
        assert!(server.log().contains("Evicting client: id="));
    }
}

/// Transactions that meet the limit between MULTI and EXEC: `(argv, limit on before it)`.
const OOM_MULTI_SCRIPT: &[(&[&str], bool)] = &[
    (&["SET", "x", "value"], false),
    (&["MULTI"], false),
    (&["GET", "x"], false),
    (&["PING"], false),
    (&["EXEC"], true),
    (&["MULTI"], false),
    (&["SET", "x", "1"], false),
    (&["EXEC"], true),
    (&["MULTI"], false),
    (&["GET", "x"], true),
    (&["SET", "x", "2"], false),
    (&["EXEC"], true),
    (&["GET", "x"], false),
];

#[test]
fn oom_in_transactions_is_redis_bytes() {
    same_replies_as_redis(OOM_MULTI_SCRIPT);
}
