//! What keeps web pages out: the checks every request passes before it is routed, so that a browser
//! visiting a hostile page cannot make the gateway run anything, and DNS rebinding cannot read from it.
//!
//! In order ([`check`]):
//! 1. **Host.** The `Host` header must name `localhost`, the address the request came in on, or a name in
//!    `http-allow-hosts` (the port is not compared); otherwise 421. A rebinding attack points the attacker's
//!    own name at 127.0.0.1, so its requests carry that name and are refused. HTTP/1.1 without `Host` is a
//!    400 (RFC 9112); HTTP/1.0 may omit it.
//! 2. **Origin.** A browser names the page behind every cross-origin request (and every POST) in `Origin`.
//!    One not listed in `http-allow-origins` (empty by default) is refused with 403, before authentication,
//!    routing or any command.
//! 3. **Preflight.** An `OPTIONS` with `Access-Control-Request-Method` from an allowed origin gets the CORS
//!    answer (204); allowed origins also get `Access-Control-Allow-Origin` on every response, refusals
//!    included (a 415 or 421 here, a 413 or 431 from `request`), so their pages can read why. Nothing CORS
//!    is sent to any other origin, so the browser keeps those pages from reading responses.
//! 4. **Content type.** A POST or PUT with a body, or with any Content-Type, needs `Content-Type:
//!    application/json` (415 otherwise), a type a page cannot send cross-origin without a preflight, so
//!    even a browser that sent no `Origin` could not deliver a form, multipart or text/plain post (a form
//!    always sends its type, even empty). A bodyless POST without a type (`curl -X POST .../incr`) passes:
//!    a browser's bodyless fetch always carries `Origin`, which step 2 judges.

use std::net::IpAddr;

use super::request::{Head, Method};
use super::route::HttpError;
use crate::config::Config;

/// How a request may go on.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<'h> {
    /// Route it; `cors_origin` is the allowed origin to name in the response, if it came from one.
    Proceed {
        cors_origin: Option<&'h [u8]>,
    },
    /// A CORS preflight from this allowed origin: answer it, run nothing.
    Preflight(&'h [u8]),
    Refuse(HttpError),
}

/// The CORS headers of a preflight answer, after `Access-Control-Allow-Origin`.
pub const PREFLIGHT_HEADERS: &str = "Access-Control-Allow-Methods: GET, POST, PUT, DELETE\r\n\
     Access-Control-Allow-Headers: Authorization, Content-Type, Upstash-Encoding\r\nAccess-Control-Max-Age: 600";

/// Checks `head`, which arrived on local address `local_ip`, against the configuration.
pub fn check<'h>(head: &'h Head, config: &Config, local_ip: Option<IpAddr>) -> Verdict<'h> {
    if let Err(refusal) = check_host(head, config, local_ip) {
        return Verdict::Refuse(refusal);
    }
    let cors_origin = match head.origin.as_deref() {
        None => None,
        Some(origin) if allowed_origin(Some(origin), config).is_some() => Some(origin),
        Some(_) => {
            return Verdict::Refuse(HttpError::new(
                403,
                "origin not allowed: add it to http-allow-origins to serve it",
            ));
        }
    };
    if let (Method::Options, true, Some(origin)) = (head.method, head.preflight, cors_origin) {
        return Verdict::Preflight(origin);
    }
    let typed = head.content_type.is_some() || head.content_length > 0;
    if matches!(head.method, Method::Post | Method::Put) && typed && !is_json(head.content_type.as_deref()) {
        return Verdict::Refuse(HttpError::new(415, "a POST or PUT body needs Content-Type: application/json"));
    }
    Verdict::Proceed { cors_origin }
}

/// `origin` if it is one of `http-allow-origins`: the origin a response may name in its CORS headers, refusals
/// included, so an allowed page can read why it was refused.
pub fn allowed_origin<'h>(origin: Option<&'h [u8]>, config: &Config) -> Option<&'h [u8]> {
    origin.filter(|origin| listed(&config.http_allow_origins, origin))
}

fn check_host(head: &Head, config: &Config, local_ip: Option<IpAddr>) -> Result<(), HttpError> {
    let Some(host) = head.host.as_deref() else {
        return if head.http11 { Err(HttpError::new(400, "HTTP/1.1 request without Host")) } else { Ok(()) };
    };
    let name = host_name(host);
    let local = name.eq_ignore_ascii_case(b"localhost")
        || std::str::from_utf8(name).ok().and_then(|n| n.parse::<IpAddr>().ok()).is_some_and(|ip| Some(ip) == local_ip);
    if local || listed(&config.http_allow_hosts, name) {
        return Ok(());
    }
    Err(HttpError::new(421, "Host not served: use localhost or the server's address, or add it to http-allow-hosts"))
}

