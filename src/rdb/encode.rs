//! Writing values in RDB encodings, as Redis 7.0's rdbSaveObjectType / rdbSaveObject do.
//!
//! `type_byte` and `value` are the one place a value type maps to its RDB form: a later type (sorted sets,
//! streams) adds its arm to both. DUMP, the snapshot writer (`snapshot.rs`) and an AOF's RDB preamble all go
//! through them.

use super::{Element, intset, listpack, lzf, types};
use crate::db::Value;
use crate::types::hash_object::Hash;
use crate::types::list_object::List;
use crate::types::set_object::{Member, Set};
use crate::types::zset_object::Zset;

/// Quicklist container kinds (quicklist.h).
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;
/// Strings at most this long are tried as integers (rdbSaveRawString).
const INT_TRY_LEN_MAX: usize = 11;
/// Strings longer than this are tried with LZF when `rdbcompression` is on.
const LZF_LEN_MIN: usize = 20;

/// How strings are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `rdbcompression`: LZF for strings over 20 bytes that shrink by at least 4.
    pub compress: bool,
}

/// The RDB type byte `value` is written under.
pub fn type_byte(value: &Value) -> u8 {
    match value {
        Value::Int(_) | Value::OwnInt(_) | Value::Str(_) | Value::Raw(_) => types::STRING,
        Value::List(_) => types::LIST_QUICKLIST_2,
        Value::Hash(hash) if hash.encoding() == "listpack" => types::HASH_LISTPACK,
        Value::Hash(_) => types::HASH,
        Value::Set(set) if set.encoding() == "intset" => types::SET_INTSET,
        Value::Set(_) => types::SET,
        Value::Zset(zset) if zset.encoding() == "listpack" => types::ZSET_LISTPACK,
        Value::Zset(_) => types::ZSET_2,
        Value::Stream(_) => types::STREAM_LISTPACKS_2,
    }
}

/// Appends `value`'s body (what follows the type byte and key) to `out`.
pub fn value(out: &mut Vec<u8>, value: &Value, opts: Options) {
    match value {
        Value::Int(n) | Value::OwnInt(n) => int_string(out, *n),
        Value::Str(s) => string(out, s, opts),
        Value::Raw(v) => string(out, v, opts),
        Value::List(list) => quicklist(out, list, opts),
        Value::Hash(hash) => hash_value(out, hash, opts),
        Value::Set(set) => set_value(out, set, opts),
        Value::Zset(zset) => zset_value(out, zset, opts),
        Value::Stream(stream) => super::stream_encoding::encode(out, stream, opts),
    }
}

/// rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian lengths.
pub fn len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// rdbSaveLongLongAsStringObject: an integer encoding when it fits 32 bits, else its decimal text.
pub fn int_string(out: &mut Vec<u8>, n: i64) {
    if !int_encoded(out, n) {
        let mut buf = itoa::Buffer::new();
        let text = buf.format(n).as_bytes();
        len(out, text.len() as u64);
        out.extend_from_slice(text);
    }
}

/// rdbEncodeInteger: 0xC0 / 0xC1 / 0xC2 with 1, 2 or 4 little-endian bytes; false if `n` needs more.
fn int_encoded(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(b) = i8::try_from(n) {
        out.extend_from_slice(&[0xC0, b as u8]);
    } else if let Ok(h) = i16::try_from(n) {
        out.push(0xC1);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(n) {
        out.push(0xC2);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// rdbSaveRawString: an integer encoding for short canonical integers, LZF when it pays, else raw.
pub fn string(out: &mut Vec<u8>, s: &[u8], opts: Options) {
    if s.len() <= INT_TRY_LEN_MAX
        && let Some(n) = crate::util::num::parse_i64(s)
        && int_encoded(out, n)
    {
        return;
    }
    if opts.compress && s.len() > LZF_LEN_MIN && lzf_string(out, s) {
        return;
    }
    len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// rdbSaveLzfStringObject: 0xC3, compressed length, original length, data; false if it saves < 4 bytes.
fn lzf_string(out: &mut Vec<u8>, s: &[u8]) -> bool {
    let Some(packed) = lzf::compress(s, s.len() - 4) else { return false };
    out.push(0xC3);
    len(out, packed.len() as u64);
    len(out, s.len() as u64);
    out.extend_from_slice(&packed);
    true
}

/// RDB_TYPE_LIST_QUICKLIST_2: the node count, then per node its container and its listpack (or, for a
/// plain node, its one element).
fn quicklist(out: &mut Vec<u8>, list: &List, opts: Options) {
    len(out, list.node_count() as u64);
    for (plain, mut elements) in list.nodes() {
        if plain {
            len(out, CONTAINER_PLAIN);
            string(out, elements.next().unwrap_or_default(), opts);
        } else {
            len(out, CONTAINER_PACKED);
            let mut lp = listpack::Writer::default();
            elements.for_each(|e| lp.push(e));
            string(out, &lp.finish(), opts);
        }
    }
}

fn hash_value(out: &mut Vec<u8>, hash: &Hash, opts: Options) {
    if hash.encoding() == "listpack" {
        let mut lp = listpack::Writer::default();
        for (field, value) in hash.iter() {
            lp.push(field);
            lp.push(value);
        }
        string(out, &lp.finish(), opts);
    } else {
        len(out, hash.len() as u64);
        for (field, value) in hash.iter() {
            string(out, field, opts);
            string(out, value, opts);
        }
    }
}

/// A listpack of member, score pairs in order, the score as zzlInsertAt writes it (an integer when double2ll
/// takes it, else d2string's text); or ZSET_2: the members from the greatest to the smallest,
/// as rdbSaveObject walks the skiplist from its tail (so loading inserts each at the head), each score as 8
/// binary bytes.
fn zset_value(out: &mut Vec<u8>, zset: &Zset, opts: Options) {
    if zset.encoding() == "listpack" {
        let mut lp = listpack::Writer::default();
        let mut text = Vec::with_capacity(32);
        zset.for_each(|score, member| {
            lp.push(member);
            match integral_score(score) {
                Some(n) => lp.push_int(n),
                None => {
                    text.clear();
                    crate::util::num::write_double(&mut text, score);
                    lp.push(&text);
                }
            }
        });
        string(out, &lp.finish(), opts);
    } else {
        len(out, zset.len() as u64);
        zset.visit(0, zset.len(), true, |score, member| {
            string(out, member, opts);
            out.extend_from_slice(&score.to_le_bytes());
        });
    }
}

/// The score as an integer, as Redis's double2ll takes it: integral and within ±(i64::MAX / 2), so 1e17 (past
/// the 2^52 of d2string's integer form) is an integer entry too, and -0 is 0.
fn integral_score(score: f64) -> Option<i64> {
    const BOUND: f64 = (i64::MAX / 2) as f64;
    let n = score as i64;
    ((-BOUND..=BOUND).contains(&score) && n as f64 == score).then_some(n)
}

fn set_value(out: &mut Vec<u8>, set: &Set, opts: Options) {
    if set.encoding() == "intset" {
        let members: Vec<i64> =
            set.iter().filter_map(|m| if let Member::Int(n) = m { Some(n) } else { None }).collect();
        string(out, &intset::encode(&members), opts);
    } else {
        len(out, set.len() as u64);
        for member in set.iter() {
            match member {
                Element::Int(n) => int_string(out, n),
                Element::Bytes(b) => string(out, b, opts),
            }
        }
    }
}
