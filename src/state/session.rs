//! `Session`: one client as commands see it (selected db, auth, protocol, name, MULTI queue, watched keys,
//! parked command, reply mode, output buffer), and `Sessions`, the table of them keyed by `ClientId`.
//!
//! A session knows nothing of sockets. A network client also has a connection (`server::connection`) under
//! the same `ClientId`, which the event loop owns; a session without one (the handler tests' clients, and
//! later the AOF loader, a replica's master link or Lua's client) runs commands all the same. What CLIENT
//! LIST shows of the connection (addresses, fd, buffer sizes) is copied into `Link` by the event loop.

use bytes::Bytes;
use slab::Slab;
use std::ops::{Index, IndexMut};

use super::subscriptions::Subscriptions;
use super::tracking_table::ClientTracking;
use super::wait_queues::Parked;
use crate::resp::reply::Reply;

/// Which client: the index of its session (and of its connection, if it has one, and its poll token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub(crate) usize);

impl ClientId {
    /// The slab index, for the event loop's poll token and connection table.
    pub fn index(self) -> usize {
        self.0
    }
}

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Set while running the command whose reply is skipped (and while it is blocked, as Redis's
    /// CLIENT_REPLY_SKIP stays set until the blocked command is answered).
    Skipping,
}

/// How a session reaches the outside, for CLIENT LIST and INFO: set by the event loop, read by commands.
#[derive(Debug, Clone, Default)]
pub struct Link {
    /// `ip:port` of the peer (`path:0` for a Unix socket, as Redis prints it).
    pub addr: String,
    /// `ip:port` (or socket path) the connection was accepted on.
    pub laddr: String,
    pub fd: i32,
    /// An HTTP gateway connection rather than RESP.
    pub http: bool,
    /// Connected over the Unix socket (CLIENT LIST flag `U`).
    pub unix: bool,
    /// Bytes received and not yet parsed, and the query buffer's free capacity (CLIENT LIST qbuf, qbuf-free).
    pub qbuf: usize,
    pub qbuf_free: usize,
    /// Bytes at the front of the output buffer already written.
    pub sent: usize,
    /// The socket is full and WRITABLE interest is registered until the output drains (CLIENT LIST
    /// `events=rw`); the event loop's one record of that registration.
    pub write_waiting: bool,
}

#[derive(Debug)]
pub struct Session {
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    /// The connection's facts; `None` for a session with no connection.
    pub link: Option<Link>,
    /// Replies not yet written, and the protocol (RESP2/3).
    pub reply: Reply,
    pub db: usize,
    pub name: Option<Bytes>,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    /// Table id of the last command looked up (CLIENT LIST `cmd=`); `None` before the first one and after an
    /// unknown one, which Redis prints as `NULL`.
    pub last_command: Option<usize>,
    /// Write the pending replies, then close (QUIT, protocol errors, CLIENT KILL of oneself).
    pub close_after_reply: bool,
    /// Close at the next `before_sleep` without writing more (I/O errors, CLIENT KILL).
    pub close_asap: bool,
    /// Set while the session waits in blocking wait queues, with the command to run again; its further
    /// input waits unparsed.
    pub parked: Option<Parked>,
    /// The transaction being queued between MULTI and EXEC.
    pub multi: Option<Box<Multi>>,
    /// Keys this session WATCHes.
    pub watched: Vec<WatchedKey>,
    /// A watched key was modified: the next EXEC fails (Redis's CLIENT_DIRTY_CAS).
    pub dirty_cas: bool,
    /// Channels, patterns and shard channels subscribed to; `None` while there is none (see `state::subscriptions`).
    pub subscriptions: Option<Box<Subscriptions>>,
    /// A command held by CLIENT PAUSE, run again when the pause ends; further input waits meanwhile.
    pub postponed: Option<Vec<Bytes>>,
    /// MONITOR was run: every command is shown to this session (CLIENT LIST flag `O`).
    pub monitor: bool,
    /// CLIENT TRACKING is on, with these options (see `state::tracking_table`).
    pub tracking: Option<Box<ClientTracking>>,
    /// When (Unix seconds) the unsent replies first passed the class's soft limit; `None` while under it
    /// (see `state::output_limits`).
    pub soft_limit_since_s: Option<i64>,
    /// Set by REPLCONF or SYNC/PSYNC: what the master knows of this replica (see `state::replication`).
    pub replica: Option<Box<super::replication::Replica>>,
    /// The replication offset just past this client's latest propagated write (Redis's `woff`, for WAIT).
    pub write_offset: u64,
}

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct Multi {
    pub commands: Vec<Vec<Bytes>>,
    /// A command was rejected while queuing (unknown, wrong arity): EXEC answers EXECABORT.
    pub aborted: bool,
}

