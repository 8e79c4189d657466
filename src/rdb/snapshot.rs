//! Whole RDB files, as Redis 7.0's rdbSaveRio / rdbLoadRio: "REDIS0010", aux fields, the function
//! libraries (one FUNCTION2 record of code each), then per non-empty
//! database SELECTDB, RESIZEDB and its keys (each with its expiry first, then, under an LRU or LFU
//! `maxmemory-policy`, its idle time or frequency), EOF, and the CRC-64 of all that (zero when `rdbchecksum
//! no`, which loaders take as "not computed").
//!
//! `write` streams to any `Write` (a file in a fork child, a buffer for DEBUG RELOAD); `load` reads a whole
//! file's bytes into fresh databases and returns them only if every byte checked out, so the caller swaps
//! them in or keeps what it had: a keyspace is never half loaded.

use std::io::{self, Write};

use super::crc64::{self, CrcWriter};
use super::decode::{self, Error, Reader};
use super::{RDB_VERSION, encode, opcodes};
use crate::db::eviction_pool::EvictionPolicy;
use crate::db::{Db, Entry, access};

/// What the header's aux fields say, how strings are written, and the function libraries' code.
#[derive(Debug, Clone)]
pub struct SaveOptions {
    pub encode: encode::Options,
    /// `rdbchecksum`: compute the trailer (else it is zero).
    pub checksum: bool,
    /// The `aof-base` aux field: this file is an AOF's base.
    pub aof_base: bool,
    /// The `ctime` aux field, Unix seconds.
    pub now_s: i64,
    /// The `used-mem` aux field.
    pub used_mem: u64,
    /// `rdb-key-save-delay` (tests only): microseconds to sleep after each key, or, negative, a 1-in-`-n`
    /// chance per key of sleeping one (Redis's debugDelay), so tests can catch a save in progress.
    pub key_save_delay_us: i32,
    /// The code of every function library (FUNCTION LOAD's argument).
    pub functions: Vec<bytes::Bytes>,
    /// Each key's access word as the `maxmemory-policy` reads it, written before the key.
    pub access: AccessRecord,
}

/// What Redis's rdbSaveKeyValuePair writes of a key's access word: its idle seconds (an IDLE record) under
/// an LRU policy, its decayed LFU counter (a FREQ record) under an LFU one, nothing under any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessRecord {
    None,
    Idle,
    Freq,
}

impl AccessRecord {
    pub fn of(policy: EvictionPolicy) -> AccessRecord {
        match (policy.tracks_access(), policy.is_lfu()) {
            (true, true) => AccessRecord::Freq,
            (true, false) => AccessRecord::Idle,
            (false, _) => AccessRecord::None,
        }
    }

    /// The record of `entry`'s access word in `db`, if the policy keeps one.
    fn write(self, buf: &mut Vec<u8>, db: &Db, entry: &Entry, now_ms: i64) {
        let word = entry.access_word();
        match self {
            AccessRecord::None => {}
            AccessRecord::Idle => {
                buf.push(opcodes::IDLE);
                encode::len(buf, access::lru_idle_s(word, now_ms));
            }
            AccessRecord::Freq => {
                buf.push(opcodes::FREQ);
                buf.push(access::lfu_freq(word, now_ms, db.policy.access));
            }
        }
    }
}

/// Redis's debugDelay.
fn key_save_delay(delay_us: i32, rng: &mut crate::util::rng::Rng) {
    let sleep_us = match delay_us {
        0 => return,
        d if d < 0 => u64::from(rng.below(d.unsigned_abs() as usize) == 0),
        d => d as u64,
    };
    if sleep_us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(sleep_us));
    }
}

