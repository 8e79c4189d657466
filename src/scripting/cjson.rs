//! lua-cjson 2.1.0 as Redis 7.0 bundles it, the `cjson` global: `encode`, `decode`, `null`, `new` and the
//! configuration functions, with its number formatting (`%.14g`), array detection (keys 1..n, with
//! "excessively sparse" arrays refused), empty tables as `{}`, depth limits and error texts.
//!
//! serde_json is not used: cjson accepts what JSON does not (a top-level scalar, `NaN`, `Infinity`, hex and
//! leading zeros by default, raw control characters and invalid UTF-8 in strings), stops at a NUL byte, and
//! reports errors by token and character, so its tokenizer is rebuilt here as it behaves.
//!
//! Both directions bound their nesting as cjson's C does through `lua_checkstack`: a C function may use
//! `LUAI_MAXCSTACK` (8000) stack slots, so whatever depth a script configures, recursion stays under 8000.

use std::cell::Cell;
use std::rc::Rc;

use mlua::{Lua, MultiValue, Table, Value, Variadic};

use super::lua_args::{self, arg_error, c_int, check_bytes, check_integer};

/// Lua 5.1's LUAI_MAXCSTACK: the stack slots one C function may hold.
pub const MAX_C_STACK: usize = 8000;

/// One cjson instance's settings (`cjson.new()` makes another), with lua-cjson's defaults.
#[derive(Debug, Clone, Copy)]
struct Config {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 off (an error), 1 on (`nan`, `inf`), 2 as `null`.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: bool,
    keep_buffer: bool,
    precision: i32,
}

const DEFAULTS: Config = Config {
    sparse_convert: false,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: true,
    keep_buffer: true,
    precision: 14,
};

type Shared = Rc<Cell<Config>>;

/// Registers `cjson` in `globals`.
pub fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("cjson", module(lua)?)
}

/// A cjson module table with settings of its own.
fn module(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Rc::new(Cell::new(DEFAULTS));
    let t = lua.create_table()?;
    let c = cfg.clone();
    t.raw_set("encode", lua.create_function(move |lua, args: Variadic<Value>| encode(lua, &c.get(), &args))?)?;
    let c = cfg.clone();
    t.raw_set("decode", lua.create_function(move |lua, args: Variadic<Value>| decode(lua, &c.get(), &args))?)?;
    t.raw_set("new", lua.create_function(|lua, ()| module(lua))?)?;
    t.raw_set("null", Value::NULL)?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    register_options(lua, &t, &cfg).map(|()| t)
}

/// The configuration functions: each sets its option when given one, and returns the option's value.
fn register_options(lua: &Lua, t: &Table, cfg: &Shared) -> mlua::Result<()> {
    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        lua.create_function(move |lua, args: Variadic<Value>| {
            arg_count(lua, &args, 3)?;
            let mut v = c.get();
            let mut convert = i32::from(v.sparse_convert);
            let a = enum_option(lua, &args, 1, &mut convert, BOOL_OPTIONS)?;
            v.sparse_convert = convert != 0;
            let b = integer_option(lua, &args, 2, &mut v.sparse_ratio, 0, i32::MAX)?;
            let d = integer_option(lua, &args, 3, &mut v.sparse_safe, 0, i32::MAX)?;
            c.set(v);
            Ok(MultiValue::from_iter([a, b, d]))
        })?,
    )?;
    type Field = fn(&mut Config) -> &mut i32;
    let integers: [(&str, Field, i32, i32); 3] = [
        ("encode_max_depth", |c| &mut c.encode_max_depth, 1, i32::MAX),
        ("decode_max_depth", |c| &mut c.decode_max_depth, 1, i32::MAX),
        ("encode_number_precision", |c| &mut c.precision, 1, 14),
    ];
    for (name, field, min, max) in integers {
        let c = cfg.clone();
        t.raw_set(
            name,
            lua.create_function(move |lua, args: Variadic<Value>| {
                arg_count(lua, &args, 1)?;
                let mut v = c.get();
                let value = integer_option(lua, &args, 1, field(&mut v), min, max)?;
                c.set(v);
                Ok(value)
            })?,
        )?;
    }
    type Get = fn(&Config) -> i32;
    type Set = fn(&mut Config, i32);
    let enums: [(&str, Get, Set, &[&str]); 3] = [
        ("encode_keep_buffer", |c| i32::from(c.keep_buffer), |c, v| c.keep_buffer = v != 0, BOOL_OPTIONS),
        (
            "decode_invalid_numbers",
            |c| i32::from(c.decode_invalid_numbers),
            |c, v| c.decode_invalid_numbers = v != 0,
            BOOL_OPTIONS,
        ),
        (
            "encode_invalid_numbers",
            |c| c.encode_invalid_numbers,
            |c, v| c.encode_invalid_numbers = v,
            &["off", "on", "null"],
        ),
    ];
    for (name, get, set, options) in enums {
        let c = cfg.clone();
        t.raw_set(
            name,
            lua.create_function(move |lua, args: Variadic<Value>| {
                arg_count(lua, &args, 1)?;
                let mut v = c.get();
                let mut setting = get(&v);
                let value = enum_option(lua, &args, 1, &mut setting, options)?;
                set(&mut v, setting);
                c.set(v);
                Ok(value)
            })?,
        )?;
    }
    Ok(())
}