/// One WATCHed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedKey {
    pub db: usize,
    pub key: Bytes,
    /// The key existed but its TTL had passed when WATCH ran: its later deletion by expiry is no change.
    pub expired: bool,
}

impl Session {
    pub fn new(id: u64, link: Option<Link>, now_ms: i64, authenticated: bool) -> Session {
        Session {
            id,
            link,
            reply: Reply::default(),
            db: 0,
            name: None,
            authenticated,
            reply_mode: ReplyMode::On,
            no_evict: false,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_command: None,
            close_after_reply: false,
            close_asap: false,
            parked: None,
            multi: None,
            watched: Vec::new(),
            dirty_cas: false,
            subscriptions: None,
            postponed: None,
            monitor: false,
            tracking: None,
            soft_limit_since_s: None,
            replica: None,
            write_offset: 0,
        }
    }

    /// Whether SYNC or PSYNC made this session a replica (CLIENT LIST flag `S`, the `replica` output class).
    pub fn is_replica(&self) -> bool {
        self.replica.as_ref().is_some_and(|r| r.attached())
    }

    /// Bytes of replies not yet written.
    pub fn reply_pending(&self) -> usize {
        self.reply.buf.len() - self.link.as_ref().map_or(0, |link| link.sent)
    }

    /// Whether the session has any pub/sub subscription (Redis's CLIENT_PUBSUB flag): RESP2 commands are then
    /// restricted, and output-buffer limits class it as `pubsub`.
    pub fn is_subscribed(&self) -> bool {
        self.subscriptions.is_some()
    }

    /// Whether the session speaks HTTP through the gateway.
    pub fn is_http(&self) -> bool {
        self.link.as_ref().is_some_and(|link| link.http)
    }
}

/// Every session, by `ClientId`.
#[derive(Debug, Default)]
pub struct Sessions(Slab<Session>);

impl Sessions {
    /// The id the next `insert` will return.
    pub fn next_id(&self) -> ClientId {
        ClientId(self.0.vacant_key())
    }

    pub fn insert(&mut self, session: Session) -> ClientId {
        ClientId(self.0.insert(session))
    }

    pub fn remove(&mut self, id: ClientId) -> Session {
        self.0.remove(id.0)
    }

    pub fn get(&self, id: ClientId) -> Option<&Session> {
        self.0.get(id.0)
    }

    pub fn get_mut(&mut self, id: ClientId) -> Option<&mut Session> {
        self.0.get_mut(id.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (ClientId, &Session)> {
        self.0.iter().map(|(index, session)| (ClientId(index), session))
    }

    pub fn ids(&self) -> Vec<ClientId> {
        self.0.iter().map(|(index, _)| ClientId(index)).collect()
    }
}

impl Index<ClientId> for Sessions {
    type Output = Session;
    fn index(&self, id: ClientId) -> &Session {
        &self.0[id.0]
    }
}

impl IndexMut<ClientId> for Sessions {
    fn index_mut(&mut self, id: ClientId) -> &mut Session {
        &mut self.0[id.0]
    }
}
