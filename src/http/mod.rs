//! The HTTP/JSON gateway: HTTP/1.1 connections served by the same reactor, against the same keyspace, through
//! the same `cmd::call` as RESP.
//!
//! An HTTP connection is one more client: a connection with `Protocol::Http(RequestReader)` and a session in
//! `State`, accepted from the `http-port` listeners, read and written by the server's ordinary code; only its
//! input is handed here. [`process_input`] takes complete requests off the query buffer (head through
//! `request`, then a body of its Content-Length), routes each (`route`), and appends each response to the
//! session's output buffer, in order, so keep-alive and pipelined requests need nothing more. A route runs
//! Redis commands as argv vectors through `cmd::call` ([`Exchange::call`]), as the session, and converts the
//! RESP reply to JSON (`json`), so an HTTP answer is by construction what RESP would say. Several commands run back to back inside one request
//! (EXISTS then SET for POST) are atomic, because nothing else runs on this thread in between.
//!
//! Modules: `request` (head parsing and limits), `response` (status line and headers), `url` (paths, query,
//! percent-decoding), `route` (which handler, auth, 404/405), `rest` (the key routes), `upstash` (the
//! Upstash-compatible command API), `sse` (pub/sub as Server-Sent Events, and publishing), `json` (RESP →
//! JSON), `metrics` (Prometheus text). The idle and slow-request timeouts and the event streams' heartbeats
//! are here too ([`cron`], run from the server's cron).
//!
//! Invariants: a refused request (malformed head, 413, 431) closes its connection after the answer, because the
//! bytes after it cannot be trusted to start a request; a connection that takes longer than `http-idle-timeout`
//! to send a request, or sits idle that long, is closed by the cron ([`overstayed`]); each request starts with
//! database 0, replies on, and authentication from its own `Authorization` header, so no state leaks from one
//! request of a keep-alive connection to the next, except that a request that subscribed (`sse`) turns the
//! connection into an event stream for the rest of its life: it runs no further request and is never idle.

pub(crate) mod guard;
pub mod json;
mod metrics;
pub mod request;
pub mod response;
mod rest;
pub(crate) mod route;
mod sse;
mod upstash;
pub mod url;

use bytes::{Buf, Bytes, BytesMut};
use std::net::SocketAddr;

use crate::limits::{HTTP_HEAD_BYTES_MAX, REPLY_PAUSE_BYTES};
use crate::state::State;
use crate::state::busy_script::EventPump;
use crate::state::session::{ClientId, ReplyMode, Session};
use request::{Head, HeadParse, Refusal};
use response::Response;

/// One HTTP connection's request-parsing state, kept in its connection.
#[derive(Debug, Default)]
pub struct RequestReader {
    /// The head of the request whose body is still arriving.
    head: Option<Head>,
    /// Bytes at the front of the query buffer already searched for the end of a head.
    head_scanned: usize,
    /// Whether the `100 Continue` for the current head was sent.
    continue_sent: bool,
    /// When the request now arriving began; `None` between requests. The idle timeout counts from here, so a
    /// client that trickles a request a byte at a time (slowloris) is cut off like one that sends nothing.
    request_started_ms: Option<i64>,
    /// Set once a request subscribed: the connection's output is an event stream from then on (`sse`).
    stream: Option<sse::Stream>,
}

impl RequestReader {
    /// Body bytes still missing beyond the `buffered` ones, so the reader can reserve room for a big body once.
    pub fn bytes_wanted(&self, buffered: usize) -> usize {
        self.head.as_ref().map_or(0, |head| head.content_length.saturating_sub(buffered))
    }

