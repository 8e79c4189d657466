//! `Packed`: a sequence of byte strings in one allocation, Redis's listpack idea.
//!
//! Small hashes and sets, and every node of a list, keep their elements here instead of one heap object per
//! element: an element costs its bytes plus two or three bytes of framing, where a `Bytes` would cost 32
//! bytes plus its own allocation. Operations scan, so the users keep a `Packed` small (Redis's
//! `*-max-listpack-*` thresholds and list node sizes) and convert to a table past them.
//!
//! Two forms share one entry encoding (the functions at the bottom of this file):
//! - `Packed`, a growable `Vec` with spare capacity and a separate count: the nodes of a list, which are edited
//!   at both ends and walked both ways. One entry is `[len: LEB128][bytes][back: entry size, reversed
//!   LEB128]`. The forward length lets a scan step to the next entry; the back length, read from its last byte
//!   towards the front, lets a scan step to the previous one, so both ends of a list node are O(1).
//! - `Compact`, the resting form of a small hash or set stored directly in a `Value`: one
//!   exact-size `Box<[u8]>` (16 bytes in the value, where a `Box<Packed>` cost a 32-byte allocation more),
//!   entries `[len: LEB128][bytes]` without a back length (hashes and sets only ever scan forwards, so that
//!   byte per entry would be waste), then the entry count as a reversed LEB128 trailer, read from the last
//!   byte. An empty `Compact` allocates nothing. Every edit resizes the buffer to its exact new size: one
//!   `realloc` per write, as Redis's listpack does, and none for a same-size replacement.
//!
//!   A `Compact` slot can instead hold an opaque buffer of its user's own small encoding (a set's intset), so
//!   that a value with two small forms still fits one 16-byte slot: such a buffer ends with a 0 byte, which no
//!   `Compact` ends with (a count of 1 to 127 is its own last byte, a larger one ends with a continuation bit,
//!   and a count of 0 is the empty buffer). The entry methods must not be called on an opaque buffer.
//!
//! A position is the byte offset where an entry starts; `bytes_len()` is the position one past the last entry.

/// Continuation bit of a LEB128 byte.
const MORE: u8 = 0x80;
/// Longest LEB128 encoding of a u64.
const VARINT_LEN_MAX: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packed {
    buf: Vec<u8>,
    /// Number of entries, so LLEN, HLEN and SCARD are O(1).
    count: u32,
}

impl Packed {
    pub fn new() -> Packed {
        Packed::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Encoded size: the position one past the last entry, and the measure node-size limits compare with.
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes held (for memory accounting and OBJECT-style reporting).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The entry starting at `pos` and the position of the next one.
    ///
    /// Panics if `pos` is not an entry start: positions only come from this type's own methods.
    #[inline]
    pub fn entry(&self, pos: usize) -> (&[u8], usize) {
        entry_at(&self.buf, pos, true)
    }

    /// The start of the entry before `pos`, or `None` at the front.
    pub fn prev(&self, pos: usize) -> Option<usize> {
        if pos == 0 {
            return None;
        }
        let (size, at) = read_back_len(&self.buf[..pos]);
        Some(at - size)
    }

    /// Position of the first entry, if any.
    pub fn first(&self) -> Option<usize> {
        (!self.is_empty()).then_some(0)
    }

    /// Position of the last entry, if any.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.buf.len())
    }

    /// The next position after `pos`, or `None` past the last entry.
    pub fn next(&self, pos: usize) -> Option<usize> {
        let (_, next) = self.entry(pos);
        (next < self.buf.len()).then_some(next)
    }

    /// Position of entry number `index` (from the front), scanning from the nearer end.
    pub fn position(&self, index: usize) -> Option<usize> {
        if index >= self.len() {
            return None;
        }
        if index <= self.len() / 2 {
            let mut pos = 0;
            for _ in 0..index {
                pos = self.entry(pos).1;
            }
            Some(pos)
        } else {
            let mut pos = self.buf.len();
            for _ in index..self.len() {
                pos = self.prev(pos)?;
            }
            Some(pos)
        }
    }

