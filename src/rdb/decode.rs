//! Reading RDB encodings back into values: every form Redis 7.0's rdbLoadObject accepts for the types
//! ferrokv has (strings in every encoding, lists as linked lists, ziplists, quicklists v1 and v2, hashes as
//! tables, zipmaps, ziplists and listpacks, sets as tables, intsets and listpacks, sorted sets as tables with
//! text or binary scores, ziplists and listpacks).
//!
//! `value` is the one place an RDB type byte maps to a value: a later type adds its arm there.
//!
//! Every read goes through `Reader`, which checks each length against the bytes left before it slices, so a
//! length field never sizes an allocation by itself (LZF's output size is also bounded by what its input can
//! produce), and a corrupt input ends in an `Error` naming the offset and the problem, never a panic.

use std::borrow::Cow;

use super::{Element, intset, listpack, lzf, types, ziplist};
use crate::db::Value;
use crate::types::hash_object::{self, Hash};
use crate::types::list_object::{End, List};
use crate::types::packed::Compact;
use crate::types::set_object::{self, Set};
use crate::types::zset_object::{self, Zset};
use crate::util::num;
use std::hash::BuildHasher;

/// A problem in the input: where (a byte offset in the file or payload) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub what: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.what, self.offset)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The most an LZF input of n bytes can expand to: a 2-byte back reference yields at most 264 bytes.
const LZF_EXPANSION_MAX: u64 = 133;

/// A cursor over RDB bytes, with the buffers a load reuses for every value instead of allocating per value.
///
/// The bytes may be a window onto a longer input (a file a load reads in pieces, `snapshot::load_file`):
/// `base` is the window's offset in the input and `input_len` the input's whole length, so offsets and
/// "bytes left" are the input's. A read that needs bytes the input has but the window does not yet hold fails
/// and records how many were missing (`shortfall`), so that the caller can widen the window and read that
/// record again.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    input_len: usize,
    shortfall: Option<usize>,
    buffers: Buffers,
}

/// The buffers a `Reader` reuses from value to value, and a windowed load from window to window.
#[derive(Debug, Default)]
pub struct Buffers {
    /// The decompressed bytes of the current LZF-compressed blob.
    lzf: Vec<u8>,
    scratch: Scratch,
}

