//! Responses: the status line, the few headers the gateway sends, and the body, appended to the connection's
//! output buffer (the same buffer RESP replies use, written by the same code in `before_sleep`).
//!
//! Every body is JSON except `/_metrics` (Prometheus text) and the pub/sub event streams, whose head
//! ([`write_stream_head`]) has no Content-Length: the body lasts as long as the connection. Errors are
//! `{"error":"<text>"}` whatever the status.

use super::json;

/// A response about to be written.
#[derive(Debug)]
pub struct Response<'a> {
    pub status: u16,
    pub content_type: &'static str,
    pub body: &'a [u8],
    /// `Allow` for a 405, `WWW-Authenticate` for a 401, the CORS lines of a preflight: extra header lines,
    /// without the last CRLF.
    pub extra_header: Option<&'static str>,
    /// An allowed web origin the request came from: named in `Access-Control-Allow-Origin` (with `Vary:
    /// Origin`, so a cache never hands one origin's answer to another).
    pub cors_origin: Option<&'a [u8]>,
    /// Sends `Connection: close`; the caller closes after the write.
    pub close: bool,
}

pub const JSON: &str = "application/json";
/// Server-Sent Events (`sse`).
pub const EVENT_STREAM: &str = "text/event-stream";
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The interim answer to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Appends `response` to `out`.
pub fn write(out: &mut Vec<u8>, response: &Response<'_>) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(response.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason(response.status).as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(response.content_type.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    out.extend_from_slice(itoa::Buffer::new().format(response.body.len()).as_bytes());
    if let Some(header) = response.extra_header {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(header.as_bytes());
    }
    write_cors(out, response.cors_origin);
    if response.close {
        out.extend_from_slice(b"\r\nConnection: close");
    }
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(response.body);
}

/// Appends the head of an event stream: never cached or buffered by a proxy (`X-Accel-Buffering` is nginx's
/// switch), and the connection's last response.
pub fn write_stream_head(out: &mut Vec<u8>, cors_origin: Option<&[u8]>) {
    out.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: ");
    out.extend_from_slice(EVENT_STREAM.as_bytes());
    out.extend_from_slice(b"\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no");
    write_cors(out, cors_origin);
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
}

fn write_cors(out: &mut Vec<u8>, cors_origin: Option<&[u8]>) {
    if let Some(origin) = cors_origin {
        out.extend_from_slice(b"\r\nAccess-Control-Allow-Origin: ");
        out.extend_from_slice(origin);
        out.extend_from_slice(b"\r\nVary: Origin");
    }
}

/// `{"error":"<message>"}`.
pub fn error_body(message: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(message.len() + 12);
    body.extend_from_slice(b"{\"error\":");
    json::write_string(&mut body, message);
    body.push(b'}');
    body
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_status_headers_and_body() {
        let mut out = Vec::new();
        let body = error_body(b"no \"such\" route");
        write(
            &mut out,
            &Response {
                status: 404,
                content_type: JSON,
                body: &body,
                extra_header: None,
                cors_origin: None,
                close: true,
            },
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\
             Connection: close\r\n\r\n{\"error\":\"no \\\"such\\\" route\"}"
        );
    }
}
