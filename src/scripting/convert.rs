//! Redis's conversions between RESP and Lua (`script_lua.c`): a command's reply becomes a Lua value for
//! `redis.call` (integers as numbers, bulk strings as strings, nil bulk and nil array as false, status and
//! error as `{ok=}` / `{err=}` tables, arrays as sequences; under `redis.setresp(3)` maps as `{map=}`, sets as
//! `{set=}`, doubles as `{double=}`, big numbers as `{big_number=}`, booleans, verbatim strings as
//! `{verbatim_string={format=, string=}}`, null as nil), and a script's return value becomes the reply.

use mlua::{Table, Value};

use super::redis_call::Stack;
use crate::resp::reply::Reply;

/// How deep a reply or a returned table may nest; deeper is Redis's "reached lua stack limit".
const DEPTH_MAX: usize = 1000;

/// Pushes one RESP reply (our own server's bytes) as a Lua value, built in place on `stack`.
pub fn push_resp(stack: &Stack, bytes: &[u8]) {
    let mut pos = 0;
    push(stack, bytes, &mut pos, 0);
}

fn line<'b>(bytes: &'b [u8], pos: &mut usize) -> &'b [u8] {
    let start = *pos + 1;
    let end = bytes[start..].windows(2).position(|w| w == b"\r\n").map_or(bytes.len(), |i| start + i);
    *pos = (end + 2).min(bytes.len());
    &bytes[start..end]
}

fn number(text: &[u8]) -> i64 {
    std::str::from_utf8(text).ok().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Wraps the value on top in a table `{field = value}`.
fn tag(stack: &Stack, field: &[u8]) {
    stack.push_table(0, 1);
    // The table goes under its value, which then moves into it.
    stack.swap_top();
    stack.set_field(field);
}

/// Pushes exactly one value. Every level makes room for what it pushes (a table, a key, a value); past
/// `DEPTH_MAX` or what Lua's stack allows, the value is nil.
fn push(stack: &Stack, bytes: &[u8], pos: &mut usize, depth: usize) {
    if *pos >= bytes.len() || depth > DEPTH_MAX || !stack.room(4) {
        stack.push_nil();
        return;
    }
    let kind = bytes[*pos];
    let text = line(bytes, pos);
    match kind {
        b':' => stack.push_number(number(text) as f64),
        b'+' => {
            stack.push_bytes(text);
            tag(stack, b"ok");
        }
        b'-' => {
            // Redis marks a command's error so that returning it does not count it in the error stats
            // again; scripts see the field (cjson.encode of a redis.pcall error shows it).
            stack.push_table(0, 2);
            stack.push_bytes(text);
            stack.set_field(b"err");
            stack.push_bool(true);
            stack.set_field(b"ignore_error_stats_update");
        }
        b'$' | b'=' => {
            let Ok(len) = usize::try_from(number(text)) else { return stack.push_bool(false) };
            let end = (*pos + len).min(bytes.len());
            let body = &bytes[*pos..end];
            *pos = (end + 2).min(bytes.len());
            if kind == b'=' && body.len() >= 4 {
                stack.push_table(0, 2);
                stack.push_bytes(&body[..3]);
                stack.set_field(b"format");
                stack.push_bytes(&body[4..]);
                stack.set_field(b"string");
                tag(stack, b"verbatim_string");
            } else {
                stack.push_bytes(body);
            }
        }
        b'*' | b'~' | b'%' | b'>' => {
            let Ok(len) = usize::try_from(number(text)) else { return stack.push_bool(false) };
            // Sized by the count only when the bytes can hold that many items.
            let hint = len.min(bytes.len() - *pos);
            if kind == b'%' || kind == b'~' {
                stack.push_table(0, hint)
            } else {
                stack.push_table(hint, 0)
            }
            for i in 1..=len {
                push(stack, bytes, pos, depth + 1);
                match kind {
                    b'%' => {
                        push(stack, bytes, pos, depth + 1);
                        set_pair_unless_nil_key(stack);
                    }
                    b'~' => {
                        stack.push_bool(true);
                        set_pair_unless_nil_key(stack);
                    }
                    _ => stack.set_item(i),
                }
            }
            match kind {
                b'%' => tag(stack, b"map"),
                b'~' => tag(stack, b"set"),
                _ => {}
            }
        }
        b'_' => stack.push_nil(),
        b'#' => stack.push_bool(text == b"t"),
        b',' => {
            let v = match text {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                _ => std::str::from_utf8(text).ok().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN),
            };
            stack.push_number(v);
            tag(stack, b"double");
        }
        b'(' => {
            stack.push_bytes(text);
            tag(stack, b"big_number");
        }
        b'|' => {
            // An attribute precedes the reply it annotates; Lua sees only the reply.
            let len = usize::try_from(number(text)).unwrap_or(0);
            for _ in 0..2 * len {
                push(stack, bytes, pos, depth + 1);
                stack.pop(1);
            }
            push(stack, bytes, pos, depth + 1);
        }
        _ => stack.push_nil(),
    }
}

/// `t[key] = value` for the key and value on top, as mlua's raw_set did: a nil (or NaN) key, which Lua
/// refuses, leaves the table unchanged.
fn set_pair_unless_nil_key(stack: &Stack) {
    if stack.is_nil_or_nan(-2) {
        stack.pop(2);
    } else {
        stack.set_pair();
    }
}