/// Buffers a packed blob's conversion writes into (a `Reader`'s, or the one a threaded load's inserting side
/// keeps for `blob_value`).
#[derive(Debug, Default)]
pub struct Scratch {
    /// The converted entries, in the in-memory packed form's encoding (`Compact::encode_entry`).
    entries: Vec<u8>,
    /// Each hash field's hash, start and length in `entries`, for the duplicate check.
    fields: Vec<(u64, u32, u32)>,
    /// The duplicate check's open-addressed table of `fields` indexes (plus one; 0 is empty).
    table: Vec<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader::window(buf, 0, buf.len(), Buffers::default())
    }

    /// A reader of `buf`, the bytes at `base` of an input of `input_len` bytes.
    pub fn window(buf: &'a [u8], base: usize, input_len: usize, buffers: Buffers) -> Reader<'a> {
        debug_assert!(base + buf.len() <= input_len);
        Reader { buf, pos: 0, base, input_len, shortfall: None, buffers }
    }

    /// Moves to `pos` of the window.
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    /// The position in the window.
    pub fn window_pos(&self) -> usize {
        self.pos
    }

    /// How many bytes past the window's end the last failed read wanted, if it failed for that alone.
    pub fn shortfall(&self) -> Option<usize> {
        self.shortfall
    }

    pub fn into_buffers(self) -> Buffers {
        self.buffers
    }

    /// The offset in the input.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left in the input (not only in the window).
    pub fn remaining(&self) -> usize {
        self.input_len - self.offset()
    }

    /// An error at the current offset.
    pub fn error<T>(&self, what: impl Into<String>) -> Result<T> {
        Err(Error { offset: self.offset(), what: what.into() })
    }

    pub fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// The next `n` bytes, if there are that many.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        if n > self.remaining() as u64 {
            return self.error(format!("unexpected end of data (wanted {} bytes, {} left)", n, self.remaining()));
        }
        let in_window = self.buf.len() - self.pos;
        if n as usize > in_window {
            self.shortfall = Some(n as usize - in_window);
            return self.error("the read window ends here");
        }
        let slice = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(slice)
    }

    pub fn u32_le(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64_le(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }

    /// rdbLoadLenByRef: a length, or (with `true`) the special string encoding it announces.
    fn len_or_encoding(&mut self) -> Result<(u64, bool)> {
        let first = self.byte()?;
        Ok(match first >> 6 {
            0 => (u64::from(first & 0x3F), false),
            1 => (u64::from(first & 0x3F) << 8 | u64::from(self.byte()?), false),
            2 if first == 0x80 => {
                let b = self.take(4)?;
                (u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])), false)
            }
            2 if first == 0x81 => (u64::from_be_bytes(self.take(8)?.try_into().unwrap_or_default()), false),
            2 => return self.error(format!("unknown length encoding {first:#04x}")),
            _ => (u64::from(first & 0x3F), true),
        })
    }

    /// A plain length (a count, a db number).
    pub fn length(&mut self) -> Result<u64> {
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            _ => self.error("string encoding where a length was expected"),
        }
    }

    /// rdbLoadDoubleValue: a length byte (253 NaN, 254 +inf, 255 -inf) and the number's text (ZSET scores).
    pub fn double_text(&mut self) -> Result<f64> {
        let n = self.byte()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let text = self.take(u64::from(n))?;
                num::parse_f64(text).map_or_else(|| self.error("invalid double value"), Ok)
            }
        }
    }

    /// rdbGenericLoadStringObject: raw, integer-encoded or LZF-compressed.
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        let (n, encoded) = self.len_or_encoding()?;
        if !encoded {
            return Ok(Cow::Borrowed(self.take(n)?));
        }
        let int = |bytes: &[u8]| -> i64 {
            let mut le = [0u8; 8];
            le[..bytes.len()].copy_from_slice(bytes);
            let shift = 64 - 8 * bytes.len() as u32;
            (i64::from_le_bytes(le) << shift) >> shift
        };
        let n = match n {
            0 => int(self.take(1)?),
            1 => int(self.take(2)?),
            2 => int(self.take(4)?),
            3 => return self.lzf_string().map(Cow::Owned),
            _ => return self.error(format!("unknown string encoding {n}")),
        };
        Ok(Cow::Owned(itoa::Buffer::new().format(n).as_bytes().to_vec()))
    }

    fn lzf_string(&mut self) -> Result<Vec<u8>> {
        let start = self.offset();
        let compressed_len = self.length()?;
        let len = self.length()?;
        if len > compressed_len.saturating_mul(LZF_EXPANSION_MAX) {
            return self.error(format!("LZF string of {compressed_len} bytes cannot hold {len}"));
        }
        let data = self.take(compressed_len)?;
        lzf::decompress(data, len as usize)
            .ok_or_else(|| Error { offset: start, what: "invalid LZF compressed string".into() })
    }
}

/// The thresholds a loaded collection's encoding follows, from the config (as Redis converts on load).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub hash: hash_object::Limits,
    pub set: set_object::Limits,
    /// `list-max-listpack-size`.
    pub list_fill: i64,
    pub zset: zset_object::Limits,
    /// `stream-node-max-entries` and `stream-node-max-bytes`.
    pub stream: crate::types::stream_object::NodeLimits,
    /// `sanitize-dump-payload`'s deep check for this load: also verify what the decode itself does not need,
    /// each listpack entry's back length. (Everything the decode reads is checked either way, duplicate hash
    /// fields and set members included, since the in-memory forms rely on their absence.)
    pub deep_sanitize: bool,
}

