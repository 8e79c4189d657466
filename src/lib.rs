//! ferrokv: a Redis 7 compatible server on one mio reactor.

pub mod config;
pub mod util;
