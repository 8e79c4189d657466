//! Roberto Ierusalimschy's lua-struct as Redis 7.0 bundles it, the `struct` global: `pack(fmt, ...)`,
//! `unpack(fmt, data [, pos])` (the values, then the next position) and `size(fmt)`.
//!
//! Format: `<` little endian, `>` big endian (native, little, by default), `!n` maximum alignment (`!` alone:
//! 8), `b`/`B` `h`/`H` `l`/`L` `in`/`In` (n bytes, 4 by default, at most 32) signed/unsigned integers, `T`
//! size_t, `f` float, `d` double, `s` a zero-terminated string, `cn` n bytes (`c0`: the whole string when
//! packing, the previous value's count when unpacking), `x` a padding byte, spaces ignored. Sizes are x86-64
//! C's, and numbers convert as C converts them there.

use mlua::{Lua, MultiValue, Table, Value, Variadic};

use super::lua_args::{self, arg_error, c_long, check_bytes, check_number, opt_integer, to_number};

/// The largest alignment `!` takes without a number (MAXALIGN: a double's).
const MAX_ALIGN: usize = 8;
/// The widest integer `i`/`I` may have.
const MAX_INT_SIZE: usize = 32;

/// Registers `struct` in `globals`.
pub fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?)?;
    t.raw_set("unpack", lua.create_function(|lua, args: Variadic<Value>| unpack(lua, &args))?)?;
    t.raw_set("size", lua.create_function(|lua, args: Variadic<Value>| size(lua, &args))?)?;
    globals.raw_set("struct", t)
}

/// Endianness and alignment, changed by the format's control options.
struct Header {
    big: bool,
    align: usize,
}

