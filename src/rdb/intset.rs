//! Redis's intset blob (intset.c) as RDB carries small integer sets: encoding width (u32 LE: 2, 4 or 8),
//! length (u32 LE), then the members sorted ascending, little-endian, all in that width.

const HEADER_BYTES: usize = 8;

/// The blob for `sorted` members (ascending, distinct), in the narrowest width that holds them all.
pub fn encode(sorted: &[i64]) -> Vec<u8> {
    let width: usize = match (sorted.first(), sorted.last()) {
        (Some(&lo), Some(&hi)) if lo >= i64::from(i16::MIN) && hi <= i64::from(i16::MAX) => 2,
        (Some(&lo), Some(&hi)) if lo >= i64::from(i32::MIN) && hi <= i64::from(i32::MAX) => 4,
        (Some(_), Some(_)) => 8,
        _ => 2,
    };
    let mut out = Vec::with_capacity(HEADER_BYTES + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for n in sorted {
        out.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    out
}

/// Calls `f` with each member of the blob; checks the width, the length against the blob, and the order
/// (Redis's intsetValidateIntegrity: strictly ascending).
pub fn members(blob: &[u8], mut f: impl FnMut(i64) -> Result<(), String>) -> Result<usize, String> {
    let header = blob.get(..HEADER_BYTES).ok_or("intset shorter than its header")?;
    let width = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("intset with encoding {width}"));
    }
    let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let body = &blob[HEADER_BYTES..];
    if len.checked_mul(width) != Some(body.len()) {
        return Err(format!("intset of {len} members of {width} bytes in {} bytes", body.len()));
    }
    let mut previous = None;
    for raw in body.chunks_exact(width) {
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(raw);
        let shift = 64 - 8 * width as u32;
        let n = (i64::from_le_bytes(le) << shift) >> shift;
        if previous.is_some_and(|p| p >= n) {
            return Err("intset members out of order".into());
        }
        previous = Some(n);
        f(n)?;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(blob: &[u8]) -> Result<Vec<i64>, String> {
        let mut out = Vec::new();
        members(blob, |n| {
            out.push(n);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn round_trips_each_width() {
        for set in [vec![-3, 1, 2], vec![-70_000, 5], vec![i64::MIN, 0, i64::MAX], vec![]] {
            assert_eq!(collect(&encode(&set)).unwrap(), set);
        }
        assert_eq!(encode(&[1, 2]), [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0]);
    }

    #[test]
    fn refuses_bad_blobs() {
        let blob = encode(&[1, 2, 3]);
        for cut in 0..blob.len() {
            assert!(collect(&blob[..cut]).is_err());
        }
        assert!(collect(&encode(&[3, 2])).is_err());
        assert!(collect(&[3, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
