//! Connections: the per-client state and the socket reads and writes. Nothing here knows a command or a value.

pub mod client;
pub mod io;
pub mod listen;
