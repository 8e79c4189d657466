//! The stream type (Redis's t_stream.c data side): entries `ms-seq` → field/value pairs, kept in packed
//! nodes in an ordered map keyed by each node's first ID, plus the stream's ID bookkeeping and its consumer
//! groups (`stream_group.rs`).
//!
//! A node is one byte buffer: the master fields (the first entry's field names), then each entry as
//! `flags | ms delta | seq (delta when ms is unchanged) | values` when its fields are the master's, or
//! `flags | ms delta | seq | field count | fields and values`, IDs relative to the previous entry, lengths and
//! numbers as LEB128 varints. An item is a header and its bytes, or, when it spells a non-negative integer
//! in canonical form (as a listpack does with integers), the header alone with the number in it: so an
//! entry of small fields with the usual names costs about four bytes plus its values' text, a counter or a
//! timestamp two to six bytes (1M entries of three small fields: 17.3 MB, Redis 26.1 MB). Seeking an ID is
//! a `BTreeMap` range lookup (O(log n) over nodes) and a scan of at most `stream-node-max-entries` entries;
//! appending writes at the end of the last node; deleting flips the entry's flag in place (the node goes when
//! its last live entry does), and trimming drops whole nodes from the front, as Redis does with its listpacks.

use std::collections::BTreeMap;

use super::stream_group::Group;
use crate::rdb::listpack;

/// A stream entry ID, ordered as Redis compares them (ms first, then seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, or `None` past the largest (Redis's streamIncrID).
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }

    /// The previous ID, or `None` before 0-0 (streamDecrID).
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_sub(1).map(|ms| StreamId { ms, seq: u64::MAX }),
        }
    }

    /// `ms-seq` into `buf` (at most 41 bytes), returning the written slice.
    pub fn format(self, buf: &mut [u8; 41]) -> &[u8] {
        let mut ms = itoa::Buffer::new();
        let mut seq = itoa::Buffer::new();
        let (ms, seq) = (ms.format(self.ms).as_bytes(), seq.format(self.seq).as_bytes());
        buf[..ms.len()].copy_from_slice(ms);
        buf[ms.len()] = b'-';
        buf[ms.len() + 1..ms.len() + 1 + seq.len()].copy_from_slice(seq);
        &buf[..ms.len() + 1 + seq.len()]
    }

    /// The 16 big-endian bytes Redis keys its radix tree with.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

/// Node size bounds (`stream-node-max-entries`, `stream-node-max-bytes`; 0 means unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLimits {
    pub max_entries: usize,
    pub max_bytes: usize,
}

/// How XADD and XTRIM trim: MAXLEN (keep at most this many) or MINID (drop IDs below this one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// One packed node: the master fields (the first entry's field names, which later entries with the same
/// names do not repeat, as Redis's master entry), then its entries; how many it holds (deleted ones
/// included), how many are live, and the last one's ID (entries store their ID as a delta from the previous).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Node {
    buf: Vec<u8>,
    /// Where the entries start (after the master fields).
    entries_at: usize,
    count: usize,
    live: usize,
    last: StreamId,
    /// The bytes Redis's listpack for this node would take, less its header, terminator and the master
    /// entry's live and deleted counts (which change in place): what decides, as in streamAppendItem, when
    /// `stream-node-max-bytes` starts a new node (see `listpack_bytes`).
    lp_body: usize,
}

/// Entry flag bits.
const DELETED: u8 = 1;
const SAME_FIELDS: u8 = 2;

/// One entry as read from a node: its ID and its field/value pairs, still packed.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pairs: usize,
    data: &'a [u8],
    /// The node's master fields when the entry stores values only.
    master: Option<&'a [u8]>,
}

/// A field or value as read from a node: its bytes in the node, or a number the node keeps as an integer
/// (see `write_item`), spelled out again into the item itself.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Bytes(&'a [u8]),
    /// The number's digits, the first `len` of them.
    Number {
        digits: [u8; 20],
        len: u8,
    },
}

