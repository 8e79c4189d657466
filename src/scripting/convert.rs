//! Redis's conversions between RESP and Lua (`script_lua.c`): a command's reply becomes a Lua value for
//! `redis.call` (integers as numbers, bulk strings as strings, nil bulk and nil array as false, status and
//! error as `{ok=}` / `{err=}` tables, arrays as sequences; under `redis.setresp(3)` maps as `{map=}`, sets as
//! `{set=}`, doubles as `{double=}`, big numbers as `{big_number=}`, booleans, verbatim strings as
//! `{verbatim_string={format=, string=}}`, null as nil), and a script's return value becomes the reply.

use mlua::{Lua, Table, Value};

use crate::resp::reply::Reply;

/// How deep a reply or a returned table may nest; deeper is Redis's "reached lua stack limit".
const DEPTH_MAX: usize = 1000;

/// Parses one RESP reply (our own server's bytes) into a Lua value.
pub fn resp_to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<Value> {
    let mut pos = 0;
    parse(lua, bytes, &mut pos, 0)
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

fn tagged(lua: &Lua, field: &str, value: impl mlua::IntoLua) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(field, value)?;
    Ok(Value::Table(t))
}

fn parse(lua: &Lua, bytes: &[u8], pos: &mut usize, depth: usize) -> mlua::Result<Value> {
    if *pos >= bytes.len() || depth > DEPTH_MAX {
        return Ok(Value::Nil);
    }
    let kind = bytes[*pos];
    let text = line(bytes, pos);
    Ok(match kind {
        b':' => Value::Number(number(text) as f64),
        b'+' => tagged(lua, "ok", lua.create_string(text)?)?,
        b'-' => {
            // Redis marks a command's error so that returning it does not count it in the error stats
            // again; scripts see the field (cjson.encode of a redis.pcall error shows it).
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(text)?)?;
            t.raw_set("ignore_error_stats_update", true)?;
            Value::Table(t)
        }
        b'$' | b'=' => {
            let Ok(len) = usize::try_from(number(text)) else { return Ok(Value::Boolean(false)) };
            let end = (*pos + len).min(bytes.len());
            let body = &bytes[*pos..end];
            *pos = (end + 2).min(bytes.len());
            if kind == b'=' && body.len() >= 4 {
                let inner = lua.create_table()?;
                inner.raw_set("format", lua.create_string(&body[..3])?)?;
                inner.raw_set("string", lua.create_string(&body[4..])?)?;
                tagged(lua, "verbatim_string", inner)?
            } else {
                Value::String(lua.create_string(body)?)
            }
        }
        b'*' | b'~' | b'%' | b'>' => {
            let Ok(len) = usize::try_from(number(text)) else { return Ok(Value::Boolean(false)) };
            let t = lua.create_table()?;
            for i in 1..=len {
                let item = parse(lua, bytes, pos, depth + 1)?;
                match kind {
                    b'%' => {
                        let value = parse(lua, bytes, pos, depth + 1)?;
                        t.raw_set(item, value)?;
                    }
                    b'~' => t.raw_set(item, true)?,
                    _ => t.raw_set(i, item)?,
                }
            }
            match kind {
                b'%' => tagged(lua, "map", t)?,
                b'~' => tagged(lua, "set", t)?,
                _ => Value::Table(t),
            }
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(text == b"t"),
        b',' => {
            let v = match text {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                _ => std::str::from_utf8(text).ok().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN),
            };
            tagged(lua, "double", v)?
        }
        b'(' => tagged(lua, "big_number", lua.create_string(text)?)?,
        b'|' => {
            // An attribute precedes the reply it annotates; Lua sees only the reply.
            let len = usize::try_from(number(text)).unwrap_or(0);
            for _ in 0..2 * len {
                parse(lua, bytes, pos, depth + 1)?;
            }
            parse(lua, bytes, pos, depth + 1)?
        }
        _ => Value::Nil,
    })
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
        reply.error(&*err.as_bytes());
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
    reply.error(&msg[..]);
}
