//! The values stored under keys. Issue by issue this grows one variant per Redis type.
//!
//! Strings keep Redis's three encodings because `OBJECT ENCODING` reports them and clients (and Redis's tests)
//! read that: `int` for strings that are canonical 64-bit integers, `embstr` for short strings created whole,
//! `raw` for long strings and any string modified in place (APPEND, SETRANGE), which keeps spare capacity so
//! repeated appends are amortised O(1) as with Redis's sds.

use crate::types::small::SmallBytes;
use crate::types::{hash_object::Hash, list_object::List, set_object::Set, stream_object::Stream, zset_object::Zset};

/// Longest string Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_LEN_MAX: usize = 44;
/// Integers below this are Redis's shared objects, reported with a refcount of i32::MAX.
pub const SHARED_INTEGERS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string holding a canonical integer (`OBJECT ENCODING int`). Below `SHARED_INTEGERS` it stands for
    /// Redis's shared integer objects (OBJECT REFCOUNT answers theirs).
    Int(i64),
    /// An integer string with an object of its own even below `SHARED_INTEGERS`: COPY's duplicate of a shared
    /// integer, as Redis's dupStringObject makes (refcount 1). Everything else treats it as `Int`.
    OwnInt(i64),
    /// A string created whole (`embstr` up to 44 bytes, else `raw`); inline up to 22 bytes.
    Str(SmallBytes),
    /// A string changed in place, with room to grow (`raw`). Boxed so `Value` stays three words.
    Raw(Box<Vec<u8>>),
    List(Box<List>),
    /// Unboxed: a small hash's listpack is the value's own pointer, so it costs one allocation, as in Redis.
    Hash(Hash),
    /// Unboxed for the same reason: a small set is one buffer, intset or packed.
    Set(Set),
    /// Unboxed: a small sorted set is one listpack buffer.
    Zset(Zset),
    Stream(Box<Stream>),
}

/// What `TYPE` reports and what WRONGTYPE checks compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    List,
    Hash,
    Set,
    Zset,
    Stream,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::Zset => "zset",
            ValueType::Stream => "stream",
        }
    }
}

/// A collection type as commands see it inside a `Value`: how a family finds its own type, so every family
/// looks keys up (and answers WRONGTYPE) the same way, through `Ctx::read_typed` and `Ctx::write_typed`.
pub trait Typed {
    fn of(value: &Value) -> Option<&Self>;
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
}

/// Implements `Typed` for the type held by one `Value` variant.
macro_rules! typed {
    ($variant:ident, $ty:ty) => {
        impl Typed for $ty {
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(inner) => Some(inner),
                    _ => None,
                }
            }

            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(inner) => Some(inner),
                    _ => None,
                }
            }
        }
    };
}

typed!(List, List);
typed!(Hash, Hash);
typed!(Set, Set);
typed!(Zset, Zset);
typed!(Stream, Stream);

impl Value {
    /// A string value from a command argument, encoded as Redis's `tryObjectEncoding` would (SET, MSET, GETSET).
    pub fn from_arg(bytes: &[u8]) -> Value {
        if bytes.len() <= 20
            && let Some(n) = crate::util::num::parse_i64(bytes)
        {
            return Value::Int(n);
        }
        Value::Str(SmallBytes::from(bytes))
    }

    /// A string value created whole without the integer check (Redis's `createStringObject`), as INCRBYFLOAT
    /// and GETRANGE-style results are.
    pub fn from_bytes(bytes: &[u8]) -> Value {
        Value::Str(SmallBytes::from(bytes))
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Int(_) | Value::OwnInt(_) | Value::Str(_) | Value::Raw(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::Zset(_) => ValueType::Zset,
            Value::Stream(_) => ValueType::Stream,
        }
    }

    /// The integer of an `int`-encoded string.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) | Value::OwnInt(n) => Some(*n),
            _ => None,
        }
    }

    /// Redis's reference count for the value's object (OBJECT REFCOUNT, DEBUG OBJECT): shared integers have
    /// OBJ_SHARED_REFCOUNT (INT_MAX), every other object one owner.
    pub fn refcount(&self) -> i64 {
        match self {
            Value::Int(n) if (0..SHARED_INTEGERS).contains(n) => i64::from(i32::MAX),
            _ => 1,
        }
    }

    /// A deep copy for COPY, which duplicates objects as Redis's dupStringObject: a shared integer becomes an
    /// integer object of its own.
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Int(n) => Value::OwnInt(*n),
            other => other.clone(),
        }
    }

    /// The `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::OwnInt(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_LEN_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::List(list) => list.encoding(),
            Value::Hash(hash) => hash.encoding(),
            Value::Set(set) => set.encoding(),
            Value::Zset(zset) => zset.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Heap bytes the value holds beyond its own slot (MEMORY USAGE): exact for strings and compact forms,
    /// sampled from the first `samples` nodes or members for a list or a hashtable (see `types`).
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            Value::Int(_) | Value::OwnInt(_) => 0,
            Value::Str(s) => s.heap_bytes(),
            Value::Raw(v) => size_of::<Vec<u8>>() + v.capacity(),
            Value::List(list) => list.heap_bytes(samples),
            Value::Hash(hash) => hash.heap_bytes(samples),
            Value::Set(set) => set.heap_bytes(samples),
            Value::Zset(zset) => zset.heap_bytes(samples),
            Value::Stream(stream) => stream.heap_bytes(samples),
        }
    }

    /// Calls `f` with the string's bytes; integers are formatted on the stack, so no allocation happens.
    /// Returns `None` for non-string values.
    pub fn with_str<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            Value::Int(n) | Value::OwnInt(n) => Some(f(itoa::Buffer::new().format(*n).as_bytes())),
            Value::Str(s) => Some(f(s)),
            Value::Raw(v) => Some(f(v)),
            Value::List(_) | Value::Hash(_) | Value::Set(_) | Value::Zset(_) | Value::Stream(_) => None,
        }
    }

    /// The string's length in bytes (STRLEN), or `None` for non-string values.
    pub fn str_len(&self) -> Option<usize> {
        self.with_str(<[u8]>::len)
    }

    /// The string's bytes as a growable buffer for in-place edits, converting the value to `raw`.
    /// Returns `None` for non-string values.
    pub fn make_raw(&mut self) -> Option<&mut Vec<u8>> {
        if !matches!(self, Value::Raw(_)) {
            let bytes = self.with_str(<[u8]>::to_vec)?;
            *self = Value::Raw(Box::new(bytes));
        }
        match self {
            Value::Raw(v) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Value;

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Value::from_arg(b"123").encoding(), "int");
        assert_eq!(Value::from_arg(b"-9223372036854775808").encoding(), "int");
        assert_eq!(Value::from_arg(b"9223372036854775808").encoding(), "embstr");
        assert_eq!(Value::from_arg(b"007").encoding(), "embstr");
        assert_eq!(Value::from_arg(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Value::from_arg(&[b'a'; 45]).encoding(), "raw");
        assert_eq!(Value::from_bytes(b"10").encoding(), "embstr");
        let mut v = Value::from_arg(b"12");
        v.make_raw().unwrap().extend_from_slice(b"3");
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.with_str(<[u8]>::to_vec), Some(b"123".to_vec()));
    }

    #[test]
    fn value_stays_three_words() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }
}
