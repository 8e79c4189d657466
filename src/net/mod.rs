//! Socket reads and writes, pure I/O over any `Read`/`Write`, the open-file limit sockets count against, and
//! MIGRATE's blocking outgoing connections: nothing here knows a client, a command or a value.

pub mod io;
pub mod listen;
pub mod migrate_sockets;
pub mod open_files;
