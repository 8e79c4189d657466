//! Small pure helpers shared by several modules: no I/O, no server state.

pub mod num;
pub mod splitargs;
