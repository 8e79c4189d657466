//! The server: one thread owns the poll, the listener, every client and the whole keyspace.
//!
//! `Server` holds what only the event loop touches (the `mio::Poll`, the listener, signal handles, the queues of
//! clients waiting for a write or a close). `State` holds what commands may touch (keyspace, clients, config,
//! statistics); a handler gets `&mut State` through `Ctx`, never the poll.
//!
//! # Invariants
//! - A client leaves `State::clients` only in `before_sleep` (see `event_loop`), so a slab key named by an
//!   event of the current batch still belongs to the client the event was for.
//! - A client is in `pending_writes` at most once (`Client::write_queued`).

pub mod event_loop;

use mio::net::TcpListener;
use mio::{Interest, Poll, Token};
use slab::Slab;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use crate::clock;
use crate::cmd::Table;
use crate::config::Config;
use crate::db::Keyspace;
use crate::db::expire::ExpireCycle;
use crate::net::client::{Client, Protocol, ReplyMode};
use crate::net::io::{self as netio, WriteOutcome};
use crate::net::listen::{ListenError, Listener};
use crate::resp::parse::ParseLimits;
use crate::state::stats::Stats;
use crate::state::wait_queues::Blocking;
use crate::state::watch_index::Watches;
pub use crate::state::{Shutdown, State};
use crate::util::rng::Rng;

/// Tokens above every slab key: the signal pipe, then one per RESP listener counting down, then one per HTTP
/// listener.
pub const SIGNALS: Token = Token(usize::MAX);
const LISTENER_FIRST: usize = usize::MAX - 1;
const HTTP_LISTENER_FIRST: usize = LISTENER_FIRST - LISTENERS_MAX;
/// Most addresses `bind` may name.
pub const LISTENERS_MAX: usize = 16;

/// The RESP listener index a token names, if it is a RESP listener token.
pub fn listener_index(token: Token) -> Option<usize> {
    let index = LISTENER_FIRST.checked_sub(token.0)?;
    (index < LISTENERS_MAX).then_some(index)
}

/// The HTTP listener index a token names, if it is an HTTP listener token.
pub fn http_listener_index(token: Token) -> Option<usize> {
    let index = HTTP_LISTENER_FIRST.checked_sub(token.0)?;
    (index < LISTENERS_MAX).then_some(index)
}

/// Which listeners a connection came from, and so which protocol it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    Resp,
    Http,
}

/// The event loop's own state around `State`.
pub struct Server {
    pub(crate) poll: Poll,
    listeners: Vec<TcpListener>,
    /// The HTTP gateway's listeners (`http-port` on every `bind` address); empty when `http-port` is 0.
    http_listeners: Vec<TcpListener>,
    /// Buffers every HTTP request reuses.
    http_scratch: crate::http::Scratch,
    signals: signal_hook_mio::v1_0::Signals,
    pub state: State,
    /// Clients with replies to write before the next poll.
    pending_writes: Vec<usize>,
    /// Clients whose read stopped at the budget with more data possibly waiting.
    pending_reads: Vec<usize>,
    /// Set when accept failed (EMFILE): retry from the cron, since edge-triggered readiness will not repeat.
    accept_retry: bool,
    expire_cycle: ExpireCycle,
    /// Every socket read lands here first (see `net::io::read_into`); zeroed once, shared by all clients.
    read_scratch: Box<[u8]>,
    next_cron: Instant,
    next_expire_slice: Option<Instant>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("port", &self.state.port).field("clients", &self.state.clients.len()).finish()
    }
}

