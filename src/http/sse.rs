//! Pub/sub over HTTP: `GET /_subscribe/<channel>` and `GET /_psubscribe/<pattern>` stream what the channel (or
//! the pattern's channels, keyspace notifications included) carries as Server-Sent Events, and `POST
//! /_publish/<channel>` publishes.
//!
//! A subscribing request runs SUBSCRIBE or PSUBSCRIBE as the connection's session through `cmd::call`, like
//! every route, so the connection becomes an ordinary subscriber: PUBLISH from any client and keyspace
//! notifications reach it through the pub/sub `Outbox`, which appends RESP2 push frames to its output buffer
//! as for any subscriber; PUBSUB NUMSUB and CLIENT LIST count it; and its output is bounded by the `pubsub`
//! class of `client-output-buffer-limit`, so a reader that stops reading is cut like a RESP subscriber and the
//! publisher is never slowed. The frames become events just before each write ([`Stream::encode`]), so the
//! state layer knows nothing of HTTP.
//!
//! The response has no Content-Length: the stream is the connection's last response (`Connection: close`)
//! and ends when either side closes it. Input sent after the subscribing request is read (so a client that
//! leaves is noticed) and dropped. Each message is one event of the default type (`message`, what
//! `EventSource.onmessage` receives) whose data is one line of JSON: `{"channel":..,"message":..}`, with
//! `"pattern"` first for a pattern subscription; strings are base64 with `Upstash-Encoding: base64`, else
//! bytes that are not UTF-8 become U+FFFD. When nothing was sent for [`SSE_HEARTBEAT_MS`], a comment line
//! goes out, so proxies keep the connection open and a client that vanished is found by the failed write.

use bytes::Bytes;

use super::rest::{body_fields, decimal, integer_reply, take_line};
use super::route::{Answered, HttpError, Success};
use super::url::percent_decode;
use super::{Exchange, error_text, json, response};
use crate::limits::{REPLY_SHRINK_BYTES, SSE_HEARTBEAT_MS};
use crate::state::subscriptions::Kind;

/// The comment sent when the stream has been quiet for [`SSE_HEARTBEAT_MS`].
pub const HEARTBEAT: &[u8] = b": keep-alive\n\n";

/// A connection whose response is an event stream.
#[derive(Debug)]
pub struct Stream {
    /// Bytes at the front of the output buffer already in event form (the response head, events,
    /// heartbeats); the push frames after them are still RESP.
    encoded: usize,
    /// Strings in events are base64 (`Upstash-Encoding: base64`).
    base64: bool,
    /// When bytes were last queued for the client, from which the heartbeat counts.
    last_output_ms: i64,
    /// The frames being encoded, reused from one write to the next.
    frames: Vec<u8>,
}

impl Stream {
    /// A stream whose response head is the `head_len` bytes of the output buffer.
    pub fn new(head_len: usize, base64: bool, now_ms: i64) -> Stream {
        Stream { encoded: head_len, base64, last_output_ms: now_ms, frames: Vec::new() }
    }

    /// Turns the push frames appended to `buf` since the last call into events, in place.
    pub fn encode(&mut self, buf: &mut Vec<u8>, now_ms: i64) {
        let from = self.encoded.min(buf.len());
        if from == buf.len() {
            return;
        }
        self.frames.clear();
        self.frames.extend_from_slice(&buf[from..]);
        buf.truncate(from);
        let mut rest = &self.frames[..];
        while let Some((items, count, used)) = push_frame(rest) {
            write_event(buf, &items[..count], self.base64);
            rest = &rest[used..];
        }
        if self.frames.capacity() > REPLY_SHRINK_BYTES {
            self.frames = Vec::new();
        }
        self.encoded = buf.len();
        self.last_output_ms = now_ms;
    }

    /// The output buffer was written out and emptied.
    pub fn drained(&mut self) {
        self.encoded = 0;
    }

    /// Appends a heartbeat to `buf` if the stream has been quiet (nothing queued, nothing sent) for
    /// [`SSE_HEARTBEAT_MS`]; true if it did.
    pub fn heartbeat(&mut self, buf: &mut Vec<u8>, now_ms: i64) -> bool {
        if !buf.is_empty() || now_ms - self.last_output_ms < SSE_HEARTBEAT_MS {
            return false;
        }
        buf.extend_from_slice(HEARTBEAT);
        self.encoded = buf.len();
        self.last_output_ms = now_ms;
        true
    }
}

