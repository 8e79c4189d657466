//! RESP, the Redis wire protocol: the request parser and the reply writer. Nothing here knows a command.

pub mod parse;
pub mod reply;
