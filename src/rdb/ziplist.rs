//! The older packed blobs Redis 7.0 still loads from RDB files written by Redis 2.6 to 6.2: ziplists
//! (lists, quicklist v1 nodes, hashes) and zipmaps (hashes before 2.6). Read only: Redis 7.0 never writes
//! them. Every length is checked against the blob before it is used.

use super::Element;

const ZIPLIST_HEADER_BYTES: usize = 10;
const END: u8 = 0xFF;

/// Calls `f` for each element of the ziplist `zl`; returns the count or the first problem found.
pub fn entries<'a>(zl: &'a [u8], mut f: impl FnMut(Element<'a>) -> Result<(), String>) -> Result<usize, String> {
    if zl.len() < ZIPLIST_HEADER_BYTES + 1 {
        return Err("ziplist shorter than its header".into());
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    if total != zl.len() {
        return Err(format!("ziplist header says {} bytes, blob has {}", total, zl.len()));
    }
    let header_count = u16::from_le_bytes([zl[8], zl[9]]);
    let mut pos = ZIPLIST_HEADER_BYTES;
    let mut count = 0usize;
    loop {
        let Some(&first) = zl.get(pos) else { return Err("ziplist without terminator".into()) };
        if first == END {
            break;
        }
        pos += if first == 0xFE { 5 } else { 1 };
        let (element, len) = entry_at(zl, pos)?;
        f(element)?;
        count += 1;
        pos += len;
    }
    if pos + 1 != zl.len() {
        return Err("ziplist has bytes after its terminator".into());
    }
    if header_count != u16::MAX && usize::from(header_count) != count {
        return Err(format!("ziplist header says {header_count} entries, found {count}"));
    }
    Ok(count)
}

/// The element whose encoding starts at `pos` (after its prevlen) and the bytes of encoding + data.
fn entry_at(zl: &[u8], pos: usize) -> Result<(Element<'_>, usize), String> {
    let past_end = || format!("ziplist entry at {pos} runs past the end");
    let bytes = |from: usize, len: usize| zl.get(from..from + len).ok_or_else(past_end);
    let first = *zl.get(pos).ok_or_else(past_end)?;
    let int_le = |len: usize| -> Result<i64, String> {
        let raw = bytes(pos + 1, len)?;
        let mut le = [0u8; 8];
        le[..len].copy_from_slice(raw);
        let shift = 64 - 8 * len as u32;
        Ok((i64::from_le_bytes(le) << shift) >> shift)
    };
    Ok(match first >> 6 {
        0 => {
            let len = usize::from(first & 0x3F);
            (Element::Bytes(bytes(pos + 1, len)?), 1 + len)
        }
        1 => {
            let low = bytes(pos + 1, 1)?[0];
            let len = (usize::from(first & 0x3F) << 8) | usize::from(low);
            (Element::Bytes(bytes(pos + 2, len)?), 2 + len)
        }
        2 => {
            let raw = bytes(pos + 1, 4)?;
            let len = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
            (Element::Bytes(bytes(pos + 5, len)?), 5 + len)
        }
        _ => match first {
            0xC0 => (Element::Int(int_le(2)?), 3),
            0xD0 => (Element::Int(int_le(4)?), 5),
            0xE0 => (Element::Int(int_le(8)?), 9),
            0xF0 => (Element::Int(int_le(3)?), 4),
            0xFE => (Element::Int(int_le(1)?), 2),
            0xF1..=0xFD => (Element::Int(i64::from(first & 0x0F) - 1), 1),
            _ => return Err(format!("ziplist entry at {pos}: unknown encoding {first:#04x}")),
        },
    })
}

/// Calls `f` with each (field, value) of the zipmap `zm`; returns the pair count or the first problem.
pub fn zipmap_pairs<'a>(
    zm: &'a [u8],
    mut f: impl FnMut(&'a [u8], &'a [u8]) -> Result<(), String>,
) -> Result<usize, String> {
    let mut pos = 1;
    let mut pairs = 0;
    let truncated = || "zipmap truncated".to_string();
    loop {
        let field = match zipmap_len(zm, &mut pos)? {
            None => break,
            Some(len) => {
                let field = zm.get(pos..pos + len).ok_or_else(truncated)?;
                pos += len;
                field
            }
        };
        let len = zipmap_len(zm, &mut pos)?.ok_or("zipmap field without value")?;
        let free = usize::from(*zm.get(pos).ok_or_else(truncated)?);
        pos += 1;
        let value = zm.get(pos..pos + len).ok_or_else(truncated)?;
        pos += len + free;
        f(field, value)?;
        pairs += 1;
    }
    if pos != zm.len() {
        return Err("zipmap has bytes after its end".into());
    }
    Ok(pairs)
}

/// A zipmap length at `pos` (advanced past it), `None` at the end marker.
fn zipmap_len(zm: &[u8], pos: &mut usize) -> Result<Option<usize>, String> {
    let first = *zm.get(*pos).ok_or("zipmap truncated")?;
    *pos += 1;
    match first {
        END => Ok(None),
        0..=253 => Ok(Some(usize::from(first))),
        _ => {
            let raw = zm.get(*pos..*pos + 4).ok_or("zipmap truncated")?;
            *pos += 4;
            Ok(Some(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(zl: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let mut out = Vec::new();
        entries(zl, |e| {
            out.push(e.with_bytes(<[u8]>::to_vec));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_redis_6_ziplist() {
        // Redis 6.2's ziplist of "a", 1, 300, "hello": header, entries with prevlens, end.
        let zl = [
            0x1b, 0, 0, 0, 0x13, 0, 0, 0, 4, 0, // zlbytes 27, zltail, zllen 4
            0x00, 0x01, b'a', // prevlen 0, 6-bit str len 1
            0x03, 0xF2, // prevlen 3, immediate 1
            0x02, 0xC0, 0x2c, 0x01, // int16 300
            0x04, 0x05, b'h', b'e', b'l', b'l', b'o', 0xFF,
        ];
        assert_eq!(collect(&zl).unwrap(), [&b"a"[..], b"1", b"300", b"hello"]);
        for cut in 0..zl.len() {
            assert!(collect(&zl[..cut]).is_err());
        }
    }

    #[test]
    fn reads_zipmap() {
        let zm = [2, 1, b'f', 2, 0, b'v', b'1', 1, b'g', 1, 1, b'w', 0, 0xFF];
        let mut pairs = Vec::new();
        assert_eq!(
            zipmap_pairs(&zm, |f, v| {
                pairs.push((f.to_vec(), v.to_vec()));
                Ok(())
            }),
            Ok(2)
        );
        assert_eq!(pairs, [(b"f".to_vec(), b"v1".to_vec()), (b"g".to_vec(), b"w".to_vec())]);
        for cut in 0..zm.len() {
            assert!(zipmap_pairs(&zm[..cut], |_, _| Ok(())).is_err());
        }
    }
}
