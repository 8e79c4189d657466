//! LZF, the compression Redis's RDB uses for strings and listpack blobs (Redis's bundled liblzf): the same
//! byte format, so either side decompresses the other's output. The compressor is a small greedy one
//! (a hash table of 3-byte prefixes, as liblzf's); its output need not equal liblzf's byte for byte, only
//! decode to the same input.
//!
//! Format: a control byte `c`. `c < 32`: `c + 1` literal bytes follow. Otherwise a back reference: length
//! `c >> 5` (7 means "add the next byte"), plus 2; offset `((c & 31) << 8) + next byte + 1` back from the end
//! of the output so far.

/// Longest back reference: 2 + 7 + 255.
const MATCH_LEN_MAX: usize = 264;
/// Back references reach at most this far (13 offset bits).
const OFFSET_MAX: usize = 1 << 13;
/// Longest literal run one control byte announces.
const LITERAL_RUN_MAX: usize = 32;
/// liblzf's HLOG as Redis builds it: a 64 K-slot table.
const HASH_BITS: u32 = 16;

/// The hash table, kept between calls (a fresh 64 K-slot table per string would cost more than compressing a
/// short one). A slot holds `generation << 32 | position`; a slot of an older generation counts as empty, so
/// a call starts with an empty table without clearing it.
struct Table {
    slots: Vec<u64>,
    generation: u32,
}

thread_local! {
    static TABLE: std::cell::RefCell<Table> = const { std::cell::RefCell::new(Table { slots: Vec::new(), generation: 0 }) };
}

impl Table {
    /// Starts a new call: a new generation (clearing the slots when the counter wraps).
    fn begin(&mut self) {
        if self.slots.is_empty() {
            self.slots = vec![0; 1 << HASH_BITS];
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.fill(0);
            self.generation = 1;
        }
    }

    /// Stores `pos` in `slot` and returns the position it held in this call, if any.
    fn replace(&mut self, slot: usize, pos: usize) -> Option<usize> {
        let old = std::mem::replace(&mut self.slots[slot], u64::from(self.generation) << 32 | pos as u64);
        ((old >> 32) as u32 == self.generation).then_some((old & u64::from(u32::MAX)) as usize)
    }
}

/// liblzf's IDX for its VERY_FAST mode: `h` holds the last bytes read, shifted in one per position.
fn slot(h: u32) -> usize {
    ((h >> (24 - HASH_BITS)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HASH_BITS) - 1)) as usize
}

/// Compresses `input` into at most `out_max` bytes, or `None` if it does not fit (Redis passes `len - 4`,
/// asking for at least 4 bytes saved). The same decisions as Redis's lzf_compress (liblzf 3.6 with HLOG 16
/// and VERY_FAST), so the bytes are Redis's and a DUMP payload is byte-identical: the same hash of the
/// last bytes, the same match rules (a reference never at offset 0 of the input), the same greedy extension, the same two positions rehashed after a match, and the same
/// output bounds checks.
pub fn compress(input: &[u8], out_max: usize) -> Option<Vec<u8>> {
    // Positions are kept in 32 bits; no string Redis compresses is longer (proto-max-bulk-len is 512 MB).
    if input.len() < 2 || out_max == 0 || input.len() > u32::MAX as usize {
        return None;
    }
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        table.begin();
        compress_with(input, out_max, &mut table)
    })
}