    /// The next complete request in `query`, or why there is none yet.
    pub(crate) fn next_request(&mut self, query: &mut BytesMut, max_body: u64, now_ms: i64) -> Next {
        if self.head.is_none() {
            self.skip_empty_lines(query);
            if query.is_empty() {
                self.request_started_ms = None;
                return Next::Wait;
            }
            self.request_started_ms.get_or_insert(now_ms);
            if !request::head_may_be_complete(query, self.head_scanned) && query.len() <= HTTP_HEAD_BYTES_MAX {
                self.head_scanned = query.len();
                return Next::Wait;
            }
            match request::parse_head(query, max_body) {
                HeadParse::Partial => {
                    self.head_scanned = query.len();
                    return Next::Wait;
                }
                HeadParse::Refused(refusal) => return Next::Refused(refusal),
                HeadParse::Complete { head, len } => {
                    query.advance(len);
                    self.head_scanned = 0;
                    self.continue_sent = false;
                    self.head = Some(head);
                }
            }
        }
        let Some(head) = self.head.as_ref() else { return Next::Wait };
        if query.len() < head.content_length {
            let send_continue = head.expect_continue && !self.continue_sent;
            self.continue_sent = true;
            return if send_continue { Next::SendContinue } else { Next::Wait };
        }
        let body = query.split_to(head.content_length).freeze();
        self.request_started_ms = if query.is_empty() { None } else { Some(now_ms) };
        match self.head.take() {
            Some(head) => Next::Request(head, body),
            None => Next::Wait,
        }
    }
}

impl RequestReader {
    /// Turns the pub/sub pushes appended to an event stream's output `buf` into events (nothing for a
    /// connection that is not a stream); called before each write.
    pub fn encode_events(&mut self, buf: &mut Vec<u8>, now_ms: i64) {
        if let Some(stream) = self.stream.as_mut() {
            stream.encode(buf, now_ms);
        }
    }

    /// The output buffer was written out and emptied.
    pub fn output_drained(&mut self) {
        if let Some(stream) = self.stream.as_mut() {
            stream.drained();
        }
    }

    /// Drops the empty lines before a request line, which RFC 9112 (2.2) asks servers to ignore. httparse
    /// skips them too, but they end in a newline that [`request::head_may_be_complete`] would take for the end
    /// of a head: parsing would then start or not depending on whether the request line came in the same
    /// read, and a malformed line be refused early or late.
    fn skip_empty_lines(&mut self, query: &mut BytesMut) {
        loop {
            let empty_line = match &query[..] {
                [b'\r', b'\n', ..] => 2,
                [b'\n', ..] => 1,
                _ => return,
            };
            query.advance(empty_line);
            self.head_scanned = self.head_scanned.saturating_sub(empty_line);
        }
    }
}

/// What [`RequestReader::next_request`] found.
#[derive(Debug)]
pub(crate) enum Next {
    Wait,
    /// Wait, after telling the client to send its body.
    SendContinue,
    Refused(Refusal),
    Request(Head, Bytes),
}

/// Buffers reused by every request, owned by the server so a request allocates little.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The response body being built.
    body: Vec<u8>,
}