    /// Entries front to back.
    pub fn iter(&self) -> Iter<'_> {
        Iter { packed: self, front: 0, back: self.buf.len() }
    }

    /// Entries front to back with their positions.
    pub fn iter_positions(&self) -> Entries<'_> {
        Entries { buf: &self.buf, pos: 0, back_len: true }
    }

    pub fn push_back(&mut self, data: &[u8]) {
        self.insert(self.buf.len(), data);
    }

    pub fn push_front(&mut self, data: &[u8]) {
        self.insert(0, data);
    }

    /// Inserts `data` as a new entry starting at `pos` (an entry start or `bytes_len()`), before what was there.
    pub fn insert(&mut self, pos: usize, data: &[u8]) {
        let mut frame = [0u8; 2 * VARINT_LEN_MAX];
        let (header, trailer) = frame.split_at_mut(VARINT_LEN_MAX);
        let header_len = write_varint(data.len(), header);
        let trailer_len = write_back_len(header_len + data.len(), trailer);
        let size = header_len + data.len() + trailer_len;
        self.reserve(size);
        self.buf.splice(pos..pos, header[..header_len].iter().chain(data).chain(&trailer[..trailer_len]).copied());
        self.count += 1;
    }

    /// Replaces the entry at `pos` with `data`; returns the position after it.
    pub fn replace(&mut self, pos: usize, data: &[u8]) -> usize {
        let (_, end) = self.entry(pos);
        self.remove_span(pos, end, 1);
        self.insert(pos, data);
        self.entry(pos).1
    }

    /// Removes the entry at `pos`; the entry that followed it now starts at `pos`.
    pub fn remove(&mut self, pos: usize) {
        let (_, end) = self.entry(pos);
        self.remove_span(pos, end, 1);
    }

    /// Removes `count` entries starting at `pos`.
    pub fn remove_run(&mut self, pos: usize, count: usize) {
        let mut end = pos;
        for _ in 0..count {
            end = self.entry(end).1;
        }
        self.remove_span(pos, end, count);
    }

    fn remove_span(&mut self, start: usize, end: usize, count: usize) {
        self.buf.drain(start..end);
        self.count -= count as u32;
    }

    /// Grows by at most a quarter beyond what is needed: enough to amortise a run of pushes without
    /// leaving a small collection with twice the memory it uses.
    fn reserve(&mut self, additional: usize) {
        if self.buf.capacity() - self.buf.len() < additional {
            self.buf.reserve_exact(additional.max(self.buf.len() / 4));
        }
    }
}

/// The exact-size boxed form of a small hash or set; see the module docs for its layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compact {
    /// Entries, then the entry count as a reversed LEB128; empty (no allocation) when there are no entries.
    buf: Box<[u8]>,
}

impl Compact {
    /// Number of entries, read from the trailer: O(1).
    pub fn len(&self) -> usize {
        self.count_and_end().0
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The position one past the last entry (where the count trailer starts).
    fn bytes_len(&self) -> usize {
        self.count_and_end().1
    }

    /// The entry count and the position where the trailer starts.
    fn count_and_end(&self) -> (usize, usize) {
        debug_assert!(self.opaque().is_none(), "entry access to an opaque buffer");
        if self.buf.is_empty() { (0, 0) } else { read_back_len(&self.buf) }
    }

    /// Takes `body`, a user's own encoding, as an opaque buffer (see the module docs). `body` should have one
    /// byte of spare capacity for the 0 marker, so that boxing it exactly costs no reallocation.
    pub fn from_opaque(mut body: Vec<u8>) -> Compact {
        body.push(0);
        Compact { buf: body.into_boxed_slice() }
    }

    /// Heap bytes held: the buffer is exact-size, so its length (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The body of an opaque buffer (without its marker), or `None` for entries (or an empty buffer).
    pub fn opaque(&self) -> Option<&[u8]> {
        match self.buf.split_last() {
            Some((0, body)) => Some(body),
            _ => None,
        }
    }

    /// The entry starting at `pos` and the position of the next one (`bytes_len()` after the last).
    ///
    /// Panics if `pos` is not an entry start: positions only come from this type's own methods.
    pub fn entry(&self, pos: usize) -> (&[u8], usize) {
        entry_at(&self.buf, pos, false)
    }

    /// Entries front to back with their positions.
    pub fn iter_positions(&self) -> Entries<'_> {
        Entries { buf: &self.buf[..self.bytes_len()], pos: 0, back_len: false }
    }

    /// Position of entry number `index`, scanning from the front (there are no back lengths to scan from the
    /// back), or `None` past the last entry.
    pub fn position(&self, index: usize) -> Option<usize> {
        self.iter_positions().nth(index).map(|(pos, _)| pos)
    }

