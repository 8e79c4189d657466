//! ferrokv: a Redis 7 compatible in-memory data server on one mio reactor.
//!
//! # Layout
//! - `server`: the event loop (`Server::run`): poll, listeners, one `Connection` per client.
//! - `state`: `State`, everything commands may touch: keyspace, one `Session` per client, config, statistics,
//!   wait queues, the WATCH index. No socket of the event loop's (MIGRATE's blocking client sockets aside).
//! - `net`: socket reads and writes, listening sockets, MIGRATE's outgoing connections; knows no client.
//! - `resp`: the request parser and the reply writer (RESP2 and RESP3). Knows nothing of commands.
//! - `cmd`: the command table, `call` (the one way a command runs), and one module per command family.
//! - `db`: the keyspace (`Keyspace`, `Db`), values, and active expiry.
//! - `http`: the HTTP/JSON gateway, one more kind of client: requests become commands, replies become JSON.
//! - `config`: redis-server's command line and config file, CONFIG GET/SET.
//! - `rdb`: Redis's RDB format (version 10): encode and decode of values and whole snapshots, LZF, CRC-64.
//! - `persist`: snapshots on disk: SAVE, BGSAVE, save points, the startup load, DEBUG RELOAD.
//! - `child`: forked children (BGSAVE; BGREWRITEAOF later) and how the parent learns they ended.
//! - `log`, `clock`, `limits`, `util`: logging in Redis's format, time, caps, small pure helpers.
//! - `fuzzing`: the parsers' fuzzing entry points, shared by `fuzz/` and the bounded random-input test.
//!
//! A request goes: poll readiness → `Server::read_client` → `resp::parse` → `cmd::call` → a handler in
//! `cmd/<family>.rs` using `db` → `resp::reply` into the session's output buffer → written in `before_sleep`.
//! ARCHITECTURE.md has the whole map.

#![deny(missing_debug_implementations, rust_2018_idioms)]

pub mod aof;
pub mod child;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod db;
pub mod fuzzing;
pub mod http;
pub mod limits;
pub mod log;
pub mod net;
pub mod persist;
pub mod rdb;
pub mod resp;
pub mod scripting;
pub mod server;
pub mod state;
pub mod types;
pub mod util;

pub use config::Config;
pub use server::Server;
