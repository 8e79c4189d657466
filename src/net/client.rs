//! `Client`: one connection's buffers and session state (selected db, protocol, name, flags).
//!
//! Clients live in the server's `Slab`; the slab key is the poll token. A client is only removed from the slab
//! in `before_sleep`, after the event batch that may still name its token is done.

use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use std::net::SocketAddr;

use crate::resp::parse::RequestParser;
use crate::resp::reply::Reply;
use crate::state::wait_queues::Parked;

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Set while running the command whose reply is skipped.
    Skipping,
}

/// Which protocol a connection speaks: chosen by the listener that accepted it.
#[derive(Debug)]
pub enum Protocol {
    Resp,
    /// An HTTP gateway connection, with its request-parsing state (`crate::http`).
    Http(Box<crate::http::Session>),
}

#[derive(Debug)]
pub struct Client {
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub local_addr: SocketAddr,
    /// Bytes received and not yet parsed.
    pub query: BytesMut,
    /// While the requests of one read run, the bytes the query buffer held when they started: Redis trims its
    /// query buffer only after running them all, so CLIENT LIST's `qbuf` counts the running request. 0 otherwise.
    pub query_batch_len: usize,
    pub parser: RequestParser,
    /// The request being parsed or run; its arguments share `query`'s memory.
    pub argv: Vec<Bytes>,
    /// Replies not yet written, and the protocol (RESP2/3).
    pub reply: Reply,
    /// Bytes at the front of `reply.buf` already written to the socket.
    pub reply_sent: usize,
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
    /// Whether WRITABLE interest is registered (only while a write is incomplete).
    pub writable_registered: bool,
    /// Whether the client is queued in `pending_writes`.
    pub write_queued: bool,
    /// Set while the client waits in blocking wait queues; its parked command stays in `argv` and its further
    /// input waits unparsed.
    pub parked: Option<Parked>,
    /// The transaction being queued between MULTI and EXEC.
    pub multi: Option<Box<Multi>>,
    /// Keys this client WATCHes.
    pub watched: Vec<WatchedKey>,
    /// A watched key was modified: the next EXEC fails (Redis's CLIENT_DIRTY_CAS).
    pub dirty_cas: bool,
    /// RESP or HTTP, by the listener that accepted the connection.
    pub protocol: Protocol,
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

impl Client {
    pub fn new(id: u64, stream: TcpStream, addr: SocketAddr, now_ms: i64, authenticated: bool) -> Client {
        let local_addr = stream.local_addr().unwrap_or(addr);
        Client {
            id,
            stream,
            addr,
            local_addr,
            query: BytesMut::new(),
            query_batch_len: 0,
            parser: RequestParser::default(),
            argv: Vec::new(),
            reply: Reply::default(),
            reply_sent: 0,
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
            writable_registered: false,
            write_queued: false,
            parked: None,
            multi: None,
            watched: Vec::new(),
            dirty_cas: false,
            protocol: Protocol::Resp,
        }
    }

    /// Bytes of replies not yet written.
    pub fn reply_pending(&self) -> usize {
        self.reply.buf.len() - self.reply_sent
    }
}