    /// Position of the first entry equal to `data`, looking only at every `step`-th entry (2 for the fields
    /// of a hash, whose values sit between them).
    pub fn find(&self, data: &[u8], step: usize) -> Option<usize> {
        self.iter_positions().find_every(data, step)
    }

    /// A `Compact` of the `count` entries `encoded` holds, already in this form's entry encoding (written with
    /// `encode_entry`, a loader's scratch buffer): one exact-size allocation and one copy, where pushing them
    /// one by one would reallocate per entry.
    pub fn from_encoded(encoded: &[u8], count: usize) -> Compact {
        if count == 0 {
            return Compact::default();
        }
        let mut buf = Vec::with_capacity(encoded.len() + varint_len(count));
        buf.extend_from_slice(encoded);
        let end = buf.len();
        buf.resize(end + varint_len(count), 0);
        write_back_len(count, &mut buf[end..]);
        Compact { buf: buf.into_boxed_slice() }
    }

    /// Appends one entry of `data` to `out` in this form's entry encoding (see `from_encoded`).
    pub fn encode_entry(out: &mut Vec<u8>, data: &[u8]) {
        if data.len() < usize::from(MORE) {
            // The usual short entry's one length byte, without the general encoder's buffer and copy.
            out.push(data.len() as u8);
        } else {
            let mut header = [0u8; VARINT_LEN_MAX];
            let n = write_varint(data.len(), &mut header);
            out.extend_from_slice(&header[..n]);
        }
        out.extend_from_slice(data);
    }

    /// Appends `entries` in order, with one reallocation (a hash appends its field and value together).
    pub fn push_back(&mut self, entries: &[&[u8]]) {
        let end = self.bytes_len();
        self.splice(end..end, 0, entries);
    }

    /// Inserts `entries` in order before the entry at `pos`, with one reallocation (a sorted set's member and
    /// score together).
    pub fn insert(&mut self, pos: usize, entries: &[&[u8]]) {
        self.splice(pos..pos, 0, entries);
    }

    /// Replaces the entry at `pos` with `data`; returns the position after it.
    pub fn replace(&mut self, pos: usize, data: &[u8]) -> usize {
        let (_, end) = self.entry(pos);
        self.splice(pos..end, 1, &[data]);
        self.entry(pos).1
    }

    /// Removes `count` entries starting at `pos`; what followed them now starts at `pos`.
    pub fn remove_run(&mut self, pos: usize, count: usize) {
        let mut end = pos;
        for _ in 0..count {
            end = self.entry(end).1;
        }
        self.splice(pos..end, count, &[]);
    }

    /// Replaces the bytes in `range` (holding `removed` whole entries) with `entries`, then rewrites the count
    /// and resizes the buffer to its exact length: `reserve_exact` before growing and `into_boxed_slice` after
    /// shrinking each cost one `realloc`, and a same-size edit costs none.
    fn splice(&mut self, range: std::ops::Range<usize>, removed: usize, entries: &[&[u8]]) {
        let (count, end) = self.count_and_end();
        let count = count - removed + entries.len();
        if count == 0 {
            self.buf = Box::default();
            return;
        }
        let added: usize = entries.iter().map(|data| varint_len(data.len()) + data.len()).sum();
        let tail_at = range.start + added;
        let entries_end = tail_at + (end - range.end);
        let total = entries_end + varint_len(count);
        let mut buf = Vec::from(std::mem::take(&mut self.buf));
        if total > buf.len() {
            buf.reserve_exact(total - buf.len());
            buf.resize(total, 0);
        }
        buf.copy_within(range.end..end, tail_at);
        let mut at = range.start;
        for data in entries {
            at += write_varint(data.len(), &mut buf[at..]);
            buf[at..at + data.len()].copy_from_slice(data);
            at += data.len();
        }
        write_back_len(count, &mut buf[entries_end..]);
        buf.truncate(total);
        self.buf = buf.into_boxed_slice();
    }
}

/// Forward iterator over the entries of either form, with their positions.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    /// The entries, without a `Compact`'s count trailer.
    buf: &'a [u8],
    /// Start of the next entry.
    pos: usize,
    /// Whether entries carry a back length (`Packed`) or not (`Compact`).
    back_len: bool,
}