/// `data: {"pattern":..,"channel":..,"message":..}` and the blank line ending the event. Only `message` and
/// `pmessage` frames reach a stream's session (it runs no other command); anything else is dropped.
fn write_event(out: &mut Vec<u8>, items: &[&[u8]], base64: bool) {
    let fields: &[(&[u8], &[u8])] = match items {
        [b"message", channel, message] => &[(b"channel", channel), (b"message", message)],
        [b"pmessage", pattern, channel, message] => {
            &[(b"pattern", pattern), (b"channel", channel), (b"message", message)]
        }
        _ => return,
    };
    out.extend_from_slice(b"data: ");
    for (i, (name, value)) in fields.iter().enumerate() {
        out.push(if i == 0 { b'{' } else { b',' });
        json::write_string(out, name);
        out.push(b':');
        if base64 {
            out.push(b'"');
            json::base64(out, value);
            out.push(b'"');
        } else {
            json::write_string(out, value);
        }
    }
    out.extend_from_slice(b"}\n\n");
}

/// The bulk strings of the RESP array (`*` or `>`) at the start of `buf` (at most [`FRAME_ITEMS_MAX`]), how
/// many there are, and the frame's length; `None` if `buf` does not start with a whole frame of that shape.
fn push_frame(buf: &[u8]) -> Option<([&[u8]; FRAME_ITEMS_MAX], usize, usize)> {
    let mut rest = buf.strip_prefix(b"*").or_else(|| buf.strip_prefix(b">"))?;
    let count = decimal(take_line(&mut rest)?)?;
    let mut items: [&[u8]; FRAME_ITEMS_MAX] = [b""; FRAME_ITEMS_MAX];
    if count > FRAME_ITEMS_MAX {
        return None;
    }
    for item in items.iter_mut().take(count) {
        let len = decimal(take_line(&mut rest)?.strip_prefix(b"$")?)?;
        *item = rest.get(..len)?;
        rest = rest.get(len..)?.strip_prefix(b"\r\n")?;
    }
    Some((items, count, buf.len() - rest.len()))
}

/// The most items a pub/sub push has (`pmessage`, pattern, channel, message).
const FRAME_ITEMS_MAX: usize = 4;

/// `GET /_subscribe/<channel>` or `GET /_psubscribe/<pattern>` (`kind`): SUBSCRIBE or PSUBSCRIBE as the
/// connection's session. The answer is a stream: the caller writes its head and keeps the connection open.
pub fn subscribe(ex: &mut Exchange<'_>, kind: Kind, segment: &[u8]) -> Answered {
    let name = decode_name(segment)?;
    let command: &'static [u8] = if kind == Kind::Pattern { b"PSUBSCRIBE" } else { b"SUBSCRIBE" };
    // RESP2, so the pushes that follow are `*` frames whatever an earlier request chose.
    let reply = ex.call(&[Bytes::from_static(command), name], false);
    if let Some(error) = error_text(reply) {
        return Err(HttpError::new(503, error));
    }
    Ok(Success { status: 200, content_type: response::EVENT_STREAM, stream: true })
}

/// `POST /_publish/<channel>` with `{"message": ..}`: PUBLISH. A JSON string is published as its text, any
/// other JSON value as its compact JSON text. Answers `{"channel":..,"receivers":n}`, PUBLISH's count.
pub fn publish(ex: &mut Exchange<'_>, segment: &[u8], body: &[u8], out: &mut Vec<u8>) -> Answered {
    let channel = decode_name(segment)?;
    let message = message_body(body)?;
    let reply = ex.call(&[Bytes::from_static(b"PUBLISH"), channel.clone(), message], true);
    if let Some(error) = error_text(reply) {
        return Err(HttpError::new(503, error));
    }
    let receivers = integer_reply(reply).ok_or_else(|| HttpError::unconvertible(json::ConvertError::Malformed))?;
    out.extend_from_slice(b"{\"channel\":");
    json::write_string(out, &channel);
    out.extend_from_slice(b",\"receivers\":");
    out.extend_from_slice(itoa::Buffer::new().format(receivers).as_bytes());
    out.push(b'}');
    Ok(Success { status: 200, content_type: response::JSON, stream: false })
}

