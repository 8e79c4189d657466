//! The stream type (Redis's t_stream.c data side): entries `ms-seq` → field/value pairs, kept in packed
//! nodes in an ordered map keyed by each node's first ID, plus the stream's ID bookkeeping and its consumer
//! groups (`stream_group.rs`).
//!
//! A node is one byte buffer of entries, each `flag | ms - key.ms | seq | field count | (len, bytes)*`, all
//! numbers as LEB128 varints, so an entry of small fields costs its text plus a few bytes. Seeking an ID is
//! a `BTreeMap` range lookup (O(log n) over nodes) and a scan of at most `stream-node-max-entries` entries;
//! appending writes at the end of the last node; deleting flips the entry's flag in place (the node goes when
//! its last live entry does), and trimming drops whole nodes from the front, as Redis does with its listpacks.

use std::collections::BTreeMap;

use super::stream_group::Group;

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

/// One packed node: its entries' bytes, how many entries it holds (deleted ones included) and live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Node {
    buf: Vec<u8>,
    count: usize,
    live: usize,
}

const LIVE: u8 = 0;
const DELETED: u8 = 1;

/// One entry as read from a node: its ID and its field/value pairs, still packed.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pairs: usize,
    data: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// How many field/value pairs the entry has.
    pub fn pairs(&self) -> usize {
        self.pairs
    }

    /// Fields and values alternately.
    pub fn items(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let mut at = 0;
        let data = self.data;
        (0..self.pairs * 2).map(move |_| {
            let len = read_varint(data, &mut at) as usize;
            let item = &data[at..at + len];
            at += len;
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

/// One decoded entry header: where the entry starts, its flag, ID, pairs and where its pairs start and end.
struct Decoded {
    start: usize,
    flag: u8,
    id: StreamId,
    pairs: usize,
    data: std::ops::Range<usize>,
}

impl Node {
    /// The entry at byte `at`, and the offset of the next one.
    fn decode(&self, key: StreamId, at: usize) -> Decoded {
        let buf = &self.buf;
        let mut pos = at + 1;
        let ms = key.ms + read_varint(buf, &mut pos);
        let seq = read_varint(buf, &mut pos);
        let pairs = read_varint(buf, &mut pos) as usize;
        let data_start = pos;
        for _ in 0..pairs * 2 {
            let len = read_varint(buf, &mut pos) as usize;
            pos += len;
        }
        Decoded { start: at, flag: buf[at], id: StreamId { ms, seq }, pairs, data: data_start..pos }
    }

    /// Every entry (deleted ones included) in order.
    fn all(&self, key: StreamId) -> impl Iterator<Item = Decoded> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            (at < self.buf.len()).then(|| {
                let entry = self.decode(key, at);
                at = entry.data.end;
                entry
            })
        })
    }

    fn live_entries(&self, key: StreamId) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.all(key).filter(|e| e.flag == LIVE).map(|e| self.entry_ref(&e))
    }

    fn entry_ref(&self, e: &Decoded) -> EntryRef<'_> {
        EntryRef { id: e.id, pairs: e.pairs, data: &self.buf[e.data.clone()] }
    }

    fn last_live_id(&self, key: StreamId) -> Option<StreamId> {
        self.live_entries(key).last().map(|e| e.id)
    }
}

/// The bytes an entry of `items` takes in a node.
fn entry_bytes(items: &[impl AsRef<[u8]>]) -> usize {
    items.iter().map(|item| item.as_ref().len() + 2).sum::<usize>() + 24
}

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
    pub fn append(&mut self, id: StreamId, items: &[impl AsRef<[u8]>], limits: NodeLimits) {
        let needed = entry_bytes(items);
        let fits = self.nodes.last_key_value().is_some_and(|(_, node)| {
            (limits.max_entries == 0 || node.count < limits.max_entries)
                && (limits.max_bytes == 0 || node.buf.len() + needed < limits.max_bytes)
        });
        if !fits {
            self.nodes.insert(id, Node::default());
        }
        let (key, node) = self.nodes.iter_mut().next_back().expect("a node was just ensured");
        node.buf.push(LIVE);
        write_varint(&mut node.buf, id.ms - key.ms);
        write_varint(&mut node.buf, id.seq);
        write_varint(&mut node.buf, (items.len() / 2) as u64);
        for item in items {
            write_varint(&mut node.buf, item.as_ref().len() as u64);
            node.buf.extend_from_slice(item.as_ref());
        }
        node.count += 1;
        node.live += 1;
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
        let Some(at) = node.all(key).find(|e| e.id == id && e.flag == LIVE).map(|e| e.start) else {
            return false;
        };
        node.buf[at] = DELETED;
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
                node.all(key).filter(|e| e.flag == LIVE).map(|e| (e.start, e.id)).collect();
            for (at, id) in starts {
                let done = match trim {
                    Trim::MaxLen(max) => self.len as u64 <= max,
                    Trim::MinId(min) => id >= min,
                };
                if done {
                    break;
                }
                node.buf[at] = DELETED;
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
            .map(|(key, node)| (*key, node.all(*key).map(move |e| (e.flag == DELETED, node.entry_ref(&e)))))
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
                let got: Vec<Vec<u8>> = stream.get(*k).unwrap().items().map(<[u8]>::to_vec).collect();
                assert_eq!(&got, items);
            }
        }
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

    #[test]
    fn radix_nodes_as_redis_counts_them() {
        let mut stream = Stream::new();
        assert_eq!(stream.radix_nodes(), 1);
        stream.append(id(3), &[b"a", b"1"], LIMITS);
        assert_eq!(stream.radix_nodes(), 2);
    }
}