/// Runs every complete request in HTTP client `id`'s query buffer and appends the responses to its output.
pub fn process_input(
    state: &mut State,
    id: ClientId,
    reader: &mut RequestReader,
    query: &mut BytesMut,
    scratch: &mut Scratch,
    pump: &mut dyn EventPump,
) {
    let max_body = state.config.http_max_body;
    let now_ms = state.now_ms;
    if reader.stream.is_some() {
        // An event stream is the connection's last response: what the client sends after it is not a request
        // that could ever be answered.
        query.clear();
        return;
    }
    loop {
        let session = &mut state.sessions[id];
        if session.close_after_reply || session.close_asap || session.reply_pending() > REPLY_PAUSE_BYTES {
            // As for RESP: a client that does not read its responses stops being served until they drain.
            break;
        }
        match reader.next_request(query, max_body, now_ms) {
            Next::Wait => break,
            Next::SendContinue => {
                session.reply.buf.extend_from_slice(response::CONTINUE);
                break;
            }
            Next::Refused(refusal) => {
                let cors_origin = guard::allowed_origin(request::origin_line(query), &state.config);
                write_refusal(&mut session.reply.buf, refusal.status, refusal.message, cors_origin);
                session.close_after_reply = true;
                break;
            }
            Next::Request(head, body) => {
                let local_ip = session.link.as_ref().and_then(|link| link.laddr.parse::<SocketAddr>().ok());
                let cors_origin = match guard::check(&head, &state.config, local_ip.map(|a| a.ip())) {
                    guard::Verdict::Proceed { cors_origin } => cors_origin,
                    guard::Verdict::Preflight(origin) => {
                        scratch.body.clear();
                        let answered = Ok(route::Success { status: 204, content_type: response::JSON, stream: false });
                        let cors = Cors { origin: Some(origin), preflight: true };
                        finish_request(session, &head, answered, &mut scratch.body, cors);
                        continue;
                    }
                    guard::Verdict::Refuse(error) => {
                        // A page of an allowed origin may read why it was refused (a 415, a 421).
                        let origin = guard::allowed_origin(head.origin.as_deref(), &state.config);
                        let session = &mut state.sessions[id];
                        finish_request(
                            session,
                            &head,
                            Err(error),
                            &mut scratch.body,
                            Cors { origin, preflight: false },
                        );
                        continue;
                    }
                };
                start_request(session, state.config.requirepass.is_none());
                let reply_start = session.reply.buf.len();
                let mut exchange =
                    Exchange { state: &mut *state, me: id, reply_start, base64: head.base64, pump: &mut *pump };
                scratch.body.clear();
                let answered = route::handle(&mut exchange, &head, &body, &mut scratch.body);
                let session = &mut state.sessions[id];
                session.reply.buf.truncate(reply_start);
                if let Ok(route::Success { stream: true, .. }) = answered {
                    response::write_stream_head(&mut session.reply.buf, cors_origin);
                    reader.stream = Some(sse::Stream::new(session.reply.buf.len(), head.base64, now_ms));
                    query.clear();
                    break;
                }
                finish_request(
                    session,
                    &head,
                    answered,
                    &mut scratch.body,
                    Cors { origin: cors_origin, preflight: false },
                );
            }
        }
    }
}

/// Resets what a command may have changed on the session during the previous request.
fn start_request(session: &mut Session, open: bool) {
    session.db = 0;
    session.reply_mode = ReplyMode::On;
    session.authenticated = open;
}

/// The CORS part of a response: the allowed origin it answers, and whether it is a preflight's.
#[derive(Debug, Default, Clone, Copy)]
struct Cors<'h> {
    origin: Option<&'h [u8]>,
    preflight: bool,
}

/// Appends the response for a handled request.
fn finish_request(session: &mut Session, head: &Head, answered: route::Answered, body: &mut Vec<u8>, cors: Cors<'_>) {
    let (status, content_type, extra_header) = match answered {
        Ok(success) => (success.status, success.content_type, cors.preflight.then_some(guard::PREFLIGHT_HEADERS)),
        Err(error) => {
            *body = response::error_body(&error.message);
            (error.status, response::JSON, error.extra_header)
        }
    };
    // QUIT or CLIENT KILL run over HTTP mark the connection; honour that after this response.
    let close = !head.keep_alive || session.close_after_reply;
    let cors_origin = cors.origin;
    response::write(&mut session.reply.buf, &Response { status, content_type, body, extra_header, cors_origin, close });
    if close {
        session.close_after_reply = true;
    }
}

/// Answers with an error and closes after it: the connection's remaining bytes are not trusted.
pub fn refuse(session: &mut Session, status: u16, message: &str) {
    write_refusal(&mut session.reply.buf, status, message, None);
    session.close_after_reply = true;
}

/// The response a client refused at accept gets, written straight on the socket before it is dropped: the
/// HTTP form of Redis's `-ERR max number of clients reached` (503) or protected mode's `-DENIED` (403).
pub fn refusal_response(status: u16, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    write_refusal(&mut out, status, message, None);
    out
}

/// Appends an error response that closes the connection, readable by `cors_origin`'s pages if given.
fn write_refusal(out: &mut Vec<u8>, status: u16, message: &str, cors_origin: Option<&[u8]>) {
    let body = response::error_body(message.as_bytes());
    let response =
        Response { status, content_type: response::JSON, body: &body, extra_header: None, cors_origin, close: true };
    response::write(out, &response);
}

