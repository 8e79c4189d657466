//! Request-parser throughput: parses a 16-deep pipeline of SET/GET requests over and over and prints the mean
//! cost per request. Plain `std::time`, no harness: `cargo bench --bench resp_parse` (optimized), or
//! `cargo test --bench resp_parse` for a quick debug-build smoke run.

use std::hint::black_box;
use std::time::Instant;

use bytes::BytesMut;
use ferrokv::resp::parse::{ParseLimits, RequestParser};

/// Requests per pipeline, as a client batching commands would send them.
const PIPELINE_DEPTH: usize = 16;
/// Pipelines parsed per measurement.
const ROUNDS: usize = 20_000;

/// Eight SET and eight GET requests, alternating, as one buffer.
fn pipeline() -> Vec<u8> {
    let mut bytes = Vec::new();
    for i in 0..PIPELINE_DEPTH / 2 {
        let key = format!("key:{i:06}");
        let value = format!("value-{i:010}");
        bytes.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n", key.len(), value.len()).as_bytes(),
        );
        bytes.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes());
    }
    bytes
}

fn main() {
    let input = pipeline();
    let limits = ParseLimits { proto_max_bulk_len: 512 * 1024 * 1024, authenticated: true };
    let mut parser = RequestParser::default();
    let mut buf = BytesMut::with_capacity(input.len());
    let mut argv = Vec::new();
    let mut requests = 0usize;
    let started = Instant::now();
    for _ in 0..ROUNDS {
        buf.extend_from_slice(&input);
        while parser.parse(&mut buf, &mut argv, &limits) == Ok(true) {
            requests += 1;
            black_box(&argv);
        }
    }
    let elapsed_ns = started.elapsed().as_nanos();
    assert_eq!(requests, ROUNDS * PIPELINE_DEPTH, "every request must parse");
    println!(
        "resp_parse: {requests} requests in {:.1} ms, {:.1} ns/request",
        elapsed_ns as f64 / 1e6,
        elapsed_ns as f64 / requests as f64
    );
}