impl PartialEq for Item<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::ops::Deref for Item<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Item::Bytes(bytes) => bytes,
            Item::Number { digits, len } => &digits[..usize::from(*len)],
        }
    }
}

/// The items of a node buffer (or a slice of one), in order.
fn packed_items(data: &[u8]) -> impl Iterator<Item = Item<'_>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        (at < data.len()).then(|| {
            let header = read_varint(data, &mut at);
            if header & INT_ITEM != 0 {
                let mut spelled = itoa::Buffer::new();
                let spelled = spelled.format(header >> 1).as_bytes();
                let mut digits = [0; 20];
                digits[..spelled.len()].copy_from_slice(spelled);
                Item::Number { digits, len: spelled.len() as u8 }
            } else {
                let len = (header >> 1) as usize;
                at += len;
                Item::Bytes(&data[at - len..at])
            }
        })
    })
}

impl<'a> EntryRef<'a> {
    /// How many field/value pairs the entry has.
    pub fn pairs(&self) -> usize {
        self.pairs
    }

    /// Fields and values alternately.
    pub fn items(&self) -> impl Iterator<Item = Item<'a>> + use<'a> {
        let (data, master) = (self.data, self.master);
        let (mut own, mut fields) = (packed_items(data), master.map(packed_items));
        let mut field_next = true;
        std::iter::from_fn(move || {
            let item = match &mut fields {
                Some(fields) if field_next => fields.next(),
                _ => own.next(),
            };
            field_next = !field_next;
            item
        })
    }
}

fn write_varint(buf: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// Reads a varint written by `write_varint` (the node's own bytes: always well formed).
fn read_varint(buf: &[u8], at: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let byte = buf[*at];
        *at += 1;
        n |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return n;
        }
        shift += 7;
    }
}

/// The header bit of an item kept as an integer (the rest of the header is the number); without it the rest
/// is the length of the bytes that follow.
const INT_ITEM: u64 = 1;

/// The number `item` spells if it is one an integer item gives back byte for byte: decimal digits, no sign,
/// no leading zero, below 2^63 (so that it shifts into a header).
fn canonical_uint(item: &[u8]) -> Option<u64> {
    if item.is_empty() || item.len() > 19 || (item[0] == b'0' && item.len() > 1) {
        return None;
    }
    let mut n = 0u64;
    for &digit in item {
        if !digit.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(digit - b'0');
    }
    (n <= u64::MAX >> 1).then_some(n)
}

/// Appends one item: a number as its header alone (as a listpack keeps integers: a counter or a timestamp
/// costs two or three bytes, not its digits), anything else as its length and bytes.
fn write_item(buf: &mut Vec<u8>, item: &[u8]) {
    match canonical_uint(item) {
        Some(n) => write_varint(buf, (n << 1) | INT_ITEM),
        None => {
            write_varint(buf, (item.len() as u64) << 1);
            buf.extend_from_slice(item);
        }
    }
}

/// Skips `n` items from `pos`.
fn skip_items(buf: &[u8], pos: &mut usize, n: usize) {
    for _ in 0..n {
        let header = read_varint(buf, pos);
        if header & INT_ITEM == 0 {
            *pos += (header >> 1) as usize;
        }
    }
}

/// One decoded entry header: where the entry starts, its flag, ID, pairs and where its own items are.
struct Decoded {
    start: usize,
    flag: u8,
    id: StreamId,
    pairs: usize,
    data: std::ops::Range<usize>,
}

impl Node {
    /// A node whose master fields are those of `items`.
    fn new(id: StreamId, items: &[impl AsRef<[u8]>]) -> Node {
        let mut buf = Vec::new();
        write_varint(&mut buf, (items.len() / 2) as u64);
        items.iter().step_by(2).for_each(|field| write_item(&mut buf, field.as_ref()));
        // The master entry: field count, fields, a 0 terminator.
        let lp_body = listpack::int_bytes((items.len() / 2) as i64)
            + items.iter().step_by(2).map(|field| listpack::element_bytes(field.as_ref())).sum::<usize>()
            + listpack::int_bytes(0);
        Node { entries_at: buf.len(), buf, count: 0, live: 0, last: id, lp_body }
    }