/// Reads the body of a value of RDB type `type_byte`; `None` for an empty collection, which Redis skips.
pub fn value(r: &mut Reader<'_>, type_byte: u8, limits: &Limits) -> Result<Option<Value>> {
    if is_blob_type(type_byte) {
        return blob_with(r, |blob, scratch| blob_value(type_byte, blob, scratch, limits));
    }
    let value = match type_byte {
        types::STRING => Value::from_arg(&r.string()?),
        types::LIST => linked_list(r, limits)?,
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => quicklist(r, type_byte, limits)?,
        types::SET => set_table(r, limits)?,
        types::HASH => hash_table(r, limits)?,
        types::ZSET | types::ZSET_2 => zset_table(r, type_byte, limits)?,
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => super::stream_encoding::decode(r, type_byte, limits)?,
        other => return r.error(format!("unsupported value type {other} ({})", types::name(other))),
    };
    Ok(non_empty(value))
}

/// Whether a value of RDB type `type_byte` is one string holding a packed blob (a ziplist, listpack, intset
/// or zipmap), which `blob_value` turns into the value.
pub fn is_blob_type(type_byte: u8) -> bool {
    matches!(
        type_byte,
        types::LIST_ZIPLIST
            | types::SET_INTSET
            | types::SET_LISTPACK
            | types::HASH_ZIPMAP
            | types::HASH_ZIPLIST
            | types::HASH_LISTPACK
            | types::ZSET_ZIPLIST
            | types::ZSET_LISTPACK
    )
}

/// The value of RDB type `type_byte` (one `is_blob_type` names) whose blob, decompressed, is `blob`; `None` for
/// an empty collection. The error is what is wrong inside the blob, reported at the blob's offset.
pub fn blob_value(
    type_byte: u8,
    blob: &[u8],
    scratch: &mut Scratch,
    limits: &Limits,
) -> std::result::Result<Option<Value>, String> {
    let value = match type_byte {
        types::LIST_ZIPLIST => {
            let mut list = List::new(limits.list_fill);
            ziplist::entries(blob, |e| push(&mut list, e))?;
            Value::List(Box::new(list))
        }
        types::SET_INTSET => {
            let mut set = Set::new();
            intset::members(blob, |n| add(&mut set, Element::Int(n), &limits.set))?;
            Value::Set(set)
        }
        types::SET_LISTPACK => {
            let mut set = Set::new();
            listpack::entries(blob, limits.deep_sanitize, |e| add(&mut set, e, &limits.set))?;
            Value::Set(set)
        }
        types::HASH_ZIPMAP => {
            let mut hash = Hash::new();
            ziplist::zipmap_pairs(blob, |f, v| set_field(&mut hash, f, v, limits))?;
            Value::Hash(hash)
        }
        types::HASH_ZIPLIST | types::HASH_LISTPACK => packed_hash(blob, type_byte, scratch, limits)?,
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => packed_zset(blob, type_byte, limits)?,
        other => return Err(format!("value type {other} ({}) is not a blob", types::name(other))),
    };
    Ok(non_empty(value))
}

/// `None` for an empty collection, which a load skips as Redis does.
fn non_empty(value: Value) -> Option<Value> {
    if is_empty(&value) { None } else { Some(value) }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::List(list) => list.is_empty(),
        Value::Hash(hash) => hash.is_empty(),
        Value::Set(set) => set.is_empty(),
        Value::Zset(zset) => zset.is_empty(),
        _ => false,
    }
}

/// Reads a string holding a packed blob and walks it with `walk`; a problem inside the blob is reported at
/// the blob's offset.
fn blob(r: &mut Reader<'_>, walk: impl FnOnce(&[u8]) -> std::result::Result<usize, String>) -> Result<usize> {
    blob_with(r, |data, _| walk(data))
}

