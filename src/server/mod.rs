//! The event loop's side: one thread owns the poll, the listeners, every connection and, through `State`,
//! the whole keyspace.
//!
//! `Server` holds what only the event loop touches (the `mio::Poll`, listeners, signal handles, the
//! connections, the queues of clients waiting for a read or a write). `State` holds what commands may touch;
//! a command runs through `cmd::call` with `&mut State` and a `ClientId`, never a socket.
//!
//! Files: `mod.rs` listeners and accept; `connection.rs` a connection's socket and buffers; `input.rs`
//! reading and running requests; `output.rs` writing replies; `before_sleep.rs` the work between event
//! batches, in Redis's order; `event_loop.rs` the loop, timers and shutdown.
//!
//! # Invariants
//! - A client leaves `State::sessions` and `connections` only in `before_sleep`, so an id named by an event of
//!   the current batch still belongs to the client the event was for.
//! - A connection is in `pending_writes` at most once (`Connection::write_queued`).
//! - `connections[i]` is `Some` exactly when session `i` has a connection (its `link` is set).

mod before_sleep;
pub mod connection;
mod event_loop;
mod input;
mod output;

use mio::net::{TcpListener, UnixListener};
use mio::{Interest, Poll, Token};
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use crate::config::Config;
use crate::db::expire::ExpireCycle;
use crate::net::listen::{ListenError, Listener as ListenerName};
pub use crate::state::Shutdown;
use crate::state::State;
use crate::state::session::ClientId;
pub(crate) use connection::{Connection, Protocol, Stream};

/// The signal pipe's token, above every client's; listeners count down from just below it.
pub const SIGNALS: Token = Token(usize::MAX);
const LISTENER_FIRST: usize = usize::MAX - 1;
/// Most addresses `bind` may name.
pub const LISTENERS_MAX: usize = 16;
/// Every listener: `bind` addresses for RESP and for HTTP, and the Unix socket.
const ALL_LISTENERS_MAX: usize = 2 * LISTENERS_MAX + 1;

/// Which kind of client a listener accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    Resp,
    Http,
}

/// One listening socket.
#[derive(Debug)]
struct Listener {
    kind: ListenerKind,
    socket: ListenSocket,
}

#[derive(Debug)]
enum ListenSocket {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl ListenSocket {
    fn accept(&self) -> io::Result<Stream> {
        match self {
            ListenSocket::Tcp(listener) => listener.accept().map(|(stream, _)| {
                let _ = stream.set_nodelay(true);
                Stream::Tcp(stream)
            }),
            ListenSocket::Unix(listener) => listener.accept().map(|(stream, _)| Stream::Unix(stream)),
        }
    }
}

/// The event loop's own state around `State`.
pub struct Server {
    pub(crate) poll: Poll,
    listeners: Vec<Listener>,
    signals: signal_hook_mio::v1_0::Signals,
    pub state: State,
    /// Connections by `ClientId` index; `None` for free slots and for sessions without a connection.
    connections: Vec<Option<Connection>>,
    /// Buffers every HTTP request reuses.
    http_scratch: crate::http::Scratch,
    /// Clients with replies to write before the next poll.
    pending_writes: Vec<ClientId>,
    /// Clients whose read stopped at the budget with more data possibly waiting, or whose input resumes.
    pending_reads: Vec<ClientId>,
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
        f.debug_struct("Server").field("port", &self.state.port).field("clients", &self.state.sessions.len()).finish()
    }
}

impl Server {
    /// Binds the listeners and sets up signal handling; logs nothing yet.
    pub fn bind(config: Config) -> io::Result<Server> {
        let poll = Poll::new()?;
        let mut listeners = Vec::new();
        let mut port = config.port;
        let backlog = config.tcp_backlog;
        if config.port != 0 {
            for socket in bind_all(&config.bind, config.port, backlog, ListenerName::Resp)? {
                port = socket.local_addr()?.port();
                listeners.push(Listener { kind: ListenerKind::Resp, socket: ListenSocket::Tcp(socket) });
            }
        }
        if !config.unixsocket.is_empty() {
            let path = std::path::Path::new(&config.unixsocket);
            let socket = crate::net::listen::bind_unix(path, config.unixsocketperm, backlog)
                .map_err(|e| io::Error::new(e.kind(), format!("Failed opening Unix socket: {e}")))?;
            listeners.push(Listener { kind: ListenerKind::Resp, socket: ListenSocket::Unix(socket) });
        }
        if config.http_port != 0 {
            for socket in bind_all(&config.bind, config.http_port, backlog, ListenerName::Http)? {
                listeners.push(Listener { kind: ListenerKind::Http, socket: ListenSocket::Tcp(socket) });
            }
        }
        for (index, listener) in listeners.iter_mut().enumerate() {
            let token = Token(LISTENER_FIRST - index);
            match &mut listener.socket {
                ListenSocket::Tcp(socket) => poll.registry().register(socket, token, Interest::READABLE)?,
                ListenSocket::Unix(socket) => poll.registry().register(socket, token, Interest::READABLE)?,
            }
        }
        let mut signals =
            signal_hook_mio::v1_0::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
        poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
        let now = Instant::now();
        Ok(Server {
            poll,
            listeners,
            signals,
            state: State::new(config, crate::cmd::table().names.len(), port),
            connections: Vec::new(),
            http_scratch: crate::http::Scratch::default(),
            pending_writes: Vec::new(),
            pending_reads: Vec::new(),
            accept_retry: false,
            expire_cycle: ExpireCycle::default(),
            read_scratch: vec![0; crate::limits::READ_CHUNK_BYTES].into_boxed_slice(),
            next_cron: now,
            next_expire_slice: None,
        })
    }