    /// The size of the node as a Redis listpack (lpBytes), the master entry's counts included.
    fn listpack_bytes(&self) -> usize {
        listpack::EMPTY_BYTES
            + listpack::int_bytes(self.live as i64)
            + listpack::int_bytes((self.count - self.live) as i64)
            + self.lp_body
    }

    /// What appending `id` with `items` adds to the listpack: flags, the ID relative to the node key, the
    /// field count and fields unless `same`, the values, the element count.
    fn listpack_entry_bytes(key: StreamId, id: StreamId, items: &[impl AsRef<[u8]>], same: bool) -> usize {
        let pairs = items.len() / 2;
        let flags = if same { SAME_FIELDS } else { 0 };
        let header = listpack::int_bytes(i64::from(flags))
            + listpack::int_bytes(id.ms.wrapping_sub(key.ms) as i64)
            + listpack::int_bytes(id.seq.wrapping_sub(key.seq) as i64);
        let (fields, elements) = if same {
            (0, 3 + pairs)
        } else {
            let names: usize = items.iter().step_by(2).map(|f| listpack::element_bytes(f.as_ref())).sum();
            (listpack::int_bytes(pairs as i64) + names, 4 + 2 * pairs)
        };
        let values: usize = items.iter().skip(1).step_by(2).map(|v| listpack::element_bytes(v.as_ref())).sum();
        header + fields + values + listpack::int_bytes(elements as i64)
    }

    fn master(&self) -> (usize, &[u8]) {
        let mut at = 0;
        let n = read_varint(&self.buf, &mut at) as usize;
        (n, &self.buf[at..self.entries_at])
    }

    /// Whether `items`' fields are the master fields.
    fn same_fields(&self, items: &[impl AsRef<[u8]>]) -> bool {
        let (n, master) = self.master();
        n * 2 == items.len() && packed_items(master).zip(items.iter().step_by(2)).all(|(a, b)| *a == *b.as_ref())
    }

    /// Appends an entry; `key` is the node's key (its first entry's ID).
    fn push(&mut self, key: StreamId, id: StreamId, items: &[impl AsRef<[u8]>]) {
        let same = self.same_fields(items);
        self.lp_body += Node::listpack_entry_bytes(key, id, items, same);
        let prev = self.last;
        self.buf.push(if same { SAME_FIELDS } else { 0 });
        write_varint(&mut self.buf, id.ms - prev.ms);
        write_varint(&mut self.buf, if id.ms == prev.ms { id.seq - prev.seq } else { id.seq });
        if same {
            items.iter().skip(1).step_by(2).for_each(|value| write_item(&mut self.buf, value.as_ref()));
        } else {
            write_varint(&mut self.buf, (items.len() / 2) as u64);
            items.iter().for_each(|item| write_item(&mut self.buf, item.as_ref()));
        }
        self.count += 1;
        self.live += 1;
        self.last = id;
    }

    /// The entry at byte `at`, whose predecessor is `prev` (the node key for the first).
    fn decode(&self, prev: StreamId, at: usize) -> Decoded {
        let buf = &self.buf;
        let flag = buf[at];
        let mut pos = at + 1;
        let ms_delta = read_varint(buf, &mut pos);
        let seq = read_varint(buf, &mut pos);
        let id = if ms_delta == 0 {
            StreamId { ms: prev.ms, seq: prev.seq + seq }
        } else {
            StreamId { ms: prev.ms + ms_delta, seq }
        };
        let pairs = if flag & SAME_FIELDS != 0 { self.master().0 } else { read_varint(buf, &mut pos) as usize };
        let data_start = pos;
        skip_items(buf, &mut pos, if flag & SAME_FIELDS != 0 { pairs } else { pairs * 2 });
        Decoded { start: at, flag, id, pairs, data: data_start..pos }
    }