/// The name part of a Host value: without its `:port`, and an IPv6 literal without its brackets.
fn host_name(host: &[u8]) -> &[u8] {
    if let Some(rest) = host.strip_prefix(b"[") {
        return rest.split(|&b| b == b']').next().unwrap_or_default();
    }
    host.split(|&b| b == b':').next().unwrap_or_default()
}

/// Whether `value` is in `list` (compared without case, as scheme and host names are).
fn listed(list: &[String], value: &[u8]) -> bool {
    list.iter().any(|entry| entry.as_bytes().eq_ignore_ascii_case(value))
}

/// Whether a Content-Type names `application/json` (parameters such as `charset` allowed).
fn is_json(content_type: Option<&[u8]>) -> bool {
    let Some(value) = content_type else { return false };
    let media_type = value.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
    media_type.eq_ignore_ascii_case(b"application/json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::{HeadParse, parse_head};

    fn head(text: &str) -> Head {
        match parse_head(text.as_bytes(), 1 << 20) {
            HeadParse::Complete { head, .. } => head,
            other => panic!("{other:?}"),
        }
    }

    fn status(text: &str, config: &Config) -> Option<u16> {
        match check(&head(text), config, Some(IpAddr::from([127, 0, 0, 1]))) {
            Verdict::Refuse(error) => Some(error.status),
            Verdict::Preflight(_) => Some(204),
            Verdict::Proceed { .. } => None,
        }
    }

    #[test]
    fn hosts_must_be_local_or_listed() {
        let mut config = Config::default();
        for host in ["localhost", "LOCALHOST:7379", "127.0.0.1", "127.0.0.1:80"] {
            assert_eq!(status(&format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"), &config), None, "{host}");
        }
        for host in ["evil.example", "evil.example:7379", "127.0.0.2", "[::1]:7379", "localhost.evil.example"] {
            assert_eq!(status(&format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"), &config), Some(421), "{host}");
        }
        assert_eq!(status("GET / HTTP/1.1\r\n\r\n", &config), Some(400));
        assert_eq!(status("GET / HTTP/1.0\r\n\r\n", &config), None);
        config.http_allow_hosts = vec!["kv.internal".into()];
        assert_eq!(status("GET / HTTP/1.1\r\nHost: KV.internal:7379\r\n\r\n", &config), None);
    }

    #[test]
    fn origins_are_refused_unless_listed() {
        let mut config = Config::default();
        let get = "GET / HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n\r\n";
        assert_eq!(status(get, &config), Some(403));
        assert_eq!(status("GET / HTTP/1.1\r\nHost: localhost\r\nOrigin: null\r\n\r\n", &config), Some(403));
        let preflight = "OPTIONS /k HTTP/1.1\r\nHost: localhost\r\nOrigin: http://app.example:3000\r\n\
                         Access-Control-Request-Method: POST\r\n\r\n";
        assert_eq!(status(preflight, &config), Some(403));
        config.http_allow_origins = vec!["http://app.example:3000".into()];
        assert_eq!(status(preflight, &config), Some(204));
        assert_eq!(status(get, &config), Some(403));
        let allowed = "GET / HTTP/1.1\r\nHost: localhost\r\nOrigin: http://app.example:3000\r\n\r\n";
        let parsed = head(allowed);
        assert_eq!(
            check(&parsed, &config, None),
            Verdict::Proceed { cors_origin: Some(&b"http://app.example:3000"[..]) }
        );
    }

    #[test]
    fn writes_need_a_json_body_type() {
        let config = Config::default();
        let post = |content_type: &str| format!("POST /k HTTP/1.1\r\nHost: localhost\r\n{content_type}\r\n");
        assert_eq!(status(&post("Content-Type: application/json\r\n"), &config), None);
        assert_eq!(status(&post("Content-Type: Application/JSON; charset=utf-8\r\n"), &config), None);
        for refused in [
            "Content-Length: 2\r\n",
            "Content-Type: text/plain\r\nContent-Length: 2\r\n",
            "Content-Type: application/x-www-form-urlencoded\r\n",
            "Content-Type: multipart/form-data; boundary=x\r\n",
        ] {
            assert_eq!(status(&post(refused), &config), Some(415), "{refused:?}");
        }
        assert_eq!(status(&post(""), &config), None);
        assert_eq!(status("DELETE /k HTTP/1.1\r\nHost: localhost\r\n\r\n", &config), None);
    }
}