const BOOL_OPTIONS: &[&str] = &["off", "on"];

/// json_arg_init: at most `max` arguments.
fn arg_count(lua: &Lua, args: &[Value], max: usize) -> mlua::Result<()> {
    if args.len() > max {
        return Err(arg_error(lua, max + 1, "found too many arguments"));
    }
    Ok(())
}

/// An option given as a boolean or one of `options` (by name); returns the setting as cjson reports it: a
/// boolean when it is off or on, else its name.
fn enum_option(lua: &Lua, args: &[Value], narg: usize, setting: &mut i32, options: &[&str]) -> mlua::Result<Value> {
    match args.get(narg - 1) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = i32::from(*b),
        Some(_) => {
            let name = check_bytes(lua, args, narg)?;
            let Some(index) = options.iter().position(|o| o.as_bytes() == name) else {
                return Err(arg_error(lua, narg, [&b"invalid option '"[..], &name, b"'"].concat()));
            };
            *setting = index as i32;
        }
    }
    Ok(match *setting {
        0 => Value::Boolean(false),
        1 => Value::Boolean(true),
        n => Value::String(lua.create_string(options[n as usize])?),
    })
}

/// An integer option within `min..=max`; the range error names argument 1 whatever the argument, as cjson.
fn integer_option(
    lua: &Lua,
    args: &[Value],
    narg: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> mlua::Result<Value> {
    if !matches!(args.get(narg - 1), None | Some(Value::Nil)) {
        // C stores luaL_checkinteger's long in an int.
        let value = check_integer(lua, args, narg)? as i32;
        if !(min..=max).contains(&value) {
            return Err(arg_error(lua, 1, format!("expected integer between {min} and {max}")));
        }
        *setting = value;
    }
    Ok(Value::Number(f64::from(*setting)))
}

// ---- encoding ----

fn encode(lua: &Lua, cfg: &Config, args: &[Value]) -> mlua::Result<mlua::LuaString> {
    if args.len() != 1 {
        return Err(arg_error(lua, 1, "expected 1 argument"));
    }
    let mut encoder = Encoder { cfg, out: Vec::new() };
    // The argument takes one stack slot.
    encoder.value(lua, &args[0], 1).map_err(|msg| lua_args::error(lua, msg))?;
    lua.create_string(&encoder.out)
}

/// The C stack slots in use while an item of the innermost open table is written: the argument, then one
/// per enclosing array (the item) and two per enclosing object (key and item).
fn stack_of(open: &[Writing]) -> usize {
    1 + open.iter().map(|w| if matches!(w, Writing::Array(..)) { 1 } else { 2 }).sum::<usize>()
}

struct Encoder<'c> {
    cfg: &'c Config,
    out: Vec<u8>,
}

