//! DUMP / RESTORE payloads, as Redis's createDumpPayload / verifyDumpPayload: the value's type byte and
//! body, then the RDB version (u16 LE), then the CRC-64 of everything before it (u64 LE).

use super::{RDB_VERSION, crc64, decode, encode};
use crate::db::Value;

/// The DUMP payload of `value`.
pub fn dump(value: &Value, opts: encode::Options) -> Vec<u8> {
    let mut out = vec![encode::type_byte(value)];
    encode::value(&mut out, value, opts);
    seal(out)
}

/// Appends the footer (RDB version, CRC-64) that makes `body` a payload (DUMP, FUNCTION DUMP).
pub fn seal(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// Checks a payload's footer (RESTORE, FUNCTION RESTORE) and gives the body before it.
pub fn verify(payload: &[u8]) -> Result<&[u8], Refusal> {
    if payload.len() < 10 {
        return Err(Refusal::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..].try_into().unwrap_or_default());
    if version > RDB_VERSION || crc != crc64::checksum(&payload[..payload.len() - 8]) {
        return Err(Refusal::VersionOrChecksum);
    }
    Ok(body)
}

/// Why RESTORE refuses a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Too short, a version above ours, or a checksum mismatch: Redis's "DUMP payload version or checksum
    /// are wrong".
    VersionOrChecksum,
    /// The body does not decode (Redis's "Bad data format").
    BadData(decode::Error),
}

/// Checks `payload`'s footer and decodes its value; `None` for an empty collection.
pub fn restore(payload: &[u8], limits: &decode::Limits) -> Result<Option<Value>, Refusal> {
    let body = verify(payload)?;
    let mut reader = decode::Reader::new(body);
    let type_byte = reader.byte().map_err(Refusal::BadData)?;
    // As Redis, bytes after the value are not looked at.
    decode::value(&mut reader, type_byte, limits).map_err(Refusal::BadData)
}
