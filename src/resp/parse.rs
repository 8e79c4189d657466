//! The incremental request parser: Redis 7.0's `processInlineBuffer` and `processMultibulkBuffer`.
//!
//! A connection owns one [`RequestParser`], its read buffer and an argv. After each read the server calls
//! [`RequestParser::parse`] until it returns `Ok(false)`; each `Ok(true)` leaves one complete request in argv.
//! [`RequestParser::bytes_wanted`] tells the reader how much of a big bulk argument is still missing.
//!
//! Requests come in two forms, chosen by the first byte as in Redis: `*` starts a multibulk request
//! (`*<count>\r\n` then `count` times `$<len>\r\n<len bytes>\r\n`), anything else is an inline request (one
//! line split with [`split_args`]). Empty requests (`*0`, `*-1`, blank lines) are consumed silently.
//!
//! Quirks kept on purpose, because clients and Redis's test suite see them:
//! - Header lines end at the first `\r`, and the byte after it is skipped unchecked (it is normally `\n`); the
//!   two bytes after bulk data are skipped unchecked too. Inline lines end at `\n`, with an optional `\r`.
//! - Redis finds line ends with `strchr`, which stops at a NUL byte. A NUL before the line end therefore stalls
//!   the request until the buffer passes the 64 KiB header limit and the "too big" error fires. We reproduce
//!   that stall exactly (it needs no extra state: the scan simply stops at the NUL).
//! - Errors are checked in Redis's order and at Redis's thresholds (limits below are Redis's constants).
//!
//! Invariants: bytes already searched for a line end are never searched again (the offset is kept across
//! calls), so a slow-drip client costs linear time; no allocation is sized by a length the client announced
//! (argv reserves at most `ARGV_PREALLOC_MAX` slots, bulk data grows only as bytes arrive); nothing panics on
//! any input. Bulk arguments are split off the read buffer (`split_to().freeze()`), so argv shares its memory.

use bytes::{Buf, Bytes, BytesMut};

use crate::limits::{
    ARGV_PREALLOC_MAX, INLINE_LEN_MAX, MULTIBULK_LEN_MAX, UNAUTH_BULK_LEN_MAX, UNAUTH_MULTIBULK_LEN_MAX,
};
use crate::util::num::parse_i64;
use crate::util::splitargs::split_args;

/// The per-client settings the parser enforces.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// `proto-max-bulk-len`: the largest bulk argument accepted, in bytes.
    pub proto_max_bulk_len: u64,
    /// False while the client still has to AUTH; the request size limits are then much lower.
    pub authenticated: bool,
}

/// A malformed request. The connection must reply with [`ProtocolError::reply_text`] and close once the reply
/// is written, as Redis does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMbulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigBulkCount,
    /// A bulk header started with this byte instead of `$`.
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The error reply without its leading `-` and trailing CRLF, e.g. `ERR Protocol error: invalid multibulk
    /// length`, ready for `Reply::error`. Exact for every error except `ExpectedDollar` with a byte >= 0x80,
    /// which Redis sends raw and a `String` cannot hold (it becomes U+FFFD); use [`Self::reply_bytes`] for the
    /// exact bytes.
    pub fn reply_text(&self) -> String {
        String::from_utf8_lossy(&self.reply_bytes()).into_owned()
    }

    /// The exact bytes Redis sends between `-` and CRLF.
    pub fn reply_bytes(&self) -> Vec<u8> {
        let detail: &str = match self {
            ProtocolError::TooBigInline => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request",
            ProtocolError::TooBigMbulkCount => "too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length",
            ProtocolError::ExpectedDollar(got) => {
                // addReplyErrorFormat turns CR and LF into spaces so the error stays on one line.
                let got = if matches!(got, b'\r' | b'\n') { b' ' } else { *got };
                let mut text = b"ERR Protocol error: expected '$', got '".to_vec();
                text.extend_from_slice(&[got, b'\'']);
                return text;
            }
        };
        format!("ERR Protocol error: {detail}").into_bytes()
    }
}

