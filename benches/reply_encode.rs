//! Reply-encoding throughput: the replies a GET/INCR/MGET/ZSCORE-style workload writes, into one reused output
//! buffer, in RESP2 and RESP3. Plain `std::time`, no harness: `cargo bench --bench reply_encode`.

use std::hint::black_box;
use std::time::Instant;

use ferrokv::resp::reply::Reply;

/// Replies written per measurement.
const ROUNDS: usize = 1_000_000;

fn measure(name: &str, resp3: bool, mut write: impl FnMut(&mut Reply, usize)) {
    let mut reply = Reply::new(resp3);
    let started = Instant::now();
    for i in 0..ROUNDS {
        write(&mut reply, i);
        if reply.buf.len() > 64 * 1024 {
            reply.buf.clear();
        }
    }
    black_box(&reply.buf);
    let ns = started.elapsed().as_nanos() as f64 / ROUNDS as f64;
    println!("{name:<28} resp{}  {ns:6.1} ns/reply", if resp3 { 3 } else { 2 });
}

fn main() {
    let value = b"value-0000000042";
    for resp3 in [false, true] {
        measure("bulk (GET hit)", resp3, |r, _| r.bulk(black_box(value)));
        measure("null (GET miss)", resp3, |r, _| r.null());
        measure("integer (INCR)", resp3, |r, i| r.int(black_box(i as i64)));
        measure("ok (SET)", resp3, |r, _| r.ok());
        measure("array of 10 bulks (MGET)", resp3, |r, _| {
            r.array(10);
            for _ in 0..10 {
                r.bulk(black_box(value));
            }
        });
        measure("double (ZSCORE)", resp3, |r, i| r.double(black_box(i as f64 * 0.1)));
        measure("map of 3 pairs (HELLO-ish)", resp3, |r, _| {
            r.map(3);
            for _ in 0..3 {
                r.bulk(b"field");
                r.int(7);
            }
        });
    }
}
