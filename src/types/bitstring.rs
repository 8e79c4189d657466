//! Strings read and written as arrays of bits (Redis's bitops.c without the commands): population counts and
//! first-bit searches over bit ranges, the BITOP fold, and BITFIELD's integer fields with their overflow rules.
//!
//! Bits are numbered as Redis numbers them: bit 0 is the most significant bit of byte 0. Past the end of a
//! string every bit reads as 0. Counting and searching go a 64-bit word at a time over the whole words of a
//! range and bit by bit only inside its two edge bytes, so BITCOUNT and BITPOS over a large string cost about
//! a word operation per 8 bytes (LLVM vectorises the popcount loop).
//!
//! Pure: no RESP, no keyspace. Callers validate offsets (proto-max-bulk-len) before they grow a string.

/// Bits of `bytes` set in the inclusive bit range `first..=last` (`first <= last`, `last` inside the string).
pub fn count_ones(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut count = popcount(&bytes[first_byte..=last_byte]);
    // The edge bytes are counted whole above; take back the bits outside the range.
    count -= u64::from((bytes[first_byte] & !(0xff >> (first & 7))).count_ones());
    count -= u64::from((bytes[last_byte] & (0x7f >> (last & 7))).count_ones());
    count
}

/// Set bits in `bytes`, a word at a time.
pub fn popcount(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail: u64 = words.remainder().iter().map(|b| u64::from(b.count_ones())).sum();
    let body: u64 = words.map(|w| u64::from(u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])).count_ones())).sum();
    body + tail
}

/// The first bit equal to `bit` in the inclusive bit range `first..=last` of `bytes` (`last` inside the
/// string), as an absolute bit position, or `None` if the range holds none.
pub fn find_bit(bytes: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    // Work on bytes that hold a 1 where the wanted bit is, with the bits outside the range cleared.
    let wanted = |byte: u8| if bit { byte } else { !byte };
    let head_mask = 0xffu8 >> (first & 7);
    let tail_mask = 0xffu8 << (7 - (last & 7));
    if first_byte == last_byte {
        let byte = wanted(bytes[first_byte]) & head_mask & tail_mask;
        return (byte != 0).then(|| (first_byte as u64) * 8 + u64::from(byte.leading_zeros()));
    }
    let head = wanted(bytes[first_byte]) & head_mask;
    if head != 0 {
        return Some(first_byte as u64 * 8 + u64::from(head.leading_zeros()));
    }
    let middle = &bytes[first_byte + 1..last_byte];
    if let Some(offset) = find_set_bit_in(middle, !bit) {
        return Some((first_byte as u64 + 1) * 8 + offset);
    }
    let tail = wanted(bytes[last_byte]) & tail_mask;
    (tail != 0).then(|| last_byte as u64 * 8 + u64::from(tail.leading_zeros()))
}

/// The first bit of `bytes` that differs from `skip` (all-zero bytes skipped when looking for a 1, all-one
/// bytes when looking for a 0), a word at a time.
fn find_set_bit_in(bytes: &[u8], skip: bool) -> Option<u64> {
    let skip_word = if skip { u64::MAX } else { 0 };
    let mut words = bytes.chunks_exact(8);
    let mut at = 0u64;
    for word in words.by_ref() {
        let word = u64::from_be_bytes(word.try_into().unwrap_or([0; 8]));
        if word != skip_word {
            return Some(at + u64::from((word ^ skip_word).leading_zeros()));
        }
        at += 64;
    }
    let skip_byte = skip_word as u8;
    for &byte in words.remainder() {
        if byte != skip_byte {
            return Some(at + u64::from((byte ^ skip_byte).leading_zeros()));
        }
        at += 8;
    }
    None
}

