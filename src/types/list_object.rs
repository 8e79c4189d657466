//! List values as a pure structure: Redis's quicklist, a deque of small packed nodes. No RESP, no I/O.
//!
//! A list is a `VecDeque` of `Packed` nodes. Each node holds a run of consecutive elements in one
//! allocation, so an element costs its bytes plus two or three, and the number of nodes (the only thing
//! index lookups walk) is the length divided by the node size. The node size comes from
//! `list-max-listpack-size` when the list is created, as in Redis: a negative value -1..-5 caps a node at
//! 4, 8, 16, 32 or 64 KB of entries (below -5 counts as -5), a positive one at that many entries (up to
//! 32768, and never past 8 KB unless the node holds a single entry).
//!
//! Costs: push and pop at either end are O(1) (a node is at most 64 KB, so moving its bytes is bounded);
//! index, insert, set and range start walk the node lengths from the nearer end, then scan one node;
//! LTRIM drops whole nodes and cuts at most one node per side; LREM rebuilds only the nodes holding matches.
//!
//! Invariants (checked by `check_invariants` in tests): no node is empty; `len` is the sum of the node
//! lengths; every node with two or more entries fits the node limit. A single entry may exceed it (a big
//! element gets a node of its own). Nodes are merged when a removal in the middle leaves neighbours that fit
//! together, so deletions cannot leave a trail of tiny nodes.
//!
//! Plain nodes: an element of at least the packed threshold (`set_packed_threshold`, Redis's
//! `packed_threshold`: 1 GB unless DEBUG QUICKLIST-PACKED-THRESHOLD changes it) is always alone in its node,
//! and nothing is pushed, inserted or merged into such a node, as Redis 7.0 keeps it in a PLAIN container.
//! Redis marks the container when the node is made; we tell a plain node by its one entry being at least the
//! threshold, so after the threshold changes a node's kind follows the new value (node layout only: no reply
//! differs). Like Redis's, the threshold is one setting for every list; it is kept per thread, which for the
//! one reactor thread is the same, and keeps parallel unit tests apart (an RDB load's parser thread takes the
//! loading thread's, `packed_threshold`).

use super::packed::Packed;
use std::cell::Cell;
use std::collections::VecDeque;

/// Byte caps of a node for `list-max-listpack-size` -1 to -5.
const NODE_BYTES_MAX: [usize; 5] = [4096, 8192, 16_384, 32_768, 65_536];
/// With an entry-count limit a node still stops growing past this many bytes (Redis's SIZE_SAFETY_LIMIT).
const NODE_BYTES_SAFETY: usize = 8192;
/// The largest entry-count limit (Redis's FILL_MAX).
const NODE_ENTRIES_MAX: i64 = 1 << 15;
/// Bytes of framing assumed per new entry when deciding whether it fits a node: exact for entries up to
/// 16 KB, and a node that ends up a few bytes over is split anyway.
const FRAMING_ESTIMATE: usize = 4;

/// Redis's default packed threshold: elements of 1 GB or more get plain nodes.
const PACKED_THRESHOLD_DEFAULT: usize = 1 << 30;
/// The largest threshold DEBUG may set: a little under 4 GB, as `quicklistisSetPackedThreshold` allows.
const PACKED_THRESHOLD_MAX: u64 = (1 << 32) - (1 << 20);

thread_local! {
    /// Elements at least this long get a plain node (see the module docs).
    static PACKED_THRESHOLD: Cell<usize> = const { Cell::new(PACKED_THRESHOLD_DEFAULT) };
}

/// Sets the packed threshold for every list (DEBUG QUICKLIST-PACKED-THRESHOLD), 0 restoring the default;
/// false, changing nothing, above `PACKED_THRESHOLD_MAX` (Redis's `quicklistisSetPackedThreshold`).
pub fn set_packed_threshold(bytes: u64) -> bool {
    if bytes > PACKED_THRESHOLD_MAX {
        return false;
    }
    PACKED_THRESHOLD.set(if bytes == 0 { PACKED_THRESHOLD_DEFAULT } else { bytes as usize });
    true
}