impl Server {
    /// Binds the listener and sets up signal handling; logs nothing yet.
    pub fn bind(config: Config) -> io::Result<Server> {
        let poll = Poll::new()?;
        let backlog = config.tcp_backlog;
        let mut listeners = if config.port == 0 { Vec::new() } else { bind_all(&config.bind, config.port, backlog)? };
        let mut port = config.port;
        for (index, listener) in listeners.iter_mut().enumerate() {
            port = listener.local_addr()?.port();
            poll.registry().register(listener, Token(LISTENER_FIRST - index), Interest::READABLE)?;
        }
        let mut http_listeners = match config.http_port {
            0 => Vec::new(),
            port => bind_all(&config.bind, port, backlog).map_err(|e| ListenError::retag(e, Listener::Http))?,
        };
        for (index, listener) in http_listeners.iter_mut().enumerate() {
            poll.registry().register(listener, Token(HTTP_LISTENER_FIRST - index), Interest::READABLE)?;
        }
        let mut signals =
            signal_hook_mio::v1_0::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
        poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
        let table = Table::new();
        let mut rng = Rng::from_entropy();
        let run_id = (0..40).map(|_| char::from(b"0123456789abcdef"[rng.below(16)])).collect();
        let stats = Stats { commands: vec![Default::default(); table.names.len()], ..Stats::default() };
        let now = Instant::now();
        Ok(Server {
            poll,
            listeners,
            http_listeners,
            http_scratch: crate::http::Scratch::default(),
            signals,
            state: State {
                keyspace: Keyspace::new(config.databases),
                clients: Slab::new(),
                config,
                stats,
                table,
                rng,
                dirty: 0,
                next_client_id: 1,
                shutdown: None,
                active_expire_enabled: true,
                run_id,
                started_at: now,
                started_unix_ms: clock::unix_ms(),
                port,
                closing: Vec::new(),
                blocking: Blocking::default(),
                watches: Watches::default(),
                unblocked: Vec::new(),
                in_exec: false,
            },
            pending_writes: Vec::new(),
            pending_reads: Vec::new(),
            accept_retry: false,
            expire_cycle: ExpireCycle::default(),
            read_scratch: vec![0; crate::limits::READ_CHUNK_BYTES].into_boxed_slice(),
            next_cron: now,
            next_expire_slice: None,
        })
    }

    /// The port the listener is bound to.
    pub fn port(&self) -> u16 {
        self.state.port
    }

    /// The HTTP gateway's port, when it listens.
    pub fn http_port(&self) -> Option<u16> {
        self.http_listeners.first().and_then(|listener| listener.local_addr().ok()).map(|addr| addr.port())
    }

