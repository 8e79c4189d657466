//! The dataset as commands: what a base file without an RDB preamble holds (Redis's rewriteAppendOnlyFileRio).
//! Each non-empty database is SELECTed, each key written as the one command that rebuilds it (SET, RPUSH,
//! SADD, HMSET, ZADD; collections in commands of at most `ITEMS_PER_COMMAND` items, as Redis's
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
        Value::List(list) => {
            let mut batches = Batches::new(buf, b"RPUSH", key, list.len(), 1);
            list.iter().for_each(|item| encode_bulk(batches.item(), item));
        }
        Value::Set(set) => {
            let mut batches = Batches::new(buf, b"SADD", key, set.len(), 1);
            set.iter().for_each(|member| member.with_bytes(|bytes| encode_bulk(batches.item(), bytes)));
        }
        Value::Hash(hash) => {
            let mut batches = Batches::new(buf, b"HMSET", key, hash.len(), 2);
            for (field, value) in hash.iter() {
                let out = batches.item();
                encode_bulk(out, field);
                encode_bulk(out, value);
            }
        }
        Value::Zset(zset) => {
            // Redis's rewriteSortedSetObject: ascending, each score as %.17g text before its member.
            let mut batches = Batches::new(buf, b"ZADD", key, zset.len(), 2);
            let mut score_text = Vec::with_capacity(32);
            zset.for_each(|score, member| {
                score_text.clear();
                crate::util::num::write_double(&mut score_text, score);
                let out = batches.item();
                encode_bulk(out, &score_text);
                encode_bulk(out, member);
            });
        }
        Value::Stream(stream) => super::rewrite_stream::write_stream(buf, key, stream),
        string => {
            string.with_str(|s| encode_command(buf, &[&b"SET"[..], key, s]));
        }
    }
}

/// Writes a collection's `len` items as `<verb> key item...` commands of at most `ITEMS_PER_COMMAND` items
/// each (an item is `per_item` bulks): `item` starts a new command when one is full and hands out the buffer.
struct Batches<'a> {
    buf: &'a mut Vec<u8>,
    verb: &'static [u8],
    key: &'a [u8],
    left: usize,
    written: usize,
    per_item: usize,
}

impl<'a> Batches<'a> {
    fn new(buf: &'a mut Vec<u8>, verb: &'static [u8], key: &'a [u8], len: usize, per_item: usize) -> Self {
        Batches { buf, verb, key, left: len, written: 0, per_item }
    }

    /// The buffer to write the next item's bulks into, after a command header when a command starts here.
    fn item(&mut self) -> &mut Vec<u8> {
        if self.written.is_multiple_of(ITEMS_PER_COMMAND) {
            let batch = self.left.min(ITEMS_PER_COMMAND);
            self.left -= batch;
            encode_header(self.buf, 2 + batch * self.per_item);
            encode_bulk(self.buf, self.verb);
            encode_bulk(self.buf, self.key);
        }
        self.written += 1;
        self.buf
    }
}
