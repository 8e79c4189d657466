//! The event loop's side: one thread owns the poll, the listeners, every connection and, through `State`,
//! the whole keyspace.
//!
//! `Server` holds what only the event loop touches (the `mio::Poll`, signal handles, the connections, the
//! queues of clients waiting for a read or a write). `State` holds what commands may touch, the listeners
//! among them behind the `state::Listening` trait (so CONFIG SET can rebind them); a command runs through
//! `cmd::call` with `&mut State` and a `ClientId`, never a socket.
//!
//! Files: `mod.rs` accepting; `listeners.rs` the listening sockets; `connection.rs` a connection's socket and
//! buffers; `input.rs` reading and running requests; `output.rs` writing replies; `before_sleep.rs` the work
//! between event batches, in Redis's order; `event_loop.rs` the loop, timers and shutdown.
//!
//! # Invariants
//! - A client leaves `State::sessions` and `connections` only in `before_sleep`, so an id named by an event of
//!   the current batch still belongs to the client the event was for.
//! - A connection is in `pending_writes` at most once (`Connection::write_queued`).
//! - `connections[i]` is `Some` exactly when session `i` has a connection (its `link` is set).

mod admission;
mod append_only;
mod before_sleep;
mod busy;
mod client_eviction;
mod client_limits;
pub mod connection;
mod event_loop;
mod input;
mod listeners;
mod output;
mod replicas;

use mio::{Interest, Poll, Token};
use std::io;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::db::expire::ExpireCycle;
use crate::net::listen::Listener as ListenerKind;
pub use crate::state::Shutdown;
use crate::state::State;
use crate::state::session::ClientId;
pub(crate) use connection::{Connection, Protocol, Stream};
use listeners::Listeners;

/// The signal pipe's token, above every client's; listeners count down from just below it.
pub const SIGNALS: Token = Token(usize::MAX);
/// The fork child's report pipe (`crate::child`): far from the client ids below and the listeners above.
pub const CHILD: Token = Token(usize::MAX / 2);
/// A diskless sync's snapshot pipe (`state::replication::Diskless`), beside the child's.
pub const RDB_PIPE: Token = Token(usize::MAX / 2 + 1);

/// The server: what commands may touch (`State`) and the event loop's own half (`Io`), kept apart so that a
/// script running past `busy-reply-threshold` can re-enter the loop with the `State` it holds (see
/// `busy.rs`).
pub struct Server {
    pub state: State,
    io: Io,
}

/// What only the event loop touches: the poll, signal handles, the connections, the queues of clients waiting
/// for a read or a write, timers and the AOF.
pub(crate) struct Io {
    pub(crate) poll: Poll,
    signals: signal_hook_mio::v1_0::Signals,
    /// Connections by `ClientId` index; `None` for free slots and for sessions without a connection.
    connections: Vec<Option<Connection>>,
    /// Buffers every HTTP request reuses.
    http_scratch: crate::http::Scratch,
    /// Clients with replies to write before the next poll.
    pending_writes: Vec<ClientId>,
    /// Clients whose read stopped at the budget with more data possibly waiting, or whose input resumes.
    pending_reads: Vec<ClientId>,
    /// The event loop's iteration, so that a client is read at most once per iteration from `pending_reads`
    /// (see `Connection::read_turn`).
    turn: u64,
    /// Set when accept failed (EMFILE): retry from the cron, since edge-triggered readiness will not repeat.
    accept_retry: bool,
    expire_cycle: ExpireCycle,
    /// Every socket read lands here first (see `net::io::read_into`); zeroed once, shared by all clients.
    read_scratch: Box<[u8]>,
    next_cron: Instant,
    next_expire_slice: Option<Instant>,
    /// The append only file, while `appendonly yes`.
    aof: Option<crate::aof::Aof>,
    /// The cross-protocol ("Possible SECURITY ATTACK") warning: once a minute at most, as Redis logs it.
    security_warnings: crate::log::Throttle,
    /// Accept errors: one line a second at most, however fast accept fails.
    accept_errors: crate::log::Throttle,
    /// The events a busy script's turns of the loop poll into (the loop's own are in use below it).
    busy_events: mio::Events,
}

