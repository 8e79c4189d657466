//! Whole RDB files, as Redis 7.0's rdbSaveRio / rdbLoadRio: "REDIS0010", aux fields, the function
//! libraries (one FUNCTION2 record of code each), then per non-empty
//! database SELECTDB, RESIZEDB and its keys (each with its expiry first, then, under an LRU or LFU
//! `maxmemory-policy`, its idle time or frequency), EOF, and the CRC-64 of all that (zero when `rdbchecksum
//! no`, which loaders take as "not computed").
//!
//! `write` streams to any `Write` (a file in a fork child, a buffer for DEBUG RELOAD); `load_file` (and
//! `load`, from memory) reads a file into fresh databases (parsing on a thread of its own, `load_from`) and
//! returns them only if every byte checked out, so the caller swaps them in or keeps what it had: a keyspace
//! is never half loaded.

use std::io::{self, Write};

use super::crc64::CrcWriter;
use super::decode::{self, Buffers, Error, Reader};
use super::load_input::{BufferInput, FileInput, Input};
use super::{RDB_VERSION, encode, load_batches, opcodes};
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
            if let Some(at_ms) = db.deadline_of(entry) {
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

/// Loads a whole RDB file from memory; every problem is an `Error` naming its offset.
pub fn load(bytes: &[u8], opts: &LoadOptions) -> Result<Loaded, Error> {
    load_from(&mut BufferInput::new(bytes), opts)
}

/// Loads the RDB file at `path`, read in pieces by a helper thread (see `load_input`). An I/O error is an
/// `Error` at the offset reached.
pub fn load_file(path: &std::path::Path, opts: &LoadOptions) -> io::Result<Result<Loaded, Error>> {
    Ok(load_from(&mut FileInput::open(path)?, opts))
}

/// Loads from `input`: a parser thread reads the records and hands them over in batches (`load_batches`) to
/// this thread, which converts packed blobs and inserts the keys into fresh databases. The first problem in
/// file order wins: the inserting side sees every record before the point where the parse failed, and the
/// parse stops once the inserting side has.
pub fn load_from(input: &mut (impl Input + Send), opts: &LoadOptions) -> Result<Loaded, Error> {
    let mut dbs: Vec<Db> = (0..opts.databases)
        .map(|_| {
            let mut db = Db::default();
            db.policy = opts.policy;
            db
        })
        .collect();
    let (sender, receiver) = load_batches::channel();
    let packed_threshold = crate::types::list_object::packed_threshold();
    let (parsed, inserted) = std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("rdb-parser".into())
            .spawn_scoped(scope, move || {
                // Lists decoded whole are built on the parser thread, under the loading thread's setting.
                crate::types::list_object::set_packed_threshold(packed_threshold);
                parse(input, opts, sender)
            })
            .map_err(|e| Error { offset: 0, what: format!("can't start the RDB parser thread: {e}") })?;
        let inserted = receiver.insert_all(&mut dbs, opts);
        let parsed = parser.join().map_err(|_| Error { offset: 0, what: "the RDB parser thread failed".into() })?;
        Ok::<_, Error>((parsed, inserted))
    })?;
    let keys = inserted?;
    let mut loaded = parsed?;
    loaded.dbs = dbs;
    loaded.keys = keys;
    Ok(loaded)
}

/// Where a load is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Header,
    Body,
    Trailer,
}

/// The parse of one record so far: what the file said besides its keys, and what earlier records said of the
/// next key.
struct Progress {
    /// Everything but the databases and the key count, which the inserting side fills in.
    loaded: Loaded,
    out: load_batches::Sender,
    db: usize,
    expire_at_ms: Option<i64>,
    // The IDLE or FREQ record of the next key (Redis's lru_idle and lfu_freq).
    idle_s: Option<u64>,
    freq: Option<u8>,
}

/// The parser thread: reads `input` and sends its keys on through `out`. The input arrives in pieces, so the
/// parse holds a window of it and reads it a record (an opcode and what follows) at a time. A record that runs
/// past the window's end (the reader's `shortfall`) is read again once the window is wider: no record sends
/// anything before it is read whole, and the window at least doubles each time, so a record as big as the file
/// costs at most about twice its parse.
fn parse(input: &mut impl Input, opts: &LoadOptions, out: load_batches::Sender) -> Result<Loaded, Error> {
    let mut progress = Progress {
        loaded: Loaded {
            dbs: Vec::new(),
            keys: 0,
            expired_skipped: 0,
            aux: Vec::new(),
            functions: Vec::new(),
            version: 0,
        },
        out,
        db: 0,
        expire_at_ms: None,
        idle_s: None,
        freq: None,
    };
    let parsed = parse_records(input, opts, &mut progress);
    // Whatever was read before a problem still goes over, so that an earlier one found there wins; if the
    // inserting side has stopped, its own error is the load's.
    let Progress { loaded, out, .. } = progress;
    out.finish().map_err(|_| stopped())?;
    parsed.map(|()| loaded)
}

fn stopped() -> Error {
    Error { offset: 0, what: "the load stopped".into() }
}

