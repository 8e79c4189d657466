//! The request head: `httparse` glue that turns the bytes of a request line and its headers into a [`Head`]
//! holding only what the gateway uses, or into the refusal the client gets.
//!
//! API: [`parse_head`] (call it only when [`head_may_be_complete`] says the end of a head may have arrived, so
//! a client trickling bytes is not re-parsed from the start on every read).
//!
//! Limits: the head may be [`HTTP_HEAD_BYTES_MAX`] bytes with [`HTTP_HEADERS_MAX`] headers (431 beyond either);
//! a declared body over `http-max-body` is refused (413) from its Content-Length, before a byte of it is read;
//! chunked bodies are refused (501), so every body has a length known before it arrives.

use crate::limits::{HTTP_HEAD_BYTES_MAX, HTTP_HEADERS_MAX};

/// The methods the routes use; anything else is kept as `Other` so a route can answer 405.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    /// A CORS preflight when it carries `Origin` and `Access-Control-Request-Method` (see `guard`).
    Options,
    Other,
}

/// What the gateway needs from one request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: Method,
    /// The request target as sent (path and query, still percent-encoded).
    pub target: Vec<u8>,
    /// HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 closes unless `keep-alive`.
    pub keep_alive: bool,
    pub content_length: usize,
    /// `Expect: 100-continue`: the client waits for an interim 100 before sending the body.
    pub expect_continue: bool,
    /// The token of `Authorization: Bearer <token>`.
    pub bearer: Option<Vec<u8>>,
    /// `Upstash-Encoding: base64`: strings in command results go out base64-encoded.
    pub base64: bool,
    /// `Origin`: the web page a browser sends the request for (see `guard`).
    pub origin: Option<Vec<u8>>,
    /// `Host`, as sent (name and optional port).
    pub host: Option<Vec<u8>>,
    /// `Content-Type`, as sent.
    pub content_type: Option<Vec<u8>>,
    /// `Access-Control-Request-Method` was sent: an OPTIONS request with it is a CORS preflight.
    pub preflight: bool,
    /// HTTP/1.1 (which requires `Host`), not 1.0.
    pub http11: bool,
}

/// Why a request is refused before its body; the connection closes after the answer, because the bytes that
/// follow cannot be trusted to start the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: &'static str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeadParse {
    /// More bytes are needed.
    Partial,
    /// A whole head of `len` bytes.
    Complete {
        head: Head,
        len: usize,
    },
    Refused(Refusal),
}

const HEAD_TOO_BIG: Refusal = Refusal { status: 431, message: "request header fields too large" };

/// Whether `buf` may hold a whole head, looking only at bytes from `scanned` on (minus the 3 bytes a
/// terminator split across reads may start with): a head ends at an empty line, `\r\n\r\n` or `\n\n`.
pub fn head_may_be_complete(buf: &[u8], scanned: usize) -> bool {
    let from = scanned.saturating_sub(3).min(buf.len());
    buf[from..].windows(2).any(|w| w == b"\n\n") || buf[from..].windows(3).any(|w| w == b"\n\r\n")
}

/// Parses the head at the start of `buf`; `max_body` is `http-max-body`.
pub fn parse_head(buf: &[u8], max_body: u64) -> HeadParse {
    let mut headers = [httparse::EMPTY_HEADER; HTTP_HEADERS_MAX];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > HTTP_HEAD_BYTES_MAX => return HeadParse::Refused(HEAD_TOO_BIG),
        Ok(httparse::Status::Partial) => return HeadParse::Partial,
        Err(httparse::Error::TooManyHeaders) => return HeadParse::Refused(HEAD_TOO_BIG),
        Err(_) => return HeadParse::Refused(Refusal { status: 400, message: "malformed HTTP request" }),
    };
    if len > HTTP_HEAD_BYTES_MAX {
        return HeadParse::Refused(HEAD_TOO_BIG);
    }
    match head_from(&request, max_body) {
        Ok(head) => HeadParse::Complete { head, len },
        Err(refusal) => HeadParse::Refused(refusal),
    }
}

fn head_from(request: &httparse::Request<'_, '_>, max_body: u64) -> Result<Head, Refusal> {
    let method = match request.method.unwrap_or("") {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        _ => Method::Other,
    };
    let http11 = request.version == Some(1);
    let mut head = Head {
        method,
        target: request.path.unwrap_or("/").as_bytes().to_vec(),
        keep_alive: http11,
        content_length: 0,
        expect_continue: false,
        bearer: None,
        base64: false,
        origin: None,
        host: None,
        content_type: None,
        preflight: false,
        http11,
    };
    let mut length_seen: Option<u64> = None;
    for header in request.headers.iter() {
        let value = header.value;
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            let length = content_length(value, max_body)?;
            if length_seen.is_some_and(|seen| seen != length) {
                return Err(Refusal { status: 400, message: "conflicting Content-Length headers" });
            }
            length_seen = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Refusal { status: 501, message: "Transfer-Encoding is not supported: send Content-Length" });
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&c| c == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    head.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            if !value.trim_ascii().eq_ignore_ascii_case(b"100-continue") {
                return Err(Refusal { status: 417, message: "only Expect: 100-continue is supported" });
            }
            head.expect_continue = http11;
        } else if name.eq_ignore_ascii_case("authorization") {
            head.bearer = bearer_token(value).map(<[u8]>::to_vec);
        } else if name.eq_ignore_ascii_case("upstash-encoding") {
            head.base64 = value.trim_ascii().eq_ignore_ascii_case(b"base64");
        } else if let Some(slot) = single_header_slot(name, &mut head) {
            // Two Origin, Host or Content-Type headers: which one a check should trust is ambiguous.
            if slot.replace(value.trim_ascii().to_vec()).is_some() {
                return Err(Refusal { status: 400, message: "repeated Origin, Host or Content-Type header" });
            }
        } else if name.eq_ignore_ascii_case("access-control-request-method") {
            head.preflight = true;
        }
    }
    // Checked against max_body (a usize-sized config) above, so this cannot truncate.
    head.content_length = length_seen.unwrap_or(0) as usize;
    Ok(head)
}