/// This thread's packed threshold, for a thread that builds lists for this one to set (`set_packed_threshold`).
pub fn packed_threshold() -> u64 {
    PACKED_THRESHOLD.get() as u64
}

/// Whether an element of `data_len` bytes gets a plain node (Redis's `isLargeElement`).
fn is_large(data_len: usize) -> bool {
    data_len >= PACKED_THRESHOLD.get()
}

/// Whether `node` is a plain node: its one entry is large.
fn is_plain(node: &Packed) -> bool {
    node.len() == 1 && is_large(node.entry(0).0.len())
}

/// A node holding `data` alone.
fn node_of(data: &[u8]) -> Packed {
    let mut node = Packed::new();
    node.push_back(data);
    node
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Front,
    Back,
}

/// How big a node may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeLimit {
    Bytes(usize),
    Entries(usize),
}

impl NodeLimit {
    /// The limit for a `list-max-listpack-size` value.
    fn from_fill(fill: i64) -> NodeLimit {
        if fill < 0 {
            let level = (fill.unsigned_abs() - 1).min(NODE_BYTES_MAX.len() as u64 - 1);
            NodeLimit::Bytes(NODE_BYTES_MAX[level as usize])
        } else {
            NodeLimit::Entries(fill.min(NODE_ENTRIES_MAX) as usize)
        }
    }

    /// Whether a node of `entries` entries and `bytes` bytes is acceptable; one entry always is.
    fn fits(self, entries: usize, bytes: usize) -> bool {
        entries <= 1
            || match self {
                NodeLimit::Bytes(max) => bytes <= max,
                NodeLimit::Entries(max) => entries <= max && bytes <= NODE_BYTES_SAFETY,
            }
    }

    fn fits_node(self, node: &Packed) -> bool {
        self.fits(node.len(), node.bytes_len())
    }

    /// Whether `node` can take one more entry of `data_len` bytes.
    fn has_room(self, node: &Packed, data_len: usize) -> bool {
        self.fits(node.len() + 1, node.bytes_len() + data_len + FRAMING_ESTIMATE)
    }
}

/// A list value.
#[derive(Debug, Clone)]
pub struct List {
    nodes: VecDeque<Packed>,
    len: usize,
    limit: NodeLimit,
}

