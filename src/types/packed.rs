//! `Packed`: a sequence of byte strings in one allocation, Redis's listpack idea.
//!
//! Small hashes and sets, and every node of a list, keep their elements here instead of one heap object per
//! element: an element costs its bytes plus two or three bytes of framing, where a `Bytes` would cost 32
//! bytes plus its own allocation. Operations scan, so the users keep a `Packed` small (Redis's
//! `*-max-listpack-*` thresholds and list node sizes) and convert to a table past them.
//!
//! Layout of one entry: `[len: LEB128][bytes][back: entry size, reversed LEB128]`. The forward length lets a
//! scan step to the next entry; the back length, read from its last byte towards the front, lets a scan
//! step to the previous one, so both ends of a list node are O(1). A position is the byte offset where an
//! entry starts; `bytes_len()` is the position one past the last entry.

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
    pub fn entry(&self, pos: usize) -> (&[u8], usize) {
        let (len, header) = read_varint(&self.buf[pos..]);
        let start = pos + header;
        let end = start + len;
        (&self.buf[start..end], end + varint_len(header + len))
    }

    /// The start of the entry before `pos`, or `None` at the front.
    pub fn prev(&self, pos: usize) -> Option<usize> {
        if pos == 0 {
            return None;
        }
        let mut size = 0usize;
        let mut shift = 0;
        let mut at = pos;
        loop {
            at -= 1;
            let byte = self.buf[at];
            size |= usize::from(byte & !MORE) << shift;
            shift += 7;
            if byte & MORE == 0 {
                break;
            }
        }
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
    pub fn iter_positions(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let (data, next) = self.entry(pos);
            let item = (pos, data);
            pos = next;
            Some(item)
        })
    }

    /// Position of the first entry equal to `data`, looking only at every `step`-th entry (2 for the fields
    /// of a hash, whose values sit between them).
    pub fn find(&self, data: &[u8], step: usize) -> Option<usize> {
        self.iter_positions().step_by(step).find(|(_, entry)| *entry == data).map(|(pos, _)| pos)
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

    /// Drops the spare capacity `reserve` keeps, for a buffer that is done growing for now (a hash after one
    /// HSET): a small collection then costs its bytes, as a Redis listpack does.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
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
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let pos = self.packed.prev(self.back)?;
        self.back = pos;
        Some(self.packed.entry(pos).0)
    }
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn write_varint(mut n: usize, out: &mut [u8]) -> usize {
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
fn write_back_len(n: usize, out: &mut [u8]) -> usize {
    let len = write_varint(n, out);
    out[..len].reverse();
    len
}

fn read_varint(bytes: &[u8]) -> (usize, usize) {
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

    #[test]
    fn find_with_a_step_skips_values() {
        let mut packed = Packed::new();
        for entry in [&b"f1"[..], b"v", b"v", b"f1"] {
            packed.push_back(entry);
        }
        assert_eq!(packed.find(b"v", 2), Some(packed.position(2).unwrap()));
        assert_eq!(packed.find(b"f1", 2), Some(0));
        assert_eq!(packed.find(b"nope", 1), None);
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