impl<'a> Entries<'a> {
    /// Position of the first remaining entry equal to `data` among every `step`-th one.
    fn find_every(self, data: &[u8], step: usize) -> Option<usize> {
        self.step_by(step).find(|(_, entry)| *entry == data).map(|(pos, _)| pos)
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (data, next) = entry_at(self.buf, self.pos, self.back_len);
        let item = (self.pos, data);
        self.pos = next;
        Some(item)
    }
}

/// Double-ended iterator over a `Packed`'s entries.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    packed: &'a Packed,
    /// Next entry from the front.
    front: usize,
    /// One past the next entry from the back.
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (data, next) = self.packed.entry(self.front);
        self.front = next;
        Some(data)
    }
}

impl DoubleEndedIterator for Iter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let pos = self.packed.prev(self.back)?;
        self.back = pos;
        Some(self.packed.entry(pos).0)
    }
}

/// The entry starting at `pos` in `buf` and the position of the next one; `back_len` says whether entries end
/// with a back length (`Packed`) or not (`Compact`).
#[inline]
fn entry_at(buf: &[u8], pos: usize, back_len: bool) -> (&[u8], usize) {
    let (len, header) = read_varint(&buf[pos..]);
    let start = pos + header;
    let end = start + len;
    let next = if back_len { end + varint_len(header + len) } else { end };
    (&buf[start..end], next)
}

pub(super) fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

pub(super) fn write_varint(mut n: usize, out: &mut [u8]) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8 & !MORE) | MORE;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
    i + 1
}

/// The back length: LEB128 groups in reverse byte order, so the lowest group is the entry's last byte and
/// a reader walking backwards meets the groups in order.
pub(super) fn write_back_len(n: usize, out: &mut [u8]) -> usize {
    let len = write_varint(n, out);
    out[..len].reverse();
    len
}

/// Reads the reversed LEB128 that ends `bytes` (a `Packed` entry's back length, a `Compact`'s count): its value
/// and the position where it starts.
pub(super) fn read_back_len(bytes: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut at = bytes.len();
    loop {
        at -= 1;
        let byte = bytes[at];
        n |= usize::from(byte & !MORE) << shift;
        shift += 7;
        if byte & MORE == 0 {
            return (n, at);
        }
    }
}

