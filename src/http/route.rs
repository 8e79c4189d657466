//! Routing: which handler answers a request, after authentication; unknown routes get 404, known routes with
//! the wrong method 405 (with `Allow`).
//!
//! Raw paths starting with `/_` are the gateway's own (`/_redis`, `/_metrics`, `/_health`, the pub/sub routes
//! `/_subscribe/<channel>`, `/_psubscribe/<pattern>`, `/_publish/<channel>`); every other path
//! names a key in its first segment, percent-decoded after the split, so a key starting with `_` is reached as
//! `/%5F...` and a key holding `/` as `...%2F...`.

use super::request::{Head, Method};
use super::url::Target;
use super::{Exchange, metrics, response, rest, sse, upstash};
use crate::state::subscriptions::Kind;

/// A handled request: the status and content type of the body the handler wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Success {
    pub status: u16,
    pub content_type: &'static str,
    /// The body is an event stream that follows the head for as long as the connection lasts (`sse`).
    pub stream: bool,
}

/// A request answered with `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub message: Vec<u8>,
    /// `Allow` with a 405, `WWW-Authenticate` with a 401.
    pub extra_header: Option<&'static str>,
}

impl HttpError {
    pub fn new(status: u16, message: impl Into<Vec<u8>>) -> HttpError {
        HttpError { status, message: message.into(), extra_header: None }
    }

    /// A reply the converter could not read: a bug in the reply writer, reported rather than panicking.
    pub fn unconvertible(error: super::json::ConvertError) -> HttpError {
        HttpError::new(500, format!("could not convert the reply to JSON: {error:?}"))
    }

    fn method_not_allowed(allow: &'static str) -> HttpError {
        HttpError { status: 405, message: b"method not allowed".to_vec(), extra_header: Some(allow) }
    }
}

pub type Answered = Result<Success, HttpError>;

/// 200 with a JSON body.
pub const OK_JSON: Answered = Ok(Success { status: 200, content_type: response::JSON, stream: false });

const ALLOW_KEY: &str = "Allow: GET, POST, PUT, DELETE";
const ALLOW_GET: &str = "Allow: GET";
const ALLOW_POST: &str = "Allow: POST";

/// Routes one request; the handler writes its body into `out`.
pub fn handle(ex: &mut Exchange<'_>, head: &Head, body: &[u8], out: &mut Vec<u8>) -> Answered {
    let target = Target::parse(&head.target);
    if target.path == b"/_health" || target.path == b"/_health/" {
        return only(head, Method::Get, ALLOW_GET, || {
            out.extend_from_slice(br#"{"status":"ok"}"#);
            OK_JSON
        });
    }
    authenticate(ex, head)?;
    let segments = target.segments();
    if target.path.starts_with(b"/_") {
        return match &segments[..] {
            [b"_metrics"] => only(head, Method::Get, ALLOW_GET, || metrics::render(ex, out)),
            [b"_redis"] => only(head, Method::Post, ALLOW_POST, || upstash::single(ex, body, out)),
            [b"_redis", b"pipeline"] => only(head, Method::Post, ALLOW_POST, || upstash::pipeline(ex, body, out)),
            [b"_redis", b"multi-exec"] => only(head, Method::Post, ALLOW_POST, || upstash::multi_exec(ex, body, out)),
            [b"_subscribe", channel] => {
                only(head, Method::Get, ALLOW_GET, || sse::subscribe(ex, Kind::Channel, channel))
            }
            [b"_psubscribe", pattern] => {
                only(head, Method::Get, ALLOW_GET, || sse::subscribe(ex, Kind::Pattern, pattern))
            }
            [b"_publish", channel] => only(head, Method::Post, ALLOW_POST, || sse::publish(ex, channel, body, out)),
            _ => Err(HttpError::new(404, "no such route (paths starting with /_ are reserved)")),
        };
    }
    match (&segments[..], head.method) {
        ([b""], Method::Get) => rest::list(ex, &target, out),
        ([key], method) => {
            let key = rest::decode_key(key)?;
            match method {
                Method::Get => rest::get(ex, &key, out),
                Method::Post => rest::create(ex, &key, body, out),
                Method::Put => rest::update(ex, &key, body, out),
                Method::Delete => rest::delete(ex, &key, out),
                Method::Options | Method::Other => Err(HttpError::method_not_allowed(ALLOW_KEY)),
            }
        }
        ([key, op @ (b"incr" | b"decr")], method) => {
            if method != Method::Post {
                return Err(HttpError::method_not_allowed(ALLOW_POST));
            }
            let key = rest::decode_key(key)?;
            rest::count(ex, &key, *op == b"decr", body, out)
        }
        _ => Err(HttpError::new(404, "no such route")),
    }
}

/// Runs `handler` if the request uses `method`, else answers 405.
fn only(head: &Head, method: Method, allow: &'static str, handler: impl FnOnce() -> Answered) -> Answered {
    if head.method == method { handler() } else { Err(HttpError::method_not_allowed(allow)) }
}

/// With `requirepass`, every route but `/_health` needs `Authorization: Bearer <password>`: the HTTP form of
/// AUTH, checked per request, with the same comparison AUTH uses.
fn authenticate(ex: &mut Exchange<'_>, head: &Head) -> Result<(), HttpError> {
    let Some(password) = ex.state.config.requirepass.as_deref() else { return Ok(()) };
    let presented = head.bearer.as_deref().unwrap_or_default();
    if head.bearer.is_some() && crate::cmd::conn::password_matches(Some(password), presented) {
        ex.state.sessions[ex.me].authenticated = true;
        return Ok(());
    }
    let message = if head.bearer.is_some() { "invalid password" } else { "authentication required" };
    Err(HttpError { status: 401, message: message.into(), extra_header: Some("WWW-Authenticate: Bearer") })
}
