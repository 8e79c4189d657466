//! Pure data structures behind the collection values (Redis's quicklist/listpack/intset/dict users): no RESP,
//! no I/O, no server state, so they are unit- and model-tested on their own.

pub mod hash;
pub mod list;
pub mod packed;
pub mod set;