fn compress_with(input: &[u8], out_max: usize, table: &mut Table) -> Option<Vec<u8>> {
    let len = input.len();
    let mut out = vec![0u8; out_max + 1];
    // `op` is where the next byte goes; the byte before a literal run is its control byte.
    let (mut op, mut lit) = (1usize, 0usize);
    let mut ip = 0usize;
    let mut h = u32::from(input[0]) << 8 | u32::from(input[1]);
    while ip + 2 < len {
        h = h << 8 | u32::from(input[ip + 2]);
        let candidate = table.replace(slot(h), ip);
        let matched = candidate.is_some_and(|candidate| {
            ip - candidate - 1 < OFFSET_MAX && candidate > 0 && input[candidate..candidate + 3] == input[ip..ip + 3]
        });
        let candidate = candidate.unwrap_or(0);
        if !matched {
            if op >= out_max {
                return None;
            }
            out[op] = input[ip];
            (op, lit, ip) = (op + 1, lit + 1, ip + 1);
            if lit == LITERAL_RUN_MAX {
                out[op - lit - 1] = (lit - 1) as u8;
                (lit, op) = (0, op + 1);
            }
            continue;
        }
        let offset = ip - candidate - 1;
        out[op - lit - 1] = (lit as u8).wrapping_sub(1);
        op -= usize::from(lit == 0);
        if op + 4 >= out_max {
            return None;
        }
        let matched_len = match_len(input, candidate, ip, (len - ip - 2).min(MATCH_LEN_MAX));
        let code = matched_len - 2;
        ip += 1;
        if code < 7 {
            out[op] = ((offset >> 8) + (code << 5)) as u8;
            op += 1;
        } else {
            out[op] = ((offset >> 8) + (7 << 5)) as u8;
            out[op + 1] = (code - 7) as u8;
            op += 2;
        }
        out[op] = offset as u8;
        (op, lit) = (op + 2, 0);
        ip += code + 1;
        if ip + 2 >= len {
            break;
        }
        // VERY_FAST: hash the last two positions of the match, so the next one can start right after it.
        ip -= 2;
        h = u32::from(input[ip]) << 8 | u32::from(input[ip + 1]);
        for _ in 0..2 {
            h = h << 8 | u32::from(input[ip + 2]);
            table.replace(slot(h), ip);
            ip += 1;
        }
    }
    if op + 3 > out_max {
        return None;
    }
    while ip < len {
        out[op] = input[ip];
        (op, lit, ip) = (op + 1, lit + 1, ip + 1);
        if lit == LITERAL_RUN_MAX {
            out[op - lit - 1] = (lit - 1) as u8;
            (lit, op) = (0, op + 1);
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// How many bytes from `ip` repeat those from `candidate` (3 are known to), extended as liblzf does: 16
/// unchecked-against-`max` steps first when `max` > 16, then up to `max`.
fn match_len(input: &[u8], candidate: usize, ip: usize, max: usize) -> usize {
    let mut n = 2;
    if max > 16 {
        for _ in 0..16 {
            n += 1;
            if input[candidate + n] != input[ip + n] {
                return n;
            }
        }
    }
    loop {
        n += 1;
        if !(n < max && input[candidate + n] == input[ip + n]) {
            return n;
        }
    }
}

/// Decompresses `input` into exactly `len` bytes; `None` if the data is malformed (a reference before the
/// start, a run past either end) or does not produce exactly `len` bytes.
pub fn decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    decompress_into(input, len, &mut out).then_some(out)
}

/// `decompress` into `out` (cleared first), so a loader reuses one buffer for every blob; false if `input` is
/// not LZF data of exactly `len` bytes (which callers bound by the compressed length).
pub fn decompress_into(input: &[u8], len: usize, out: &mut Vec<u8>) -> bool {
    out.clear();
    decompress_append(input, len, out)
}

/// `decompress_into` that appends to what `out` holds.
pub fn decompress_append(input: &[u8], len: usize, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    out.resize(start + len, 0);
    lzf_into(input, &mut out[start..]).is_some()
}

/// Bytes a literal run or a reference copies at once when there is room, writing past its end: the bytes
/// past it are rewritten by what follows before anything reads them (everything before the write position is
/// final). One fixed-size copy instead of a `memmove` call per run: runs and references are a few bytes each,
/// and calling `memmove` for each took as long as the rest of a hash's load.
const CHUNK: usize = 8;

/// Decodes `input` into exactly `out.len()` bytes.
fn lzf_into(input: &[u8], out: &mut [u8]) -> Option<()> {
    let len = out.len();
    let (mut ip, mut op) = (0, 0);
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < LITERAL_RUN_MAX {
            let run = ctrl + 1;
            if ip + run > input.len() || op + run > len {
                return None;
            }
            if ip + LITERAL_RUN_MAX <= input.len() && op + LITERAL_RUN_MAX <= len {
                out[op..op + LITERAL_RUN_MAX].copy_from_slice(&input[ip..ip + LITERAL_RUN_MAX]);
            } else {
                out[op..op + run].copy_from_slice(&input[ip..ip + run]);
            }
            ip += run;
            op += run;
            continue;
        }
        let mut ref_len = ctrl >> 5;
        if ref_len == 7 {
            ref_len += usize::from(*input.get(ip)?);
            ip += 1;
        }
        ref_len += 2;
        let offset = ((ctrl & 31) << 8) + usize::from(*input.get(ip)?) + 1;
        ip += 1;
        if offset > op || op + ref_len > len {
            return None;
        }
        let end = op + ref_len;
        let mut from = op - offset;
        if offset >= CHUNK && op + ref_len.next_multiple_of(CHUNK) <= len {
            // Each chunk reads at least CHUNK bytes behind where it writes: only final bytes.
            while op < end {
                out.copy_within(from..from + CHUNK, op);
                from += CHUNK;
                op += CHUNK;
            }
            op = end;
        } else {
            // Close or overlapping (a run of the bytes it produces): byte by byte.
            while op < end {
                out[op] = out[from];
                from += 1;
                op += 1;
            }
        }
    }
    (op == len).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    fn round_trip(input: &[u8]) {
        let packed = compress(input, input.len() + input.len() / 16 + 64).expect("compressible within bound");
        assert_eq!(decompress(&packed, input.len()).as_deref(), Some(input));
    }

    #[test]
    fn round_trips() {
        round_trip(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        round_trip(&b"hello world, ".repeat(1000));
        let mut rng = Rng::new(7);
        for len in [4, 5, 31, 32, 33, 100, 5000, 70_000] {
            let text: Vec<u8> = (0..len).map(|_| b"abcd"[rng.below(4)]).collect();
            round_trip(&text);
            let noise: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            round_trip(&noise);
        }
        // Repeated words at every distance and length, so references of each size end at every spot near the
        // end of the output (where the chunked copies must not write past it).
        for len in 4..400 {
            let words: [&[u8]; 4] = [b"field:", b"v12", b"a-longer-word-here", b"x"];
            let text: Vec<u8> = (0..).flat_map(|_| words[rng.below(4)].iter().copied()).take(len).collect();
            round_trip(&text);
        }
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert_eq!(compress(b"abc", 100), Some(vec![2, b'a', b'b', b'c']));
        assert_eq!(compress(b"abcdefgh", 4), None);
        let packed = compress(&[b'x'; 100], 96).unwrap();
        assert!(packed.len() < 10);
        assert_eq!(decompress(&packed, 99), None);
        assert_eq!(decompress(&packed, 101), None);
    }

    #[test]
    fn malformed_input_is_refused() {
        assert_eq!(decompress(&[0x20, 0x00], 3), None, "reference before the start");
        assert_eq!(decompress(&[0x05, b'a'], 6), None, "literal past the input");
        assert_eq!(decompress(&[0xe0], 9), None, "missing length byte");
    }
}
