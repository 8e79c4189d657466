//! ferrokv: a Redis 7 compatible in-memory data server on one mio reactor.
//!
//! # Layout
//! - `server`: the event loop (`Server::run`) and `State`, everything commands may touch.
//! - `net`: a client's buffers and session state; socket reads and writes.
//! - `resp`: the request parser and the reply writer (RESP2 and RESP3). Knows nothing of commands.
//! - `cmd`: the command table, the dispatcher, and one module per command family.
//! - `db`: the keyspace (`Keyspace`, `Db`), values, and active expiry.
//! - `http`: the HTTP/JSON gateway, one more kind of client: requests become commands, replies become JSON.
//! - `config`: redis-server's command line and config file, CONFIG GET/SET.
//! - `log`, `clock`, `limits`, `util`: logging in Redis's format, time, caps, small pure helpers.
//!
//! A request goes: poll readiness → `Server::read_client` → `resp::parse` → `cmd::dispatch::process_command`
//! → a handler in `cmd/<family>.rs` using `db` → `resp::reply` into the client's buffer → written in
//! `before_sleep`. ARCHITECTURE.md has the whole map.

#![deny(missing_debug_implementations, rust_2018_idioms)]

pub mod clock;
pub mod cmd;
pub mod config;
pub mod db;
pub mod http;
pub mod limits;
pub mod log;
pub mod net;
pub mod resp;
pub mod server;
pub mod state;
pub mod types;
pub mod util;

pub use config::Config;
pub use server::Server;