    /// Accepts every waiting connection on listener `index` of `kind`. Errors such as EMFILE are logged and
    /// retried later, never fatal.
    fn accept_ready(&mut self, kind: ListenerKind, index: usize) {
        let listeners = if kind == ListenerKind::Http { &self.http_listeners } else { &self.listeners };
        let Some(listener) = listeners.get(index) else { return };
        loop {
            let (mut stream, addr) = match listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::log!(Warning, "Accepting client connection: {}", e);
                    self.accept_retry = true;
                    return;
                }
            };
            self.state.stats.total_connections_received += 1;
            if self.state.clients.len() >= self.state.config.maxclients {
                // Like Redis: best-effort error straight on the socket, then drop it.
                let refusal = match kind {
                    ListenerKind::Resp => b"-ERR max number of clients reached\r\n".to_vec(),
                    ListenerKind::Http => crate::http::max_clients_response(),
                };
                let _ = std::io::Write::write(&mut stream, &refusal);
                self.state.stats.rejected_connections += 1;
                continue;
            }
            let _ = stream.set_nodelay(true);
            set_keepalive(&stream, self.state.config.tcp_keepalive_s);
            let entry = self.state.clients.vacant_entry();
            let key = entry.key();
            if let Err(e) = self.poll.registry().register(&mut stream, Token(key), Interest::READABLE) {
                crate::log!(Warning, "Registering client: {}", e);
                continue;
            }
            let id = self.state.next_client_id;
            self.state.next_client_id += 1;
            let authenticated = self.state.config.requirepass.is_none();
            let mut client = Client::new(id, stream, addr, clock::unix_ms(), authenticated);
            if kind == ListenerKind::Http {
                client.protocol = Protocol::Http(Box::default());
            }
            entry.insert(client);
        }
    }

    /// Handles readiness on client `key`.
    fn client_ready(&mut self, key: usize, readable: bool, writable: bool) {
        match self.state.clients.get(key) {
            Some(c) if !c.close_asap => {}
            _ => return,
        }
        if writable {
            self.write_client(key);
        }
        if readable {
            self.read_client(key);
        }
    }

    /// Reads what the socket has (up to the budget), then runs every complete request.
    fn read_client(&mut self, key: usize) {
        let client = &mut self.state.clients[key];
        let wanted = match &client.protocol {
            Protocol::Resp => client.parser.bytes_wanted(),
            Protocol::Http(session) => session.bytes_wanted(client.query.len()),
        };
        let outcome = netio::read_into(
            &mut client.stream,
            &mut client.query,
            &mut self.read_scratch,
            crate::limits::READ_BUDGET_BYTES,
            wanted,
            crate::limits::BULK_RESERVE_STEP_BYTES,
        );
        self.state.stats.net_input_bytes += outcome.bytes as u64;
        let now_ms = clock::unix_ms();
        if outcome.bytes > 0 {
            client.last_interaction_ms = now_ms;
        }
        if outcome.more {
            self.pending_reads.push(key);
        }
        if matches!(client.protocol, Protocol::Http(_)) {
            crate::http::process_input(&mut self.state, key, now_ms, &mut self.http_scratch);
            self.queue_write(key);
        } else {
            self.process_input(key, now_ms);
        }
        let client = &mut self.state.clients[key];
        let limit = self.state.config.client_query_buffer_limit as usize;
        if client.query.len() > limit && !client.close_asap {
            crate::log!(Warning, "Closing client that reached max query buffer length (qbuf={})", client.query.len());
            self.state.close_asap(key);
        }
        if outcome.closed {
            self.state.close_asap(key);
        }
    }

    /// Parses and runs every complete request in the client's query buffer.
    fn process_input(&mut self, key: usize, now_ms: i64) {
        let mut mark = Instant::now();
        self.state.clients[key].query_batch_len = self.state.clients[key].query.len();
        loop {
            let client = &mut self.state.clients[key];
            if client.close_after_reply || client.close_asap || client.parked.is_some() {
                break;
            }
            if client.reply_pending() > crate::limits::REPLY_PAUSE_BYTES {
                // Resumed by write_client once the replies drain.
                break;
            }
            let limits = ParseLimits {
                proto_max_bulk_len: self.state.config.proto_max_bulk_len,
                authenticated: client.authenticated,
            };
            match client.parser.parse(&mut client.query, &mut client.argv, &limits) {
                Ok(true) => {
                    mark = self.execute(key, now_ms, mark);
                    self.serve_unblocked(now_ms);
                }
                Ok(false) => break,
                Err(err) => {
                    client.reply.error(err.reply_bytes());
                    client.reply.errors.clear();
                    client.close_after_reply = true;
                    crate::log!(Verbose, "Protocol error ({}) from client: id={}", err.reply_text(), client.id);
                    break;
                }
            }
        }
        self.state.clients[key].query_batch_len = 0;
        self.queue_write(key);
    }

    /// Runs the request in the client's argv; `started` and the returned instant time it (see `process_command`).
    fn execute(&mut self, key: usize, now_ms: i64, started: Instant) -> Instant {
        let client = &mut self.state.clients[key];
        let argv = std::mem::take(&mut client.argv);
        let mut reply = std::mem::take(&mut client.reply);
        let reply_mark = reply.buf.len();
        let skipping = match client.reply_mode {
            ReplyMode::SkipNext => {
                client.reply_mode = ReplyMode::Skipping;
                true
            }
            ReplyMode::Off => true,
            _ => false,
        };
        let finished = crate::cmd::dispatch::process_command(&mut self.state, key, &argv, &mut reply, now_ms, started);
        let client = &mut self.state.clients[key];
        if skipping || client.reply_mode == ReplyMode::Off {
            // CLIENT REPLY OFF/SKIP: the command ran, its reply is dropped. (CLIENT REPLY ON itself replies.)
            if client.reply_mode != ReplyMode::On {
                reply.buf.truncate(reply_mark);
            }
            if client.reply_mode == ReplyMode::Skipping {
                client.reply_mode = ReplyMode::On;
            }
        }
        client.reply = reply;
        let mut argv = argv;
        if client.parked.is_none() {
            argv.clear();
        }
        // A parked client keeps its command's argv: it runs again when a key it waits on becomes ready.
        client.argv = argv;
        finished
    }

    /// Serves clients blocked on keys the last command made ready, then sends the replies of every client whose
    /// block ended and resumes the input that waited behind it.
    pub(crate) fn serve_unblocked(&mut self, now_ms: i64) {
        if self.state.blocking.has_ready() {
            crate::cmd::blocking::serve_ready(&mut self.state, now_ms);
        }
        for key in std::mem::take(&mut self.state.unblocked) {
            if self.state.clients.get(key).is_some_and(|c| !c.close_asap) {
                self.queue_write(key);
                self.pending_reads.push(key);
            }
        }
    }

    /// Queues the client for a write in `before_sleep` if it has pending replies.
    fn queue_write(&mut self, key: usize) {
        let client = &mut self.state.clients[key];
        if !client.write_queued && (client.reply_pending() > 0 || client.close_after_reply) {
            client.write_queued = true;
            self.pending_writes.push(key);
        }
    }

    /// Writes pending replies; registers WRITABLE only when the socket is full, and drops it once drained.
    fn write_client(&mut self, key: usize) {
        let client = &mut self.state.clients[key];
        if client.close_asap {
            return;
        }
        let before = client.reply_sent;
        let outcome = netio::write_from(&mut client.stream, &client.reply.buf, &mut client.reply_sent);
        self.state.stats.net_output_bytes += (client.reply_sent - before) as u64;
        match outcome {
            WriteOutcome::Failed => self.state.close_asap(key),
            WriteOutcome::Blocked => {
                if !client.writable_registered {
                    client.writable_registered = true;
                    let _ = self.poll.registry().reregister(
                        &mut client.stream,
                        Token(key),
                        Interest::READABLE | Interest::WRITABLE,
                    );
                }
            }
            WriteOutcome::Done => {
                client.reply.buf.clear();
                client.reply_sent = 0;
                if client.reply.buf.capacity() > crate::limits::REPLY_SHRINK_BYTES {
                    client.reply.buf.shrink_to(crate::limits::REPLY_SHRINK_BYTES);
                }
                if client.writable_registered {
                    client.writable_registered = false;
                    let _ = self.poll.registry().reregister(&mut client.stream, Token(key), Interest::READABLE);
                }
                if client.close_after_reply {
                    self.state.close_asap(key);
                } else if !client.query.is_empty() {
                    // Input may have been paused behind a large reply backlog.
                    self.pending_reads.push(key);
                }
            }
        }
    }

    /// Runs requests of clients whose last read stopped at the budget.
    fn process_pending_reads(&mut self) {
        let keys = std::mem::take(&mut self.pending_reads);
        for key in keys {
            if self.state.clients.get(key).is_some_and(|c| !c.close_asap) {
                self.read_client(key);
            }
        }
    }

    /// Runs between event batches, in a fixed order: flush replies (Redis's handleClientsWithPendingWrites),
    /// then free clients marked for closing; freeing last means no event of this batch can name a freed slot.
    fn before_sleep(&mut self) {
        let keys = std::mem::take(&mut self.pending_writes);
        for &key in &keys {
            if let Some(client) = self.state.clients.get_mut(key) {
                client.write_queued = false;
                self.write_client(key);
            }
        }
        self.pending_writes = keys;
        self.pending_writes.clear();
        self.free_closed_clients();
    }

    fn free_closed_clients(&mut self) {
        for key in std::mem::take(&mut self.state.closing) {
            let mut client = self.state.clients.remove(key);
            let _ = self.poll.registry().deregister(&mut client.stream);
        }
    }
}

