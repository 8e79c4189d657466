//! The key routes: `GET/POST/PUT/DELETE /<key>`, `POST /<key>/incr|decr`, and `GET /` (listing with SCAN).
//!
//! Each is built from the commands a RESP client would send (TYPE, GET, TTL, EXISTS, SET, DEL, INCRBY, SCAN),
//! run back to back inside the request, so the decision and the write are atomic and RESP sees the same thing.
//! POST stores the value as compact JSON text in a Redis string (`redis-cli GET` shows it); GET embeds a stored
//! string that is JSON as it is and turns any other string into a JSON string.
//!
//! Collections: GET reads a key of each type with the command listed in [`READ_COMMANDS`] and converts its
//! RESP3 reply (a list or set → array, a hash → object). A type whose command is not in the table yet answers
//! 501 with the command's error, so the types being built elsewhere show up here once their commands exist.

use bytes::Bytes;
use serde_json::value::RawValue;
use std::collections::HashMap;

use super::route::{Answered, HttpError, OK_JSON};
use super::url::{Target, percent_decode};
use super::{Exchange, error_text, json};
use crate::limits::HTTP_SCAN_COUNT_MAX;

/// How GET reads a value of each type: (TYPE's answer, command, arguments after the key). This is the one
/// place a new value type needs a line to be shown over HTTP.
pub const READ_COMMANDS: &[(&[u8], &str, &[&str])] = &[
    (b"string", "GET", &[]),
    (b"list", "LRANGE", &["0", "-1"]),
    (b"hash", "HGETALL", &[]),
    (b"set", "SMEMBERS", &[]),
    (b"zset", "ZRANGE", &["0", "-1", "WITHSCORES"]),
    (b"stream", "XRANGE", &["-", "+"]),
];

/// Page size of `GET /` when `count` is not given (SCAN's default).
const SCAN_COUNT_DEFAULT: usize = 10;

/// A key from its path segment: percent-decoded and not empty.
pub fn decode_key(segment: &[u8]) -> Result<Bytes, HttpError> {
    let key = percent_decode(segment, false).map_err(|_| HttpError::new(400, "bad percent-escape in the key"))?;
    if key.is_empty() {
        return Err(HttpError::new(400, "the key is empty"));
    }
    Ok(Bytes::from(key))
}

fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|part| Bytes::copy_from_slice(part)).collect()
}

/// `GET /<key>`: `{"key":..,"value":..,"ttl_remaining":n|-1}`, or 404.
pub fn get(ex: &mut Exchange<'_>, key: &[u8], out: &mut Vec<u8>) -> Answered {
    out.extend_from_slice(b"{\"key\":");
    json::write_string(out, key);
    out.extend_from_slice(b",\"value\":");
    if !write_value(ex, key, out)? {
        return Err(HttpError::new(404, "Key not found"));
    }
    let ttl = integer_reply(ex.call(&argv(&[b"TTL", key]), true)).unwrap_or(-1);
    out.extend_from_slice(b",\"ttl_remaining\":");
    out.extend_from_slice(itoa::Buffer::new().format(ttl).as_bytes());
    out.push(b'}');
    OK_JSON
}

/// Writes the value of `key` as JSON; false when the key does not exist (or just expired).
fn write_value(ex: &mut Exchange<'_>, key: &[u8], out: &mut Vec<u8>) -> Result<bool, HttpError> {
    let type_reply = ex.call(&argv(&[b"TYPE", key]), true);
    let type_name = type_reply.strip_prefix(b"+").and_then(|t| t.strip_suffix(b"\r\n")).unwrap_or(b"none");
    if type_name == b"none" {
        return Ok(false);
    }
    let Some(&(name, command, extra)) = READ_COMMANDS.iter().find(|(name, _, _)| *name == type_name) else {
        let name = String::from_utf8_lossy(type_name);
        return Err(HttpError::new(501, format!("values of type {name} cannot be shown over HTTP")));
    };
    let mut read = argv(&[command.as_bytes(), key]);
    read.extend(extra.iter().map(|arg| Bytes::from_static(arg.as_bytes())));
    let reply = ex.call(&read, true);
    if let Some(error) = error_text(reply) {
        let name = String::from_utf8_lossy(name);
        return Err(HttpError::new(501, format!("cannot show a {name} value: {}", String::from_utf8_lossy(error))));
    }
    match bulk_reply(reply) {
        Some(stored) => json::write_stored(out, stored),
        None => {
            json::reply_to_json(reply, out, json::Options::default()).map_err(HttpError::unconvertible)?;
        }
    }
    Ok(true)
}

