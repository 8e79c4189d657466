//! The dataset as commands: what a base file without an RDB preamble holds (Redis's rewriteAppendOnlyFileRio).
//! Each non-empty database is SELECTed, each key written as the one command that rebuilds it (SET, RPUSH,
//! SADD, HMSET; collections in commands of at most `ITEMS_PER_COMMAND` items, as Redis's
//! AOF_REWRITE_ITEMS_PER_CMD), followed by PEXPIREAT when it has a TTL. Keys whose TTL has passed are skipped.
//! A new value type adds its arm to `write_value`.

use std::io::{self, Write};

use crate::db::{Db, Value};
use crate::state::propagation::{encode_bulk, encode_command, encode_header};

/// Items per RPUSH/SADD/HMSET command in a rewrite.
const ITEMS_PER_COMMAND: usize = 64;
/// Bytes gathered before a write to the file.
const FLUSH_BYTES: usize = 64 * 1024;

/// Writes each function library as the FUNCTION LOAD that rebuilds it, before the keys, as Redis's
/// rewriteFunctions.
pub fn write_functions(codes: &[bytes::Bytes], out: &mut impl Write) -> io::Result<()> {
    let mut buf = Vec::new();
    for code in codes {
        encode_command(&mut buf, &[&b"FUNCTION"[..], b"LOAD", code]);
    }
    out.write_all(&buf)
}

/// Writes every database of `dbs` as commands to `out`, live keys only at `now_ms`.
pub fn write_dataset(dbs: &[Db], now_ms: i64, out: &mut impl Write) -> io::Result<()> {
    let mut buf = Vec::with_capacity(FLUSH_BYTES * 2);
    for (index, db) in dbs.iter().enumerate().filter(|(_, db)| !db.is_empty()) {
        encode_command(&mut buf, &[&b"SELECT"[..], itoa::Buffer::new().format(index).as_bytes()]);
        for entry in db.entries() {
            let deadline = db.deadline_of(entry);
            if deadline.is_some_and(|at_ms| at_ms < now_ms) {
                continue;
            }
            write_value(&mut buf, entry.key(), &entry.value);
            if let Some(at_ms) = deadline {
                encode_command(
                    &mut buf,
                    &[&b"PEXPIREAT"[..], entry.key(), itoa::Buffer::new().format(at_ms).as_bytes()],
                );
            }
            if buf.len() >= FLUSH_BYTES {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)
}

fn write_value(buf: &mut Vec<u8>, key: &[u8], value: &Value) {
    match value {
        Value::List(list) => write_batches(buf, b"RPUSH", key, list.len(), list.iter(), |buf, item| {
            encode_bulk(buf, item);
        }),
        Value::Set(set) => write_batches(buf, b"SADD", key, set.len(), set.iter(), |buf, member| {
            member.with_bytes(|bytes| encode_bulk(buf, bytes));
        }),
        Value::Hash(hash) => write_batches(buf, b"HMSET", key, hash.len(), hash.iter(), |buf, (field, value)| {
            encode_bulk(buf, field);
            encode_bulk(buf, value);
        }),
        string => {
            string.with_str(|s| encode_command(buf, &[&b"SET"[..], key, s]));
        }
    }
}

/// Writes `len` items as `<verb> key item...` commands of at most `ITEMS_PER_COMMAND` items each.
fn write_batches<T>(
    buf: &mut Vec<u8>,
    verb: &[u8],
    key: &[u8],
    len: usize,
    items: impl Iterator<Item = T>,
    write_item: impl Fn(&mut Vec<u8>, T),
) {
    let per_item = if verb == b"HMSET" { 2 } else { 1 };
    let mut left = len;
    for (index, item) in items.enumerate() {
        if index % ITEMS_PER_COMMAND == 0 {
            let batch = left.min(ITEMS_PER_COMMAND);
            left -= batch;
            encode_header(buf, 2 + batch * per_item);
            encode_bulk(buf, verb);
            encode_bulk(buf, key);
        }
        write_item(buf, item);
    }
}