    /// Every entry (deleted ones included) in order.
    fn all(&self, key: StreamId) -> impl Iterator<Item = Decoded> + '_ {
        let (mut at, mut prev) = (self.entries_at, key);
        std::iter::from_fn(move || {
            (at < self.buf.len()).then(|| {
                let entry = self.decode(prev, at);
                (at, prev) = (entry.data.end, entry.id);
                entry
            })
        })
    }

    fn live_entries(&self, key: StreamId) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.all(key).filter(|e| e.flag & DELETED == 0).map(|e| self.entry_ref(&e))
    }

    fn entry_ref(&self, e: &Decoded) -> EntryRef<'_> {
        let master = (e.flag & SAME_FIELDS != 0).then(|| self.master().1);
        EntryRef { id: e.id, pairs: e.pairs, data: &self.buf[e.data.clone()], master }
    }

    /// The last live entry's ID: the node's last ID unless something in it was deleted (then a scan).
    fn last_live_id(&self, key: StreamId) -> Option<StreamId> {
        if self.live == self.count {
            return (self.count > 0).then_some(self.last);
        }
        self.live_entries(key).last().map(|e| e.id)
    }
}

/// A node's listpack is never grown past this, whatever `stream-node-max-bytes` (STREAM_LISTPACK_MAX_SIZE).
const LISTPACK_BYTES_MAX: usize = 1 << 30;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    len: usize,
    /// The largest ID ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The largest ID ever deleted by XDEL (or set by XSETID MAXDELETEDID).
    pub max_deleted_id: StreamId,
    /// How many entries were ever added.
    pub entries_added: u64,
    /// The consumer groups by name, in Redis's (byte) order.
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many packed nodes hold the entries (XINFO's radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes Redis's radix tree would have for these node keys (XINFO's radix-tree-nodes): a compressed
    /// node per shared run of bytes, a branching node where keys part, a leaf per key, one empty head.
    pub fn radix_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|id| id.to_be_bytes()).collect();
        if keys.is_empty() { 1 } else { radix_count(&keys, 0) }
    }

    /// The first and last live entry IDs (0-0 when empty, as Redis reports them).
    pub fn first_id(&self) -> StreamId {
        self.iter_from(StreamId::MIN).next().map_or(StreamId::MIN, |e| e.id)
    }

    pub fn last_entry_id(&self) -> StreamId {
        self.nodes.iter().rev().find_map(|(key, node)| node.last_live_id(*key)).unwrap_or(StreamId::MIN)
    }

    /// Appends an entry with `id` (the caller checked it is above `last_id`) and fields and values `items`.
    /// A new node starts, as in streamAppendItem, when the last one's listpack bytes plus the new entry's
    /// field and value bytes (their bare lengths) reach the byte bound, or when it holds (deleted ones
    /// included) `max_entries` entries.
    pub fn append(&mut self, id: StreamId, items: &[impl AsRef<[u8]>], limits: NodeLimits) {
        let item_bytes: usize = items.iter().map(|item| item.as_ref().len()).sum();
        let max_bytes =
            if limits.max_bytes == 0 { LISTPACK_BYTES_MAX } else { limits.max_bytes.min(LISTPACK_BYTES_MAX) };
        let fits = self.nodes.last_key_value().is_some_and(|(_, node)| {
            (limits.max_entries == 0 || node.count < limits.max_entries)
                && node.listpack_bytes() + item_bytes < max_bytes
        });
        if !fits {
            // A full node is never appended to again: give back its spare capacity.
            if let Some(mut full) = self.nodes.last_entry() {
                full.get_mut().buf.shrink_to_fit();
            }
            self.nodes.insert(id, Node::new(id, items));
        }
        let (key, node) = self.nodes.iter_mut().next_back().expect("a node was just ensured");
        node.push(*key, id, items);
        self.len += 1;
        self.last_id = id;
        self.entries_added += 1;
    }

    /// The key of the node that would hold `id`.
    fn node_key_for(&self, id: StreamId) -> Option<StreamId> {
        self.nodes.range(..=id).next_back().map(|(key, _)| *key)
    }

    /// Deletes the entry `id`; false if there is none. Does not touch `max_deleted_id` (XDEL does).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some(key) = self.node_key_for(id) else { return false };
        let node = self.nodes.get_mut(&key).expect("the key was just found");
        let Some(at) = node.all(key).find(|e| e.id == id && e.flag & DELETED == 0).map(|e| e.start) else {
            return false;
        };
        node.buf[at] |= DELETED;
        node.live -= 1;
        if node.live == 0 {
            self.nodes.remove(&key);
        }
        self.len -= 1;
        true
    }

    /// Trims as XADD/XTRIM do, returning how many entries went. `approx` (`~`) removes whole nodes only;
    /// `limit` (0: none) caps the entries removed, counted in whole nodes as Redis does.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: usize) -> usize {
        let mut removed = 0;
        while let Some(mut entry) = self.nodes.first_entry() {
            let key = *entry.key();
            let node = entry.get_mut();
            if limit != 0 && removed + node.live > limit {
                break;
            }
            let whole = match trim {
                Trim::MaxLen(max) => (self.len - node.live) as u64 >= max,
                Trim::MinId(min) => node.last_live_id(key).is_some_and(|last| last < min),
            };
            if whole {
                self.len -= node.live;
                removed += node.live;
                entry.remove();
                continue;
            }
            if approx {
                break;
            }
            let starts: Vec<(usize, StreamId)> =
                node.all(key).filter(|e| e.flag & DELETED == 0).map(|e| (e.start, e.id)).collect();
            for (at, id) in starts {
                let done = match trim {
                    Trim::MaxLen(max) => self.len as u64 <= max,
                    Trim::MinId(min) => id >= min,
                };
                if done {
                    break;
                }
                node.buf[at] |= DELETED;
                node.live -= 1;
                self.len -= 1;
                removed += 1;
            }
            break;
        }
        removed
    }

    /// Live entries from `start` upwards.
    pub fn iter_from(&self, start: StreamId) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        let first = self.node_key_for(start).unwrap_or(StreamId::MIN);
        self.nodes.range(first..).flat_map(|(key, node)| node.live_entries(*key)).skip_while(move |e| e.id < start)
    }

    /// Live entries in `start..=end`, ascending.
    pub fn range(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.iter_from(start).take_while(move |e| e.id <= end)
    }

    /// Live entries in `start..=end`, descending.
    pub fn range_rev(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.nodes
            .range(..=end)
            .rev()
            .flat_map(|(key, node)| {
                let mut entries: Vec<EntryRef<'_>> = node.live_entries(*key).collect();
                entries.reverse();
                entries
            })
            .skip_while(move |e| e.id > end)
            .take_while(move |e| e.id >= start)
    }

    /// Every node by its key, with all its entries (deleted ones flagged `true`), for the RDB encoding, which
    /// keeps Redis's node layout.
    pub fn raw_nodes(&self) -> impl Iterator<Item = (StreamId, impl Iterator<Item = (bool, EntryRef<'_>)>)> + '_ {
        self.nodes
            .iter()
            .map(|(key, node)| (*key, node.all(*key).map(move |e| (e.flag & DELETED != 0, node.entry_ref(&e)))))
    }

    /// Each node's size as Redis's listpack, in order (for the RDB test that checks it against the encoding).
    #[cfg(test)]
    pub fn node_listpack_bytes(&self) -> Vec<usize> {
        self.nodes.values().map(Node::listpack_bytes).collect()
    }

    /// The live entry `id`, if there is one.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id).next()
    }

    /// Heap bytes of the nodes, sampling the first `samples` nodes as Redis's objectComputeSize does.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        let per_node = size_of::<StreamId>() + size_of::<Node>() + 16;
        let nodes = super::sampled_estimate(
            self.nodes.values().map(|n| n.buf.capacity() + per_node),
            self.nodes.len(),
            samples,
        );
        let groups: usize = self.groups.iter().map(|(name, group)| name.len() + group.heap_bytes()).sum();
        size_of::<Stream>() + nodes + groups
    }

    /// Whether `start..=end` may hold deleted entries (streamRangeHasTombstones): used to decide whether a
    /// group's entries-read can still be computed.
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.is_empty() || self.max_deleted_id == StreamId::MIN || self.first_id() > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// A group's entries-read estimate for an ID (streamEstimateDistanceFromFirstEverEntry), `None` when it
    /// cannot be known.
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.is_empty() && id < self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id() {
            let first = self.first_id();
            if id < first {
                return Some(self.entries_added.wrapping_sub(self.len as u64));
            }
            if id == first {
                return Some(self.entries_added.wrapping_sub(self.len as u64).wrapping_add(1));
            }
        }
        None
    }
}

