//! Small pure helpers shared by several modules: no I/O, no server state.

pub mod alloc;
pub mod glob;
pub mod num;
pub mod rng;
pub mod splitargs;
pub mod strerror;