/// The loop at work: `State` and `Io` borrowed together. `Server::run` makes one; a busy script makes another
/// from the `State` it holds and the `Io` it was handed down (`busy.rs`).
pub(crate) struct Loop<'a> {
    pub(crate) state: &'a mut State,
    io: &'a mut Io,
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
        let listeners = Listeners::bind(poll.registry().try_clone()?, &config)?;
        let mut signals =
            signal_hook_mio::v1_0::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
        poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
        // The loop learns of these signals only between commands; a running script learns through this flag.
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, crate::scripting::SHUTDOWN_SIGNALLED.clone())?;
        }
        let now = Instant::now();
        let state = State::new(config, crate::cmd::table().names.len(), Box::new(listeners));
        let io = Io {
            poll,
            signals,
            connections: Vec::new(),
            http_scratch: crate::http::Scratch::default(),
            pending_writes: Vec::new(),
            pending_reads: Vec::new(),
            turn: 0,
            accept_retry: false,
            expire_cycle: ExpireCycle::default(),
            read_scratch: vec![0; crate::limits::READ_CHUNK_BYTES].into_boxed_slice(),
            next_cron: now,
            next_expire_slice: None,
            aof: None,
            security_warnings: crate::log::Throttle::new(Duration::from_secs(60)),
            accept_errors: crate::log::Throttle::new(Duration::from_secs(1)),
            busy_events: mio::Events::with_capacity(crate::limits::EVENTS_PER_POLL_MAX),
        };
        Ok(Server { state, io })
    }

    /// The port the RESP listener is bound to.
    pub fn port(&self) -> u16 {
        self.state.port
    }

    /// The HTTP gateway's port, when it listens.
    pub fn http_port(&mut self) -> Option<u16> {
        self.view().listeners().bound_port(ListenerKind::Http)
    }

    /// Serves until a shutdown is requested, then logs Redis's shutdown lines and returns.
    pub fn run(&mut self) -> io::Result<()> {
        self.view().run()
    }

    pub(super) fn view(&mut self) -> Loop<'_> {
        Loop { state: &mut self.state, io: &mut self.io }
    }
}

impl Loop<'_> {
    /// The listeners, which `State` holds for CONFIG SET (see `state::Listening`).
    fn listeners(&mut self) -> &mut Listeners {
        self.state.listening.as_any_mut().downcast_mut().expect("a bound server's listeners are `Listeners`")
    }

    /// Accepts every waiting connection on listener `index`. Errors such as EMFILE are logged and retried
    /// later, never fatal.
    fn accept_ready(&mut self, index: usize) {
        loop {
            let (kind, accepted) = self.listeners().accept(index);
            let mut stream = match accepted {
                Ok(stream) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.log_accept_error(&e);
                    self.io.accept_retry = true;
                    return;
                }
            };
            self.state.stats.total_connections_received += 1;
            if let Some(refusal) = admission::refusal(&self.state.config, self.state.sessions.len(), &stream) {
                // Like Redis: best-effort error straight on the socket, then drop it.
                let _ = io::Write::write(&mut stream, &admission::refusal_bytes(refusal, kind));
                self.state.stats.rejected_connections += 1;
                continue;
            }
            if let Stream::Tcp(tcp) = &stream {
                set_keepalive(tcp, self.state.config.tcp_keepalive_s);
            }
            self.add_connection(stream, kind);
        }
    }

    /// Logs a failed accept (EMFILE, ENFILE, ENOBUFS), at most once a second: the cron retries at `hz`,
    /// and a flood of the same line would fill the disk while telling nothing new.
    fn log_accept_error(&mut self, error: &io::Error) {
        if self.io.accept_errors.ready(Instant::now()) {
            crate::log!(Warning, "Accepting client connection: {}", crate::util::strerror::strerror(error));
        }
    }

    /// Registers an accepted stream and gives it a session under the same id.
    fn add_connection(&mut self, mut stream: Stream, kind: ListenerKind) {
        let id = self.state.sessions.next_id();
        if let Err(e) = self.io.poll.registry().register(&mut stream, Token(id.index()), Interest::READABLE) {
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
        if self.io.connections.len() <= id.index() {
            self.io.connections.resize_with(id.index() + 1, || None);
        }
        self.io.connections[id.index()] = Some(connection);
    }

    /// Handles readiness on client `id`.
    fn client_ready(&mut self, id: ClientId, readable: bool, writable: bool) {
        match self.state.sessions.get(id) {
            Some(session) if !session.close_asap => {}
            _ => return,
        }
        if self.read_put_off(id) {
            return;
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
            if let Some(mut connection) = self.io.connections.get_mut(id.index()).and_then(Option::take) {
                let _ = self.io.poll.registry().deregister(&mut connection.stream);
            }
        }
    }
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