    /// The port the RESP listener is bound to.
    pub fn port(&self) -> u16 {
        self.state.port
    }

    /// The HTTP gateway's port, when it listens.
    pub fn http_port(&self) -> Option<u16> {
        self.listeners.iter().find(|l| l.kind == ListenerKind::Http).and_then(|listener| match &listener.socket {
            ListenSocket::Tcp(socket) => socket.local_addr().ok().map(|addr| addr.port()),
            ListenSocket::Unix(_) => None,
        })
    }

    /// The listener a token names, if it is a listener token.
    fn listener_index(&self, token: Token) -> Option<usize> {
        let index = LISTENER_FIRST.checked_sub(token.0)?;
        (index < self.listeners.len().min(ALL_LISTENERS_MAX)).then_some(index)
    }

    /// Accepts every waiting connection on listener `index`. Errors such as EMFILE are logged and retried
    /// later, never fatal.
    fn accept_ready(&mut self, index: usize) {
        loop {
            let listener = &self.listeners[index];
            let kind = listener.kind;
            let mut stream = match listener.socket.accept() {
                Ok(stream) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::log!(Warning, "Accepting client connection: {}", e);
                    self.accept_retry = true;
                    return;
                }
            };
            self.state.stats.total_connections_received += 1;
            if self.state.sessions.len() >= self.state.config.maxclients {
                // Like Redis: best-effort error straight on the socket, then drop it.
                let refusal = match kind {
                    ListenerKind::Resp => b"-ERR max number of clients reached\r\n".to_vec(),
                    ListenerKind::Http => crate::http::max_clients_response(),
                };
                let _ = io::Write::write(&mut stream, &refusal);
                self.state.stats.rejected_connections += 1;
                continue;
            }
            if let Stream::Tcp(tcp) = &stream {
                set_keepalive(tcp, self.state.config.tcp_keepalive_s);
            }
            self.add_connection(stream, kind);
        }
    }

    /// Registers an accepted stream and gives it a session under the same id.
    fn add_connection(&mut self, mut stream: Stream, kind: ListenerKind) {
        let id = self.state.sessions.next_id();
        if let Err(e) = self.poll.registry().register(&mut stream, Token(id.index()), Interest::READABLE) {
            crate::log!(Warning, "Registering client: {}", e);
            return;
        }
        let protocol = match kind {
            ListenerKind::Resp => Protocol::Resp,
            ListenerKind::Http => Protocol::Http(Box::default()),
        };
        let connection = Connection::new(stream, protocol);
        let added = self.state.add_session(Some(connection.link()));
        debug_assert_eq!(added, id);
        if self.connections.len() <= id.index() {
            self.connections.resize_with(id.index() + 1, || None);
        }
        self.connections[id.index()] = Some(connection);
    }

    /// Handles readiness on client `id`.
    fn client_ready(&mut self, id: ClientId, readable: bool, writable: bool) {
        match self.state.sessions.get(id) {
            Some(session) if !session.close_asap => {}
            _ => return,
        }
        if writable {
            self.write_client(id);
        }
        if readable {
            self.read_client(id);
        }
    }

    /// Frees every client marked for closing: its connection leaves the poll, its session the state.
    fn free_closed(&mut self) {
        for id in std::mem::take(&mut self.state.closing) {
            self.state.sessions.remove(id);
            if let Some(mut connection) = self.connections.get_mut(id.index()).and_then(Option::take) {
                let _ = self.poll.registry().deregister(&mut connection.stream);
            }
        }
    }
}

/// Binds every `bind` address, as Redis does: `*` is every IPv4 address, `::*` every IPv6 address, and a
/// leading `-` marks an address whose failure to bind is not fatal. `which` names the listener in errors.
fn bind_all(addresses: &[String], port: u16, backlog: u32, which: ListenerName) -> io::Result<Vec<TcpListener>> {
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
            Err(e) => return Err(ListenError::wrap(which, name, port, e)),
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
