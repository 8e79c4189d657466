//! Redis's listpack byte format (listpack.c), as RDB blobs carry it: `Writer` builds one the way Redis does
//! (integers in the smallest integer encoding, strings by length), `entries` walks one and checks every
//! bound, so a corrupt blob is an error, never a panic or an out-of-bounds read.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown), entries, 0xFF. An entry is its
//! encoding byte(s), its data, and a back length (1 to 5 bytes, 7 bits each) of encoding + data.

use super::Element;

const HEADER_BYTES: usize = 6;
const EOF: u8 = 0xFF;
/// The count field's value when the count does not fit.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// Builds a listpack.
#[derive(Debug)]
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer { buf: vec![0; HEADER_BYTES], count: 0 }
    }
}

impl Writer {
    /// Appends `data`, stored as an integer when it is one in canonical form (as lpAppend does).
    pub fn push(&mut self, data: &[u8]) {
        match crate::util::num::parse_i64(data) {
            Some(n) if data.len() <= 20 => self.push_int(n),
            _ => self.push_str(data),
        }
    }

    pub fn push_int(&mut self, n: i64) {
        let start = self.buf.len();
        match n {
            0..=127 => self.buf.push(n as u8),
            -4096..=4095 => {
                let v = (n as u64) & 0x1FFF;
                self.buf.extend_from_slice(&[0xC0 | (v >> 8) as u8, v as u8]);
            }
            -32768..=32767 => self.push_tagged(0xF1, n, 2),
            -8_388_608..=8_388_607 => self.push_tagged(0xF2, n, 3),
            -2_147_483_648..=2_147_483_647 => self.push_tagged(0xF3, n, 4),
            _ => self.push_tagged(0xF4, n, 8),
        }
        self.finish_entry(start);
    }

    fn push_tagged(&mut self, tag: u8, n: i64, bytes: usize) {
        self.buf.push(tag);
        self.buf.extend_from_slice(&n.to_le_bytes()[..bytes]);
    }

    pub fn push_str(&mut self, data: &[u8]) {
        let start = self.buf.len();
        let len = data.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.extend_from_slice(&[0xE0 | (len >> 8) as u8, len as u8]);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(data);
        self.finish_entry(start);
    }

    pub fn push_element(&mut self, element: Element<'_>) {
        match element {
            Element::Int(n) => self.push_int(n),
            Element::Bytes(b) => self.push_str(b),
        }
    }

