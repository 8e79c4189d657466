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
//! element gets a node of its own, as Redis's "plain" nodes). Nodes are merged when a removal in the
//! middle leaves neighbours that fit together, so deletions cannot leave a trail of tiny nodes.

use super::packed::Packed;
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

    /// `count` elements from index `start`, front to back, borrowed from the nodes (LRANGE).
    pub fn range(&self, start: usize, count: usize) -> impl Iterator<Item = &[u8]> {
        let (node, offset) = self.locate(start).unwrap_or((self.nodes.len(), 0));
        self.nodes.range(node..).flat_map(Packed::iter).skip(offset).take(count)
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
            Some(node) if limit.has_room(node, data.len()) => match end {
                End::Front => node.push_front(data),
                End::Back => node.push_back(data),
            },
            _ => {
                let mut node = Packed::new();
                node.push_back(data);
                match end {
                    End::Front => self.nodes.push_front(node),
                    End::Back => self.nodes.push_back(node),
                }
            }
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
        if offset == 0 && self.limit.has_room(&self.nodes[node - 1], data.len()) {
            self.nodes[node - 1].push_back(data);
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

    /// Splits node `node` into as many nodes as it takes for each to fit the limit.
    fn split_to_fit(&mut self, mut node: usize) {
        while !self.limit.fits_node(&self.nodes[node]) {
            let packed = &mut self.nodes[node];
            // The longest prefix that fits (at least one entry): the prefix of k entries ends where entry k
            // starts.
            let (keep, keep_end) = packed
                .iter_positions()
                .enumerate()
                .skip(1)
                .take_while(|&(count, (pos, _))| self.limit.fits(count, pos))
                .last()
                .map_or_else(|| (1, packed.entry(0).1), |(count, (pos, _))| (count, pos));
            let mut tail = Packed::new();
            for entry in packed.iter().skip(keep) {
                tail.push_back(entry);
            }
            packed.remove_run(keep_end, packed.len() - keep);
            node += 1;
            self.nodes.insert(node, tail);
        }
    }

    /// Merges every run of adjacent nodes that fit together, after removals in the middle.
    fn merge_neighbours(&mut self) {
        let mut node = 0;
        while node + 1 < self.nodes.len() {
            let (a, b) = (&self.nodes[node], &self.nodes[node + 1]);
            if self.limit.fits(a.len() + b.len(), a.bytes_len() + b.bytes_len()) {
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
        }
    }
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
}