/// The value of the one `Origin` line in the head at the start of `buf`, read line by line without `httparse`:
/// for a request refused because its head could not be parsed (too big, too many headers, malformed), so an
/// allowed page still gets the CORS headers that let it read the refusal. `None` if there are two.
pub fn origin_line(buf: &[u8]) -> Option<&[u8]> {
    let mut found = None;
    for line in buf.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"origin") && found.replace(value.trim_ascii()).is_some() {
            return None;
        }
    }
    found
}

/// The head's slot for the headers the browser checks read, which may appear only once.
fn single_header_slot<'h>(name: &str, head: &'h mut Head) -> Option<&'h mut Option<Vec<u8>>> {
    if name.eq_ignore_ascii_case("origin") {
        Some(&mut head.origin)
    } else if name.eq_ignore_ascii_case("host") {
        Some(&mut head.host)
    } else if name.eq_ignore_ascii_case("content-type") {
        Some(&mut head.content_type)
    } else {
        None
    }
}

/// A Content-Length: digits only (no sign, no spaces inside), at most `max_body`.
fn content_length(value: &[u8], max_body: u64) -> Result<u64, Refusal> {
    let digits = value.trim_ascii();
    let bad = Refusal { status: 400, message: "invalid Content-Length" };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    let too_big = Refusal { status: 413, message: "request body larger than http-max-body" };
    let length = std::str::from_utf8(digits).ok().and_then(|t| t.parse::<u64>().ok()).ok_or(too_big)?;
    if length > max_body.min(usize::MAX as u64) {
        return Err(too_big);
    }
    Ok(length)
}

/// The token of `Bearer <token>` (scheme name in any case, RFC 7235).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let scheme = value.get(..7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then(|| value[7..].trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> Head {
        match parse_head(buf, 100) {
            HeadParse::Complete { head, len } => {
                assert_eq!(len, buf.len());
                head
            }
            other => panic!("{other:?}"),
        }
    }

    fn refused(buf: &[u8]) -> u16 {
        match parse_head(buf, 100) {
            HeadParse::Refused(refusal) => refusal.status,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_the_headers_the_gateway_uses() {
        let head = complete(
            b"POST /k?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 12\r\nExpect: 100-continue\r\n\
              Authorization: bearer s3cret\r\nUpstash-Encoding: base64\r\n\r\n",
        );
        assert_eq!(head.method, Method::Post);
        assert_eq!(head.target, b"/k?x=1");
        assert_eq!((head.content_length, head.expect_continue, head.keep_alive, head.base64), (12, true, true, true));
        assert_eq!(head.bearer.as_deref(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        assert!(!complete(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive);
        assert!(!complete(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(complete(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert_eq!(complete(b"PATCH / HTTP/1.1\r\n\r\n").method, Method::Other);
    }

    #[test]
    fn partial_heads_wait_and_oversized_ones_are_refused() {
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n", 100), HeadParse::Partial);
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(HTTP_HEAD_BYTES_MAX));
        assert_eq!(refused(long.as_bytes()), 431);
        assert_eq!(refused(format!("{long}\r\n").as_bytes()), 431);
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(HTTP_HEADERS_MAX + 1));
        assert_eq!(refused(many.as_bytes()), 431);
    }

    #[test]
    fn body_limits_and_garbage() {
        assert_eq!(refused(b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n"), 413);
        assert_eq!(refused(b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 413);
        assert_eq!(refused(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(refused(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
        assert_eq!(refused(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
        assert_eq!(refused(b"*1\r\n$4\r\nPING\r\n\r\n"), 400);
        // The browser checks read these; two of one would leave them guessing which to trust.
        assert_eq!(refused(b"GET / HTTP/1.1\r\nHost: evil\r\nHost: localhost\r\n\r\n"), 400);
        assert_eq!(refused(b"GET / HTTP/1.1\r\nOrigin: a\r\norigin: b\r\n\r\n"), 400);
        assert_eq!(refused(b"\x00\xff\xfe garbage\r\n\r\n"), 400);
    }

    #[test]
    fn head_end_detection_across_reads() {
        assert!(!head_may_be_complete(b"GET / HTTP/1.1\r\nHost: a\r\n", 0));
        assert!(head_may_be_complete(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 25));
        assert!(head_may_be_complete(b"GET / HTTP/1.0\n\n", 15));
        assert!(!head_may_be_complete(b"GET / HTTP/1.1\r\nHost: a\r\n\r", 26));
    }
}
