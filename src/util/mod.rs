//! Small pure helpers shared by several modules: no I/O, no server state.

pub mod glob;
pub mod splitargs;