/// The gateway's part of the cron, over the HTTP connections' `readers`: closes those that overstayed
/// `http-idle-timeout` (one too slow to send its request gets a 408 first, the slowloris defence; an idle
/// keep-alive connection is just closed) and gives quiet event streams their heartbeat. Returns the clients
/// given something to write.
pub fn cron<'a>(
    state: &mut State,
    readers: impl Iterator<Item = (ClientId, &'a mut RequestReader)>,
    now_ms: i64,
) -> Vec<ClientId> {
    let timeout_ms = state.config.http_idle_timeout_s.saturating_mul(1000) as i64;
    let mut to_write = Vec::new();
    let mut overstaying = Vec::new();
    for (id, reader) in readers {
        let session = &mut state.sessions[id];
        match reader.stream.as_mut() {
            // A stream waits for messages, not requests: it is never idle.
            Some(stream) => {
                if !session.close_asap && stream.heartbeat(&mut session.reply.buf, now_ms) {
                    to_write.push(id);
                }
            }
            None => overstaying.extend(overstayed(reader, session, now_ms, timeout_ms).map(|how| (id, how))),
        }
    }
    for (id, how) in overstaying {
        match how {
            Overstay::SlowRequest => {
                refuse(&mut state.sessions[id], 408, "request not received within http-idle-timeout");
                to_write.push(id);
            }
            Overstay::Idle => state.close_asap(id),
        }
    }
    to_write
}

/// Whether an HTTP connection overstayed `timeout_ms` at `now_ms`: a request in progress for that long (a
/// slow or stalled sender), or no request for that long on an idle keep-alive connection. A connection whose
/// responses are still being written is not idle.
fn overstayed(reader: &RequestReader, session: &Session, now_ms: i64, timeout_ms: i64) -> Option<Overstay> {
    if timeout_ms <= 0 || session.close_after_reply || session.reply_pending() > 0 {
        return None;
    }
    match reader.request_started_ms {
        Some(started) if now_ms - started > timeout_ms => Some(Overstay::SlowRequest),
        None if now_ms - session.last_interaction_ms > timeout_ms => Some(Overstay::Idle),
        _ => None,
    }
}

/// How a connection overstayed (see [`overstayed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overstay {
    /// A request began and did not complete in time: it gets a 408 before the close.
    SlowRequest,
    /// Keep-alive with nothing sent: closed silently, as HTTP servers do.
    Idle,
}

/// The context one request's handler works in: the state, as session `me`.
#[derive(Debug)]
pub struct Exchange<'a> {
    state: &'a mut State,
    me: ClientId,
    /// Where this request's output begins in the session's buffer: each command's RESP reply is written
    /// after it, read, and cut off again before the HTTP response is appended.
    reply_start: usize,
    /// `Upstash-Encoding: base64` was asked for.
    base64: bool,
    /// The loop, for a script that runs past `busy-reply-threshold` (`state::busy_script`).
    pump: &'a mut dyn EventPump,
}

impl Exchange<'_> {
    /// Runs one command as this session and returns its RESP reply: RESP3 (`resp3`) when the JSON shape
    /// should follow the value's type (maps become objects), RESP2 for Upstash's contract.
    fn call(&mut self, argv: &[Bytes], resp3: bool) -> &[u8] {
        let reply = &mut self.state.sessions[self.me].reply;
        reply.buf.truncate(self.reply_start);
        reply.resp3 = resp3;
        crate::cmd::call_pumped(self.state, self.me, argv, self.pump);
        self.last_reply()
    }

    /// The reply of the last command run.
    fn last_reply(&self) -> &[u8] {
        &self.state.sessions[self.me].reply.buf[self.reply_start..]
    }

    /// Adds to the last reply (an error in place of a reply that was never sent).
    fn append_reply(&mut self, resp: &[u8]) {
        self.state.sessions[self.me].reply.buf.extend_from_slice(resp);
    }
}

/// The text of an error reply (`-ERR ...`), without its CRLF.
fn error_text(reply: &[u8]) -> Option<&[u8]> {
    reply.strip_prefix(b"-").map(|rest| rest.strip_suffix(b"\r\n").unwrap_or(rest))
}