    fn finish_entry(&mut self, start: usize) {
        let len = (self.buf.len() - start) as u64;
        let mut back = [0u8; 5];
        let n = encode_backlen(len, &mut back);
        self.buf.extend_from_slice(&back[..n]);
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(COUNT_UNKNOWN);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// The bytes `push_int(n)` adds: encoding and data, then the back length (lpEncodeIntegerGetType's widths).
pub fn int_bytes(n: i64) -> usize {
    let encoded = match n {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    encoded + 1
}

/// The bytes `push(data)` adds: as an integer when `data` is one in canonical form, else as a string with
/// its 1, 2 or 5 bytes of encoding, then the back length.
pub fn element_bytes(data: &[u8]) -> usize {
    match crate::util::num::parse_i64(data) {
        Some(n) if data.len() <= 20 => int_bytes(n),
        _ => {
            let len = data.len();
            let encoded = len
                + if len < 64 {
                    1
                } else if len < 4096 {
                    2
                } else {
                    5
                };
            let mut back = [0u8; 5];
            encoded + encode_backlen(encoded as u64, &mut back)
        }
    }
}

/// Bytes of an empty listpack: the header and the terminator.
pub const EMPTY_BYTES: usize = HEADER_BYTES + 1;

/// lpEncodeBacklen: the entry length in 7-bit groups, most significant first, every byte but the first
/// with its high bit set (the listpack is read backwards from the last byte).
fn encode_backlen(len: u64, buf: &mut [u8; 5]) -> usize {
    let n = match len {
        0..=127 => 1,
        128..16_383 => 2,
        16_383..2_097_151 => 3,
        2_097_151..268_435_455 => 4,
        _ => 5,
    };
    for (i, byte) in buf[..n].iter_mut().enumerate() {
        let shift = 7 * (n - 1 - i);
        *byte = ((len >> shift) & 127) as u8 | if i == 0 { 0 } else { 128 };
    }
    n
}

/// Calls `f` for each element of the listpack `lp`, in order; returns the element count, or a description
/// of the first problem (header length, an entry past the end, a missing terminator, a count that disagrees
/// with the header, and with `deep` a bad back length: the walk steps over back lengths without reading them,
/// as Redis's shallow check does, and `sanitize-dump-payload` asks for the deep one).
pub fn entries<'a>(
    lp: &'a [u8],
    deep: bool,
    mut f: impl FnMut(Element<'a>) -> Result<(), String>,
) -> Result<usize, String> {
    if lp.len() < HEADER_BYTES + 1 {
        return Err("listpack shorter than its header".into());
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return Err(format!("listpack header says {} bytes, blob has {}", total, lp.len()));
    }
    let header_count = u16::from_le_bytes([lp[4], lp[5]]);
    let mut pos = HEADER_BYTES;
    let mut count = 0usize;
    loop {
        let Some(&first) = lp.get(pos) else { return Err("listpack without terminator".into()) };
        if first == EOF {
            break;
        }
        let (element, entry_len) = entry_at(lp, pos)?;
        let mut back = [0u8; 5];
        let back_len = encode_backlen(entry_len as u64, &mut back);
        let after = pos + entry_len;
        // Byte by byte: a slice comparison would call memcmp for these 1 to 5 bytes, per entry.
        let stored = lp.get(after..after + back_len).unwrap_or_default();
        if stored.len() != back_len || deep && stored.iter().zip(&back).any(|(a, b)| a != b) {
            return Err(format!("listpack entry at {pos}: bad back length"));
        }
        f(element)?;
        count += 1;
        pos = after + back_len;
    }
    if pos + 1 != lp.len() {
        return Err("listpack has bytes after its terminator".into());
    }
    if header_count != COUNT_UNKNOWN && usize::from(header_count) != count {
        return Err(format!("listpack header says {header_count} entries, found {count}"));
    }
    Ok(count)
}

/// The element at `pos` and the length of its encoding + data.
fn entry_at(lp: &[u8], pos: usize) -> Result<(Element<'_>, usize), String> {
    let past_end = || format!("listpack entry at {pos} runs past the end");
    let bytes = |from: usize, len: usize| lp.get(from..from + len).ok_or_else(past_end);
    let first = lp[pos];
    let int_of = |from: usize, len: usize| -> Result<i64, String> {
        let raw = bytes(from, len)?;
        let mut le = [0u8; 8];
        le[..len].copy_from_slice(raw);
        let shift = 64 - 8 * len as u32;
        Ok((i64::from_le_bytes(le) << shift) >> shift)
    };
    Ok(match first {
        0x00..=0x7F => (Element::Int(i64::from(first)), 1),
        0x80..=0xBF => {
            let len = usize::from(first & 0x3F);
            (Element::Bytes(bytes(pos + 1, len)?), 1 + len)
        }
        0xC0..=0xDF => {
            let low = *bytes(pos + 1, 1)?.first().unwrap_or(&0);
            let v = (i64::from(first & 0x1F) << 8) | i64::from(low);
            (Element::Int((v << 51) >> 51), 2)
        }
        0xE0..=0xEF => {
            let low = *bytes(pos + 1, 1)?.first().unwrap_or(&0);
            let len = (usize::from(first & 0x0F) << 8) | usize::from(low);
            (Element::Bytes(bytes(pos + 2, len)?), 2 + len)
        }
        0xF0 => {
            let raw = bytes(pos + 1, 4)?;
            let len = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
            (Element::Bytes(bytes(pos + 5, len)?), 5 + len)
        }
        0xF1 => (Element::Int(int_of(pos + 1, 2)?), 3),
        0xF2 => (Element::Int(int_of(pos + 1, 3)?), 4),
        0xF3 => (Element::Int(int_of(pos + 1, 4)?), 5),
        0xF4 => (Element::Int(int_of(pos + 1, 8)?), 9),
        _ => return Err(format!("listpack entry at {pos}: unknown encoding {first:#04x}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(lp: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let mut out = Vec::new();
        entries(lp, true, |e| {
            out.push(e.with_bytes(<[u8]>::to_vec));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn round_trips_every_encoding() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let values: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "4096",
            "-32768",
            "32767",
            "8388607",
            "-8388608",
            "2147483647",
            "-2147483648",
            "9223372036854775807",
            "-9223372036854775808",
            "",
            "abc",
            "007",
            "9223372036854775808",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([long, mid])
        .collect();
        let mut w = Writer::default();
        for v in &values {
            w.push(v);
        }
        let lp = w.finish();
        assert_eq!(collect(&lp).unwrap(), values);
    }

    #[test]
    fn matches_redis_bytes() {
        // What Redis 7.0 writes for RPUSH l a 1 (its DUMP payload's listpack).
        let mut w = Writer::default();
        w.push(b"a");
        w.push(b"1");
        assert_eq!(w.finish(), [0x0c, 0, 0, 0, 2, 0, 0x81, b'a', 2, 0x01, 1, 0xff]);
    }

    #[test]
    fn corruption_is_an_error() {
        let mut w = Writer::default();
        w.push(b"hello");
        w.push(b"12345");
        let lp = w.finish();
        for cut in 0..lp.len() {
            assert!(collect(&lp[..cut]).is_err());
        }
        for i in 0..lp.len() {
            for b in [0u8, 0x7f, 0xf0, 0xff] {
                let mut bad = lp.clone();
                bad[i] = b;
                let _ = collect(&bad);
            }
        }
    }
}