/// Binds every `bind` address, as Redis does: `*` is every IPv4 address, `::*` every IPv6 address, and a
/// leading `-` marks an address whose failure to bind is not fatal.
fn bind_all(addresses: &[String], port: u16, backlog: u32) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    for address in addresses.iter().take(LISTENERS_MAX) {
        let (optional, name) = match address.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, address.as_str()),
        };
        let ip: std::net::IpAddr = match name {
            "*" => std::net::Ipv4Addr::UNSPECIFIED.into(),
            "::*" => std::net::Ipv6Addr::UNSPECIFIED.into(),
            other => match other.parse() {
                Ok(ip) => ip,
                Err(_) if optional => continue,
                Err(_) => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad bind address {other}"))),
            },
        };
        match crate::net::listen::bind_tcp(SocketAddr::new(ip, port), backlog) {
            Ok(listener) => listeners.push(listener),
            Err(_) if optional => continue,
            Err(e) => return Err(ListenError::wrap(Listener::Resp, name, port, e)),
        }
    }
    Ok(listeners)
}

/// Redis's `anetKeepAlive`: probe an idle peer after `interval_s`, then every third of it, three times, so a
/// vanished peer is noticed in about twice the interval. Zero turns keepalive off.
fn set_keepalive(stream: &mio::net::TcpStream, interval_s: u64) {
    if interval_s == 0 {
        return;
    }
    let interval = std::time::Duration::from_secs(interval_s);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(interval)
        .with_interval((interval / 3).max(std::time::Duration::from_secs(1)))
        .with_retries(3);
    let _ = socket2::SockRef::from(stream).set_tcp_keepalive(&keepalive);
}