/// BITOP's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Folds `source` into `result`, BITOP's running value over the sources before it (`first` for the first
/// source, which is copied, or inverted for NOT). A string shorter than the other reads as zero bytes past
/// its end, so the result is as long as the longest source.
pub fn bitop_fold(op: BitOp, result: &mut Vec<u8>, source: &[u8], first: bool) {
    if first {
        result.clear();
        result.extend_from_slice(source);
        if op == BitOp::Not {
            result.iter_mut().for_each(|byte| *byte = !*byte);
        }
        return;
    }
    let common = result.len().min(source.len());
    match op {
        BitOp::And => {
            combine(&mut result[..common], &source[..common], |a, b| a & b);
            result[common..].fill(0);
            result.resize(result.len().max(source.len()), 0);
        }
        BitOp::Or | BitOp::Xor => {
            let f = if op == BitOp::Or { |a: u64, b: u64| a | b } else { |a: u64, b: u64| a ^ b };
            combine(&mut result[..common], &source[..common], f);
            result.extend_from_slice(&source[common..]);
        }
        // NOT has a single source (the command checks), so it never folds a second one.
        BitOp::Not => {}
    }
}

/// `target[i] = f(target[i], source[i])`, a word at a time; both slices have the same length.
fn combine(target: &mut [u8], source: &[u8], f: impl Fn(u64, u64) -> u64) {
    let mut target_words = target.chunks_exact_mut(8);
    let mut source_words = source.chunks_exact(8);
    for (t, s) in target_words.by_ref().zip(source_words.by_ref()) {
        let word = f(
            u64::from_ne_bytes((&*t).try_into().unwrap_or([0; 8])),
            u64::from_ne_bytes(s.try_into().unwrap_or([0; 8])),
        );
        t.copy_from_slice(&word.to_ne_bytes());
    }
    for (t, s) in target_words.into_remainder().iter_mut().zip(source_words.remainder()) {
        *t = f(u64::from(*t), u64::from(*s)) as u8;
    }
}

/// The `bits`-wide unsigned field at bit `offset` (1..=64 bits); bits past the end of `bytes` read as 0.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let mut value = 0u64;
    for i in 0..u64::from(bits) {
        let at = offset + i;
        let byte = bytes.get((at >> 3) as usize).copied().unwrap_or(0);
        value = (value << 1) | u64::from((byte >> (7 - (at & 7))) & 1);
    }
    value
}

/// The `bits`-wide signed field at bit `offset`, sign-extended from its top bit.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let value = get_unsigned(bytes, offset, bits);
    if bits < 64 && value & (1 << (bits - 1)) != 0 { (value | (u64::MAX << bits)) as i64 } else { value as i64 }
}

/// Writes the low `bits` bits of `value` at bit `offset`; `bytes` already covers the field.
pub fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let at = offset + i;
        let bit = (value >> (u64::from(bits) - 1 - i)) & 1;
        let mask = 1u8 << (7 - (at & 7));
        let byte = &mut bytes[(at >> 3) as usize];
        *byte = if bit == 1 { *byte | mask } else { *byte & !mask };
    }
}

/// BITFIELD's OVERFLOW modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// `value + incr` for an unsigned field of `bits` (1..=63) bits: `Ok` if it fits, else `Err` with what WRAP
/// or SAT make of it (FAIL discards it). Redis's checkUnsignedBitfieldOverflow: a SET passes its value with
/// an increment of 0, so a negative value is a huge unsigned one and overflows.
pub fn unsigned_add(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Result<u64, u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        Err(if overflow == Overflow::Sat { max } else { wrapped })
    } else if incr < 0 && incr < min_incr {
        Err(if overflow == Overflow::Sat { 0 } else { wrapped })
    } else {
        Ok(value.wrapping_add(incr as u64))
    }
}

