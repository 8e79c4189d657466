//! LuaBitOp's `bit` library as Redis bundles it: 32-bit operations on Lua numbers (tobit, tohex, bnot,
//! band, bor, bxor, lshift, rshift, arshift, rol, ror, bswap), with LuaBitOp's conversion of a number to
//! 32 bits (rounded, then taken modulo 2^32, read as signed).

use mlua::{Lua, Table, Value, Variadic};

/// LuaBitOp's `barg`: adding 2^52 + 2^51 puts the rounded integer in the low mantissa bits.
fn to_bits(value: &Value, index: usize, name: &str) -> mlua::Result<u32> {
    let n = match value {
        Value::Integer(n) => *n as f64,
        Value::Number(n) => *n,
        Value::String(s) => {
            s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()).ok_or_else(|| bad_arg(index, name, value))?
        }
        other => return Err(bad_arg(index, name, other)),
    };
    Ok((n + 6_755_399_441_055_744.0).to_bits() as u32)
}

fn bad_arg(index: usize, name: &str, value: &Value) -> mlua::Error {
    let got = if value.is_nil() { "no value" } else { value.type_name() };
    mlua::Error::RuntimeError(format!("bad argument #{index} to '{name}' (number expected, got {got})"))
}

/// A named unary and binary operation on 32 bits.
type Unary = (&'static str, fn(u32) -> u32);
type Binary = (&'static str, fn(u32, u32) -> u32);

fn result(bits: u32) -> f64 {
    f64::from(bits as i32)
}

fn arg(args: &[Value], index: usize) -> &Value {
    args.get(index).unwrap_or(&Value::Nil)
}

/// Registers `bit` in `globals`.
pub fn register(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let bit = lua.create_table()?;
    let unary: [Unary; 3] = [("tobit", |b| b), ("bnot", |b| !b), ("bswap", u32::swap_bytes)];
    for (name, op) in unary {
        bit.raw_set(
            name,
            lua.create_function(move |_, args: Variadic<Value>| Ok(result(op(to_bits(arg(&args, 0), 1, name)?))))?,
        )?;
    }
    let fold: [Binary; 3] = [("band", |a, b| a & b), ("bor", |a, b| a | b), ("bxor", |a, b| a ^ b)];
    for (name, op) in fold {
        bit.raw_set(
            name,
            lua.create_function(move |_, args: Variadic<Value>| {
                let mut acc = to_bits(arg(&args, 0), 1, name)?;
                for (i, value) in args.iter().enumerate().skip(1) {
                    acc = op(acc, to_bits(value, i + 1, name)?);
                }
                Ok(result(acc))
            })?,
        )?;
    }
    let shifts: [Binary; 5] = [
        ("lshift", |b, n| b << (n & 31)),
        ("rshift", |b, n| b >> (n & 31)),
        ("arshift", |b, n| ((b as i32) >> (n & 31)) as u32),
        ("rol", |b, n| b.rotate_left(n & 31)),
        ("ror", |b, n| b.rotate_right(n & 31)),
    ];
    for (name, op) in shifts {
        bit.raw_set(
            name,
            lua.create_function(move |_, args: Variadic<Value>| {
                Ok(result(op(to_bits(arg(&args, 0), 1, name)?, to_bits(arg(&args, 1), 2, name)?)))
            })?,
        )?;
    }
    bit.raw_set(
        "tohex",
        lua.create_function(|lua, args: Variadic<Value>| {
            let mut bits = to_bits(arg(&args, 0), 1, "tohex")?;
            let mut n = if args.len() < 2 { 8 } else { to_bits(&args[1], 2, "tohex")? as i32 };
            let digits: &[u8; 16] = if n < 0 { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
            n = n.unsigned_abs().min(8) as i32;
            let mut buf = [0u8; 8];
            for i in (0..n as usize).rev() {
                buf[i] = digits[(bits & 15) as usize];
                bits >>= 4;
            }
            lua.create_string(&buf[..n as usize])
        })?,
    )?;
    globals.raw_set("bit", bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(code: &str) -> String {
        let lua = Lua::new();
        register(&lua, &lua.globals()).unwrap();
        lua.load(code).eval::<mlua::Value>().unwrap().to_string().unwrap()
    }

    /// LuaBitOp's documented results.
    #[test]
    fn matches_luabitop() {
        assert_eq!(eval("return bit.tobit(0xffffffff)"), "-1");
        assert_eq!(eval("return bit.tobit(0xffffffff + 1)"), "0");
        assert_eq!(eval("return bit.tohex(1)"), "00000001");
        assert_eq!(eval("return bit.tohex(-1)"), "ffffffff");
        assert_eq!(eval("return bit.tohex(0xffffffff, -4)"), "FFFF");
        assert_eq!(eval("return bit.bnot(0)"), "-1");
        assert_eq!(eval("return bit.bor(1, 2, 4, 8)"), "15");
        assert_eq!(eval("return bit.band(0x12345678, 0xff)"), "120");
        assert_eq!(eval("return bit.bxor(0xa5a5f0f0, 0xaa55ff00)"), "267390960");
        assert_eq!(eval("return bit.lshift(1, 0)"), "1");
        assert_eq!(eval("return bit.lshift(1, 8)"), "256");
        assert_eq!(eval("return bit.lshift(1, 40)"), "256");
        assert_eq!(eval("return bit.rshift(256, 8)"), "1");
        assert_eq!(eval("return bit.rshift(-256, 8)"), "16777215");
        assert_eq!(eval("return bit.arshift(-256, 8)"), "-1");
        assert_eq!(eval("return bit.tohex(bit.rol(0x12345678, 12))"), "45678123");
        assert_eq!(eval("return bit.tohex(bit.ror(0x12345678, 12))"), "67812345");
        assert_eq!(eval("return bit.tohex(bit.bswap(0x12345678))"), "78563412");
    }
}