/// A blob string as the input holds it, read whole but not yet decompressed.
enum StoredBlob<'a> {
    Raw(&'a [u8]),
    Lzf {
        data: &'a [u8],
        len: usize,
    },
    /// An integer-encoded string, which is no blob: walking its text reports why.
    Text(Cow<'a, [u8]>),
}

impl<'a> Reader<'a> {
    /// Reads a string that should hold a packed blob, leaving LZF's decompression to the caller.
    fn stored_blob(&mut self) -> Result<StoredBlob<'a>> {
        let start = self.pos;
        match self.len_or_encoding()? {
            (n, false) => Ok(StoredBlob::Raw(self.take(n)?)),
            (3, true) => {
                let compressed_len = self.length()?;
                let len = self.length()?;
                if len > compressed_len.saturating_mul(LZF_EXPANSION_MAX) {
                    return self.error(format!("LZF string of {compressed_len} bytes cannot hold {len}"));
                }
                Ok(StoredBlob::Lzf { data: self.take(compressed_len)?, len: len as usize })
            }
            _ => {
                self.pos = start;
                Ok(StoredBlob::Text(self.string()?))
            }
        }
    }

    /// Reads a string holding a packed blob and appends its bytes, decompressed, to `out`; returns the blob's
    /// offset, where a problem inside it is reported. Nothing is appended unless the whole string was read.
    pub fn blob_into(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        let offset = self.offset();
        match self.stored_blob()? {
            StoredBlob::Raw(data) => out.extend_from_slice(data),
            StoredBlob::Text(text) => out.extend_from_slice(&text),
            StoredBlob::Lzf { data, len } => {
                let start = out.len();
                if !lzf::decompress_append(data, len, out) {
                    out.truncate(start);
                    return Err(Error { offset, what: "invalid LZF compressed string".into() });
                }
            }
        }
        Ok(offset)
    }
}

/// `blob` whose walk also gets the reader's scratch buffers. A compressed blob (Redis compresses every blob
/// longer than 20 bytes) is decompressed into the reader's one reused buffer, not a new allocation.
fn blob_with<T>(
    r: &mut Reader<'_>,
    walk: impl FnOnce(&[u8], &mut Scratch) -> std::result::Result<T, String>,
) -> Result<T> {
    let offset = r.offset();
    let at_offset = |what| Error { offset, what };
    match r.stored_blob()? {
        StoredBlob::Raw(data) => walk(data, &mut r.buffers.scratch).map_err(at_offset),
        StoredBlob::Text(text) => walk(&text, &mut r.buffers.scratch).map_err(at_offset),
        StoredBlob::Lzf { data, len } => {
            let mut out = std::mem::take(&mut r.buffers.lzf);
            if !lzf::decompress_into(data, len, &mut out) {
                return Err(at_offset("invalid LZF compressed string".into()));
            }
            let walked = walk(&out, &mut r.buffers.scratch).map_err(at_offset);
            r.buffers.lzf = out;
            walked
        }
    }
}

fn push(list: &mut List, element: Element<'_>) -> std::result::Result<(), String> {
    element.with_bytes(|b| list.push(End::Back, b));
    Ok(())
}

fn add(set: &mut Set, member: Element<'_>, limits: &set_object::Limits) -> std::result::Result<(), String> {
    let added = match member {
        Element::Int(n) => set.add(itoa::Buffer::new().format(n).as_bytes(), limits),
        Element::Bytes(b) => set.add(b, limits),
    };
    if added { Ok(()) } else { Err("duplicate set members detected".into()) }
}

fn set_field(hash: &mut Hash, field: &[u8], value: &[u8], limits: &Limits) -> std::result::Result<(), String> {
    if hash.set(field, value, limits.hash) { Ok(()) } else { Err("duplicate hash fields detected".into()) }
}

fn linked_list(r: &mut Reader<'_>, limits: &Limits) -> Result<Value> {
    let mut list = List::new(limits.list_fill);
    for _ in 0..r.length()? {
        list.push(End::Back, &r.string()?);
    }
    Ok(Value::List(Box::new(list)))
}

/// Quicklist v1 (nodes are ziplists) or v2 (each node a listpack or a plain element).
fn quicklist(r: &mut Reader<'_>, type_byte: u8, limits: &Limits) -> Result<Value> {
    let mut list = List::new(limits.list_fill);
    for _ in 0..r.length()? {
        let container = if type_byte == types::LIST_QUICKLIST_2 { r.length()? } else { 2 };
        let walked = match container {
            1 => {
                list.push(End::Back, &r.string()?);
                1
            }
            2 if type_byte == types::LIST_QUICKLIST_2 => {
                blob(r, |blob| listpack::entries(blob, limits.deep_sanitize, |e| push(&mut list, e)))?
            }
            2 => blob(r, |blob| ziplist::entries(blob, |e| push(&mut list, e)))?,
            other => return r.error(format!("unknown quicklist container {other}")),
        };
        if walked == 0 {
            return r.error("empty quicklist node");
        }
    }
    Ok(Value::List(Box::new(list)))
}