/// Two lists are equal when they hold the same elements, however they are split into nodes.
impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl List {
    /// An empty list whose nodes follow `list-max-listpack-size` = `fill`.
    pub fn new(fill: i64) -> List {
        List { nodes: VecDeque::new(), len: 0, limit: NodeLimit::from_fill(fill) }
    }

    /// The `OBJECT ENCODING` name: Redis 7.0 keeps every list as a quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held, for MEMORY USAGE, counting the `Box` a `Value` keeps the list in: the list and its node
    /// array exactly, the nodes' buffers estimated from the first `samples` nodes, as Redis's
    /// objectComputeSize samples quicklist nodes.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        let buffers = super::sampled_estimate(self.nodes.iter().map(Packed::capacity), self.nodes.len(), samples);
        size_of::<List>() + self.nodes.capacity() * size_of::<Packed>() + buffers
    }

    /// Elements front to back (reversible for tail-first scans).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> {
        self.nodes.iter().flat_map(Packed::iter)
    }

    /// How many nodes the list has (an RDB quicklist's node count).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Each node, front to back: whether it is a plain node, and its elements (RDB saving keeps the nodes).
    pub fn nodes(&self) -> impl Iterator<Item = (bool, super::packed::Iter<'_>)> {
        self.nodes.iter().map(|node| (is_plain(node), node.iter()))
    }

    /// `count` elements from index `start`, front to back, borrowed from the nodes (LRANGE).
    pub fn range(&self, start: usize, count: usize) -> Range<'_> {
        let (node, offset) = self.locate(start).unwrap_or((self.nodes.len(), 0));
        let mut rest = self.nodes.range(node..);
        let packed = rest.next();
        let pos = packed.and_then(|packed| packed.position(offset)).unwrap_or(0);
        Range { packed, rest, pos, left: count }
    }

    /// The element at `index`.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let (node, offset) = self.locate(index)?;
        let packed = &self.nodes[node];
        Some(packed.entry(packed.position(offset)?).0)
    }

    /// Index of the first element equal to `data`.
    pub fn index_of(&self, data: &[u8]) -> Option<usize> {
        self.iter().position(|entry| entry == data)
    }

    pub fn push(&mut self, end: End, data: &[u8]) {
        let limit = self.limit;
        let node = match end {
            End::Front => self.nodes.front_mut(),
            End::Back => self.nodes.back_mut(),
        };
        match node {
            Some(node) if accepts(limit, node, data.len()) => match end {
                End::Front => node.push_front(data),
                End::Back => node.push_back(data),
            },
            _ => match end {
                End::Front => self.nodes.push_front(node_of(data)),
                End::Back => self.nodes.push_back(node_of(data)),
            },
        }
        self.len += 1;
    }

    /// Removes the element at `end` after passing it to `f` (which can write it out without a copy).
    pub fn pop_with<R>(&mut self, end: End, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let node_index = match end {
            End::Front => 0,
            End::Back => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(node_index)?;
        let pos = match end {
            End::Front => 0,
            End::Back => node.last()?,
        };
        let result = f(node.entry(pos).0);
        node.remove(pos);
        if node.is_empty() {
            self.nodes.remove(node_index);
        }
        self.len -= 1;
        Some(result)
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        self.pop_with(end, <[u8]>::to_vec)
    }

    /// Replaces the element at `index`; false if there is none.
    pub fn set(&mut self, index: usize, data: &[u8]) -> bool {
        let Some((node, offset)) = self.locate(index) else {
            return false;
        };
        // A plain element in or out: the element goes and the new one is inserted, so each lands in a node of
        // the right kind (Redis's quicklistReplaceEntry inserts beside and deletes the old one likewise).
        if is_large(data.len()) || is_plain(&self.nodes[node]) {
            self.remove_at(node, offset);
            self.insert(index, data);
            return true;
        }
        let packed = &mut self.nodes[node];
        let Some(pos) = packed.position(offset) else {
            return false;
        };
        packed.replace(pos, data);
        self.split_to_fit(node);
        true
    }

    /// Inserts `data` so that it becomes element `index` (`index == len` appends).
    pub fn insert(&mut self, index: usize, data: &[u8]) {
        if index == 0 {
            return self.push(End::Front, data);
        }
        if index >= self.len {
            return self.push(End::Back, data);
        }
        let Some((node, offset)) = self.locate(index) else {
            return self.push(End::Back, data);
        };
        // At a node boundary the previous node may have room, which saves a split.
        if offset == 0 && accepts(self.limit, &self.nodes[node - 1], data.len()) {
            self.nodes[node - 1].push_back(data);
        } else if is_large(data.len()) || is_plain(&self.nodes[node]) {
            // A plain element, or any element before a plain node, gets a node of its own, between the two
            // halves of the node it lands in.
            self.split_off(node, offset);
            self.nodes.insert(if offset == 0 { node } else { node + 1 }, node_of(data));
        } else {
            let packed = &mut self.nodes[node];
            let pos = packed.position(offset).unwrap_or(packed.bytes_len());
            packed.insert(pos, data);
            self.split_to_fit(node);
        }
        self.len += 1;
    }

    /// Removes `front` elements from the front and `back` from the back (LTRIM); more than the length
    /// empties the list.
    pub fn trim(&mut self, front: usize, back: usize) {
        self.trim_end(End::Front, front);
        self.trim_end(End::Back, back);
    }

    fn trim_end(&mut self, end: End, mut count: usize) {
        while count > 0 {
            let node = match end {
                End::Front => self.nodes.front_mut(),
                End::Back => self.nodes.back_mut(),
            };
            let Some(node) = node else { return };
            let node_len = node.len();
            if node_len <= count {
                match end {
                    End::Front => self.nodes.pop_front(),
                    End::Back => self.nodes.pop_back(),
                };
                self.len -= node_len;
                count -= node_len;
                continue;
            }
            let start = match end {
                End::Front => 0,
                End::Back => node.position(node_len - count).unwrap_or(node.bytes_len()),
            };
            node.remove_run(start, count);
            self.len -= count;
            return;
        }
    }

    /// Removes elements equal to `data`, at most `limit` of them (0: all), scanning from `from` (LREM).
    /// Returns how many were removed.
    pub fn remove_matching(&mut self, data: &[u8], limit: usize, from: End) -> usize {
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut removed = 0;
        let nodes_len = self.nodes.len();
        for step in 0..nodes_len {
            if removed == limit {
                break;
            }
            let node = if from == End::Front { step } else { nodes_len - 1 - step };
            removed += remove_in_node(&mut self.nodes[node], data, limit - removed, from);
        }
        if removed > 0 {
            self.len -= removed;
            self.nodes.retain(|node| !node.is_empty());
            self.merge_neighbours();
        }
        removed
    }

    /// The node holding element `index` and the element's offset in it, walking from the nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut skipped = 0;
            for (node, packed) in self.nodes.iter().enumerate() {
                if index < skipped + packed.len() {
                    return Some((node, index - skipped));
                }
                skipped += packed.len();
            }
        } else {
            let mut start = self.len;
            for (node, packed) in self.nodes.iter().enumerate().rev() {
                start -= packed.len();
                if index >= start {
                    return Some((node, index - start));
                }
            }
        }
        None
    }

    /// Removes the element at `offset` of node `node`, and the node if that empties it.
    fn remove_at(&mut self, node: usize, offset: usize) {
        let packed = &mut self.nodes[node];
        if let Some(pos) = packed.position(offset) {
            packed.remove(pos);
            self.len -= 1;
        }
        if packed.is_empty() {
            self.nodes.remove(node);
        }
    }

    /// Splits node `node` into as many nodes as it takes for each to fit the limit.
    fn split_to_fit(&mut self, mut node: usize) {
        while !self.limit.fits_node(&self.nodes[node]) {
            // The longest prefix that fits (at least one entry): the prefix of k entries ends where entry k
            // starts.
            let keep = self.nodes[node]
                .iter_positions()
                .enumerate()
                .skip(1)
                .take_while(|&(count, (pos, _))| self.limit.fits(count, pos))
                .last()
                .map_or(1, |(count, _)| count);
            self.split_off(node, keep);
            node += 1;
        }
    }

    /// Moves the entries of node `node` after its first `keep` into a new node just after it; nothing when
    /// `keep` is 0 or the whole node.
    fn split_off(&mut self, node: usize, keep: usize) {
        let packed = &mut self.nodes[node];
        let Some(keep_end) = packed.position(keep).filter(|_| keep > 0) else { return };
        let mut tail = Packed::new();
        for entry in packed.iter().skip(keep) {
            tail.push_back(entry);
        }
        packed.remove_run(keep_end, packed.len() - keep);
        self.nodes.insert(node + 1, tail);
    }

    /// Merges every run of adjacent nodes that fit together, after removals in the middle.
    fn merge_neighbours(&mut self) {
        let mut node = 0;
        while node + 1 < self.nodes.len() {
            let (a, b) = (&self.nodes[node], &self.nodes[node + 1]);
            if !is_plain(a) && !is_plain(b) && self.limit.fits(a.len() + b.len(), a.bytes_len() + b.bytes_len()) {
                let next = self.nodes.remove(node + 1).unwrap_or_default();
                let packed = &mut self.nodes[node];
                for entry in next.iter() {
                    packed.push_back(entry);
                }
            } else {
                node += 1;
            }
        }
    }

    /// Checks the module invariants; for tests.
    #[cfg(test)]
    fn check_invariants(&self) {
        assert_eq!(self.len, self.nodes.iter().map(Packed::len).sum::<usize>());
        for node in &self.nodes {
            assert!(!node.is_empty(), "empty node");
            assert!(self.limit.fits_node(node), "node of {} entries, {} bytes", node.len(), node.bytes_len());
            assert!(node.len() == 1 || node.iter().all(|entry| !is_large(entry.len())), "a plain element shares");
        }
    }
}