/// Writes a script's return value as the client's reply (luaReplyToRedisReply). `true` is RESP3's boolean
/// only when the script itself speaks RESP3 (`redis.setresp(3)`), as Redis decides by its Lua client.
pub fn write_reply(value: &Value, reply: &mut Reply, script_resp3: bool) {
    write(value, reply, 0, script_resp3);
}

/// C's `(long long)` of a Lua number as x86-64 computes it: out of range (or NaN) gives i64::MIN, where
/// Rust's `as` would saturate.
fn lua_to_integer(n: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&n) { n as i64 } else { i64::MIN }
}

/// Text with CR and LF replaced by spaces, as Redis maps status and error lines.
fn one_line(s: &mlua::LuaString) -> Vec<u8> {
    s.as_bytes().iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }).collect()
}

fn write(value: &Value, reply: &mut Reply, depth: usize, resp3: bool) {
    match value {
        Value::String(s) => reply.bulk(&s.as_bytes()),
        // luaReplyToRedisReply: a RESP3 script's booleans are booleans (`:1`/`:0` to a RESP2 client), a
        // RESP2 script's true is 1 and false the null.
        Value::Boolean(b) if resp3 => reply.bool(*b),
        Value::Boolean(true) => reply.int(1),
        Value::Integer(n) => reply.int(*n),
        Value::Number(n) => reply.int(lua_to_integer(*n)),
        Value::Table(_) if depth >= DEPTH_MAX => reply.error("ERR reached lua stack limit"),
        Value::Table(t) => write_table(t, reply, depth, resp3),
        _ => reply.null(),
    }
}

fn write_table(t: &Table, reply: &mut Reply, depth: usize, resp3: bool) {
    if let Ok(Value::String(err)) = t.raw_get("err") {
        write_error(t, reply, &err.as_bytes());
        return;
    }
    if let Ok(Value::String(ok)) = t.raw_get("ok") {
        reply.buf.push(b'+');
        reply.buf.extend(one_line(&ok));
        reply.buf.extend_from_slice(b"\r\n");
        return;
    }
    if let Ok(Value::Number(d)) = t.raw_get("double") {
        reply.double(d);
        return;
    }
    if let Ok(Value::String(big)) = t.raw_get("big_number") {
        reply.big_number(&one_line(&big));
        return;
    }
    if let Ok(Value::Table(verbatim)) = t.raw_get("verbatim_string")
        && let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (verbatim.raw_get::<Value>("format"), verbatim.raw_get::<Value>("string"))
    {
        // addReplyVerbatim takes the format's first three bytes.
        let format = format.as_bytes();
        let format = std::str::from_utf8(format.get(..3).unwrap_or(b"txt")).unwrap_or("txt");
        reply.verbatim(format, &text.as_bytes());
        return;
    }
    if let Ok(Value::Table(map)) = t.raw_get("map") {
        let pairs: Vec<(Value, Value)> = map.pairs().filter_map(Result::ok).collect();
        reply.map(pairs.len());
        for (k, v) in &pairs {
            write(k, reply, depth + 1, resp3);
            write(v, reply, depth + 1, resp3);
        }
        return;
    }
    if let Ok(Value::Table(set)) = t.raw_get("set") {
        let members: Vec<Value> = set.pairs::<Value, Value>().filter_map(|p| p.ok().map(|(k, _)| k)).collect();
        reply.set(members.len());
        for k in &members {
            write(k, reply, depth + 1, resp3);
        }
        return;
    }
    let start = reply.begin_array();
    let mut len = 0;
    while let Ok(item) = t.raw_get::<Value>(len + 1) {
        if item.is_nil() {
            break;
        }
        write(&item, reply, depth + 1, resp3);
        len += 1;
    }
    reply.end_array(start, len);
}

/// The reply for a script that raised: the error table's `err`, then ` script: <name>, on <source>:<line>.`
/// when the handler found the line (Redis's luaCallFunction).
pub fn write_script_error(value: &Value, name: &str, reply: &mut Reply) {
    let Value::Table(t) = value else {
        let text = value.to_string().unwrap_or_else(|_| "execution failure".into());
        reply.error(format!("ERR Error running script {name}, {text:.100}"));
        return;
    };
    let mut msg = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => one_line(&s),
        Ok(Value::Number(n)) => n.to_string().into_bytes(),
        _ => Vec::new(),
    };
    let source: Option<String> = t.raw_get("source").ok();
    let line: Option<i64> = t.raw_get("line").ok();
    if let (Some(source), Some(line)) = (source, line) {
        msg.extend_from_slice(format!(" script: {name}, on {source}:{line}.").as_bytes());
    }
    write_error(t, reply, &msg);
}

/// An error table as the script's error reply: not counted again in the error statistics when it came from
/// a command (its `ignore_error_stats_update`, as luaReplyToRedisReply and luaCallFunction check).
fn write_error(t: &Table, reply: &mut Reply, msg: &[u8]) {
    if t.raw_get("ignore_error_stats_update").unwrap_or(false) {
        reply.counted_error(msg);
    } else {
        reply.error(msg);
    }
}
