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
/// Farthest back reference: 13 offset bits.
const OFFSET_MAX: usize = 1 << 13;
/// Longest literal run one control byte announces.
const LITERAL_RUN_MAX: usize = 32;
const HASH_BITS: u32 = 14;

/// Compresses `input`; `None` if the output would exceed `out_max` bytes (Redis asks for at least 4 bytes
/// saved, so it passes `len - 4`), or if `input` is shorter than 4 bytes.
pub fn compress(input: &[u8], out_max: usize) -> Option<Vec<u8>> {
    if input.len() < 4 {
        return None;
    }
    let mut out = Vec::with_capacity(out_max.min(input.len()) + 1);
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut literal_start = 0;
    let mut ip = 0;
    while ip + 2 < input.len() {
        let slot = hash3(&input[ip..ip + 3]);
        let candidate = std::mem::replace(&mut table[slot], ip);
        let matched = candidate != usize::MAX
            && ip - candidate <= OFFSET_MAX
            && input[candidate..candidate + 3] == input[ip..ip + 3];
        if !matched {
            ip += 1;
            continue;
        }
        let limit = (input.len() - ip).min(MATCH_LEN_MAX);
        let len = (3..limit).take_while(|&k| input[candidate + k] == input[ip + k]).last().map_or(3, |k| k + 1);
        flush_literals(&mut out, &input[literal_start..ip]);
        push_reference(&mut out, len, ip - candidate - 1);
        if out.len() > out_max {
            return None;
        }
        ip += len;
        literal_start = ip;
    }
    flush_literals(&mut out, &input[literal_start..]);
    (out.len() <= out_max).then_some(out)
}

fn hash3(bytes: &[u8]) -> usize {
    let v = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

fn flush_literals(out: &mut Vec<u8>, literals: &[u8]) {
    for run in literals.chunks(LITERAL_RUN_MAX) {
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
}

fn push_reference(out: &mut Vec<u8>, len: usize, offset: usize) {
    let len_code = len - 2;
    let high = (offset >> 8) as u8;
    if len_code < 7 {
        out.push(((len_code as u8) << 5) | high);
    } else {
        out.push((7 << 5) | high);
        out.push((len_code - 7) as u8);
    }
    out.push(offset as u8);
}

/// Decompresses `input` into exactly `len` bytes; `None` if the data is malformed (a reference before the
/// start, a run past either end) or does not produce exactly `len` bytes.
pub fn decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < LITERAL_RUN_MAX {
            let run = input.get(ip..ip + ctrl + 1)?;
            if out.len() + run.len() > len {
                return None;
            }
            out.extend_from_slice(run);
            ip += ctrl + 1;
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
        if offset > out.len() || out.len() + ref_len > len {
            return None;
        }
        // Byte by byte: a reference may overlap the bytes it produces (a run).
        let start = out.len() - offset;
        for k in 0..ref_len {
            out.push(out[start + k]);
        }
    }
    (out.len() == len).then_some(out)
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
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert_eq!(compress(b"abc", 100), None);
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
