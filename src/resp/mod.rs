//! The RESP protocol: requests in (`parse`), with no knowledge of commands or sockets.

pub mod parse;