/// Whether `node` can take one more entry of `data_len` bytes: within the limit, and neither a plain element
/// nor into a plain node.
fn accepts(limit: NodeLimit, node: &Packed, data_len: usize) -> bool {
    !is_large(data_len) && !is_plain(node) && limit.has_room(node, data_len)
}

/// Removes up to `limit` entries equal to `data` from one node, the first ones or (from the back) the last
/// ones, by rebuilding the node once. Returns how many were removed.
fn remove_in_node(node: &mut Packed, data: &[u8], limit: usize, from: End) -> usize {
    let matches = node.iter().filter(|entry| *entry == data).count();
    let removed = matches.min(limit);
    if removed == 0 {
        return 0;
    }
    // Matches numbered from the front: those in `skip..skip + removed` go.
    let skip = if from == End::Back { matches - removed } else { 0 };
    let mut kept = Packed::new();
    let mut seen = 0;
    for entry in node.iter() {
        if entry == data {
            seen += 1;
            if (skip + 1..=skip + removed).contains(&seen) {
                continue;
            }
        }
        kept.push_back(entry);
    }
    *node = kept;
    removed
}

/// Elements of a list range, front to back (`List::range`). It walks the nodes and their entry positions
/// itself rather than chaining `flat_map`, `skip` and `take`: LRANGE's loop is this `next`, and the adapter
/// chain cost a tenth more instructions per element once the compiler stopped inlining it.
#[derive(Debug, Clone)]
pub struct Range<'a> {
    /// The node being read, and the ones after it.
    packed: Option<&'a Packed>,
    rest: std::collections::vec_deque::Iter<'a, Packed>,
    /// Position of the next entry in `packed`.
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Range<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        loop {
            let packed = self.packed?;
            if self.pos < packed.bytes_len() {
                let (data, next) = packed.entry(self.pos);
                self.pos = next;
                self.left -= 1;
                return Some(data);
            }
            self.packed = self.rest.next();
            self.pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    fn list_of(fill: i64, items: &[&str]) -> List {
        let mut list = List::new(fill);
        for item in items {
            list.push(End::Back, item.as_bytes());
        }
        list
    }

    fn items(list: &List) -> Vec<String> {
        list.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect()
    }

    #[test]
    fn limits_follow_redis_fill_values() {
        assert_eq!(NodeLimit::from_fill(-1), NodeLimit::Bytes(4096));
        assert_eq!(NodeLimit::from_fill(-2), NodeLimit::Bytes(8192));
        assert_eq!(NodeLimit::from_fill(-5), NodeLimit::Bytes(65_536));
        assert_eq!(NodeLimit::from_fill(-100), NodeLimit::Bytes(65_536));
        assert_eq!(NodeLimit::from_fill(i64::MIN), NodeLimit::Bytes(65_536));
        assert_eq!(NodeLimit::from_fill(5), NodeLimit::Entries(5));
        assert_eq!(NodeLimit::from_fill(i64::MAX), NodeLimit::Entries(32_768));
        // A count limit still caps a node's bytes; one entry always fits.
        assert!(!NodeLimit::Entries(100).fits(2, 9000));
        assert!(NodeLimit::Entries(0).fits(1, 1 << 20));
    }

    #[test]
    fn pushes_fill_nodes_up_to_the_limit() {
        let list = list_of(3, &["a", "b", "c", "d", "e", "f", "g"]);
        assert_eq!(list.nodes.iter().map(Packed::len).collect::<Vec<_>>(), [3, 3, 1]);
        let mut list = List::new(-1);
        for _ in 0..100 {
            list.push(End::Front, &[b'x'; 100]);
        }
        list.check_invariants();
        assert!(list.nodes.len() >= 3 && list.nodes.len() <= 4, "{} nodes", list.nodes.len());
        assert_eq!(list.encoding(), "quicklist");
    }

    #[test]
    fn index_insert_set_and_range() {
        let mut list = list_of(2, &["a", "b", "c", "d", "e"]);
        assert_eq!(list.get(3), Some(&b"d"[..]));
        assert_eq!(list.get(5), None);
        list.insert(2, b"X");
        list.insert(6, b"Y");
        assert!(list.set(0, b"A"));
        assert!(!list.set(7, b"Z"));
        assert_eq!(items(&list), ["A", "b", "X", "c", "d", "e", "Y"]);
        assert_eq!(list.range(2, 3).collect::<Vec<_>>(), [&b"X"[..], b"c", b"d"]);
        assert_eq!(list.range(6, 10).count(), 1);
        assert_eq!(list.range(7, 10).count(), 0);
        assert_eq!(list.index_of(b"c"), Some(3));
        list.check_invariants();
    }

    #[test]
    fn trim_drops_whole_nodes_and_cuts_the_edges() {
        let mut list = list_of(2, &["a", "b", "c", "d", "e", "f", "g"]);
        list.trim(3, 1);
        assert_eq!(items(&list), ["d", "e", "f"]);
        list.trim(0, 10);
        assert!(list.is_empty());
        list.check_invariants();
    }

    #[test]
    fn remove_matching_from_either_end_and_merges() {
        let mut list = list_of(3, &["x", "a", "x", "b", "x", "c", "x"]);
        assert_eq!(list.remove_matching(b"x", 2, End::Back), 2);
        assert_eq!(items(&list), ["x", "a", "x", "b", "c"]);
        assert_eq!(list.remove_matching(b"x", 1, End::Front), 1);
        assert_eq!(items(&list), ["a", "x", "b", "c"]);
        assert_eq!(list.remove_matching(b"x", 0, End::Front), 1);
        assert_eq!(list.remove_matching(b"nope", 0, End::Front), 0);
        assert_eq!(items(&list), ["a", "b", "c"]);
        assert_eq!(list.nodes.len(), 1);
        list.check_invariants();
    }

    #[test]
    fn a_big_element_gets_a_node_of_its_own() {
        let mut list = list_of(-1, &["a", "b"]);
        list.insert(1, &[b'z'; 10_000]);
        list.check_invariants();
        assert_eq!(list.len(), 3);
        assert_eq!(list.get(1).map(<[u8]>::len), Some(10_000));
        assert!(list.set(2, &[b'y'; 5000]));
        list.check_invariants();
        assert_eq!(list.pop(End::Front), Some(b"a".to_vec()));
        assert_eq!(list.pop_with(End::Back, <[u8]>::len), Some(5000));
        list.check_invariants();
    }

    /// Random operations on a list with small nodes and on a `VecDeque`, which must always agree.
    fn model_run(seed: u64, fill: i64, steps: usize) {
        let mut rng = Rng::new(seed);
        let mut list = List::new(fill);
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..steps {
            let size = [0, 1, 3, 10, 200, 1500, 5000][rng.below(7)];
            let data: Vec<u8> = vec![b'a' + (step % 3) as u8; size];
            match rng.below(10) {
                0 | 1 => {
                    let end = if rng.below(2) == 0 { End::Front } else { End::Back };
                    list.push(end, &data);
                    match end {
                        End::Front => model.push_front(data),
                        End::Back => model.push_back(data),
                    }
                }
                2 => assert_eq!(list.pop(End::Front), model.pop_front()),
                3 => assert_eq!(list.pop(End::Back), model.pop_back()),
                4 => {
                    let index = rng.below(model.len() + 1);
                    list.insert(index, &data);
                    model.insert(index, data);
                }
                5 => {
                    let index = rng.below(model.len() + 1);
                    assert_eq!(list.set(index, &data), index < model.len());
                    if let Some(slot) = model.get_mut(index) {
                        *slot = data;
                    }
                }
                6 => {
                    let index = rng.below(model.len() + 1);
                    assert_eq!(list.get(index), model.get(index).map(Vec::as_slice));
                    let count = rng.below(8);
                    assert!(list.range(index, count).eq(model.iter().skip(index).take(count).map(Vec::as_slice)));
                }
                7 if rng.below(4) == 0 => {
                    let (front, back) = (rng.below(4), rng.below(4));
                    list.trim(front, back);
                    model.drain(..front.min(model.len()));
                    model.drain(model.len().saturating_sub(back)..);
                }
                8 => {
                    let limit = rng.below(3);
                    let from = if rng.below(2) == 0 { End::Front } else { End::Back };
                    let removed = list.remove_matching(&data, limit, from);
                    assert_eq!(removed, model_remove(&mut model, &data, limit, from));
                }
                _ => assert_eq!(list.index_of(&data), model.iter().position(|e| *e == data)),
            }
            list.check_invariants();
            assert_eq!(list.len(), model.len());
            assert!(list.iter().eq(model.iter().map(Vec::as_slice)), "seed {seed} step {step}");
            assert!(list.iter().rev().eq(model.iter().rev().map(Vec::as_slice)));
        }
    }

    fn model_remove(model: &mut VecDeque<Vec<u8>>, data: &[u8], limit: usize, from: End) -> usize {
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut indexes: Vec<usize> = (0..model.len()).filter(|&i| model[i] == data).collect();
        if from == End::Back {
            indexes.reverse();
        }
        indexes.truncate(limit);
        indexes.sort_unstable();
        for &index in indexes.iter().rev() {
            model.remove(index);
        }
        indexes.len()
    }

    #[test]
    fn matches_a_deque_with_small_count_limited_nodes() {
        for (seed, fill) in [(1, 1), (2, 2), (3, 3), (4, 5), (5, 0)] {
            model_run(seed, fill, 3000);
        }
    }

    #[test]
    fn matches_a_deque_with_byte_limited_nodes() {
        for (seed, fill) in [(11, -1), (12, -2)] {
            model_run(seed, fill, 3000);
        }
    }

    /// Sets the packed threshold for one test and restores the default when dropped, so a test run on a
    /// reused thread (`--test-threads=1`) starts from the default.
    struct Threshold;

    impl Threshold {
        fn set(bytes: u64) -> Threshold {
            assert!(set_packed_threshold(bytes));
            Threshold
        }
    }

    impl Drop for Threshold {
        fn drop(&mut self) {
            set_packed_threshold(0);
        }
    }

    fn node_lens(list: &List) -> Vec<usize> {
        list.nodes.iter().map(Packed::len).collect()
    }

    #[test]
    fn the_threshold_is_bounded_as_redis_and_zero_restores_it() {
        let _default = Threshold::set(0);
        assert!(!set_packed_threshold((1 << 32) - (1 << 20) + 1));
        assert_eq!(PACKED_THRESHOLD.get(), PACKED_THRESHOLD_DEFAULT);
        assert!(set_packed_threshold(5));
        assert!(is_large(5) && !is_large(4));
        assert!(set_packed_threshold(0));
        assert_eq!(PACKED_THRESHOLD.get(), 1 << 30);
    }

    #[test]
    fn large_elements_get_plain_nodes_that_take_nothing_else() {
        let _threshold = Threshold::set(5);
        let mut list = list_of(-2, &["a", "b", "large", "c", "d"]);
        assert_eq!(node_lens(&list), [2, 1, 2]);
        // Pushing next to a plain node starts a new node; inserting a large element splits a packed one.
        list.push(End::Front, b"first");
        list.insert(4, b"z");
        list.insert(1, b"LARGE");
        assert_eq!(items(&list), ["first", "LARGE", "a", "b", "large", "z", "c", "d"]);
        assert_eq!(node_lens(&list), [1, 1, 2, 1, 3]);
        // LSET in and out of plain nodes.
        assert!(list.set(3, b"bigger"));
        assert!(list.set(4, b"s"));
        assert_eq!(items(&list), ["first", "LARGE", "a", "bigger", "s", "z", "c", "d"]);
        assert_eq!(node_lens(&list), [1, 1, 1, 1, 4]);
        // Removals never merge a plain node into its neighbours.
        list.remove_matching(b"bigger", 0, End::Front);
        assert_eq!(node_lens(&list), [1, 1, 5]);
        list.check_invariants();
    }

    #[test]
    fn matches_a_deque_with_plain_nodes() {
        let _threshold = Threshold::set(200);
        for (seed, fill) in [(21, 3), (22, -1), (23, 1)] {
            model_run(seed, fill, 3000);
        }
    }
}