/// The fields of a `{"value": .., "ttl": ..}` body, validated.
struct Write {
    /// Compact JSON text to store.
    value: Vec<u8>,
    ttl_s: Option<u64>,
}

/// Reads a JSON object body into its fields, keeping each value's exact text.
pub(super) fn body_fields(body: &[u8]) -> Result<HashMap<String, Box<RawValue>>, HttpError> {
    if body.is_empty() {
        return Err(HttpError::new(400, "the body must be a JSON object"));
    }
    serde_json::from_slice(body).map_err(|e| HttpError::new(400, format!("the body must be a JSON object: {e}")))
}

/// A POST/PUT body: `value` (PUT also takes `new_value`) and an optional positive integer `ttl` in seconds.
fn write_body(body: &[u8], value_names: &[&str]) -> Result<Write, HttpError> {
    let fields = body_fields(body)?;
    let raw = value_names
        .iter()
        .find_map(|name| fields.get(*name))
        .ok_or_else(|| HttpError::new(400, format!("the body has no \"{}\" field", value_names[0])))?;
    let mut value = Vec::with_capacity(raw.get().len());
    json::compact(raw.get(), &mut value);
    let ttl_s = match fields.get("ttl") {
        None => None,
        Some(raw) => Some(positive_seconds(raw.get())?),
    };
    Ok(Write { value, ttl_s })
}

/// A TTL: a JSON integer from 1 to the largest that SET EX accepts without overflowing milliseconds.
fn positive_seconds(text: &str) -> Result<u64, HttpError> {
    let limit = (i64::MAX / 1000) as u64;
    match serde_json::from_str::<u64>(text) {
        Ok(ttl) if (1..=limit).contains(&ttl) => Ok(ttl),
        _ => Err(HttpError::new(400, "ttl must be a positive integer number of seconds")),
    }
}

