//! Redis's RDB format, version 10 (Redis 7.0): the one module tree that knows its bytes.
//!
//! - `encode` / `decode`: a value's type byte and body, in every encoding Redis 7.0 writes and reads; the
//!   one place each value type plugs in (a later type adds an arm to `encode::type_byte`, `encode::value`
//!   and `decode::value`).
//! - `snapshot`: whole files (header, aux fields, SELECTDB, RESIZEDB, expiries, EOF, CRC-64 trailer), written
//!   to any `Write` and loaded into fresh databases, so a failed load changes nothing; `load_input`: the file
//!   (or buffer) a load reads, in pieces; `load_batches`: the parsed records' way from the load's parser thread
//!   to the thread that builds the databases.
//! - `payload`: DUMP / RESTORE payloads (a value, the RDB version, a CRC-64).
//! - `listpack`, `ziplist` (and zipmap), `intset`: the packed blobs inside values. `lzf`, `crc64`.

pub mod crc64;
pub mod decode;
pub mod encode;
pub mod intset;
pub mod listpack;
pub mod load_batches;
pub mod load_input;
pub mod lzf;
pub mod payload;
pub mod snapshot;
pub mod stream_encoding;
pub mod ziplist;

/// A packed blob's element: an integer or bytes (the shape a set member has, so the type is shared).
pub use crate::types::set_object::Member as Element;

/// The version this server writes, and the newest it reads (Redis 7.2 writes 11).
pub const RDB_VERSION: u16 = 10;

/// RDB value type bytes (rdb.h).
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// Written by Redis 7.2 only, read here as well.
    pub const SET_LISTPACK: u8 = 20;

    /// What a type byte stands for, for error messages about types this server cannot hold yet.
    pub fn name(type_byte: u8) -> &'static str {
        match type_byte {
            6 | 7 => "module value",
            21 => "stream (Redis 7.2's form)",
            _ => "unknown type",
        }
    }
}

/// RDB opcodes (rdb.h).
pub mod opcodes {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// The config that shapes what is written and what is loaded.
pub use decode::Limits;
pub use encode::Options;

#[cfg(test)]
mod tests;
