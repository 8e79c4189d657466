//! The handover of a load's parsed records from the parser thread to the thread that builds the databases.
//!
//! A load does two kinds of work of about equal cost: framing records and decompressing their LZF strings,
//! and turning each packed blob (a listpack, ziplist, intset or zipmap) into ferrokv's own form and inserting
//! it. `snapshot::load_from` runs the first on a parser thread and the second on the calling thread, with
//! these batches between them, so a file of hashes loads in about half the time one thread took. A batch
//! carries its keys' bytes and blobs in one buffer and is sent back once emptied, so the handover allocates
//! nothing per key after the first few batches. The parser never touches the databases: they are built only
//! by the caller's thread, and the values it decodes whole (strings, tables) are plain owned data.

use std::ops::Range;
use std::sync::mpsc;

use super::decode::{self, Error, Scratch};
use crate::db::{Db, Value};

/// A batch is sent once its buffer holds this many bytes ...
const BATCH_BYTES: usize = 1 << 20;
/// ... or it holds this many steps.
const BATCH_STEPS: usize = 4096;
/// Full batches the parser may run ahead of the inserting side.
const BATCHES_AHEAD: usize = 4;

/// Parsed records on their way to the databases.
#[derive(Debug, Default)]
pub struct Batch {
    /// The keys' bytes and the decompressed blobs, which `steps` point into.
    bytes: Vec<u8>,
    steps: Vec<Step>,
}

#[derive(Debug)]
enum Step {
    /// RESIZEDB's hint, already bounded by the bytes left in the input.
    Reserve {
        db: usize,
        keys: usize,
    },
    Key(Key),
}

/// One key, its value, and what the records before it said of it.
#[derive(Debug)]
struct Key {
    meta: KeyMeta,
    key: Range<usize>,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// Decoded whole by the parser.
    Value(Value),
    /// A packed blob of RDB type `type_byte`, decompressed, at `offset` of the input.
    Blob { type_byte: u8, offset: usize, bytes: Range<usize> },
}

/// The parser's end: the batch being filled, and the channels to the inserting side.
#[derive(Debug)]
pub struct Sender {
    batch: Batch,
    full: mpsc::SyncSender<Batch>,
    emptied: mpsc::Receiver<Batch>,
}

/// The inserting side has stopped (its own error ends the load).
#[derive(Debug)]
pub struct Stopped;

/// The inserting end: full batches in, emptied ones back.
#[derive(Debug)]
pub struct Receiver {
    full: mpsc::Receiver<Batch>,
    emptied: mpsc::Sender<Batch>,
}

/// A connected pair of ends.
pub fn channel() -> (Sender, Receiver) {
    let (full_tx, full_rx) = mpsc::sync_channel(BATCHES_AHEAD);
    let (emptied_tx, emptied_rx) = mpsc::channel();
    (
        Sender { batch: Batch::default(), full: full_tx, emptied: emptied_rx },
        Receiver { full: full_rx, emptied: emptied_tx },
    )
}

impl Sender {
    /// Passes on RESIZEDB's hint for database `db`.
    pub fn reserve(&mut self, db: usize, keys: usize) -> Result<(), Stopped> {
        self.batch.steps.push(Step::Reserve { db, keys });
        self.send_if_full()
    }

    /// Passes on a key whose value the parser decoded.
    pub fn value(&mut self, meta: KeyMeta, key: &[u8], value: Value) -> Result<(), Stopped> {
        let key = self.append(key);
        self.push_key(meta, key, Body::Value(value))
    }

    /// Passes on a key whose value is the blob `r` reads next (of RDB type `type_byte`), decompressed into the
    /// batch. A read that fails leaves the batch as it was.
    pub fn blob(
        &mut self,
        meta: KeyMeta,
        key: &[u8],
        type_byte: u8,
        r: &mut decode::Reader<'_>,
    ) -> Result<Result<(), Stopped>, Error> {
        let start = self.batch.bytes.len();
        let offset = r.blob_into(&mut self.batch.bytes)?;
        let bytes = start..self.batch.bytes.len();
        let key = self.append(key);
        Ok(self.push_key(meta, key, Body::Blob { type_byte, offset, bytes }))
    }

    /// Sends what is left; the parser calls it once the input has been read (or failed), so the inserting side
    /// reaches every record before the point of a parse error.
    pub fn finish(mut self) -> Result<(), Stopped> {
        self.send()
    }

    fn append(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.batch.bytes.len();
        self.batch.bytes.extend_from_slice(bytes);
        start..self.batch.bytes.len()
    }

    fn push_key(&mut self, meta: KeyMeta, key: Range<usize>, body: Body) -> Result<(), Stopped> {
        self.batch.steps.push(Step::Key(Key { meta, key, body }));
        self.send_if_full()
    }

    fn send_if_full(&mut self) -> Result<(), Stopped> {
        if self.batch.bytes.len() >= BATCH_BYTES || self.batch.steps.len() >= BATCH_STEPS {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), Stopped> {
        if self.batch.steps.is_empty() {
            return Ok(());
        }
        let next = self.emptied.try_recv().unwrap_or_default();
        self.full.send(std::mem::replace(&mut self.batch, next)).map_err(|_| Stopped)
    }
}

/// What the records before a key said of it.
#[derive(Debug, Clone, Copy)]
pub struct KeyMeta {
    pub db: usize,
    /// Where the key's record starts in the input, where a duplicate is reported.
    pub offset: usize,
    pub deadline: Option<i64>,
    pub idle_s: Option<u64>,
    pub freq: Option<u8>,
}

impl Receiver {
    /// Inserts every batch into `dbs` until the parser hangs up; returns the keys inserted, or the first problem
    /// (a duplicate key, a corrupt blob), after which the parser's next send fails and it stops.
    pub fn insert_all(self, dbs: &mut [Db], opts: &super::snapshot::LoadOptions) -> Result<u64, Error> {
        let mut scratch = Scratch::default();
        let mut keys = 0;
        for mut batch in self.full.iter() {
            for step in batch.steps.drain(..) {
                match step {
                    Step::Reserve { db, keys } => dbs[db].reserve(keys),
                    Step::Key(key) => keys += insert(dbs, &batch.bytes, key, &mut scratch, opts)?,
                }
            }
            batch.bytes.clear();
            // The parser may have finished: then the batch is simply dropped.
            let _ = self.emptied.send(batch);
        }
        Ok(keys)
    }
}

/// Inserts one key: 1 if it was, 0 for an empty collection (which Redis skips too).
fn insert(
    dbs: &mut [Db],
    bytes: &[u8],
    key: Key,
    scratch: &mut Scratch,
    opts: &super::snapshot::LoadOptions,
) -> Result<u64, Error> {
    let value = match key.body {
        Body::Value(value) => value,
        Body::Blob { type_byte, offset, bytes: blob } => {
            match decode::blob_value(type_byte, &bytes[blob], scratch, &opts.limits)
                .map_err(|what| Error { offset, what })?
            {
                Some(value) => value,
                None => return Ok(0),
            }
        }
    };
    let meta = key.meta;
    let db = &mut dbs[meta.db];
    let access = db.access_word_of(meta.idle_s, meta.freq, opts.now_ms);
    if !db.insert_absent(&bytes[key.key], value, meta.deadline, access) {
        return Err(Error { offset: meta.offset, what: "duplicate key".into() });
    }
    Ok(1)
}