/// Radix nodes under the keys `keys` (sorted, distinct, 16 bytes each) from byte `depth`.
fn radix_count(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    let first = &keys[0];
    let last = &keys[keys.len() - 1];
    let common = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if common > 0 {
        return 1 + radix_count(keys, depth + common);
    }
    let mut total = 1;
    let mut from = 0;
    while from < keys.len() {
        let byte = keys[from][depth];
        let to = from + keys[from..].iter().take_while(|k| k[depth] == byte).count();
        total += radix_count(&keys[from..to], depth + 1);
        from = to;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: NodeLimits = NodeLimits { max_entries: 4, max_bytes: 4096 };

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    fn ids(it: impl Iterator<Item = StreamId>) -> Vec<u64> {
        it.map(|id| id.ms).collect()
    }

    #[test]
    fn model_against_a_btreemap() {
        let mut rng = crate::util::rng::Rng::new(7);
        let mut below = |n: u64| rng.below(n as usize) as u64;
        let mut stream = Stream::new();
        let mut model: BTreeMap<StreamId, Vec<Vec<u8>>> = BTreeMap::new();
        let mut next = 1;
        for _ in 0..3000 {
            match below(10) {
                0..=5 => {
                    let items = vec![b"f".to_vec(), next.to_string().into_bytes()];
                    stream.append(id(next), &items, LIMITS);
                    model.insert(id(next), items);
                    next += 1 + below(3);
                }
                6 | 7 => {
                    let victim = id(below(next + 1));
                    assert_eq!(stream.delete(victim), model.remove(&victim).is_some());
                }
                8 => {
                    let max = below(60);
                    let approx = below(2) == 0;
                    let removed = stream.trim(Trim::MaxLen(max), approx, 0);
                    for _ in 0..removed {
                        model.pop_first();
                    }
                    if !approx {
                        assert!(model.len() as u64 <= max);
                    }
                }
                _ => {
                    let min = id(below(next + 1));
                    stream.trim(Trim::MinId(min), false, 0);
                    model.retain(|k, _| *k >= min);
                }
            }
            assert_eq!(stream.len(), model.len());
            let (a, b) = (id(below(next + 1)), id(below(next + 1)));
            assert_eq!(
                ids(stream.range(a, b).map(|e| e.id)),
                ids(model.range(a..=b.max(a)).map(|(k, _)| *k)).into_iter().filter(|_| a <= b).collect::<Vec<_>>()
            );
            assert_eq!(
                ids(stream.range_rev(a, b).map(|e| e.id)),
                ids(model.range(a..=b.max(a)).rev().map(|(k, _)| *k))
                    .into_iter()
                    .filter(|_| a <= b)
                    .collect::<Vec<_>>()
            );
            if let Some((k, items)) = model.iter().next() {
                let got: Vec<Vec<u8>> = stream.get(*k).unwrap().items().map(|item| item.to_vec()).collect();
                assert_eq!(&got, items);
            }
        }
    }

    #[test]
    fn numbers_are_kept_as_integers_and_read_back_byte_for_byte() {
        let texts: [&[u8]; 12] = [
            b"0",
            b"7",
            b"1796238775104",
            b"9223372036854775807",
            b"9223372036854775808",
            b"18446744073709551615",
            b"007",
            b"-1",
            b"+1",
            b"1.5",
            b"",
            b"12a",
        ];
        let mut stream = Stream::new();
        for (n, text) in texts.iter().enumerate() {
            stream.append(id(n as u64 + 1), &[*text, *text], LIMITS);
            let got: Vec<Vec<u8>> = stream.get(id(n as u64 + 1)).unwrap().items().map(|item| item.to_vec()).collect();
            assert_eq!(got, [text.to_vec(), text.to_vec()], "{}", String::from_utf8_lossy(text));
        }
        // A counter value costs its header alone: 1 flag, 2 ID deltas, 1 byte for the number.
        let mut small = Stream::new();
        small.append(id(1), &[&b"n"[..], b"0"], LIMITS);
        let before = small.nodes[&id(1)].buf.len();
        small.append(id(2), &[&b"n"[..], b"123456"], LIMITS);
        assert_eq!(small.nodes[&id(1)].buf.len() - before, 3 + 3);
        assert_eq!(canonical_uint(b"123456"), Some(123456));
        assert_eq!(canonical_uint(b"9223372036854775808"), None);
    }

    #[test]
    fn same_field_entries_share_the_master_fields_and_keep_their_tombstones() {
        let mut stream = Stream::new();
        stream.append(id(1), &[&b"f"[..], b"1", b"g", b"x"], LIMITS);
        stream.append(id(2), &[&b"f"[..], b"2", b"g", b"y"], LIMITS);
        stream.append(id(3), &[&b"other"[..], b"3"], LIMITS);
        assert!(stream.delete(id(2)));
        type RawEntry = (bool, u64, Vec<Vec<u8>>);
        let nodes: Vec<Vec<RawEntry>> = stream
            .raw_nodes()
            .map(|(_, entries)| {
                entries.map(|(d, e)| (d, e.id.ms, e.items().map(|item| item.to_vec()).collect())).collect()
            })
            .collect();
        let items = |v: &[&str]| v.iter().map(|i| i.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            nodes,
            [vec![
                (false, 1, items(&["f", "1", "g", "x"])),
                (true, 2, items(&["f", "2", "g", "y"])),
                (false, 3, items(&["other", "3"])),
            ]]
        );
    }

    #[test]
    fn ids_step_and_format() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        let mut buf = [0; 41];
        assert_eq!(StreamId::MAX.format(&mut buf), b"18446744073709551615-18446744073709551615");
    }

    /// Node splits follow streamAppendItem's byte rule: the figures are redis-server 7.0.15's XINFO STREAM
    /// after the same XADDs with `stream-node-max-bytes 100` and `stream-node-max-entries 0`.
    #[test]
    fn the_byte_bound_splits_nodes_where_redis_does() {
        let limits = NodeLimits { max_entries: 0, max_bytes: 100 };
        let mut stream = Stream::new();
        for i in 1..=40u64 {
            let (value, n) = (format!("value-{i}"), (i * 1000).to_string());
            stream.append(id(i), &[&b"field"[..], value.as_bytes(), b"n", n.as_bytes()], limits);
        }
        stream.append(id(41), &[&b"other"[..], &[b'x'; 70][..]], limits);
        stream.append(StreamId::new(1_000_000_000, 5), &[&b"field"[..], b"7", b"n", b"-3"], limits);
        assert_eq!((stream.node_count(), stream.radix_nodes()), (16, 36));
    }

    #[test]
    fn radix_nodes_as_redis_counts_them() {
        let mut stream = Stream::new();
        assert_eq!(stream.radix_nodes(), 1);
        stream.append(id(3), &[b"a", b"1"], LIMITS);
        assert_eq!(stream.radix_nodes(), 2);
    }
}
