//! Entry points for fuzzing the two parsers that read untrusted bytes: the RESP request parser and the
//! HTTP request reader (head parsing, bodies, the browser checks and the target's decoding). Each takes
//! arbitrary bytes, must never panic, and checks that where a read splits the input does not change what
//! is parsed. The cargo-fuzz targets in `fuzz/` call them, and so does the bounded random-input test
//! `tests/random_input.rs` that CI runs; `scripts/fuzz` runs the long version.
//!
//! The first input byte is a control byte: where to split the rest, and (RESP) whether the client counts as
//! authenticated, so the fuzzer explores both.

use bytes::{Bytes, BytesMut};

use crate::config::Config;
use crate::http::guard;
use crate::http::url::Target;
use crate::http::{Next, RequestReader};
use crate::limits::INLINE_LEN_MAX;
use crate::resp::parse::{ParseLimits, ProtocolError, RequestParser};

/// Parses `data` (after its control byte) as a RESP client's input, whole, split in two, and, when short,
/// byte by byte; panics if the requests or the error differ.
pub fn resp_requests(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let limits = ParseLimits { proto_max_bulk_len: 1 << 20, authenticated: control & 1 == 0 };
    let whole = resp_outcome(&[input], &limits);
    // A line over the 64 KiB inline limit is refused or not depending on whether its newline came in the
    // same read, in Redis as here; below the limit, how the bytes arrive must not matter.
    if input.len() > INLINE_LEN_MAX {
        return;
    }
    let (head, tail) = input.split_at(split_point(control, input.len()));
    assert_eq!(resp_outcome(&[head, tail], &limits), whole, "split at {}", head.len());
    if input.len() <= 64 {
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(resp_outcome(&bytes, &limits), whole, "byte by byte");
    }
}

/// The requests parsed from `chunks` read one after another, and the protocol error that stopped them.
fn resp_outcome(chunks: &[&[u8]], limits: &ParseLimits) -> (Vec<Vec<Bytes>>, Option<ProtocolError>) {
    let mut parser = RequestParser::default();
    let mut buf = BytesMut::new();
    let mut argv = Vec::new();
    let mut requests = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&mut buf, &mut argv, limits) {
                Ok(true) => requests.push(std::mem::take(&mut argv)),
                Ok(false) => break,
                Err(error) => return (requests, Some(error)),
            }
        }
    }
    (requests, None)
}

/// Reads `data` (after its control byte) as an HTTP client's input, whole and split in two; panics if the
/// requests differ. Each complete request also goes through the browser checks and the target decoding.
pub fn http_requests(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else { return };
    let whole = http_outcome(&[input]);
    let (head, tail) = input.split_at(split_point(control, input.len()));
    assert_eq!(http_outcome(&[head, tail]), whole, "split at {}", head.len());
}

/// What an HTTP connection reading `chunks` in turn would be handed: each request (head and body) or the
/// refusal that ends the connection, in order.
fn http_outcome(chunks: &[&[u8]]) -> Vec<String> {
    // Building the default configuration costs more than parsing a request; build it once.
    static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(Config::default);
    let mut reader = RequestReader::default();
    let mut query = BytesMut::new();
    let mut seen = Vec::new();
    for chunk in chunks {
        query.extend_from_slice(chunk);
        loop {
            match reader.next_request(&mut query, 1 << 20, 0) {
                Next::Wait => break,
                // Whether a 100 Continue is due depends on where the body's bytes fell; it is not a request.
                Next::SendContinue => {}
                Next::Refused(refusal) => {
                    seen.push(format!("{refusal:?}"));
                    return seen;
                }
                Next::Request(head, body) => {
                    let _ = guard::check(&head, config, Some(std::net::IpAddr::from([127, 0, 0, 1])));
                    let target = Target::parse(&head.target);
                    let _ = (target.segments(), target.query_param("match"));
                    seen.push(format!("{head:?} {body:?}"));
                }
            }
        }
    }
    seen
}

/// Where the control byte splits an input of `len` bytes.
fn split_point(control: u8, len: usize) -> usize {
    usize::from(control >> 1) * len / 127
}