/// `SET key value` plus `EX ttl` when given, plus `extra` options (XX, KEEPTTL).
fn set_argv(key: &[u8], write: &Write, extra: &[&'static str]) -> Vec<Bytes> {
    let mut set = argv(&[b"SET", key, &write.value]);
    if let Some(ttl) = write.ttl_s {
        set.push(Bytes::from_static(b"EX"));
        set.push(Bytes::copy_from_slice(itoa::Buffer::new().format(ttl).as_bytes()));
    }
    set.extend(extra.iter().map(|opt| Bytes::from_static(opt.as_bytes())));
    set
}

/// `POST /<key>`: create or replace, with its TTL, in one step.
pub fn create(ex: &mut Exchange<'_>, key: &[u8], body: &[u8], out: &mut Vec<u8>) -> Answered {
    let write = write_body(body, &["value"])?;
    let existed = integer_reply(ex.call(&argv(&[b"EXISTS", key]), true)) == Some(1);
    let set = set_argv(key, &write, &[]);
    expect_ok(ex.call(&set, true))?;
    let expires_at_ms = write.ttl_s.map(|ttl| ex.state.now_ms + ttl as i64 * 1000);
    written(out, if existed { "updated" } else { "created" }, key, expires_at_ms);
    OK_JSON
}

/// `PUT /<key>`: replace an existing key's value; its TTL stays unless `ttl` is given.
pub fn update(ex: &mut Exchange<'_>, key: &[u8], body: &[u8], out: &mut Vec<u8>) -> Answered {
    let write = write_body(body, &["value", "new_value"])?;
    let options: &[&str] = if write.ttl_s.is_some() { &["XX"] } else { &["XX", "KEEPTTL"] };
    let reply = ex.call(&set_argv(key, &write, options), true);
    if reply == b"_\r\n" {
        return Err(HttpError::new(404, "Key not found"));
    }
    expect_ok(reply)?;
    let expire_time = integer_reply(ex.call(&argv(&[b"PEXPIRETIME", key]), true)).unwrap_or(-1);
    written(out, "updated", key, (expire_time >= 0).then_some(expire_time));
    OK_JSON
}

/// `{"status":"ok","action":..,"key":..,"expires_at":..|null}`.
fn written(out: &mut Vec<u8>, action: &str, key: &[u8], expires_at_ms: Option<i64>) {
    out.extend_from_slice(b"{\"status\":\"ok\",\"action\":\"");
    out.extend_from_slice(action.as_bytes());
    out.extend_from_slice(b"\",\"key\":");
    json::write_string(out, key);
    out.extend_from_slice(b",\"expires_at\":");
    match expires_at_ms {
        Some(ms) => {
            out.push(b'"');
            out.extend_from_slice(rfc3339_utc(ms).as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// `DELETE /<key>`.
pub fn delete(ex: &mut Exchange<'_>, key: &[u8], out: &mut Vec<u8>) -> Answered {
    if integer_reply(ex.call(&argv(&[b"DEL", key]), true)) != Some(1) {
        return Err(HttpError::new(404, "Key not found"));
    }
    out.extend_from_slice(b"{\"status\":\"ok\",\"action\":\"deleted\",\"key\":");
    json::write_string(out, key);
    out.push(b'}');
    OK_JSON
}

/// `POST /<key>/incr` and `/decr` with an optional `{"by": n}`: INCRBY / DECRBY. Redis's refusals (the value
/// is not an integer, the result would overflow, the key holds another type) are conflicts with the stored
/// value: 409 with Redis's text.
pub fn count(ex: &mut Exchange<'_>, key: &[u8], decrement: bool, body: &[u8], out: &mut Vec<u8>) -> Answered {
    let by = if body.trim_ascii().is_empty() {
        1
    } else {
        match body_fields(body)?.get("by") {
            None => 1,
            Some(raw) => serde_json::from_str::<i64>(raw.get())
                .map_err(|_| HttpError::new(400, "by must be an integer (a signed 64-bit number)"))?,
        }
    };
    let command: &[u8] = if decrement { b"DECRBY" } else { b"INCRBY" };
    let reply = ex.call(&argv(&[command, key, itoa::Buffer::new().format(by).as_bytes()]), true);
    if let Some(error) = error_text(reply) {
        return Err(HttpError::new(409, error));
    }
    let value = integer_reply(reply).ok_or_else(|| HttpError::unconvertible(json::ConvertError::Malformed))?;
    out.extend_from_slice(b"{\"key\":");
    json::write_string(out, key);
    out.extend_from_slice(b",\"value\":");
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    out.push(b'}');
    OK_JSON
}

/// `GET /?match=&count=&cursor=&values=true`: one SCAN page, `{"cursor":..,"count":n,"keys":[..]}` plus, with
/// `values`, `"items"` mapping each key to its value. `count` is capped, so a page is bounded (SCAN returns
/// whole hash-table shards, so a page may hold a few more keys than asked for, never the whole keyspace).
pub fn list(ex: &mut Exchange<'_>, target: &Target<'_>, out: &mut Vec<u8>) -> Answered {
    let param = |name: &str| -> Result<Option<Vec<u8>>, HttpError> {
        target.query_param(name).transpose().map_err(|_| HttpError::new(400, format!("bad percent-escape in {name}")))
    };
    let count = match param("count")? {
        None => SCAN_COUNT_DEFAULT,
        Some(text) => std::str::from_utf8(&text)
            .ok()
            .and_then(|t| t.parse::<usize>().ok())
            .filter(|n| (1..=HTTP_SCAN_COUNT_MAX).contains(n))
            .ok_or_else(|| HttpError::new(400, format!("count must be an integer from 1 to {HTTP_SCAN_COUNT_MAX}")))?,
    };
    let cursor = param("cursor")?.unwrap_or_else(|| b"0".to_vec());
    if cursor.is_empty() || !cursor.iter().all(u8::is_ascii_digit) {
        return Err(HttpError::new(400, "cursor must be the cursor a previous page returned"));
    }
    let with_values = param("values")?.is_some_and(|v| v == b"true" || v == b"1");
    let mut scan = argv(&[b"SCAN", &cursor, b"COUNT", itoa::Buffer::new().format(count).as_bytes()]);
    if let Some(pattern) = param("match")? {
        scan.extend(argv(&[b"MATCH", &pattern]));
    }
    let reply = ex.call(&scan, true);
    if let Some(error) = error_text(reply) {
        return Err(HttpError::new(400, error));
    }
    let (next, keys) = scan_reply(reply).ok_or_else(|| HttpError::unconvertible(json::ConvertError::Malformed))?;
    out.extend_from_slice(b"{\"cursor\":");
    json::write_string(out, &next);
    out.extend_from_slice(b",\"count\":");
    out.extend_from_slice(itoa::Buffer::new().format(keys.len()).as_bytes());
    out.extend_from_slice(b",\"keys\":[");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::write_string(out, key);
    }
    out.push(b']');
    if with_values {
        write_items(ex, &keys, out);
    }
    out.push(b'}');
    OK_JSON
}

/// `,"items":{key: value, ...}`; a value that cannot be shown is `{"error": ..}`, so one odd key does not fail
/// the page.
fn write_items(ex: &mut Exchange<'_>, keys: &[Bytes], out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"items\":{");
    let mut first = true;
    for key in keys {
        let mut value = Vec::new();
        let shown = match write_value(ex, key, &mut value) {
            Ok(found) => found,
            Err(error) => {
                value = super::response::error_body(&error.message);
                true
            }
        };
        if !shown {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        json::write_string(out, key);
        out.push(b':');
        out.extend_from_slice(&value);
    }
    out.push(b'}');
}

/// SCAN's reply, `*2 $cursor *n $key...`, as (cursor, keys).
fn scan_reply(reply: &[u8]) -> Option<(Bytes, Vec<Bytes>)> {
    let mut rest = reply.strip_prefix(b"*2\r\n")?;
    let cursor = take_bulk(&mut rest)?;
    rest = rest.strip_prefix(b"*")?;
    let count = decimal(take_line(&mut rest)?)?;
    let mut keys = Vec::with_capacity(count.min(HTTP_SCAN_COUNT_MAX * 4));
    for _ in 0..count {
        keys.push(take_bulk(&mut rest)?);
    }
    Some((cursor, keys))
}

/// A length in a RESP line.
pub(super) fn decimal(digits: &[u8]) -> Option<usize> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The line at the front of `rest`, without its CRLF, which is consumed.
pub(super) fn take_line<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    let line = &rest[..end];
    *rest = &rest[end + 2..];
    Some(line)
}

fn take_bulk(rest: &mut &[u8]) -> Option<Bytes> {
    *rest = rest.strip_prefix(b"$")?;
    let len = decimal(take_line(rest)?)?;
    let bulk = rest.get(..len)?;
    if rest.get(len..len.checked_add(2)?)? != b"\r\n" {
        return None;
    }
    *rest = &rest[len + 2..];
    Some(Bytes::copy_from_slice(bulk))
}

/// The value of an integer reply.
pub(super) fn integer_reply(reply: &[u8]) -> Option<i64> {
    let digits = reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The data of a bulk string reply (not a null or an aggregate).
fn bulk_reply(reply: &[u8]) -> Option<&[u8]> {
    let rest = reply.strip_prefix(b"$")?;
    let header_end = rest.iter().position(|&c| c == b'\n')?;
    let len: usize = std::str::from_utf8(rest[..header_end].strip_suffix(b"\r")?).ok()?.parse().ok()?;
    rest.get(header_end + 1..header_end + 1 + len)
}

/// `+OK`, or the command's error as a 400.
fn expect_ok(reply: &[u8]) -> Result<(), HttpError> {
    match error_text(reply) {
        Some(error) => Err(HttpError::new(400, error)),
        None => Ok(()),
    }
}

/// `ms` since the epoch as RFC 3339 in UTC with milliseconds (`2024-05-01T12:00:00.000Z`).
pub fn rfc3339_utc(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = crate::log::civil_from_days(days);
    let (h, m, s, milli) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn reply_helpers() {
        assert_eq!(integer_reply(b":-12\r\n"), Some(-12));
        assert_eq!(bulk_reply(b"$3\r\nabc\r\n"), Some(&b"abc"[..]));
        assert_eq!(bulk_reply(b"_\r\n"), None);
        let (cursor, keys) = scan_reply(b"*2\r\n$2\r\n17\r\n*2\r\n$1\r\na\r\n$0\r\n\r\n").unwrap();
        assert_eq!((&cursor[..], keys), (&b"17"[..], vec![Bytes::from_static(b"a"), Bytes::new()]));
        assert_eq!(scan_reply(b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n"), None);
    }

    #[test]
    fn write_bodies_are_validated() {
        let write = write_body(br#"{"value": {"theme" : "dark"}, "ttl": 60}"#, &["value"]).unwrap();
        assert_eq!((write.value, write.ttl_s), (br#"{"theme":"dark"}"#.to_vec(), Some(60)));
        assert_eq!(write_body(br#"{"new_value": 1}"#, &["value", "new_value"]).unwrap().value, b"1");
        for bad in [&br#"{"value": 1, "ttl": 0}"#[..], br#"{"value": 1, "ttl": 1.5}"#, br#"{"value": 1, "ttl": "9"}"#] {
            assert_eq!(write_body(bad, &["value"]).err().map(|e| e.status), Some(400));
        }
        for bad in [&b""[..], b"[1]", b"{\"value\": ", b"{\"ttl\": 5}"] {
            assert_eq!(write_body(bad, &["value"]).err().map(|e| e.status), Some(400));
        }
        assert_eq!(decode_key(b"").err().map(|e| e.status), Some(400));
        assert_eq!(decode_key(b"%5Fa%2Fb").unwrap(), Bytes::from_static(b"_a/b"));
    }
}
