//! CRC-64 as Redis computes it (crc64.c: the Jones polynomial, reflected, no final xor), over the whole RDB
//! file up to its 8-byte trailer and over a DUMP payload up to its own.

use crc::{CRC_64_REDIS, Crc, Digest, Table};
use std::io::{self, Write};

/// Slice-by-16 tables: the byte-at-a-time table took a third of an RDB load's time (a load checksums the whole
/// file), 16 bytes per step makes it a small part, as Redis's own crc64 speeds up its loop.
type Slices = Table<16>;

/// The one CRC engine (its tables are built at compile time).
pub const REDIS_CRC64: Crc<u64, Slices> = Crc::<u64, Slices>::new(&CRC_64_REDIS);

/// The checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u64 {
    REDIS_CRC64.checksum(bytes)
}

/// A writer that checksums what passes through it, and counts it.
pub struct CrcWriter<W: Write> {
    inner: W,
    digest: Digest<'static, u64, Slices>,
    /// Bytes written so far.
    pub written: u64,
}

impl<W: Write> std::fmt::Debug for CrcWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrcWriter").field("written", &self.written).finish()
    }
}

impl<W: Write> CrcWriter<W> {
    pub fn new(inner: W) -> CrcWriter<W> {
        CrcWriter { inner, digest: REDIS_CRC64.digest(), written: 0 }
    }

    /// The checksum of everything written so far (the writer keeps going).
    pub fn checksum(&self) -> u64 {
        self.digest.clone().finalize()
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_crc64_test_vector() {
        // crc64.c's own test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
        assert_eq!(checksum(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        let mut w = CrcWriter::new(Vec::new());
        w.write_all(b"1234").unwrap();
        w.write_all(b"56789").unwrap();
        assert_eq!((w.checksum(), w.written), (0xe9c6_d914_c4b8_d9ca, 9));
    }
}
