//! Socket reads and writes, pure I/O over any `Read`/`Write`: nothing here knows a client, a command or a value.

pub mod io;
pub mod listen;
