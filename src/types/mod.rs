//! Pure data structures behind the collection values (Redis's quicklist/listpack/intset/dict users): no RESP,
//! no I/O, no server state, so they are unit- and model-tested on their own.

pub mod hash_object;
pub mod list_object;
pub mod packed;
pub mod set_object;
pub mod small;