/// A cursor over the format (it ends at a NUL byte, as the C string does).
struct Format<'f> {
    fmt: &'f [u8],
    pos: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.pos).filter(|&&c| c != 0)?;
        self.pos += 1;
        Some(c)
    }

    /// The number at the cursor, or `default` when there is none.
    fn number(&mut self, lua: &Lua, default: usize) -> mlua::Result<usize> {
        if !self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(&c) = self.fmt.get(self.pos).filter(|c| c.is_ascii_digit()) {
            let digit = i32::from(c - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - digit {
                return Err(lua_args::error(lua, "integral size overflow"));
            }
            a = a * 10 + digit;
            self.pos += 1;
        }
        Ok(a as usize)
    }

    /// The size of option `opt` (0 for those that take no room or need no alignment).
    fn option_size(&mut self, lua: &Lua, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(lua, 1)?,
            b'i' | b'I' => {
                let size = self.number(lua, 4)?;
                if size > MAX_INT_SIZE {
                    return Err(lua_args::error(
                        lua,
                        format_args!("integral size {size} is larger than limit of {MAX_INT_SIZE}"),
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    /// The control options (`<`, `>`, `!n`, space); anything else is an invalid option.
    fn control(&mut self, lua: &Lua, opt: u8, h: &mut Header) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => h.big = true,
            b'<' => h.big = false,
            b'!' => {
                let a = self.number(lua, MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(lua_args::error(lua, format_args!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                return Err(arg_error(lua, 1, [&b"invalid format option '"[..], &[opt], b"'"].concat()));
            }
        }
        Ok(())
    }
}

/// Padding before an item of `size` at offset `len` (C's arithmetic, also for sizes not a power of 2).
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
}

fn format_arg(lua: &Lua, args: &[Value]) -> mlua::Result<Vec<u8>> {
    check_bytes(lua, args, 1)
}

/// C's `(unsigned long)` of a number as lua-struct converts it (negative through `long`).
fn to_bits(n: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if n < TWO_63 {
        c_long(n) as u64
    } else if n < 2.0 * TWO_63 {
        n as u64
    } else {
        0
    }
}

fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::LuaString> {
    let fmt = format_arg(lua, args)?;
    // lua-struct pushes a nil after the arguments, so the first missing one is "nil", not "no value".
    let args = &[args, &[Value::Nil]].concat();
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header { big: false, align: 1 };
    let mut out = Vec::new();
    let mut arg = 2;
    while let Some(opt) = f.next() {
        let mut size = f.option_size(lua, opt)?;
        out.resize(out.len() + to_align(out.len(), &h, opt, size), 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let mut value = to_bits(check_number(lua, args, arg)?);
                arg += 1;
                let mut bytes = [0u8; MAX_INT_SIZE];
                for byte in &mut bytes[..size] {
                    *byte = value as u8;
                    value = value.checked_shr(8).unwrap_or(0);
                }
                if h.big {
                    bytes[..size].reverse();
                }
                out.extend_from_slice(&bytes[..size]);
            }
            b'x' => out.push(0),
            b'f' | b'd' => {
                let n = check_number(lua, args, arg)?;
                arg += 1;
                let mut bytes = if opt == b'f' { (n as f32).to_le_bytes().to_vec() } else { n.to_le_bytes().to_vec() };
                if h.big {
                    bytes.reverse();
                }
                out.extend_from_slice(&bytes);
            }
            b'c' | b's' => {
                let s = check_bytes(lua, args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // lua-struct names the argument after the string.
                    return Err(arg_error(lua, arg, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => f.control(lua, opt, &mut h)?,
        }
    }
    lua.create_string(&out)
}

/// An integer of `bytes` (`size` of them), sign-extended when `signed`.
fn read_integer(bytes: &[u8], big: bool, signed: bool) -> f64 {
    let fold = |acc: u64, b: &u8| acc.wrapping_shl(8) | u64::from(*b);
    let l = if big { bytes.iter().fold(0, fold) } else { bytes.iter().rev().fold(0, fold) };
    if !signed {
        return l as f64;
    }
    // C shifts by size*8-1, which x86 takes modulo 64.
    let mask = u64::MAX.wrapping_shl((bytes.len() as u32 * 8).wrapping_sub(1));
    let l = if l & mask != 0 { l | mask } else { l };
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &[Value]) -> mlua::Result<MultiValue> {
    let fmt = format_arg(lua, args)?;
    let data = check_bytes(lua, args, 2)?;
    // size_t of a Lua integer: a negative position wraps to a huge one, caught as "too short" below.
    let mut pos = opt_integer(lua, args, 3, 1)? as usize;
    if pos == 0 {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let ld = data.len();
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header { big: false, align: 1 };
    let mut results: Vec<Value> = Vec::new();
    let fits = |pos: usize, size: usize| size <= ld && pos <= ld - size;
    while let Some(opt) = f.next() {
        let mut size = f.option_size(lua, opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if !fits(pos, size) {
            return Err(arg_error(lua, 2, "data string too short"));
        }
        if args.len() + results.len() + 2 > super::cjson::MAX_C_STACK {
            return Err(lua_args::error(lua, "stack overflow (too many results)"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                results.push(Value::Number(read_integer(&data[pos..pos + size], h.big, signed)));
            }
            b'x' => {}
            b'f' | b'd' => {
                let mut bytes = [0u8; 8];
                bytes[..size].copy_from_slice(&data[pos..pos + size]);
                if h.big {
                    bytes[..size].reverse();
                }
                let [a, b, c, d, ..] = bytes;
                let n =
                    if opt == b'f' { f64::from(f32::from_le_bytes([a, b, c, d])) } else { f64::from_le_bytes(bytes) };
                results.push(Value::Number(n));
            }
            b'c' => {
                if size == 0 {
                    let previous = results.last().and_then(to_number);
                    let Some(count) = previous else {
                        return Err(lua_args::error(lua, "format 'c0' needs a previous size"));
                    };
                    results.pop();
                    size = count as usize;
                    if !fits(pos, size) {
                        return Err(arg_error(lua, 2, "data string too short"));
                    }
                }
                results.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&c| c == 0) else {
                    return Err(lua_args::error(lua, "unfinished string in data"));
                };
                results.push(Value::String(lua.create_string(&data[pos..pos + end])?));
                size = end + 1;
            }
            _ => f.control(lua, opt, &mut h)?,
        }
        pos += size;
    }
    results.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(results))
}

fn size(lua: &Lua, args: &[Value]) -> mlua::Result<f64> {
    let fmt = format_arg(lua, args)?;
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header { big: false, align: 1 };
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.option_size(lua, opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        // Letters and digits that are no option take no room here (pack and unpack refuse them).
        if !opt.is_ascii_alphanumeric() {
            f.control(lua, opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(pos as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(code: &str) -> String {
        super::super::lua_args::eval_with(register, code)
    }

    #[test]
    fn packs_and_unpacks_as_lua_struct() {
        assert_eq!(eval("return struct.pack('>I4', 1) == '\\0\\0\\0\\1'"), "true");
        assert_eq!(eval("return struct.pack('<h', -2) == '\\254\\255'"), "true");
        assert_eq!(eval("return struct.unpack('>I4', '\\0\\0\\1\\0')"), "256 5");
        assert_eq!(eval("return struct.unpack('<i2', '\\254\\255')"), "-2 3");
        assert_eq!(eval("return struct.unpack('s', 'ab\\0c')"), "ab 4");
        assert_eq!(eval("return struct.unpack('bc0', '\\2abc')"), "ab 4");
        assert_eq!(eval("return struct.unpack('>d', struct.pack('>d', 1.5))"), "1.5 9");
        assert_eq!(eval("return struct.unpack('f', struct.pack('f', 0.5))"), "0.5 5");
        assert_eq!(eval("return #struct.pack('!4bi', 1, 2)"), "8");
        assert_eq!(eval("return struct.size('>bxhi!8d')"), "16");
        assert_eq!(eval("return struct.pack('c3', 'ab')"), "error: bad argument #3 to 'pack' (string too short)");
        assert_eq!(eval("return struct.pack('q', 1)"), "error: bad argument #1 to 'pack' (invalid format option 'q')");
        assert_eq!(eval("return struct.pack('i33', 1)"), "error: integral size 33 is larger than limit of 32");
        assert_eq!(eval("return struct.pack('!3i', 1)"), "error: alignment 3 is not a power of 2");
        assert_eq!(
            eval("return struct.unpack('>I4', 'abc')"),
            "error: bad argument #2 to 'unpack' (data string too short)"
        );
        assert_eq!(eval("return struct.unpack('c0', 'ab')"), "error: format 'c0' needs a previous size");
        assert_eq!(eval("return struct.size('s')"), "error: bad argument #1 to 'size' (option 's' has no fixed size)");
        assert_eq!(eval("return struct.pack('i99999999999', 1)"), "error: integral size overflow");
    }
}
