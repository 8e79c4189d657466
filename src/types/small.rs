//! `SmallBytes`: a byte string stored inline when it is short, so the typical key and the typical small
//! value cost no heap allocation at all.
//!
//! Most keys and many values are a couple of dozen bytes. A `Box<[u8]>` for each would add an allocation (and
//! the allocator's own header and rounding, 32 bytes for a 16-byte key with glibc) on top of the 16-byte
//! pointer. Inline, up to `INLINE_LEN_MAX` bytes live in the 24 bytes the value occupies anyway. The enum keeps a
//! spare niche in its tag, so `Value` (which wraps it) stays 24 bytes too.

use std::ops::Deref;

/// Longest byte string kept inline: 24 bytes minus the tag and the length byte.
pub const INLINE_LEN_MAX: usize = 22;

#[derive(Clone, PartialEq, Eq)]
pub enum SmallBytes {
    Inline { len: u8, data: [u8; INLINE_LEN_MAX] },
    Heap(Box<[u8]>),
}

impl From<&[u8]> for SmallBytes {
    fn from(bytes: &[u8]) -> SmallBytes {
        if bytes.len() <= INLINE_LEN_MAX {
            let mut data = [0; INLINE_LEN_MAX];
            data[..bytes.len()].copy_from_slice(bytes);
            SmallBytes::Inline { len: bytes.len() as u8, data }
        } else {
            SmallBytes::Heap(bytes.into())
        }
    }
}

/// The empty string, inline.
impl Default for SmallBytes {
    fn default() -> SmallBytes {
        SmallBytes::Inline { len: 0, data: [0; INLINE_LEN_MAX] }
    }
}

impl SmallBytes {
    /// Heap bytes this holds beyond its own 24 (MEMORY USAGE): none when inline.
    pub fn heap_bytes(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(bytes) => bytes.len(),
        }
    }
}

impl Deref for SmallBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, data } => &data[..usize::from(*len)],
            SmallBytes::Heap(bytes) => bytes,
        }
    }
}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_up_to_the_limit_then_heap() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        for len in [0, 1, INLINE_LEN_MAX, INLINE_LEN_MAX + 1, 100] {
            let bytes: Vec<u8> = (0..len as u8).collect();
            let small = SmallBytes::from(&bytes[..]);
            assert_eq!(&*small, &bytes[..]);
            assert_eq!(matches!(small, SmallBytes::Inline { .. }), len <= INLINE_LEN_MAX);
            assert_eq!(small.heap_bytes(), if len <= INLINE_LEN_MAX { 0 } else { len });
        }
    }
}
