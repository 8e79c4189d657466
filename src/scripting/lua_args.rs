//! What the bundled C libraries (`cjson`, `cmsgpack`, `struct`) get from Lua's auxiliary library, done in
//! Rust: argument checks with lauxlib's texts (`bad argument #2 to 'pack' (number expected, got nil)`), and
//! errors raised as `luaL_error` raises them, a string prefixed with the caller's `user_script:LINE: `.
//!
//! mlua raises a Rust function's error as a userdata, which the script's `pcall` would hand back instead of
//! the text; so [`error`] also leaves the text in the sandbox's `hooks.pending`, where `pcall` and the error
//! handler take it from (see `sandbox.lua`).

use mlua::{Lua, Table, Value};

/// The registry key of the table the sandbox and Rust share (`hooks`).
pub const HOOKS_KEY: &str = "ferrokv.hooks";

/// A C library's error `msg`, positioned as `luaL_error` positions it: `luaL_where(1)`, the line of the
/// Lua function that called the library function, when that caller is Lua code.
pub fn error(lua: &Lua, msg: impl std::fmt::Display) -> mlua::Error {
    raw_error(lua, format!("{}{msg}", where_prefix(lua)).into_bytes())
}

/// An error raised with `text` as it is: what Lua's own runtime raises inside a C function (`table index is
/// nil`) carries no position. The text may hold any bytes (a format option quoted back).
pub fn raw_error(lua: &Lua, text: Vec<u8>) -> mlua::Error {
    if let Ok(hooks) = lua.named_registry_value::<Table>(HOOKS_KEY) {
        let _ = lua.create_string(&text).and_then(|s| hooks.raw_set("pending", s));
    }
    mlua::Error::RuntimeError(String::from_utf8_lossy(&text).into_owned())
}

/// `luaL_where(L, 1)`: `short_src:line: ` of the caller, empty when it is a C function.
fn where_prefix(lua: &Lua) -> String {
    lua.inspect_stack(1, |debug| {
        let line = debug.current_line()?;
        let source = debug.source().short_src?.into_owned();
        Some(format!("{source}:{line}: "))
    })
    .flatten()
    .unwrap_or_default()
}

/// `luaL_argerror`: `bad argument #N to 'name' (extra)`, the name being how the caller called the running
/// function (`cjson.encode` is `encode`); `calling 'f' on bad self` for a method's self.
pub fn arg_error(lua: &Lua, narg: usize, extra: impl AsRef<[u8]>) -> mlua::Error {
    let extra = extra.as_ref();
    let names = lua.inspect_stack(0, |debug| {
        let names = debug.names();
        (names.name.map(|n| n.into_owned()), names.name_what)
    });
    let Some((name, what)) = names else {
        return raw_error(
            lua,
            [where_prefix(lua).as_bytes(), format!("bad argument #{narg} (").as_bytes(), extra, b")"].concat(),
        );
    };
    let name = name.unwrap_or_else(|| "?".into());
    let mut narg = narg;
    let lead = if what == Some("method") && narg == 1 {
        format!("calling '{name}' on bad self (")
    } else {
        if what == Some("method") {
            narg -= 1;
        }
        format!("bad argument #{narg} to '{name}' (")
    };
    raw_error(lua, [where_prefix(lua).as_bytes(), lead.as_bytes(), extra, b")"].concat())
}

/// `lua_typename` of a value (`nil` for a missing argument is lauxlib's "no value", see [`type_error`]).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// `luaL_typerror`: `bad argument #N to 'f' (number expected, got string)`.
pub fn type_error(lua: &Lua, args: &[Value], narg: usize, expected: &str) -> mlua::Error {
    let got = args.get(narg - 1).map_or("no value", type_name);
    arg_error(lua, narg, format!("{expected} expected, got {got}"))
}

/// `lua_tonumber`: a number, or a string Lua reads as one (`" 0x10 "`), else `None`.
pub fn to_number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => string_to_number(&s.as_bytes()),
        _ => None,
    }
}

/// Lua 5.1's `luaO_str2d`: C's strtod over the whole string (spaces around allowed), or hex `0x...`.
fn string_to_number(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?.trim_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        let value = u64::from_str_radix(hex, 16).ok()? as f64;
        return Some(if negative { -value } else { value });
    }
    let (value, used) = super::cjson::strtod(text.as_bytes());
    (used == text.len() && used > 0).then_some(value)
}

/// `luaL_checknumber` of argument `narg` (1-based).
pub fn check_number(lua: &Lua, args: &[Value], narg: usize) -> mlua::Result<f64> {
    args.get(narg - 1).and_then(to_number).ok_or_else(|| type_error(lua, args, narg, "number"))
}

/// `luaL_checkinteger`: the number truncated toward zero, as x86-64 C converts it.
pub fn check_integer(lua: &Lua, args: &[Value], narg: usize) -> mlua::Result<i64> {
    check_number(lua, args, narg).map(c_long)
}

/// `luaL_optinteger`: `default` for a missing or nil argument.
pub fn opt_integer(lua: &Lua, args: &[Value], narg: usize, default: i64) -> mlua::Result<i64> {
    match args.get(narg - 1) {
        None | Some(Value::Nil) => Ok(default),
        Some(_) => check_integer(lua, args, narg),
    }
}

/// `luaL_checklstring`: the bytes of a string, or of a number as Lua prints it (`%.14g`).
pub fn check_bytes(lua: &Lua, args: &[Value], narg: usize) -> mlua::Result<Vec<u8>> {
    match args.get(narg - 1) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(value @ (Value::Integer(_) | Value::Number(_))) => Ok(number_text(to_number(value).unwrap_or(0.0))),
        _ => Err(type_error(lua, args, narg, "string")),
    }
}

/// A number as `lua_tostring` writes it (`%.14g`).
pub fn number_text(n: f64) -> Vec<u8> {
    let mut out = Vec::new();
    if n.is_nan() {
        out.extend_from_slice(if n.is_sign_negative() { b"-nan" } else { b"nan" });
    } else if n.is_infinite() {
        out.extend_from_slice(if n > 0.0 { b"inf" } else { b"-inf" });
    } else {
        crate::util::num::write_g(&mut out, n, 14);
    }
    out
}

/// C's `(long)` of a double on x86-64: truncation, and i64::MIN for NaN or out of range.
pub fn c_long(n: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&n) { n as i64 } else { i64::MIN }
}

/// C's `(int)` of a double on x86-64: truncation, and i32::MIN for NaN or out of range.
pub fn c_int(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 { n as i32 } else { i32::MIN }
}

/// Runs `code` in a bare Lua state with one library `register`ed, for the libraries' unit tests: its values
/// joined by spaces, or `error: ` and the message without the chunk's position.
#[cfg(test)]
pub(super) fn eval_with(register: fn(&Lua, &Table) -> mlua::Result<()>, code: &str) -> String {
    let lua = Lua::new();
    register(&lua, &lua.globals()).unwrap();
    match lua.load(code).set_name("=t").eval::<mlua::MultiValue>() {
        Ok(v) => v.iter().map(|v| v.to_string().unwrap()).collect::<Vec<_>>().join(" "),
        Err(e) => format!("error: {}", super::lua_message(&e).trim_start_matches("t:1: ")),
    }
}
