//! DEBUG DIGEST and DIGEST-VALUE: Redis's SHA-1 signature of the dataset and of single values, computed the
//! way debug.c computes it so that the hex strings equal Redis's for the same data.
//!
//! Two ways of adding to a 20-byte digest: `xor` (order-free: set members, hash fields, the keys of a
//! database) and `mix` (`digest = SHA1(digest ^ SHA1(data))`, order-sensitive: list elements, a key before
//! its value). A key's value digest starts with its type code (big-endian u32) and ends with the string
//! `!!expire!!` xored in when the key has a TTL. Stale keys count too: Redis walks the dict, not lookups.

use super::{Db, Entry, Value};
use crate::types::stream_object::StreamId;
use crate::util::sha1::sha1;

/// A SHA-1-sized signature; all zeros stands for "nothing" (an empty dataset, a missing key).
pub type Digest = [u8; 20];

/// Redis's OBJ_* type codes, which the value digest starts with.
const OBJ_STRING: u32 = 0;
const OBJ_LIST: u32 = 1;
const OBJ_SET: u32 = 2;
const OBJ_ZSET: u32 = 3;
const OBJ_HASH: u32 = 4;
const OBJ_STREAM: u32 = 6;

/// What a key with a TTL adds to its value digest (only that it has one, not when it expires).
const EXPIRE_MARK: &[u8] = b"!!expire!!";

/// `digest ^= SHA1(data)`: Redis's xorDigest.
fn xor(digest: &mut Digest, data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// `digest = SHA1(digest ^ SHA1(data))`: Redis's mixDigest.
fn mix(digest: &mut Digest, data: &[u8]) {
    xor(digest, data);
    *digest = sha1(digest);
}

/// The value part of a key's digest (Redis's xorObjectDigest from a zero digest): DEBUG DIGEST-VALUE.
pub fn value_digest(entry: &Entry) -> Digest {
    let mut digest = [0; 20];
    add_entry(&mut digest, entry);
    digest
}

/// Mixes the entry's value into `digest`, then marks its TTL.
fn add_entry(digest: &mut Digest, entry: &Entry) {
    add_value(digest, &entry.value);
    if entry.has_expire() {
        xor(digest, EXPIRE_MARK);
    }
}

/// Mixes the type code and the contents of `value` into `digest`.
fn add_value(digest: &mut Digest, value: &Value) {
    let type_code = match value {
        Value::Int(_) | Value::OwnInt(_) | Value::Str(_) | Value::Raw(_) => OBJ_STRING,
        Value::List(_) => OBJ_LIST,
        Value::Set(_) => OBJ_SET,
        Value::Zset(_) => OBJ_ZSET,
        Value::Hash(_) => OBJ_HASH,
        Value::Stream(_) => OBJ_STREAM,
    };
    mix(digest, &type_code.to_be_bytes());
    match value {
        Value::List(list) => list.iter().for_each(|element| mix(digest, element)),
        // debug.c: each entry's `ms.seq`, then its fields and values, mixed in order; groups are not digested.
        Value::Stream(stream) => stream.range(StreamId::MIN, StreamId::MAX).for_each(|entry| {
            mix(digest, format!("{}.{}", entry.id.ms, entry.id.seq).as_bytes());
            entry.items().for_each(|item| mix(digest, &item));
        }),
        Value::Set(set) => set.iter().for_each(|member| member.with_bytes(|m| xor(digest, m))),
        Value::Zset(zset) => zset.for_each(|score, member| {
            let mut pair = [0; 20];
            let mut text = Vec::with_capacity(24);
            crate::util::num::write_double(&mut text, score);
            mix(&mut pair, member);
            mix(&mut pair, &text);
            xor(digest, &pair);
        }),
        Value::Hash(hash) => hash.iter().for_each(|(field, value)| {
            let mut pair = [0; 20];
            mix(&mut pair, field);
            mix(&mut pair, value);
            xor(digest, &pair);
        }),
        string => {
            let mut digits = itoa::Buffer::new();
            match string.as_int() {
                Some(n) => mix(digest, digits.format(n).as_bytes()),
                None => string.with_str(|s| mix(digest, s)).expect("a string value"),
            }
        }
    }
}

/// The whole dataset's digest (Redis's computeDatasetDigest): DEBUG DIGEST. Each non-empty database mixes in
/// its number, then xors in each key's `mix(key)` followed by its value digest.
pub fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut digest = [0; 20];
    for (index, db) in dbs.iter().enumerate().filter(|(_, db)| !db.is_empty()) {
        mix(&mut digest, &(index as u32).to_be_bytes());
        for entry in db.entries() {
            let mut key_digest = [0; 20];
            mix(&mut key_digest, entry.key());
            add_entry(&mut key_digest, entry);
            xor(&mut digest, &key_digest);
        }
    }
    digest
}

/// Lower-case hex, as Redis prints a digest.
pub fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push_list(db: &mut Db, key: &[u8], elements: &[&[u8]]) {
        let mut list = crate::types::list_object::List::new(-2);
        for element in elements {
            list.push(crate::types::list_object::End::Back, element);
        }
        db.insert_new(key, Value::List(Box::new(list)));
    }

    #[test]
    fn lists_keep_order_ttls_count_and_stale_keys_stay() {
        let (mut ab, mut ba) = (Db::default(), Db::default());
        push_list(&mut ab, b"l", &[b"a", b"b"]);
        push_list(&mut ba, b"l", &[b"b", b"a"]);
        let digest_of = |db: &Db| value_digest(db.find_raw(b"l").expect("stored"));
        assert_ne!(digest_of(&ab), digest_of(&ba));
        let before = dataset_digest(std::slice::from_ref(&ab));
        assert!(ab.set_expire(b"l", 10, 0));
        // At t=20 the key is stale but still stored: it still counts, now with its TTL mark.
        assert!(ab.holds_stale(b"l", 20));
        let after = dataset_digest(std::slice::from_ref(&ab));
        assert_ne!(before, after);
        assert_eq!(hex(&dataset_digest(&[Db::default()])), "0".repeat(40));
    }
}