/// `value + incr` for a signed field of `bits` (1..=64) bits, as `unsigned_add` (checkSignedBitfieldOverflow).
pub fn signed_add(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Result<i64, i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    // These may overflow, as in Redis; they are used only once `value` is known to be in range.
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = {
        let sum = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            sum as i64
        } else if sum & (1 << (bits - 1)) != 0 {
            (sum | (u64::MAX << bits)) as i64
        } else {
            (sum & !(u64::MAX << bits)) as i64
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        Err(if overflow == Overflow::Sat { max } else { wrapped })
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        Err(if overflow == Overflow::Sat { min } else { wrapped })
    } else {
        Ok(value.wrapping_add(incr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-by-bit definition the word-at-a-time functions must agree with.
    fn bit_at(bytes: &[u8], at: u64) -> bool {
        bytes[(at >> 3) as usize] & (0x80 >> (at & 7)) != 0
    }

    #[test]
    fn count_and_find_agree_with_bit_by_bit() {
        let mut rng = crate::util::rng::Rng::new(7);
        for _ in 0..300 {
            let len = 1 + rng.below(40);
            let bytes: Vec<u8> = (0..len).map(|_| [0u8, 0xff, rng.next_u64() as u8][rng.below(3)]).collect();
            let bits = len as u64 * 8;
            let first = rng.below(bits as usize) as u64;
            let last = first + rng.below((bits - first) as usize) as u64;
            let expected = (first..=last).filter(|&at| bit_at(&bytes, at)).count() as u64;
            assert_eq!(count_ones(&bytes, first, last), expected);
            for bit in [false, true] {
                let expected = (first..=last).find(|&at| bit_at(&bytes, at) == bit);
                assert_eq!(find_bit(&bytes, first, last, bit), expected, "{bytes:?} {first} {last} {bit}");
            }
        }
    }

    #[test]
    fn bitop_pads_shorter_sources_with_zeros() {
        let mut result = Vec::new();
        bitop_fold(BitOp::And, &mut result, b"\xff\xff\xff", true);
        bitop_fold(BitOp::And, &mut result, b"\x0f", false);
        assert_eq!(result, b"\x0f\0\0");
        bitop_fold(BitOp::Or, &mut result, b"\x10\x01\x02\x03", true);
        bitop_fold(BitOp::Xor, &mut result, &[0xff; 17], false);
        assert_eq!(result[..4], [0xef, 0xfe, 0xfd, 0xfc]);
        assert_eq!(result.len(), 17);
        bitop_fold(BitOp::Not, &mut result, b"\x0f", true);
        assert_eq!(result, b"\xf0");
    }

    #[test]
    fn fields_round_trip() {
        let mut bytes = vec![0u8; 10];
        set_field(&mut bytes, 3, 13, 0x1abc);
        assert_eq!(get_unsigned(&bytes, 3, 13), 0x1abc);
        assert_eq!(get_signed(&bytes, 3, 13), 0x1abc - 0x2000);
        set_field(&mut bytes, 5, 64, u64::MAX - 1);
        assert_eq!(get_signed(&bytes, 5, 64), -2);
        assert_eq!(get_unsigned(&bytes, 70, 64), get_unsigned(&bytes, 70, 64) & (u64::MAX << 55));
    }

    #[test]
    fn overflow_rules_follow_redis() {
        use Overflow::*;
        assert_eq!(unsigned_add(250, 10, 8, Wrap), Err(4));
        assert_eq!(unsigned_add(250, 10, 8, Sat), Err(255));
        assert_eq!(unsigned_add(5, -10, 8, Sat), Err(0));
        assert_eq!(unsigned_add(5, -10, 8, Wrap), Err(251));
        assert_eq!(unsigned_add(-1i64 as u64, 0, 8, Wrap), Err(255));
        assert_eq!(unsigned_add(3, 4, 8, Fail), Ok(7));
        assert_eq!(signed_add(127, 1, 8, Wrap), Err(-128));
        assert_eq!(signed_add(-128, -1, 8, Sat), Err(-128));
        assert_eq!(signed_add(i64::MAX, 1, 64, Wrap), Err(i64::MIN));
        assert_eq!(signed_add(i64::MIN, -1, 64, Sat), Err(i64::MIN));
        assert_eq!(signed_add(200, 0, 8, Wrap), Err(-56));
        assert_eq!(signed_add(-3, 2, 4, Fail), Ok(-1));
    }
}