fn set_table(r: &mut Reader<'_>, limits: &Limits) -> Result<Value> {
    let mut set = Set::new();
    for _ in 0..r.length()? {
        let offset = r.offset();
        let member = r.string()?;
        add(&mut set, Element::Bytes(&member), &limits.set).map_err(|what| Error { offset, what })?;
    }
    Ok(Value::Set(set))
}

fn hash_table(r: &mut Reader<'_>, limits: &Limits) -> Result<Value> {
    let mut hash = Hash::new();
    for _ in 0..r.length()? {
        let offset = r.offset();
        let field = r.string()?;
        let value = r.string()?;
        set_field(&mut hash, &field, &value, limits).map_err(|what| Error { offset, what })?;
    }
    Ok(Value::Hash(hash))
}

/// A hash as a ziplist or listpack of alternating fields and values. One small enough for the packed form
/// (almost every one: Redis wrote it packed under the same default limits) is converted in one pass into the
/// reader's scratch buffer and allocated once at its exact size; its fields are checked for duplicates by
/// sorting their hashes, with no allocation either.
fn packed_hash(
    blob: &[u8],
    type_byte: u8,
    scratch: &mut Scratch,
    limits: &Limits,
) -> std::result::Result<Value, String> {
    if let Some(count) = packed_hash_entries(blob, type_byte, scratch, limits)? {
        return Ok(Value::Hash(Hash::Listpack(Compact::from_encoded(&scratch.entries, count))));
    }
    // Too big for the packed form under this server's limits: a table, built from pairs.
    packed_hash_table(blob, type_byte, limits)
}

/// Converts a hash blob's entries into `scratch.entries`; `None` (without an error) if the hash is too big for
/// the packed form, else the entry count once the fields are known to be distinct.
fn packed_hash_entries(
    blob: &[u8],
    type_byte: u8,
    scratch: &mut Scratch,
    limits: &Limits,
) -> std::result::Result<Option<usize>, String> {
    let (deep, limits) = (limits.deep_sanitize, limits.hash);
    let Scratch { entries, fields, table, hasher } = scratch;
    entries.clear();
    fields.clear();
    let mut small = true;
    let mut index = 0usize;
    let mut collect = |e: Element<'_>| -> std::result::Result<(), String> {
        e.with_bytes(|b| {
            small &= b.len() <= limits.value_max;
            Compact::encode_entry(entries, b);
            // Fields are the first, third, ... entries; each is noted by its hash and where its bytes are.
            if index.is_multiple_of(2) {
                fields.push((hasher.hash_one(b), (entries.len() - b.len()) as u32, b.len() as u32));
            }
        });
        index += 1;
        Ok(())
    };
    let count = if type_byte == types::HASH_LISTPACK {
        listpack::entries(blob, deep, &mut collect)?
    } else {
        ziplist::entries(blob, &mut collect)?
    };
    if count % 2 == 1 {
        return Err("hash blob with an odd number of entries".into());
    }
    if !small || count / 2 > limits.entries_max || entries.len() > u32::MAX as usize {
        return Ok(None);
    }
    if has_duplicate(fields, entries, table) {
        return Err("duplicate hash fields detected".into());
    }
    Ok(Some(count))
}