/// Writes a whole RDB file of `dbs` to `out`; returns the writer and the bytes written.
pub fn write<W: Write>(out: W, dbs: &[Db], opts: &SaveOptions) -> io::Result<(W, u64)> {
    let mut w = CrcWriter::new(io::BufWriter::with_capacity(1 << 16, out));
    w.write_all(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
    let mut buf = Vec::with_capacity(256);
    let mut rng = crate::util::rng::Rng::new(opts.now_s as u64);
    aux(&mut buf, b"redis-ver", crate::config::REDIS_VERSION.as_bytes(), opts);
    aux(&mut buf, b"redis-bits", b"64", opts);
    aux(&mut buf, b"ctime", opts.now_s.to_string().as_bytes(), opts);
    aux(&mut buf, b"used-mem", opts.used_mem.to_string().as_bytes(), opts);
    aux(&mut buf, b"aof-base", if opts.aof_base { b"1" } else { b"0" }, opts);
    for code in &opts.functions {
        buf.push(opcodes::FUNCTION2);
        encode::string(&mut buf, code, opts.encode);
    }
    w.write_all(&buf)?;
    for (index, db) in dbs.iter().enumerate().filter(|(_, db)| !db.is_empty()) {
        buf.clear();
        buf.push(opcodes::SELECTDB);
        encode::len(&mut buf, index as u64);
        buf.push(opcodes::RESIZEDB);
        encode::len(&mut buf, db.len() as u64);
        encode::len(&mut buf, db.expires_len() as u64);
        w.write_all(&buf)?;
        for entry in db.entries() {
            buf.clear();
            if let Some(at_ms) = db.entry_expire_ms(entry) {
                buf.push(opcodes::EXPIRETIME_MS);
                buf.extend_from_slice(&at_ms.to_le_bytes());
            }
            opts.access.write(&mut buf, db, entry, opts.now_s * 1000);
            buf.push(encode::type_byte(&entry.value));
            encode::string(&mut buf, entry.key(), opts.encode);
            encode::value(&mut buf, &entry.value, opts.encode);
            w.write_all(&buf)?;
            key_save_delay(opts.key_save_delay_us, &mut rng);
        }
    }
    w.write_all(&[opcodes::EOF])?;
    let crc = if opts.checksum { w.checksum() } else { 0 };
    w.write_all(&crc.to_le_bytes())?;
    let written = w.written;
    let out = w.into_inner().into_inner().map_err(|e| e.into_error())?;
    Ok((out, written))
}

fn aux(buf: &mut Vec<u8>, key: &[u8], value: &[u8], opts: &SaveOptions) {
    buf.push(opcodes::AUX);
    encode::string(buf, key, opts.encode);
    encode::string(buf, value, opts.encode);
}

/// A loaded file.
#[derive(Debug)]
pub struct Loaded {
    pub dbs: Vec<Db>,
    pub keys: u64,
    /// Keys skipped because their TTL had passed.
    pub expired_skipped: u64,
    /// Aux fields in file order, for the loader's log lines.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// The function libraries' code, in file order.
    pub functions: Vec<Vec<u8>>,
    pub version: u16,
}

impl Loaded {
    /// An aux field's value.
    pub fn aux_field(&self, key: &[u8]) -> Option<&[u8]> {
        self.aux.iter().find(|(k, _)| k == key).map(|(_, v)| &v[..])
    }
}

/// What a load needs from the server.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub limits: decode::Limits,
    pub databases: usize,
    /// Keys whose deadline is at or before this are skipped, as a master's load drops them.
    pub now_ms: i64,
    /// The databases' policy, so that IDLE and FREQ records set access words as it reads them.
    pub policy: crate::db::Policy,
}

/// Files at least this big have their checksum computed on a second thread while this one parses.
const PARALLEL_CHECKSUM_BYTES_MIN: usize = 1 << 20;

/// Loads a whole RDB file; every problem is an `Error` naming its offset.
///
/// The trailer's CRC-64 covers every byte of a well-formed file but its last 8, so for a big file a scoped
/// thread computes it while this one parses (the checksum was a sixth of a load's time; it touches only the
/// file's bytes, never the keyspace). Without that thread, or for a file that ends elsewhere, it is computed
/// here.
pub fn load(bytes: &[u8], opts: &LoadOptions) -> Result<Loaded, Error> {
    let body = &bytes[..bytes.len().saturating_sub(8)];
    if bytes.len() < PARALLEL_CHECKSUM_BYTES_MIN {
        return load_checked(bytes, opts, None);
    }
    std::thread::scope(|scope| {
        let checksum = std::thread::Builder::new()
            .name("rdb-checksum".into())
            .spawn_scoped(scope, move || crc64::checksum(body))
            .ok();
        load_checked(bytes, opts, checksum)
    })
}