/// What a line search found at the front of the buffer.
enum Line {
    /// The terminator is at this offset.
    EndsAt(usize),
    /// No terminator yet (or a NUL hides it): wait for more bytes.
    Incomplete,
}

/// Parsing state kept across reads: where we are inside the current request.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// Arguments of the current multibulk request still to read; 0 between requests.
    multibulk_len: usize,
    /// Length in bytes of the bulk argument being read, once its `$` header has been consumed.
    bulk_len: Option<usize>,
    /// Bytes at the front of the buffer already searched for the current line's terminator.
    line_scanned_len: usize,
    /// Bytes still missing from the current bulk argument (data plus CRLF) when `parse` last returned.
    bulk_missing_len: usize,
}

impl RequestParser {
    /// Parses the next request from the front of `buf`, consuming the bytes it uses.
    ///
    /// Returns `Ok(true)` when `argv` holds one complete, non-empty request. Returns `Ok(false)` when more bytes
    /// are needed: the state is kept and the arguments parsed so far stay in `argv`, so the caller only appends
    /// to `buf` and calls again. Between requests `argv` is cleared on entry, so the caller may either take it
    /// (`mem::take`) or leave it. Returns `Err` on a protocol error; the caller replies and closes, and must not
    /// call `parse` again (the state is then unspecified). If the caller ever replaces `buf`, it must reset the
    /// parser too.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        argv: &mut Vec<Bytes>,
        limits: &ParseLimits,
    ) -> Result<bool, ProtocolError> {
        self.bulk_missing_len = 0;
        loop {
            if self.multibulk_len == 0 {
                argv.clear();
                let header_done = match buf.first() {
                    None => false,
                    Some(b'*') => self.read_multibulk_len(buf, argv, limits)?,
                    Some(_) => self.read_inline(buf, argv)?,
                };
                if !header_done {
                    return Ok(false);
                }
            }
            if self.multibulk_len > 0 && !self.read_bulks(buf, argv, limits)? {
                return Ok(false);
            }
            if !argv.is_empty() {
                return Ok(true);
            }
        }
    }

    /// How many more bytes the current bulk argument needs (its data and CRLF) beyond what the buffer held when
    /// `parse` last returned; 0 when no bulk argument is in progress. The reader uses it to reserve room for a
    /// big argument in one go, capped by its own limit.
    pub fn bytes_wanted(&self) -> usize {
        self.bulk_missing_len
    }

    /// Reads one inline request; true when a whole line was consumed (its arguments, maybe none, are in argv).
    fn read_inline(&mut self, buf: &mut BytesMut, argv: &mut Vec<Bytes>) -> Result<bool, ProtocolError> {
        let newline = match self.find_line_end(buf, b'\n') {
            Line::EndsAt(offset) => offset,
            Line::Incomplete if buf.len() > INLINE_LEN_MAX => {
                return Err(ProtocolError::TooBigInline);
            }
            Line::Incomplete => return Ok(false),
        };
        let line_len = if newline > 0 && buf[newline - 1] == b'\r' { newline - 1 } else { newline };
        let args = split_args(&buf[..line_len]).ok_or(ProtocolError::UnbalancedQuotes)?;
        self.consume_line(buf, newline + 1);
        argv.extend(args.into_iter().map(Bytes::from));
        Ok(true)
    }

    /// Reads a `*<count>` header; true when it was consumed. A count of zero or less is an empty request, which
    /// leaves `multibulk_len` at 0.
    fn read_multibulk_len(
        &mut self,
        buf: &mut BytesMut,
        argv: &mut Vec<Bytes>,
        limits: &ParseLimits,
    ) -> Result<bool, ProtocolError> {
        let Some(cr) = self.find_header_end(buf, ProtocolError::TooBigMbulkCount)? else {
            return Ok(false);
        };
        let count =
            parse_i64(&buf[1..cr]).filter(|&n| n <= MULTIBULK_LEN_MAX).ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > UNAUTH_MULTIBULK_LEN_MAX && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.consume_line(buf, cr + 2);
        if let Ok(count @ 1..) = usize::try_from(count) {
            self.multibulk_len = count;
            argv.reserve(count.min(ARGV_PREALLOC_MAX));
        }
        Ok(true)
    }

    /// Reads bulk arguments until the request is complete (true) or the buffer runs dry (false).
    fn read_bulks(
        &mut self,
        buf: &mut BytesMut,
        argv: &mut Vec<Bytes>,
        limits: &ParseLimits,
    ) -> Result<bool, ProtocolError> {
        while self.multibulk_len > 0 {
            let bulk_len = match self.bulk_len {
                Some(len) => len,
                None => match self.read_bulk_len(buf, limits)? {
                    Some(len) => len,
                    None => return Ok(false),
                },
            };
            // The header check bounds bulk_len by proto_max_bulk_len, so this cannot overflow in practice;
            // saturating keeps it panic-free whatever the configuration says.
            let needed = bulk_len.saturating_add(2);
            if buf.len() < needed {
                self.bulk_missing_len = needed - buf.len();
                return Ok(false);
            }
            argv.push(buf.split_to(bulk_len).freeze());
            buf.advance(2);
            self.bulk_len = None;
            self.multibulk_len -= 1;
        }
        Ok(true)
    }

    /// Reads a `$<len>` header; `Some(len)` once it was consumed, `None` when more bytes are needed.
    fn read_bulk_len(&mut self, buf: &mut BytesMut, limits: &ParseLimits) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = self.find_header_end(buf, ProtocolError::TooBigBulkCount)? else {
            return Ok(None);
        };
        if buf[0] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[0]));
        }
        let len = parse_i64(&buf[1..cr])
            .and_then(|n| u64::try_from(n).ok())
            .filter(|&n| n <= limits.proto_max_bulk_len)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        if len > UNAUTH_BULK_LEN_MAX as u64 && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
        self.consume_line(buf, cr + 2);
        self.bulk_len = Some(len);
        Ok(Some(len))
    }

    /// Finds the `\r` ending a header line. Like Redis, a line is complete only once one more byte (normally
    /// `\n`, never checked) follows the `\r`; a header longer than [`INLINE_LEN_MAX`] without `\r` is `too_big`.
    fn find_header_end(&mut self, buf: &BytesMut, too_big: ProtocolError) -> Result<Option<usize>, ProtocolError> {
        match self.find_line_end(buf, b'\r') {
            Line::EndsAt(cr) if cr + 1 < buf.len() => Ok(Some(cr)),
            Line::EndsAt(_) => Ok(None),
            Line::Incomplete if buf.len() > INLINE_LEN_MAX => Err(too_big),
            Line::Incomplete => Ok(None),
        }
    }

    /// Searches the current line for `terminator`, resuming where the last search stopped. A NUL ends the
    /// search as it ends Redis's `strchr`; the offset then stays on the NUL, so the line stays incomplete.
    fn find_line_end(&mut self, buf: &BytesMut, terminator: u8) -> Line {
        let start = self.line_scanned_len.min(buf.len());
        let found = buf[start..].iter().position(|&c| c == terminator || c == 0);
        match found.map(|i| start + i) {
            Some(offset) if buf[offset] == terminator => {
                self.line_scanned_len = offset;
                Line::EndsAt(offset)
            }
            Some(nul) => {
                self.line_scanned_len = nul;
                Line::Incomplete
            }
            None => {
                self.line_scanned_len = buf.len();
                Line::Incomplete
            }
        }
    }

    /// Drops a parsed line of `len` bytes (terminator included) from the buffer; the next line is unscanned.
    fn consume_line(&mut self, buf: &mut BytesMut, len: usize) {
        buf.advance(len);
        self.line_scanned_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ParseLimits = ParseLimits { proto_max_bulk_len: 512 * 1024 * 1024, authenticated: true };
    const UNAUTH: ParseLimits = ParseLimits { authenticated: false, ..LIMITS };

    /// What feeding some bytes produced: the complete requests, then how parsing stopped.
    #[derive(Debug, PartialEq)]
    struct Outcome {
        requests: Vec<Vec<Vec<u8>>>,
        error: Option<ProtocolError>,
    }

    /// Feeds `chunks` one after the other, parsing after each, like a connection that reads them in turn.
    fn feed(chunks: &[&[u8]], limits: &ParseLimits) -> Outcome {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut argv = Vec::new();
        let mut requests = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                match parser.parse(&mut buf, &mut argv, limits) {
                    Ok(true) => requests.push(argv.iter().map(|a| a.to_vec()).collect()),
                    Ok(false) => break,
                    Err(e) => {
                        return Outcome { requests, error: Some(e) };
                    }
                }
            }
        }
        Outcome { requests, error: None }
    }

    fn parse_all(input: &[u8]) -> Outcome {
        feed(&[input], &LIMITS)
    }

    fn request(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    fn err(e: ProtocolError) -> Outcome {
        Outcome { requests: vec![], error: Some(e) }
    }

    /// Input bytes and the requests (each an argv) they must produce.
    type Sample = (&'static [u8], Vec<Vec<Vec<u8>>>);

    /// Sample requests and the argv each must produce; each sample is checked alone, split, and concatenated.
    fn samples() -> Vec<Sample> {
        vec![
            (b"*1\r\n$4\r\nPING\r\n", vec![request(&["PING"])]),
            (b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", vec![request(&["SET", "key", "value"])]),
            (b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n", vec![request(&["GET", ""])]),
            (b"*1\r\n$3\r\na\r\n\r\n", vec![request(&["a\r\n"])]),
            (b"*1\r\n$3\r\n\0\0\0\r\n", vec![request(&["\0\0\0"])]),
            // Redis never checks the byte after '\r' in headers, nor the two bytes after bulk data.
            (b"*1\rX$4\rXPINGxx", vec![request(&["PING"])]),
            (b"*0\r\n*-1\r\n*-7\r\n", vec![]),
            (b"PING\r\n", vec![request(&["PING"])]),
            (b"PING\n", vec![request(&["PING"])]),
            (b"\r\n\n   \r\n", vec![]),
            (b"set k \"a b\" 'c d'\r\n", vec![request(&["set", "k", "a b", "c d"])]),
            (b"echo \"\\x41\\n\" ''\n", vec![request(&["echo", "A\n", ""])]),
            (b"  get\tk  \r\n", vec![request(&["get", "k"])]),
            (b"a\rb\r\n", vec![request(&["a", "b"])]),
        ]
    }

    #[test]
    fn samples_parse_alone_and_concatenated() {
        let mut all_input = Vec::new();
        let mut all_requests = Vec::new();
        for (input, expected) in samples() {
            assert_eq!(parse_all(input), Outcome { requests: expected.clone(), error: None }, "{input:?}");
            all_input.extend_from_slice(input);
            all_requests.extend(expected);
        }
        assert_eq!(parse_all(&all_input), Outcome { requests: all_requests, error: None });
    }

    #[test]
    fn every_split_point_gives_the_same_requests() {
        let mut inputs: Vec<Vec<u8>> = samples().into_iter().map(|(input, _)| input.to_vec()).collect();
        inputs.push(samples().into_iter().flat_map(|(input, _)| input.to_vec()).collect());
        for input in inputs {
            let whole = parse_all(&input);
            for at in 0..=input.len() {
                let (head, tail) = input.split_at(at);
                assert_eq!(feed(&[head, tail], &LIMITS), whole, "{input:?} split at {at}");
            }
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(feed(&bytes, &LIMITS), whole, "{input:?} byte by byte");
        }
    }

    #[test]
    fn waits_for_the_whole_request() {
        for partial in [
            &b"*"[..],
            b"*1",
            b"*1\r",
            b"*1\r\n$",
            b"*1\r\n$4\r",
            b"*1\r\n$4\r\nPI",
            b"*1\r\n$4\r\nPING",
            b"*1\r\n$4\r\nPING\r",
            b"PING",
            b"PING\r",
            b"set \"a\r",
        ] {
            assert_eq!(parse_all(partial), Outcome { requests: vec![], error: None }, "{partial:?}");
        }
    }

    #[test]
    fn a_nul_stalls_the_line_as_strchr_does() {
        // Redis's strchr stops at the NUL, so these never complete however many lines follow.
        for stalled in [&b"PING\0\r\nPING\r\n"[..], b"*1\0\r\n", b"*1\r\n$4\0\r\nPING\r\n"] {
            assert_eq!(parse_all(stalled), Outcome { requests: vec![], error: None }, "{stalled:?}");
        }
        // Until the stalled line passes the header limit.
        let mut inline = b"PING\0\r\n".to_vec();
        inline.resize(INLINE_LEN_MAX, b'x');
        assert_eq!(parse_all(&inline).error, None);
        inline.push(b'x');
        assert_eq!(parse_all(&inline), err(ProtocolError::TooBigInline));
    }

    #[test]
    fn malformed_headers_are_rejected_like_redis() {
        // Each reply was checked against redis-server 7.0.15 with raw bytes on a socket.
        let cases: &[(&[u8], ProtocolError)] = &[
            (b"*\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*+1\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*01\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*-0\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*1 \r\n", ProtocolError::InvalidMultibulkLength),
            (b"*2147483648\r\n", ProtocolError::InvalidMultibulkLength),
            (b"*1\r\nx\r\n", ProtocolError::ExpectedDollar(b'x')),
            (b"*1\r\n\r\n", ProtocolError::ExpectedDollar(b'\r')),
            (b"*1\r\n\n\r\n", ProtocolError::ExpectedDollar(b'\n')),
            (b"*1\r\n$\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$-1\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$+4\r\nPING\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$04\r\nPING\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$536870913\r\n", ProtocolError::InvalidBulkLength),
            (b"*1\r\n$99999999999999999999\r\n", ProtocolError::InvalidBulkLength),
            (b"ECHO \"a\r\n", ProtocolError::UnbalancedQuotes),
            (b"ECHO 'a'b\r\n", ProtocolError::UnbalancedQuotes),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_all(input), err(*expected), "{input:?}");
        }
    }

    #[test]
    fn requests_before_an_error_are_returned_first() {
        let outcome = parse_all(b"PING\r\n*1\r\n$4\r\nECHO\r\n*1\r\nx\r\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(outcome.requests, vec![request(&["PING"]), request(&["ECHO"])]);
        assert_eq!(outcome.error, Some(ProtocolError::ExpectedDollar(b'x')));
    }

    #[test]
    fn count_and_bulk_limits_at_their_thresholds() {
        assert_eq!(parse_all(b"*2147483647\r\n").error, None);
        assert_eq!(parse_all(b"*1\r\n$536870912\r\n").error, None);
        let small = ParseLimits { proto_max_bulk_len: 3, authenticated: true };
        assert_eq!(feed(&[b"*1\r\n$3\r\nabc\r\n"], &small).requests, vec![request(&["abc"])]);
        assert_eq!(feed(&[b"*1\r\n$4\r\n"], &small), err(ProtocolError::InvalidBulkLength));
    }

    #[test]
    fn unauthenticated_clients_get_small_limits() {
        assert_eq!(feed(&[b"*10\r\n"], &UNAUTH).error, None);
        assert_eq!(feed(&[b"*11\r\n"], &UNAUTH), err(ProtocolError::UnauthenticatedMultibulkLength));
        assert_eq!(feed(&[b"*1\r\n$16384\r\n"], &UNAUTH).error, None);
        assert_eq!(feed(&[b"*1\r\n$16385\r\n"], &UNAUTH), err(ProtocolError::UnauthenticatedBulkLength));
        // Invalid lengths are reported before the authentication limits, as in Redis.
        assert_eq!(feed(&[b"*11x\r\n"], &UNAUTH), err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(feed(&[b"*1\r\n$536870913\r\n"], &UNAUTH), err(ProtocolError::InvalidBulkLength));
        // Empty requests are fine whatever their sign.
        assert_eq!(feed(&[b"*-1\r\n"], &UNAUTH).error, None);
    }

    #[test]
    fn header_lines_without_terminator_are_capped() {
        let mut inline = vec![b'A'; INLINE_LEN_MAX];
        assert_eq!(parse_all(&inline).error, None);
        inline.push(b'A');
        assert_eq!(parse_all(&inline), err(ProtocolError::TooBigInline));

        let mut count = b"*".to_vec();
        count.resize(INLINE_LEN_MAX, b'1');
        assert_eq!(parse_all(&count).error, None);
        count.push(b'1');
        assert_eq!(parse_all(&count), err(ProtocolError::TooBigMbulkCount));

        let mut bulk = b"*1\r\n$".to_vec();
        bulk.resize(4 + INLINE_LEN_MAX, b'1');
        assert_eq!(parse_all(&bulk).error, None);
        bulk.push(b'1');
        assert_eq!(parse_all(&bulk), err(ProtocolError::TooBigBulkCount));
    }

    #[test]
    fn a_long_line_that_does_end_is_parsed() {
        let mut line = vec![b'A'; INLINE_LEN_MAX + 10];
        line.extend_from_slice(b" B\r\n");
        let expected = vec![vec![vec![b'A'; INLINE_LEN_MAX + 10], b"B".to_vec()]];
        assert_eq!(parse_all(&line), Outcome { requests: expected, error: None });
    }

    #[test]
    fn inline_scan_never_revisits_bytes() {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut argv = Vec::new();
        for _ in 0..1000 {
            buf.extend_from_slice(b"abcd");
            assert_eq!(parser.parse(&mut buf, &mut argv, &LIMITS), Ok(false));
            assert_eq!(parser.line_scanned_len, buf.len());
        }
        buf.extend_from_slice(b"\r\n");
        assert_eq!(parser.parse(&mut buf, &mut argv, &LIMITS), Ok(true));
        assert_eq!(argv, vec![Bytes::from(b"abcd".repeat(1000))]);
        assert_eq!(parser.line_scanned_len, 0);
    }

    #[test]
    fn a_huge_count_reserves_little() {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        let mut argv = Vec::new();
        assert_eq!(parser.parse(&mut buf, &mut argv, &LIMITS), Ok(false));
        assert!(argv.capacity() <= ARGV_PREALLOC_MAX, "capacity {}", argv.capacity());
        assert_eq!(argv, vec![Bytes::from_static(b"a")]);
    }

    #[test]
    fn bulk_arguments_share_the_read_buffer() {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let mut argv = Vec::new();
        assert_eq!(parser.parse(&mut buf, &mut argv, &LIMITS), Ok(true));
        assert_eq!(argv[0].as_ptr() as usize, base + 8);
        assert_eq!(argv[1].as_ptr() as usize, base + 17);
        assert!(buf.is_empty());
    }

    #[test]
    fn argv_is_cleared_when_the_next_request_starts() {
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::from(&b"PING\r\n"[..]);
        let mut argv = Vec::new();
        assert_eq!(parser.parse(&mut buf, &mut argv, &LIMITS), Ok(true));
        assert_eq!(parser.parse(&mut buf, &mut argv, &LIMITS), Ok(false));
        assert!(argv.is_empty());
        buf.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n");
        assert_eq!(parser.parse(&mut buf, &mut argv, &LIMITS), Ok(false));
        assert_eq!(argv, vec![Bytes::from_static(b"ECHO")], "parsed arguments stay while waiting");
    }

    #[test]
    fn a_one_megabyte_bulk_arrives_in_small_chunks() {
        let value: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut input = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", value.len()).into_bytes();
        let header_len = input.len();
        input.extend_from_slice(&value);
        input.extend_from_slice(b"\r\n");

        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut argv = Vec::new();
        let mut chunks = input.chunks(4096).peekable();
        let mut complete = false;
        while let Some(chunk) = chunks.next() {
            buf.extend_from_slice(chunk);
            let parsed = parser.parse(&mut buf, &mut argv, &LIMITS).expect("valid input");
            if chunks.peek().is_some() {
                assert!(!parsed);
                let received = input.len() - chunks.clone().map(<[u8]>::len).sum::<usize>();
                if received >= header_len {
                    assert_eq!(parser.bytes_wanted(), input.len() - received);
                }
            } else {
                complete = parsed;
            }
        }
        assert!(complete);
        assert_eq!(argv.len(), 3);
        assert_eq!(&argv[2][..], &value[..]);
        assert_eq!(parser.bytes_wanted(), 0);
    }

    #[test]
    fn reply_texts_match_redis() {
        let cases = [
            (ProtocolError::TooBigInline, "ERR Protocol error: too big inline request"),
            (ProtocolError::UnbalancedQuotes, "ERR Protocol error: unbalanced quotes in request"),
            (ProtocolError::TooBigMbulkCount, "ERR Protocol error: too big mbulk count string"),
            (ProtocolError::InvalidMultibulkLength, "ERR Protocol error: invalid multibulk length"),
            (ProtocolError::UnauthenticatedMultibulkLength, "ERR Protocol error: unauthenticated multibulk length"),
            (ProtocolError::TooBigBulkCount, "ERR Protocol error: too big bulk count string"),
            (ProtocolError::InvalidBulkLength, "ERR Protocol error: invalid bulk length"),
            (ProtocolError::UnauthenticatedBulkLength, "ERR Protocol error: unauthenticated bulk length"),
            (ProtocolError::ExpectedDollar(b'x'), "ERR Protocol error: expected '$', got 'x'"),
            (ProtocolError::ExpectedDollar(b'\r'), "ERR Protocol error: expected '$', got ' '"),
            (ProtocolError::ExpectedDollar(b'\n'), "ERR Protocol error: expected '$', got ' '"),
        ];
        for (error, text) in cases {
            assert_eq!(error.reply_text(), text);
            assert_eq!(error.reply_bytes(), text.as_bytes());
        }
        // Redis sends other bytes raw, even when they are not UTF-8.
        assert_eq!(ProtocolError::ExpectedDollar(0xff).reply_bytes(), b"ERR Protocol error: expected '$', got '\xff'");
    }

    /// xorshift64: a tiny deterministic generator, so a failing seed can be replayed.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Random input biased towards protocol fragments, so the random walk reaches deep parser states.
    fn random_input(rng: &mut XorShift) -> Vec<u8> {
        const PIECES: &[&[u8]] =
            &[b"*", b"$", b"\r", b"\n", b"\r\n", b"\0", b"-", b"1", b"2", b"3", b"0", b"9", b"\"", b"'", b"\\", b" "];
        let mut input = Vec::new();
        for _ in 0..rng.below(48) {
            if rng.below(3) == 0 {
                input.push(rng.next() as u8);
            } else {
                input.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            }
        }
        input
    }

    #[test]
    fn random_bytes_never_panic_and_chunking_does_not_matter() {
        let seed = 0x5eed_f00d_u64;
        let mut rng = XorShift(seed);
        for round in 0..3000 {
            let input = random_input(&mut rng);
            let limits = if rng.below(2) == 0 { LIMITS } else { UNAUTH };
            let whole = feed(&[&input], &limits);
            let mut chunks = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                let (chunk, tail) = rest.split_at(1 + rng.below(rest.len()));
                chunks.push(chunk);
                rest = tail;
            }
            assert_eq!(feed(&chunks, &limits), whole, "seed {seed:#x}, round {round}, input {input:?}");
        }
    }

    #[test]
    fn waiting_is_idempotent() {
        let mut rng = XorShift(0xabad_cafe);
        for _ in 0..1000 {
            let input = random_input(&mut rng);
            let mut parser = RequestParser::default();
            let mut buf = BytesMut::from(&input[..]);
            let mut argv = Vec::new();
            while let Ok(true) = parser.parse(&mut buf, &mut argv, &LIMITS) {}
            let before = (buf.clone(), argv.clone());
            if let Ok(false) = parser.parse(&mut buf, &mut argv, &LIMITS) {
                assert_eq!((buf.clone(), argv.clone()), before, "{input:?}");
            }
        }
    }
}
