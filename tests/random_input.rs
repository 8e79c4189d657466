//! The bounded form of the fuzzing that `fuzz/` runs without end (`scripts/fuzz`): seeded random inputs,
//! some pure noise and some built from the pieces real requests are made of and then mutated, through the
//! RESP request parser and the HTTP request reader (`ferrokv::fuzzing`). Nothing may panic, and where the
//! input is split must not change what is parsed. A failure prints the seed; `RANDOM_INPUT_SEED=n`
//! replays one.

mod common;

use common::Rng;
use ferrokv::fuzzing::{http_requests, resp_requests};

const CASES: u64 = 4000;

/// Pieces of RESP requests, valid and not.
const RESP_PIECES: &[&[u8]] = &[
    b"*",
    b"$",
    b"\r\n",
    b"\n",
    b"\r",
    b"1",
    b"2",
    b"3",
    b"-1",
    b"0",
    b"99999999999",
    b"-",
    b"+",
    b"x",
    b"SET",
    b"PING",
    b" ",
    b"\"",
    b"'",
    b"\\x4",
    b"\\",
    b"\0",
    b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
    b"*1\r\n$4\r\nPING\r\n",
    b"$1048577\r\n",
    b"*11\r\n",
    b"$16385\r\n",
    b"POST / HTTP/1.1\r\n",
    b"\x0b",
    b"\t",
];

/// Pieces of HTTP requests, valid and not.
const HTTP_PIECES: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\n",
    b"POST /k HTTP/1.1\r\n",
    b"OPTIONS /_redis HTTP/1.1\r\n",
    b"PUT /a%2Fb HTTP/1.0\r\n",
    b"Host: localhost\r\n",
    b"Host: [::1]:7379\r\n",
    b"Host: evil\r\n",
    b"Origin: http://a.example\r\n",
    b"Content-Type: application/json\r\n",
    b"Content-Type: text/plain\r\n",
    b"Content-Length: 5\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Content-Length: -1\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Expect: 100-continue\r\n",
    b"Connection: close\r\n",
    b"Authorization: Bearer x\r\n",
    b"Access-Control-Request-Method: POST\r\n",
    b"\r\n",
    b"\n",
    b"{\"value\":1}",
    b"%zz",
    b"?match=*&count=5",
    b"\0",
    b":",
    b" ",
];

/// One input: a control byte, then noise or mutated pieces.
fn input(rng: &mut Rng, pieces: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![rng.below(256) as u8];
    if rng.chance(0.2) {
        let len = rng.below(512);
        out.extend(rng.bytes(len));
        return out;
    }
    for _ in 0..rng.below(24) {
        let piece: &&[u8] = rng.pick(pieces);
        out.extend_from_slice(piece);
        if rng.chance(0.1) && out.len() > 1 {
            let at = 1 + rng.below(out.len() - 1);
            out[at] = rng.below(256) as u8;
        }
    }
    out
}

fn seeds() -> std::ops::Range<u64> {
    match std::env::var("RANDOM_INPUT_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => seed..seed + 1,
        None => 0..CASES,
    }
}

fn run_cases(pieces: &[&[u8]], case: fn(&[u8])) {
    for seed in seeds() {
        let data = input(&mut Rng::new(seed), pieces);
        if std::panic::catch_unwind(|| case(&data)).is_err() {
            panic!("RANDOM_INPUT_SEED={seed} fails on {:?}", common::escape(&data));
        }
    }
}

#[test]
fn random_resp_input_never_panics_and_parses_the_same_however_split() {
    run_cases(RESP_PIECES, resp_requests);
}

#[test]
fn random_http_input_never_panics_and_parses_the_same_however_split() {
    run_cases(HTTP_PIECES, http_requests);
}