pub(super) fn read_varint(bytes: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    for (i, &byte) in bytes.iter().enumerate() {
        n |= usize::from(byte & !MORE) << (7 * i);
        if byte & MORE == 0 {
            return (n, i + 1);
        }
    }
    unreachable!("a packed entry's length runs past the buffer")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;
    use std::collections::VecDeque;

    fn entry_of(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
    }

    fn assert_same(packed: &Packed, model: &VecDeque<Vec<u8>>) {
        assert_eq!(packed.len(), model.len());
        assert!(packed.iter().eq(model.iter().map(Vec::as_slice)));
        assert!(packed.iter().rev().eq(model.iter().rev().map(Vec::as_slice)));
        for (index, expected) in model.iter().enumerate() {
            let pos = packed.position(index).expect("index in range");
            assert_eq!(packed.entry(pos).0, expected.as_slice());
        }
        assert_eq!(packed.position(model.len()), None);
    }

    #[test]
    fn lengths_across_varint_boundaries_round_trip_both_ways() {
        let mut packed = Packed::new();
        let mut model = VecDeque::new();
        for len in [0, 1, 125, 126, 127, 128, 129, 16_381, 16_382, 16_383, 16_384, 70_000] {
            let data = entry_of(len, len as u8);
            packed.push_back(&data);
            model.push_back(data);
        }
        assert_same(&packed, &model);
    }

    #[test]
    fn matches_a_deque_under_random_edits() {
        let mut rng = Rng::new(7);
        let mut packed = Packed::new();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..4000 {
            let data = entry_of([0, 3, 20, 130, 300][rng.below(5)], step as u8);
            match rng.below(7) {
                0 => {
                    packed.push_front(&data);
                    model.push_front(data);
                }
                1 => {
                    packed.push_back(&data);
                    model.push_back(data);
                }
                2 if !model.is_empty() => {
                    let index = rng.below(model.len());
                    packed.remove(packed.position(index).unwrap());
                    model.remove(index);
                }
                3 if !model.is_empty() => {
                    let index = rng.below(model.len());
                    packed.replace(packed.position(index).unwrap(), &data);
                    model[index] = data;
                }
                4 => {
                    let index = rng.below(model.len() + 1);
                    let pos = packed.position(index).unwrap_or(packed.bytes_len());
                    packed.insert(pos, &data);
                    model.insert(index, data);
                }
                5 if model.len() > 2 => {
                    let index = rng.below(model.len() - 1);
                    let count = 1 + rng.below(model.len() - index);
                    packed.remove_run(packed.position(index).unwrap(), count);
                    model.drain(index..index + count);
                }
                _ => {}
            }
            assert_same(&packed, &model);
        }
    }

    fn assert_compact_same(compact: &Compact, model: &[Vec<u8>]) {
        assert_eq!(compact.len(), model.len());
        assert_eq!(compact.is_empty(), model.is_empty());
        assert!(compact.iter_positions().map(|(_, entry)| entry).eq(model.iter().map(Vec::as_slice)));
        for ((pos, _), expected) in compact.iter_positions().zip(model) {
            assert_eq!(compact.entry(pos).0, expected.as_slice());
        }
        // Exact size: the entries (length byte(s) and bytes, no back length) plus the count trailer.
        let entries_len: usize = model.iter().map(|e| varint_len(e.len()) + e.len()).sum();
        let trailer_len = if model.is_empty() { 0 } else { varint_len(model.len()) };
        assert_eq!(compact.buf.len(), entries_len + trailer_len);
    }

    #[test]
    fn compact_matches_a_vec_under_random_edits() {
        let mut rng = Rng::new(11);
        let mut compact = Compact::default();
        let mut model: Vec<Vec<u8>> = Vec::new();
        // Lengths cross the one-byte varint boundary, and the count crosses it too (up to ~200 entries).
        for step in 0..6000 {
            let data = entry_of([0, 3, 20, 127, 128, 300][rng.below(6)], step as u8);
            match rng.below(6) {
                0 | 1 if model.len() < 200 => {
                    let other = entry_of(rng.below(4), 1);
                    compact.push_back(&[&data, &other]);
                    model.push(data);
                    model.push(other);
                }
                2 if !model.is_empty() => {
                    let index = rng.below(model.len());
                    let count = 1 + rng.below((model.len() - index).min(3));
                    compact.remove_run(compact.position(index).unwrap(), count);
                    model.drain(index..index + count);
                }
                3 if !model.is_empty() => {
                    let index = rng.below(model.len());
                    let next = compact.replace(compact.position(index).unwrap(), &data);
                    assert_eq!(next, compact.position(index + 1).unwrap_or(compact.bytes_len()));
                    model[index] = data;
                }
                4 if !model.is_empty() => {
                    let index = 2 * rng.below(model.len().div_ceil(2));
                    assert_eq!(
                        compact.find(&model[index], 2),
                        model
                            .iter()
                            .step_by(2)
                            .position(|e| *e == model[index])
                            .map(|i| compact.position(2 * i).unwrap())
                    );
                }
                _ => {}
            }
            assert_compact_same(&compact, &model);
        }
    }

    #[test]
    fn an_empty_compact_allocates_nothing_and_a_small_entry_costs_its_bytes_plus_one() {
        let mut compact = Compact::default();
        assert_eq!(compact.buf.len(), 0);
        compact.push_back(&[b"field", b"value"]);
        assert_eq!(compact.buf.len(), 6 + 6 + 1);
        compact.remove_run(0, 2);
        assert!(compact.is_empty());
        assert_eq!(compact.buf.len(), 0);
    }

    #[test]
    fn an_opaque_buffer_is_told_apart_from_entries() {
        assert_eq!(Compact::default().opaque(), None);
        let opaque = Compact::from_opaque(vec![1, 2, 8]);
        assert_eq!(opaque.opaque(), Some(&[1, 2, 8][..]));
        assert!(!opaque.is_empty());
        // Entries never end with 0, whatever their count (one byte below 128, a continuation bit above).
        let mut compact = Compact::default();
        for n in 0..300u32 {
            compact.push_back(&[&n.to_le_bytes()[..1]]);
            assert_eq!(compact.opaque(), None, "{} entries", n + 1);
        }
    }

    #[test]
    fn a_small_entry_costs_its_bytes_plus_two() {
        let mut packed = Packed::new();
        packed.push_back(b"field");
        assert_eq!(packed.bytes_len(), 7);
        assert_eq!(packed.last(), Some(0));
        assert_eq!(packed.next(0), None);
    }
}