/// The message of a publish body: its `message` field, a string's text or another value's compact JSON.
fn message_body(body: &[u8]) -> Result<Bytes, HttpError> {
    let fields = body_fields(body)?;
    let raw = fields.get("message").ok_or_else(|| HttpError::new(400, "the body has no \"message\" field"))?;
    if let Ok(text) = serde_json::from_str::<String>(raw.get()) {
        return Ok(Bytes::from(text));
    }
    let mut message = Vec::with_capacity(raw.get().len());
    json::compact(raw.get(), &mut message);
    Ok(Bytes::from(message))
}

/// A channel or pattern from its path segment, percent-decoded.
fn decode_name(segment: &[u8]) -> Result<Bytes, HttpError> {
    percent_decode(segment, false)
        .map(Bytes::from)
        .map_err(|_| HttpError::new(400, "bad percent-escape in the channel"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(items: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", items.len()).into_bytes();
        for item in items {
            out.extend_from_slice(format!("${}\r\n", item.len()).as_bytes());
            out.extend_from_slice(item);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn frames_become_one_line_json_events_after_what_was_encoded() {
        let mut stream = Stream::new(4, false, 0);
        let mut buf = b"HEAD".to_vec();
        buf.extend(frame(&[b"message", b"news", b"line one\nline \"two\"\r"]));
        buf.extend(frame(&[b"pmessage", b"n*", b"news", b"\xffhi"]));
        stream.encode(&mut buf, 5);
        assert_eq!(
            String::from_utf8(buf.clone()).unwrap(),
            "HEADdata: {\"channel\":\"news\",\"message\":\"line one\\nline \\\"two\\\"\\r\"}\n\n\
             data: {\"pattern\":\"n*\",\"channel\":\"news\",\"message\":\"\u{fffd}hi\"}\n\n"
        );
        // Encoded bytes are not read again; a frame of another shape is dropped.
        let len = buf.len();
        buf.extend(frame(&[b"subscribe", b"news"]));
        stream.encode(&mut buf, 6);
        assert_eq!(buf.len(), len);
        stream.drained();
        buf.clear();
        buf.extend(frame(&[b"message", b"c", b"m"]));
        stream.encode(&mut buf, 7);
        assert_eq!(buf, b"data: {\"channel\":\"c\",\"message\":\"m\"}\n\n");
    }

    #[test]
    fn base64_events_and_heartbeats_only_when_quiet() {
        let mut stream = Stream::new(0, true, 1000);
        let mut buf = frame(&[b"message", b"c", b"\x00\x01"]);
        stream.encode(&mut buf, 1000);
        assert_eq!(buf, b"data: {\"channel\":\"Yw==\",\"message\":\"AAE=\"}\n\n");
        assert!(!stream.heartbeat(&mut buf, 1000 + SSE_HEARTBEAT_MS), "output still queued");
        buf.clear();
        stream.drained();
        assert!(!stream.heartbeat(&mut buf, 1000 + SSE_HEARTBEAT_MS - 1));
        assert!(stream.heartbeat(&mut buf, 1000 + SSE_HEARTBEAT_MS));
        assert_eq!(buf, HEARTBEAT);
        // The heartbeat is event form already: a frame after it is encoded, the comment kept.
        buf.extend(frame(&[b"message", b"c", b"m"]));
        stream.encode(&mut buf, 2000 + SSE_HEARTBEAT_MS);
        assert!(buf.starts_with(HEARTBEAT) && buf.ends_with(b"\"Yw==\",\"message\":\"bQ==\"}\n\n"));
    }

    #[test]
    fn truncated_or_foreign_frames_are_not_read() {
        for bad in [&b"*3\r\n$7\r\nmessage\r\n$1\r\nc"[..], b"+OK\r\n", b"*9\r\n", b"*3\r\n$99999999999999999999\r\n"] {
            assert_eq!(push_frame(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
