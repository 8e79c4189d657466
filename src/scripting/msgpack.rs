//! lua-cmsgpack 0.4.0 as Redis 7.0 bundles it, the `cmsgpack` global: `pack(...)` (each argument packed,
//! concatenated), `unpack(s)` (every value), `unpack_one(s, offset)` and `unpack_limit(s, limit, offset)`
//! (the next offset, -1 at the end, then the values).
//!
//! Its choices are kept: a table whose keys are exactly 1..n is an array, any other a map (an empty table
//! is an empty array); a number equal to an int64 is packed as the smallest integer encoding, another as a
//! float when a float holds it exactly, else a double; tables nested 16 deep pack as nil; strings as str
//! (fixstr, str8, str16, str32), never bin. Unpacking reads what pack writes (no bin or ext types: "Bad data
//! format"). rmp would give the wire format only, and these choices are most of the code, so none is used.

use mlua::{Lua, MultiValue, Table, Value, Variadic};

use super::cjson::MAX_C_STACK;
use super::lua_args::{self, arg_error, c_int, c_long, check_bytes, check_integer, opt_integer};

/// Tables nested this deep pack as nil (circular tables end there).
const MAX_NESTING: u32 = 16;

/// Registers `cmsgpack` in `globals`.
pub fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?)?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| {
            let data = check_bytes(lua, &args, 1)?;
            unpack(lua, &data, 0, 0, args.len())
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: Variadic<Value>| {
            let offset = opt_integer(lua, &args, 2, 0)?;
            let data = check_bytes(lua, &args, 1)?;
            unpack(lua, &data, 1, offset, 1)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: Variadic<Value>| {
            let limit = check_integer(lua, &args, 2)?;
            let offset = opt_integer(lua, &args, 3, 0)?;
            let data = check_bytes(lua, &args, 1)?;
            unpack(lua, &data, limit, offset, 1)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    globals.raw_set("cmsgpack", t)
}

fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::LuaString> {
    if args.is_empty() {
        return Err(arg_error(lua, 0, "MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    for arg in args {
        encode(&mut out, arg, 0)?;
    }
    lua.create_string(&out)
}

fn encode(out: &mut Vec<u8>, value: &Value, level: u32) -> mlua::Result<()> {
    match value {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => encode_int(out, *n),
        Value::Number(n) => encode_number(out, *n),
        Value::Table(t) if level < MAX_NESTING => encode_table(out, t, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    // An int64 equal to it, as C's `(int64_t)n == n`.
    if !n.is_infinite() && c_long(n) as f64 == n {
        encode_int(out, c_long(n));
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    match n {
        0..=127 => out.push(n as u8),
        128..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -32..=-1 => out.push(n as i8 as u8),
        -128..=-33 => out.extend_from_slice(&[0xd0, n as i8 as u8]),
        -32768..=-129 => {
            out.push(0xd1);
            out.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            out.push(0xd2);
            out.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// An array header (`small`: the fix form's tag, 0x90 for arrays, 0x80 for maps).
fn encode_header(out: &mut Vec<u8>, len: usize, small: u8) {
    let (tag16, tag32) = if small == 0x90 { (0xdc, 0xdd) } else { (0xde, 0xdf) };
    if len <= 15 {
        out.push(small | len as u8);
    } else if len <= 0xffff {
        out.push(tag16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(tag32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn encode_table(out: &mut Vec<u8>, t: &Table, level: u32) -> mlua::Result<()> {
    if is_array(t)? {
        let len = t.raw_len();
        encode_header(out, len, 0x90);
        for i in 1..=len {
            // lua_gettable: a metatable's __index is honoured.
            let item: Value = t.get(i)?;
            encode(out, &item, level + 1)?;
        }
    } else {
        let len = t.pairs::<Value, Value>().count();
        encode_header(out, len, 0x80);
        for pair in t.pairs::<Value, Value>() {
            let (key, item) = pair?;
            encode(out, &key, level + 1)?;
            encode(out, &item, level + 1)?;
        }
    }
    Ok(())
}

/// Whether every key is a positive int and the largest equals the count (so the keys are 1..n).
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i32, 0i32);
    for pair in t.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let n = match key {
            Value::Integer(n) => n as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || f64::from(c_int(n)) != n {
            return Ok(false);
        }
        if n > f64::from(max) {
            max = c_int(n);
        }
        count = count.wrapping_add(1);
    }
    Ok(max == count)
}

/// Why decoding stopped.
enum Stop {
    Eof,
    BadFormat,
    /// `luaL_checkstack` failed: `stack overflow (<what>)`.
    Stack(&'static str),
    /// A map key Lua cannot index by (`table index is nil`), raised without position as Lua raises it.
    Index(&'static str),
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(err: mlua::Error) -> Stop {
        Stop::Lua(err)
    }
}

/// mp_unpack_full: up to `limit` values from `offset` (both 0: every value, without the offset result).
/// `stack` is the slots the arguments hold.
fn unpack(lua: &Lua, data: &[u8], limit: i64, offset: i64, stack: usize) -> mlua::Result<MultiValue> {
    // The texts print these longs (and the size_t length) through %d, so as their low 32 bits; and
    // lua-cmsgpack prints the input's length where it means the limit.
    let len = data.len() as i32;
    if offset < 0 || limit < 0 {
        let offset = offset as i32;
        return Err(lua_args::error(
            lua,
            format_args!("Invalid request to unpack with offset of {offset} and limit of {len}."),
        ));
    }
    if offset as u64 > data.len() as u64 {
        let offset = offset as i32;
        return Err(lua_args::error(lua, format_args!("Start offset {offset} greater than input length {len}.")));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i64::from(i32::MAX) } else { limit };
    let mut decoder = Decoder { lua, data, pos: offset as usize };
    let mut values = Vec::new();
    while decoder.pos < data.len() && (values.len() as i64) < limit {
        match decoder.value(stack + values.len()) {
            Ok(v) => values.push(v),
            Err(Stop::Eof) => return Err(lua_args::error(lua, "Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(lua_args::error(lua, "Bad data format in input.")),
            Err(Stop::Stack(what)) => return Err(lua_args::error(lua, format_args!("stack overflow ({what})"))),
            Err(Stop::Index(text)) => return Err(lua_args::raw_error(lua, text.into())),
            Err(Stop::Lua(err)) => return Err(err),
        }
    }
    if !decode_all {
        let next = if decoder.pos == data.len() { -1.0 } else { decoder.pos as f64 };
        values.insert(0, Value::Number(next));
    }
    Ok(MultiValue::from_iter(values))
}

struct Decoder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// The `n` bytes at the cursor after a `skip`-byte header, consumed.
    fn take(&mut self, skip: usize, n: usize) -> Result<&'a [u8], Stop> {
        let start = self.pos + skip;
        if self.data.len() - self.pos < skip.saturating_add(n) {
            return Err(Stop::Eof);
        }
        self.pos = start + n;
        let data: &'a [u8] = self.data;
        Ok(&data[start..start + n])
    }

    fn be(&mut self, n: usize) -> Result<u64, Stop> {
        Ok(self.take(1, n)?.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
    }

    /// One value, with `stack` slots in use (luaL_checkstack's limit of 8000 applies, as in C). Iterative,
    /// so deep nesting uses no Rust stack; the open tables and a map's pending key wait in the Lua table
    /// `work` (level n at 2n-1 and 2n), as holding thousands from Rust would exhaust mlua's reference stack.
    fn value(&mut self, stack: usize) -> Result<Value, Stop> {
        let work = self.lua.create_table()?;
        let mut open: Vec<Filling> = Vec::new();
        let mut stack = stack;
        loop {
            let level = open.len() as i64 + 1;
            let mut value = match self.item(stack)? {
                Item::Value(v) => v,
                Item::Array(len) => {
                    let t = self.lua.create_table()?;
                    if stack + 2 > MAX_C_STACK {
                        return Err(Stop::Stack("in function mp_decode_to_lua_array"));
                    }
                    if len == 0 {
                        Value::Table(t)
                    } else {
                        work.raw_set(2 * level - 1, t)?;
                        open.push(Filling { left: len, index: 1, has_key: false });
                        stack += 2;
                        continue;
                    }
                }
                Item::Map(0) => Value::Table(self.lua.create_table()?),
                Item::Map(len) => {
                    work.raw_set(2 * level - 1, self.lua.create_table()?)?;
                    open.push(Filling { left: len, index: 0, has_key: false });
                    stack += 1;
                    continue;
                }
            };
            // Store the value in the innermost open table, closing those that are full.
            loop {
                let level = open.len() as i64;
                let Some(f) = open.last_mut() else { return Ok(value) };
                let t: Table = work.raw_get(2 * level - 1)?;
                if f.index > 0 {
                    t.raw_set(f.index, value)?;
                    f.index += 1;
                } else if f.has_key {
                    let key: Value = work.raw_get(2 * level)?;
                    match &key {
                        Value::Nil => return Err(Stop::Index("table index is nil")),
                        Value::Number(n) if n.is_nan() => return Err(Stop::Index("table index is NaN")),
                        _ => t.raw_set(key, value)?,
                    }
                    f.has_key = false;
                    work.raw_set(2 * level, Value::Nil)?;
                    stack -= 1;
                } else {
                    // A key: its value is read with the key on the stack too. A nil key is refused once
                    // its value is read, as C's lua_settable refuses it.
                    work.raw_set(2 * level, value)?;
                    f.has_key = true;
                    stack += 1;
                    break;
                }
                f.left -= 1;
                if f.left > 0 {
                    break;
                }
                stack -= if f.index > 0 { 2 } else { 1 };
                open.pop();
                work.raw_set(2 * level - 1, Value::Nil)?;
                value = Value::Table(t);
            }
        }
    }

    /// The value or container header at the cursor.
    fn item(&mut self, stack: usize) -> Result<Item, Stop> {
        let Some(&tag) = self.data.get(self.pos) else { return Err(Stop::Eof) };
        if stack + 1 > MAX_C_STACK {
            return Err(Stop::Stack("too many return values at once; use unpack_one or unpack_limit instead."));
        }
        let num = |n: f64| Ok(Item::Value(Value::Number(n)));
        match tag {
            0xcc => num(self.be(1)? as f64),
            0xcd => num(self.be(2)? as f64),
            0xce => num(self.be(4)? as f64),
            // lua-cmsgpack pushes a uint64 through lua_pushinteger's signed type.
            0xcf => num(self.be(8)? as i64 as f64),
            0xd0 => num(f64::from(self.be(1)? as u8 as i8)),
            0xd1 => num(f64::from(self.be(2)? as u16 as i16)),
            0xd2 => num(f64::from(self.be(4)? as u32 as i32)),
            0xd3 => num(self.be(8)? as i64 as f64),
            0xc0 => {
                self.pos += 1;
                Ok(Item::Value(Value::Nil))
            }
            0xc2 | 0xc3 => {
                self.pos += 1;
                Ok(Item::Value(Value::Boolean(tag == 0xc3)))
            }
            0xca => num(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => num(f64::from_bits(self.be(8)?)),
            0xd9..=0xdb => {
                let width = 1 << (tag - 0xd9);
                let len = self.take(1, width)?.iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b));
                self.pos -= 1 + width;
                let s = self.take(1 + width, len)?;
                Ok(Item::Value(Value::String(self.lua.create_string(s)?)))
            }
            0xdc => Ok(Item::Array(self.be(2)?)),
            0xdd => Ok(Item::Array(self.be(4)?)),
            0xde => Ok(Item::Map(self.be(2)?)),
            0xdf => Ok(Item::Map(self.be(4)?)),
            0x00..=0x7f => {
                self.pos += 1;
                num(f64::from(tag))
            }
            0xe0..=0xff => {
                self.pos += 1;
                num(f64::from(tag as i8))
            }
            0xa0..=0xbf => {
                let s = self.take(1, usize::from(tag & 0x1f))?;
                Ok(Item::Value(Value::String(self.lua.create_string(s)?)))
            }
            0x90..=0x9f => {
                self.pos += 1;
                Ok(Item::Array(u64::from(tag & 0xf)))
            }
            0x80..=0x8f => {
                self.pos += 1;
                Ok(Item::Map(u64::from(tag & 0xf)))
            }
            _ => Err(Stop::BadFormat),
        }
    }
}

/// What one tag starts: a whole value, or an array or map of that many items.
enum Item {
    Value(Value),
    Array(u64),
    Map(u64),
}

/// A table being filled: its items still to read, the next index (0 for a map), whether a map's key waits.
struct Filling {
    left: u64,
    index: u64,
    has_key: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(code: &str) -> String {
        super::super::lua_args::eval_with(register, code)
    }

    fn hex(code: &str) -> String {
        let lua = Lua::new();
        register(&lua, &lua.globals()).unwrap();
        let s: mlua::LuaString = lua.load(code).eval().unwrap();
        s.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn packs_as_lua_cmsgpack() {
        assert_eq!(hex("return cmsgpack.pack({1,2})"), "920102");
        assert_eq!(hex("return cmsgpack.pack({})"), "90");
        assert_eq!(hex("return cmsgpack.pack({a=1})"), "81a16101");
        assert_eq!(hex("return cmsgpack.pack(-1, 200, -200, 70000, 2^40)"), "ffccc8d1ff38ce00011170cf0000010000000000");
        assert_eq!(hex("return cmsgpack.pack(1.5, 0.1)"), "ca3fc00000cb3fb999999999999a");
        assert_eq!(hex("return cmsgpack.pack(true, false, nil)"), "c3c2c0");
        assert_eq!(hex("return cmsgpack.pack(string.rep('x', 32)):sub(1, 2)"), "d920");
        assert_eq!(hex("local t = {} t[1] = t return cmsgpack.pack(t)"), format!("{}c0", "91".repeat(16)));
    }

    #[test]
    fn unpacks_as_lua_cmsgpack() {
        assert_eq!(eval("local a, b, c = cmsgpack.unpack(cmsgpack.pack(1, 'a', {5})) return a, b, c[1]"), "1 a 5");
        assert_eq!(eval("return cmsgpack.unpack_one(cmsgpack.pack(1, 2))"), "1 1");
        assert_eq!(eval("return cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)"), "-1 2");
        assert_eq!(eval("return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)"), "2 1 2");
        assert_eq!(eval("return cmsgpack.unpack('\\205')"), "error: Missing bytes in input.");
        assert_eq!(eval("return cmsgpack.unpack('\\193')"), "error: Bad data format in input.");
        assert_eq!(eval("return cmsgpack.unpack('\\129\\192\\1')"), "error: table index is nil");
        assert_eq!(eval("return cmsgpack.unpack_one('abc', 5)"), "error: Start offset 5 greater than input length 3.");
        assert_eq!(
            eval("return cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1')"),
            "error: stack overflow (in function mp_decode_to_lua_array)"
        );
        assert_eq!(eval("return cmsgpack.pack()"), "error: bad argument #0 to 'pack' (MessagePack pack needs input.)");
    }
}