/// `load`'s parse; `checksum`, if given, computes the CRC-64 of all but the last 8 bytes.
fn load_checked(
    bytes: &[u8],
    opts: &LoadOptions,
    checksum: Option<std::thread::ScopedJoinHandle<'_, u64>>,
) -> Result<Loaded, Error> {
    let mut r = Reader::new(bytes);
    let version = header(&mut r)?;
    let mut loaded = Loaded {
        dbs: (0..opts.databases)
            .map(|_| {
                let mut db = Db::default();
                db.policy = opts.policy;
                db
            })
            .collect(),
        keys: 0,
        expired_skipped: 0,
        aux: Vec::new(),
        functions: Vec::new(),
        version,
    };
    let mut db = 0usize;
    let mut expire_at_ms: Option<i64> = None;
    // The IDLE or FREQ record of the next key (Redis's lru_idle and lfu_freq).
    let (mut idle_s, mut freq): (Option<u64>, Option<u8>) = (None, None);
    loop {
        let opcode = r.byte()?;
        match opcode {
            opcodes::EOF => break,
            opcodes::SELECTDB => {
                let index = r.length()?;
                if index >= opts.databases as u64 {
                    return r.error(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} \
                         databases. Exiting",
                        opts.databases
                    ));
                }
                db = index as usize;
            }
            opcodes::RESIZEDB => {
                // A hint: room is made for at most as many keys as the bytes left could hold (a key and its
                // value take at least 3 bytes), so a corrupt hint cannot size an allocation.
                let keys = r.length()?;
                r.length()?;
                let bound = (r.remaining() / 3) as u64;
                loaded.dbs[db].reserve(keys.min(bound) as usize);
            }
            opcodes::AUX => {
                let key = r.string()?.into_owned();
                let value = r.string()?.into_owned();
                loaded.aux.push((key, value));
            }
            opcodes::EXPIRETIME_MS => expire_at_ms = Some(r.u64_le()? as i64),
            opcodes::EXPIRETIME => expire_at_ms = Some(i64::from(r.u32_le()?) * 1000),
            opcodes::IDLE => idle_s = Some(r.length()?),
            opcodes::FREQ => freq = Some(r.byte()?),
            opcodes::MODULE_AUX => return r.error("module aux data found, but modules are not supported"),
            opcodes::FUNCTION2 => loaded.functions.push(r.string()?.into_owned()),
            // 7.0's release candidates wrote functions one by one (name, engine, description, code).
            opcodes::FUNCTION => return r.error("pre-release function format is not supported"),
            type_byte => {
                let key_offset = r.offset();
                let key = r.string()?;
                let value = decode::value(&mut r, type_byte, &opts.limits)?;
                let deadline = expire_at_ms.take();
                let access = (idle_s.take(), freq.take());
                let Some(value) = value else { continue };
                if deadline.is_some_and(|at| at <= opts.now_ms) {
                    loaded.expired_skipped += 1;
                    continue;
                }
                if !loaded.dbs[db].insert_absent(&key, value, deadline) {
                    return Err(Error { offset: key_offset, what: "duplicate key".into() });
                }
                if access != (None, None) {
                    loaded.dbs[db].set_access(&key, access.0, access.1, opts.now_ms);
                }
                loaded.keys += 1;
            }
        }
    }
    trailer(&mut r, bytes, version, checksum)?;
    Ok(loaded)
}

/// "REDIS" and four version digits; versions 1 to 10 are read.
fn header(r: &mut Reader<'_>) -> Result<u16, Error> {
    let magic = r.take(9).or_else(|_| r.error("file too short for an RDB header"))?;
    if &magic[..5] != b"REDIS" {
        return Err(Error { offset: 0, what: "wrong signature trying to load DB from file".into() });
    }
    let version = std::str::from_utf8(&magic[5..]).ok().and_then(|v| v.parse::<u16>().ok()).unwrap_or(0);
    if version == 0 || version > RDB_VERSION {
        return Err(Error {
            offset: 5,
            what: format!("can't handle RDB format version {version} (this server reads up to {RDB_VERSION})"),
        });
    }
    Ok(version)
}

/// Version 5 and later end with the CRC-64 of everything before it; zero means it was not computed.
fn trailer(
    r: &mut Reader<'_>,
    bytes: &[u8],
    version: u16,
    checksum: Option<std::thread::ScopedJoinHandle<'_, u64>>,
) -> Result<(), Error> {
    if version < 5 {
        return Ok(());
    }
    let body_len = r.offset();
    let expected = r.u64_le()?;
    let computed = match checksum.and_then(|thread| thread.join().ok()) {
        Some(crc) if body_len + 8 == bytes.len() => crc,
        _ => crc64::checksum(&bytes[..body_len]),
    };
    if expected != 0 && expected != computed {
        return Err(Error { offset: body_len, what: "wrong RDB checksum".into() });
    }
    Ok(())
}