/// Whether two of `fields` (hash, start and length in `entries`) are the same bytes. Each goes into an
/// open-addressed table twice their number in size, so the check is linear: sorting the hashes instead was a
/// tenth of the time a file of hashes took to load.
fn has_duplicate(fields: &[(u64, u32, u32)], entries: &[u8], table: &mut Vec<u32>) -> bool {
    let size = (fields.len() * 2).next_power_of_two();
    table.clear();
    table.resize(size, 0);
    let mask = size - 1;
    let bytes = |&(_, at, len): &(u64, u32, u32)| &entries[at as usize..(at + len) as usize];
    for (i, field) in fields.iter().enumerate() {
        let mut slot = field.0 as usize & mask;
        while let Some(j) = table[slot].checked_sub(1) {
            let other = &fields[j as usize];
            if other.0 == field.0 && bytes(other) == bytes(field) {
                return true;
            }
            slot = (slot + 1) & mask;
        }
        table[slot] = i as u32 + 1;
    }
    false
}

/// A hash blob too big for the packed form, as a table (`Hash::from_pairs`).
fn packed_hash_table(blob: &[u8], type_byte: u8, limits: &Limits) -> std::result::Result<Value, String> {
    // Every element's bytes, back to back (integers formatted), and where each one ends.
    let mut arena: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut collect = |e: Element<'_>| -> std::result::Result<(), String> {
        e.with_bytes(|b| arena.extend_from_slice(b));
        ends.push(arena.len());
        Ok(())
    };
    let count = if type_byte == types::HASH_LISTPACK {
        listpack::entries(blob, limits.deep_sanitize, &mut collect)?
    } else {
        ziplist::entries(blob, &mut collect)?
    };
    if count % 2 == 1 {
        return Err("hash blob with an odd number of entries".into());
    }
    let element = |i: usize| &arena[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
    let pairs: Vec<(&[u8], &[u8])> = (0..count / 2).map(|i| (element(2 * i), element(2 * i + 1))).collect();
    Hash::from_pairs(&pairs, limits.hash).map(Value::Hash).ok_or_else(|| "duplicate hash fields detected".into())
}

/// Adds one loaded member, refusing what Redis's loader refuses: a NaN score and a member seen before.
fn add_scored(zset: &mut Zset, member: &[u8], score: f64, limits: &Limits) -> std::result::Result<(), String> {
    if score.is_nan() {
        return Err("Zset with NAN score detected".into());
    }
    if zset.set(member, score, &limits.zset) { Ok(()) } else { Err("duplicate zset members detected".into()) }
}

/// ZSET (scores as text) or ZSET_2 (scores as 8 binary bytes): member, score pairs in any order. The count only
/// chooses the form to start in; nothing is reserved from it. A set small enough ends packed, as Redis's
/// loader converts it.
fn zset_table(r: &mut Reader<'_>, type_byte: u8, limits: &Limits) -> Result<Value> {
    let count = r.length()?;
    let mut zset = Zset::with_hint(usize::try_from(count).unwrap_or(usize::MAX), 0, &limits.zset);
    for _ in 0..count {
        let offset = r.offset();
        let member = r.string()?;
        let score = if type_byte == types::ZSET_2 { f64::from_bits(r.u64_le()?) } else { r.double_text()? };
        add_scored(&mut zset, &member, score, limits).map_err(|what| Error { offset, what })?;
    }
    zset.pack_if_fits(&limits.zset);
    Ok(Value::Zset(zset))
}

/// A ziplist or listpack of alternating members and scores (a score as an integer entry or as text).
fn packed_zset(blob: &[u8], type_byte: u8, limits: &Limits) -> std::result::Result<Value, String> {
    let mut zset = Zset::default();
    let mut member: Option<Vec<u8>> = None;
    let mut collect = |e: Element<'_>| -> std::result::Result<(), String> {
        let Some(m) = member.take() else {
            member = Some(e.with_bytes(<[u8]>::to_vec));
            return Ok(());
        };
        let score = match e {
            Element::Int(n) => n as f64,
            Element::Bytes(text) => num::parse_f64(text).ok_or("invalid zset score")?,
        };
        add_scored(&mut zset, &m, score, limits)
    };
    let count = if type_byte == types::ZSET_LISTPACK {
        listpack::entries(blob, limits.deep_sanitize, &mut collect)?
    } else {
        ziplist::entries(blob, &mut collect)?
    };
    if count % 2 == 1 {
        return Err("sorted set blob with an odd number of entries".into());
    }
    Ok(Value::Zset(zset))
}