fn parse_records(input: &mut impl Input, opts: &LoadOptions, progress: &mut Progress) -> Result<(), Error> {
    let (mut window, mut base, mut pos) = (Vec::new(), 0usize, 0usize);
    let mut buffers = Buffers::default();
    let mut part = Part::Header;
    loop {
        let mut r = Reader::window(&window, base, input.input_len(), buffers);
        r.seek(pos);
        let step = match part {
            Part::Header => header(&mut r).map(|version| {
                progress.loaded.version = version;
                Some(Part::Body)
            }),
            Part::Body => record(&mut r, progress, opts),
            Part::Trailer => trailer(&mut r).map(|_| None),
        };
        let (end, shortfall, offset) = (r.window_pos(), r.shortfall(), r.offset());
        buffers = r.into_buffers();
        match (step, shortfall) {
            (Ok(next), _) => {
                pos = end;
                match next {
                    Some(next) => part = next,
                    None if part == Part::Trailer => break,
                    None => {}
                }
                if part == Part::Trailer && progress.loaded.version < 5 {
                    break;
                }
            }
            (Err(_), Some(missing)) => {
                // Drop what is parsed, keep the record begun, and read at least as much again.
                let begun = window.len() - pos;
                window.drain(..pos);
                base += pos;
                pos = 0;
                if window.capacity() > WINDOW_KEPT_MAX && begun < WINDOW_KEPT_MAX / 2 {
                    window.shrink_to(WINDOW_KEPT_MAX / 2);
                }
                let wanted = missing.max(begun).max(input.min_read());
                input.read_more(&mut window, wanted).map_err(|e| Error { offset, what: e.to_string() })?;
            }
            (Err(e), None) => return Err(e),
        }
    }
    if progress.loaded.version >= 5 {
        verify_checksum(input, &window, base, pos)?;
    }
    Ok(())
}

/// A window that grew past this for a big record is given back once the records are small again.
const WINDOW_KEPT_MAX: usize = 64 << 20;

/// Reads one record. `Some(Part::Trailer)` after the EOF opcode; `None` when the body goes on.
fn record(r: &mut Reader<'_>, p: &mut Progress, opts: &LoadOptions) -> Result<Option<Part>, Error> {
    let opcode = r.byte()?;
    match opcode {
        opcodes::EOF => return Ok(Some(Part::Trailer)),
        opcodes::SELECTDB => {
            let index = r.length()?;
            if index >= opts.databases as u64 {
                return r.error(format!(
                    "FATAL: Data file was created with a Redis server configured to handle more than {} \
                     databases. Exiting",
                    opts.databases
                ));
            }
            p.db = index as usize;
        }
        opcodes::RESIZEDB => {
            // A hint: room is made for at most as many keys as the bytes left could hold (a key and its
            // value take at least 3 bytes), so a corrupt hint cannot size an allocation.
            let keys = r.length()?;
            r.length()?;
            let bound = (r.remaining() / 3) as u64;
            p.out.reserve(p.db, keys.min(bound) as usize).map_err(|_| stopped())?;
        }
        opcodes::AUX => {
            let key = r.string()?.into_owned();
            let value = r.string()?.into_owned();
            p.loaded.aux.push((key, value));
        }
        opcodes::EXPIRETIME_MS => p.expire_at_ms = Some(r.u64_le()? as i64),
        opcodes::EXPIRETIME => p.expire_at_ms = Some(i64::from(r.u32_le()?) * 1000),
        opcodes::IDLE => p.idle_s = Some(r.length()?),
        opcodes::FREQ => p.freq = Some(r.byte()?),
        opcodes::MODULE_AUX => return r.error("module aux data found, but modules are not supported"),
        opcodes::FUNCTION2 => p.loaded.functions.push(r.string()?.into_owned()),
        // 7.0's release candidates wrote functions one by one (name, engine, description, code).
        opcodes::FUNCTION => return r.error("pre-release function format is not supported"),
        type_byte => key_value(r, type_byte, p, opts)?,
    }
    Ok(None)
}

/// A key and its value (the record's opcode is the value's type byte). A packed blob goes over as its bytes,
/// for the inserting side to convert; any other value is decoded here, and so is a blob whose key has expired,
/// which is dropped but still checked.
fn key_value(r: &mut Reader<'_>, type_byte: u8, p: &mut Progress, opts: &LoadOptions) -> Result<(), Error> {
    let offset = r.offset();
    let key = r.string()?;
    let expired = p.expire_at_ms.is_some_and(|at| at <= opts.now_ms);
    let meta = load_batches::KeyMeta { db: p.db, offset, deadline: p.expire_at_ms, idle_s: p.idle_s, freq: p.freq };
    let sent = if !expired && decode::is_blob_type(type_byte) {
        p.out.blob(meta, &key, type_byte, r)?
    } else {
        match decode::value(r, type_byte, &opts.limits)? {
            None => Ok(()),
            Some(_) if expired => {
                p.loaded.expired_skipped += 1;
                Ok(())
            }
            Some(value) => p.out.value(meta, &key, value),
        }
    };
    // Read whole: the records before the key are used up (a shortfall above reads them again with it).
    (p.expire_at_ms, p.idle_s, p.freq) = (None, None, None);
    sent.map_err(|_| stopped())
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

/// Version 5 and later end with the CRC-64 of everything before it.
fn trailer(r: &mut Reader<'_>) -> Result<u64, Error> {
    r.u64_le()
}

/// Checks the trailer (read last, at `pos` of `window`, minus its 8 bytes) against the body's checksum; a
/// trailer of zero means the writer did not compute it (`rdbchecksum no`).
fn verify_checksum(input: &mut impl Input, window: &[u8], base: usize, pos: usize) -> Result<(), Error> {
    let body_len = base + pos - 8;
    let expected = u64::from_le_bytes(window[pos - 8..pos].try_into().unwrap_or_default());
    if expected == 0 {
        return Ok(());
    }
    let computed = input
        .checksum(body_len, window, base)
        .map_err(|e| Error { offset: body_len, what: format!("can't checksum the file: {e}") })?;
    if expected != computed {
        return Err(Error { offset: body_len, what: "wrong RDB checksum".into() });
    }
    Ok(())
}
