//! Socket reads and writes, pure I/O over any `Read`/`Write`, and the open-file limit sockets count against:
//! nothing here knows a client, a command or a value.

pub mod io;
pub mod listen;
pub mod open_files;