/// `Cannot serialise <type>: <reason>`.
fn exception(value: &Value, reason: &str) -> String {
    format!("Cannot serialise {}: {reason}", lua_args::type_name(value))
}

fn lua_number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// A table being encoded: an array (its length and next index) or an object (whether no pair is written yet).
enum Writing {
    Array(i32, i32),
    Object(bool),
}

impl Encoder<'_> {
    /// Appends `value` with `stack` C stack slots in use. Iterative, so nesting as deep as the stack rule
    /// allows (about 8000) uses no Rust stack; the open tables and the key reached in each wait in the Lua
    /// table `work` (level n at 2n-1 and 2n), as holding thousands from Rust would exhaust mlua's reference
    /// stack. Objects are walked with the sandbox's `next`, which sees through protected tables as
    /// cjson's `lua_next` sees Redis's read-only ones.
    fn value(&mut self, lua: &Lua, value: &Value, mut stack: usize) -> Result<(), String> {
        let err = |e: mlua::Error| e.to_string();
        let work = lua.create_table().map_err(err)?;
        let next_pair: mlua::Function = lua.globals().raw_get("next").map_err(err)?;
        let mut open: Vec<Writing> = Vec::new();
        let mut next = value.clone();
        loop {
            if let Value::Table(t) = &next {
                let depth = open.len() as i32 + 1;
                if depth > self.cfg.encode_max_depth || stack + 3 > MAX_C_STACK {
                    return Err(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                match self.array_length(t, &next)? {
                    Some(len) if len > 0 => {
                        self.out.push(b'[');
                        open.push(Writing::Array(len, 1));
                    }
                    _ => {
                        self.out.push(b'{');
                        open.push(Writing::Object(true));
                    }
                }
                work.raw_set(2 * depth - 1, t).map_err(err)?;
            } else {
                self.scalar(&next)?;
            }
            // The next value to write: the innermost open table's next item, closing those that are done.
            loop {
                let level = open.len() as i32;
                let Some(writing) = open.last_mut() else { return Ok(()) };
                let t: Table = work.raw_get(2 * level - 1).map_err(err)?;
                let item = match writing {
                    Writing::Array(len, i) if *i <= *len => {
                        if *i > 1 {
                            self.out.push(b',');
                        }
                        *i += 1;
                        Some(t.raw_get(*i - 1).map_err(err)?)
                    }
                    Writing::Array(..) => None,
                    Writing::Object(first) => {
                        let key: Value = work.raw_get(2 * level).map_err(err)?;
                        let (key, item): (Value, Value) = next_pair.call((t, key)).map_err(err)?;
                        if key.is_nil() {
                            None
                        } else {
                            if !std::mem::replace(first, false) {
                                self.out.push(b',');
                            }
                            self.key(&key)?;
                            work.raw_set(2 * level, key).map_err(err)?;
                            Some(item)
                        }
                    }
                };
                if let Some(item) = item {
                    next = item;
                    stack = stack_of(&open);
                    break;
                }
                self.out.push(if matches!(open.pop(), Some(Writing::Array(..))) { b']' } else { b'}' });
                work.raw_set(2 * level - 1, Value::Nil).map_err(err)?;
                work.raw_set(2 * level, Value::Nil).map_err(err)?;
            }
        }
    }

    fn scalar(&mut self, value: &Value) -> Result<(), String> {
        match value {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Integer(_) | Value::Number(_) => self.number(value)?,
            Value::String(s) => self.string(&s.as_bytes()),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            other => return Err(exception(other, "type not supported")),
        }
        Ok(())
    }

    /// An object's key: a string, or a number written as a string.
    fn key(&mut self, key: &Value) -> Result<(), String> {
        match key {
            Value::Integer(_) | Value::Number(_) => {
                self.out.push(b'"');
                self.number(key)?;
                self.out.extend_from_slice(b"\":");
            }
            Value::String(s) => {
                self.string(&s.as_bytes());
                self.out.push(b':');
            }
            other => return Err(exception(other, "table key must be a number or string")),
        }
        Ok(())
    }

    /// The array length to encode `t` with, `None` when it is an object: every key a positive integer, and
    /// not excessively sparse (max key over ratio times the count, and over the safe limit).
    fn array_length(&self, t: &Table, value: &Value) -> Result<Option<i32>, String> {
        let (mut max, mut items) = (0i32, 0i32);
        for pair in t.pairs::<Value, Value>() {
            let (key, _) = pair.map_err(|e| e.to_string())?;
            match lua_number(&key) {
                Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                    if k > f64::from(max) {
                        max = c_int(k);
                    }
                    items = items.wrapping_add(1);
                }
                _ => return Ok(None),
            }
        }
        let cfg = self.cfg;
        if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
            if !cfg.sparse_convert {
                return Err(exception(value, "excessively sparse array"));
            }
            return Ok(None);
        }
        Ok(Some(max))
    }

    fn number(&mut self, value: &Value) -> Result<(), String> {
        let n = lua_number(value).unwrap_or(0.0);
        match self.cfg.encode_invalid_numbers {
            0 if !n.is_finite() => return Err(exception(value, "must not be NaN or Inf")),
            1 if n.is_nan() => {
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            2 if !n.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        if n.is_infinite() {
            self.out.extend_from_slice(if n > 0.0 { b"inf" } else { b"-inf" });
        } else {
            crate::util::num::write_g(&mut self.out, n, self.cfg.precision as usize);
        }
        Ok(())
    }

    /// A string with cjson's escapes: control characters and DEL as `\u00XX` (except `\b \t \n \f \r`), and
    /// `"`, `\` and `/`; other bytes, invalid UTF-8 included, as they are.
    fn string(&mut self, s: &[u8]) {
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                8 => self.out.extend_from_slice(b"\\b"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                12 => self.out.extend_from_slice(b"\\f"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0..=31 | 127 => {
                    self.out.extend_from_slice(b"\\u00");
                    self.out.push(b"0123456789abcdef"[usize::from(c >> 4)]);
                    self.out.push(b"0123456789abcdef"[usize::from(c & 15)]);
                }
                _ => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }
}

// ---- decoding ----

fn decode(lua: &Lua, cfg: &Config, args: &[Value]) -> mlua::Result<Value> {
    if args.len() != 1 {
        return Err(arg_error(lua, 1, "expected 1 argument"));
    }
    let data = check_bytes(lua, args, 1)?;
    // cjson's check for UTF-16/32 input: any JSON text starts with an ASCII character.
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(lua_args::error(lua, "JSON parser does not support UTF-16 or UTF-32"));
    }
    let mut parser = Parser { lua, cfg, data: &data, pos: 0, depth: 0, tmp: Vec::new() };
    let fail = |e: Failure| match e {
        Failure::Parse(msg) => lua_args::error(lua, msg),
        Failure::Lua(err) => err,
    };
    let token = parser.next_token();
    // The argument takes one stack slot.
    let value = parser.value(token, 1).map_err(fail)?;
    let token = parser.next_token();
    if !matches!(token.kind, Kind::End) {
        return Err(fail(parse_error("the end", &token)));
    }
    Ok(value)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    /// The string's bytes are in the parser's `tmp`.
    Str,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    /// Where the token starts (or where its error is), 0-based.
    index: usize,
}

enum Failure {
    Parse(String),
    Lua(mlua::Error),
}

impl From<mlua::Error> for Failure {
    fn from(err: mlua::Error) -> Failure {
        Failure::Lua(err)
    }
}

/// cjson's `Expected <what> but found <token> at character <n>`.
fn parse_error(expected: &str, token: &Token) -> Failure {
    let found = match token.kind {
        Kind::ObjBegin => "T_OBJ_BEGIN",
        Kind::ObjEnd => "T_OBJ_END",
        Kind::ArrBegin => "T_ARR_BEGIN",
        Kind::ArrEnd => "T_ARR_END",
        Kind::Str => "T_STRING",
        Kind::Number(_) => "T_NUMBER",
        Kind::Boolean(_) => "T_BOOLEAN",
        Kind::Null => "T_NULL",
        Kind::Colon => "T_COLON",
        Kind::Comma => "T_COMMA",
        Kind::End => "T_END",
        Kind::Error(e) => e,
    };
    Failure::Parse(format!("Expected {expected} but found {found} at character {}", token.index + 1))
}

struct Parser<'a> {
    lua: &'a Lua,
    cfg: &'a Config,
    data: &'a [u8],
    pos: usize,
    depth: i32,
    tmp: Vec<u8>,
}

impl Parser<'_> {
    /// The byte at `i`; the text ends at its first NUL, as C's string does.
    fn byte(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.byte(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = |kind| Token { kind, index };
        let kind = match self.byte(index) {
            0 => return single(Kind::End),
            b'{' => Kind::ObjBegin,
            b'}' => Kind::ObjEnd,
            b'[' => Kind::ArrBegin,
            b']' => Kind::ArrEnd,
            b',' => Kind::Comma,
            b':' => Kind::Colon,
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if !self.cfg.decode_invalid_numbers && self.invalid_number() {
                    return single(Kind::Error("invalid number"));
                }
                return self.number_token();
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => return self.word_token(),
            _ => return single(Kind::Error("invalid token")),
        };
        self.pos += 1;
        single(kind)
    }

    /// `true`, `false`, `null`, or (decode_invalid_numbers) `inf`/`nan` read as numbers.
    fn word_token(&mut self) -> Token {
        let index = self.pos;
        let rest = &self.data[index.min(self.data.len())..];
        for (word, kind) in [("true", Kind::Boolean(true)), ("false", Kind::Boolean(false)), ("null", Kind::Null)] {
            if rest.starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Token { kind, index };
            }
        }
        if self.cfg.decode_invalid_numbers && self.invalid_number() {
            return self.number_token();
        }
        Token { kind: Kind::Error("invalid token"), index }
    }

    /// What strict JSON refuses and strtod reads: a plus sign, hex, leading zeros, inf, nan (after a minus).
    fn invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.byte(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let c = self.byte(p);
        if c == b'0' {
            let next = self.byte(p + 1);
            return next | 0x20 == b'x' || next.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let rest = &self.data[p.min(self.data.len())..];
        let starts = |word: &[u8]| rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(word);
        starts(b"inf") || starts(b"nan")
    }

    fn number_token(&mut self) -> Token {
        let index = self.pos;
        let end = self.data[index..].iter().position(|&c| c == 0).map_or(self.data.len(), |i| index + i);
        let (value, used) = strtod(&self.data[index..end]);
        if used == 0 {
            return Token { kind: Kind::Error("invalid number"), index };
        }
        self.pos += used;
        Token { kind: Kind::Number(value), index }
    }

    fn string_token(&mut self) -> Token {
        let start = self.pos;
        self.pos += 1;
        self.tmp.clear();
        loop {
            let c = self.byte(self.pos);
            match c {
                b'"' => break,
                0 => return Token { kind: Kind::Error("unexpected end of string"), index: self.pos },
                b'\\' => {
                    let decoded = match self.byte(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 8,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 12,
                        b'r' => b'\r',
                        b'u' => {
                            if !self.unicode_escape() {
                                return Token { kind: Kind::Error("invalid unicode escape code"), index: self.pos };
                            }
                            continue;
                        }
                        _ => return Token { kind: Kind::Error("invalid escape code"), index: self.pos },
                    };
                    self.tmp.push(decoded);
                    self.pos += 2;
                }
                _ => {
                    self.tmp.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        Token { kind: Kind::Str, index: start }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| Some(acc << 4 | char::from(self.byte(at + i)).to_digit(16)?))
    }

    /// `\uXXXX` (a surrogate pair as two escapes) appended as UTF-8; false when malformed.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut code) = self.hex4(self.pos + 2) else { return false };
        let mut len = 6;
        if code & 0xF800 == 0xD800 {
            if code & 0x400 != 0 || self.byte(self.pos + 6) != b'\\' || self.byte(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else { return false };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            code = (((code & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        // Every value here is a valid scalar (surrogates were paired above).
        let Some(c) = char::from_u32(code) else { return false };
        self.tmp.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        self.pos += len;
        true
    }

    /// One more level of nesting, needing `slots` C stack slots over the `stack` in use.
    fn descend(&mut self, stack: usize, slots: usize) -> Result<(), Failure> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && stack + slots <= MAX_C_STACK {
            return Ok(());
        }
        Err(Failure::Parse(format!("Found too many nested data structures ({}) at character {}", self.depth, self.pos)))
    }

    /// The value starting at `token`, with `stack` C stack slots in use. Iterative, so nesting as deep as
    /// the stack rule allows (about 8000) uses no Rust stack; the open tables and keys wait in the Lua table
    /// `work` (level n at 2n-1 and 2n), as holding thousands of them from Rust would exhaust mlua's
    /// reference stack. `open` has each level's next array index, `None` for an object.
    fn value(&mut self, mut token: Token, mut stack: usize) -> Result<Value, Failure> {
        let work = self.lua.create_table()?;
        let mut open: Vec<Option<i64>> = Vec::new();
        loop {
            let level = open.len() as i64 + 1;
            let mut value = match token.kind {
                Kind::Str => Value::String(self.lua.create_string(&self.tmp)?),
                Kind::Number(n) => Value::Number(n),
                Kind::Boolean(b) => Value::Boolean(b),
                Kind::Null => Value::NULL,
                Kind::ObjBegin => {
                    // The table, a key and its value.
                    self.descend(stack, 3)?;
                    let t = self.lua.create_table()?;
                    token = self.next_token();
                    if token.kind == Kind::ObjEnd {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        let key = self.key(token)?;
                        work.raw_set(2 * level - 1, t)?;
                        work.raw_set(2 * level, key)?;
                        open.push(None);
                        stack += 2;
                        token = self.next_token();
                        continue;
                    }
                }
                Kind::ArrBegin => {
                    // The table and a value.
                    self.descend(stack, 2)?;
                    let t = self.lua.create_table()?;
                    token = self.next_token();
                    if token.kind == Kind::ArrEnd {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        work.raw_set(2 * level - 1, t)?;
                        open.push(Some(1));
                        stack += 1;
                        continue;
                    }
                }
                _ => return Err(parse_error("value", &token)),
            };
            // Store the finished value in the innermost open table, closing those that end here.
            loop {
                let level = open.len() as i64;
                let Some(slot) = open.last_mut() else { return Ok(value) };
                let t: Table = work.raw_get(2 * level - 1)?;
                let (end, what) = match slot {
                    Some(i) => {
                        t.raw_set(*i, value)?;
                        *i += 1;
                        (Kind::ArrEnd, "comma or array end")
                    }
                    None => {
                        t.raw_set(work.raw_get::<Value>(2 * level)?, value)?;
                        (Kind::ObjEnd, "comma or object end")
                    }
                };
                token = self.next_token();
                if token.kind == end {
                    self.depth -= 1;
                    stack -= if end == Kind::ArrEnd { 1 } else { 2 };
                    open.pop();
                    work.raw_set(2 * level - 1, Value::Nil)?;
                    work.raw_set(2 * level, Value::Nil)?;
                    value = Value::Table(t);
                    continue;
                }
                if token.kind != Kind::Comma {
                    return Err(parse_error(what, &token));
                }
                token = self.next_token();
                if end == Kind::ObjEnd {
                    work.raw_set(2 * level, self.key(token)?)?;
                    token = self.next_token();
                }
                break;
            }
        }
    }

    /// An object's key (`token`) and the colon after it.
    fn key(&mut self, token: Token) -> Result<mlua::LuaString, Failure> {
        if token.kind != Kind::Str {
            return Err(parse_error("object key string", &token));
        }
        let key = self.lua.create_string(&self.tmp)?;
        let colon = self.next_token();
        if colon.kind != Kind::Colon {
            return Err(parse_error("colon", &colon));
        }
        Ok(key)
    }
}

/// C's strtod on the front of `s` (no leading spaces): the value and how many bytes it read (0 for none).
/// Decimal (`1.5e3`, `1.`, `.5`), hex (`0x1p4`), `inf`/`infinity`, `nan`/`nan(...)`, each with a sign.
pub fn strtod(s: &[u8]) -> (f64, usize) {
    let sign_len = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let negative = s.first() == Some(&b'-');
    let body = &s[sign_len..];
    let apply = |v: f64, len: usize| (if negative { -v } else { v }, sign_len + len);
    let word = |w: &[u8]| body.len() >= w.len() && body[..w.len()].eq_ignore_ascii_case(w);
    if word(b"infinity") {
        return apply(f64::INFINITY, 8);
    }
    if word(b"inf") {
        return apply(f64::INFINITY, 3);
    }
    if word(b"nan") {
        let mut len = 3;
        if body.get(3) == Some(&b'(') {
            let inner = body[4..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
            if body.get(4 + inner) == Some(&b')') {
                len = 5 + inner;
            }
        }
        return apply(f64::NAN, len);
    }
    if body.len() > 2
        && body[0] == b'0'
        && body[1] | 0x20 == b'x'
        && let Some((v, len)) = hex_float(&body[2..])
    {
        return apply(v, 2 + len);
    }
    let int = body.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut len = int;
    let mut frac = 0;
    if body.get(len) == Some(&b'.') {
        frac = body[len + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if int + frac > 0 {
            len += 1 + frac;
        }
    }
    if int + frac == 0 {
        return (0.0, 0);
    }
    if matches!(body.get(len), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(body.get(len + 1), Some(b'+' | b'-')));
        let digits = body[(len + 1 + sign).min(body.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            len += 1 + sign + digits;
        }
    }
    // Rust's parser rounds exactly as glibc's strtod; it wants a digit before the point.
    let text = std::str::from_utf8(&body[..len]).unwrap_or("0");
    let value = if text.starts_with('.') { format!("0{text}").parse() } else { text.parse() };
    apply(value.unwrap_or(0.0), len)
}

/// The digits after `0x`: `h.hhhp±d`; `None` when no hex digit follows (strtod then reads just the `0`).
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut value = 0.0f64;
    let mut len = 0;
    let mut digits = 0;
    let mut scale = 0i32;
    let mut seen_point = false;
    while let Some(&c) = s.get(len) {
        if c == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = char::from(c).to_digit(16) {
            value = value * 16.0 + f64::from(d);
            digits += 1;
            if seen_point {
                scale -= 4;
            }
        } else {
            break;
        }
        len += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(len), Some(b'p' | b'P')) {
        let sign = usize::from(matches!(s.get(len + 1), Some(b'+' | b'-')));
        let start = (len + 1 + sign).min(s.len());
        let count = s[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if count > 0 {
            let exp: i32 = std::str::from_utf8(&s[start..start + count]).ok()?.parse().unwrap_or(i32::MAX / 2);
            scale = scale.saturating_add(if s[len + 1] == b'-' { -exp } else { exp });
            len = start + count;
        }
    }
    Some((value * 2f64.powi(scale), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(code: &str) -> String {
        let lua = Lua::new();
        register(&lua, &lua.globals()).unwrap();
        match lua.load(code).set_name("=t").eval::<Value>() {
            Ok(v) => v.to_string().unwrap(),
            Err(e) => format!("error: {}", super::super::lua_message(&e).trim_start_matches("t:1: ")),
        }
    }

    #[test]
    fn encodes_as_lua_cjson() {
        assert_eq!(eval("return cjson.encode({1,2,3,{},{a=1.5}})"), r#"[1,2,3,{},{"a":1.5}]"#);
        assert_eq!(eval("return cjson.encode(1/3)"), "0.33333333333333");
        assert_eq!(eval("return cjson.encode(1e15)"), "1e+15");
        assert_eq!(eval("return cjson.encode('a/\"\\n\\1\\127')"), r#""a\/\"\n\u0001\u007f""#);
        assert_eq!(eval("return cjson.encode({[1]=1,[2]=2,[4]=4})"), "[1,2,null,4]");
        assert_eq!(eval("return cjson.encode(cjson.null)"), "null");
        assert_eq!(eval("return cjson.encode({[20]=1})"), "error: Cannot serialise table: excessively sparse array");
        assert_eq!(eval("return cjson.encode(0/0)"), "error: Cannot serialise number: must not be NaN or Inf");
        assert_eq!(eval("cjson.encode_invalid_numbers('null') return cjson.encode({1/0})"), "[null]");
        assert_eq!(eval("cjson.encode_number_precision(3) return cjson.encode(3.14159)"), "3.14");
        assert_eq!(eval("cjson.encode_sparse_array(true) return cjson.encode({[20]=1})"), r#"{"20":1}"#);
        assert_eq!(
            eval("cjson.encode_max_depth(2) return cjson.encode({{{}}})"),
            "error: Cannot serialise, excessive nesting (3)"
        );
        assert_eq!(
            eval("return cjson.encode({[true]=1})"),
            "error: Cannot serialise boolean: table key must be a number or string"
        );
    }

    #[test]
    fn decodes_as_lua_cjson() {
        assert_eq!(eval("return cjson.decode('[1,2,3]')[3]"), "3");
        assert_eq!(eval("return cjson.decode(' {\"a\":[true,null]} ').a[2] == cjson.null"), "true");
        assert_eq!(eval("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')"), "é😀");
        assert_eq!(eval("return cjson.decode('0x10')"), "16");
        assert_eq!(eval("return tostring(cjson.decode('-Infinity'))"), "-inf");
        assert_eq!(eval("return cjson.decode('[1,]')"), "error: Expected value but found T_ARR_END at character 4");
        assert_eq!(
            eval("return cjson.decode('{1:2}')"),
            "error: Expected object key string but found T_NUMBER at character 2"
        );
        assert_eq!(
            eval("return cjson.decode('\"abc')"),
            "error: Expected value but found unexpected end of string at character 5"
        );
        assert_eq!(
            eval("return cjson.decode('[1] x')"),
            "error: Expected the end but found invalid token at character 5"
        );
        assert_eq!(
            eval("cjson.decode_max_depth(1) return cjson.decode('[[1]]')"),
            "error: Found too many nested data structures (2) at character 2"
        );
        assert_eq!(
            eval("cjson.decode_invalid_numbers(false) return cjson.decode('01')"),
            "error: Expected value but found invalid number at character 1"
        );
    }

    #[test]
    fn options_report_their_values() {
        assert_eq!(eval("return cjson.encode_invalid_numbers('null')"), "null");
        assert_eq!(eval("return cjson.encode_keep_buffer()"), "true");
        assert_eq!(eval("return select(3, cjson.encode_sparse_array())"), "10");
        assert_eq!(
            eval("return cjson.encode_number_precision(15)"),
            "error: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"
        );
        assert_eq!(
            eval("return cjson.encode_keep_buffer('x')"),
            "error: bad argument #1 to 'encode_keep_buffer' (invalid option 'x')"
        );
        assert_eq!(eval("local c = cjson.new() c.encode_number_precision(2) return cjson.encode(1.234)"), "1.234");
    }

    #[test]
    fn strtod_reads_c_prefixes() {
        assert_eq!(strtod(b"1.5e3x"), (1500.0, 5));
        assert_eq!(strtod(b"1e"), (1.0, 1));
        assert_eq!(strtod(b"-0x1p4"), (-16.0, 6));
        assert_eq!(strtod(b"0x"), (0.0, 1));
        assert_eq!(strtod(b"-"), (0.0, 0));
        assert_eq!(strtod(b".5"), (0.5, 2));
        assert!(strtod(b"nan(1)").0.is_nan() && strtod(b"nan(1)").1 == 6);
    }
}
