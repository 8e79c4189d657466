//! `Connection`: what the event loop keeps for one socket (the stream, the query buffer and the parser's
//! state, poll registration, the HTTP request reader). The session the commands see lives in `State` under
//! the same `ClientId`; what it shows of the connection (addresses, fd, buffer sizes) is copied into its
//! `Link` here, so nothing under `cmd` ever touches a socket.

use bytes::{Bytes, BytesMut};
use mio::event::Source;
use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

use crate::resp::parse::RequestParser;
use crate::state::session::Link;

/// A client socket: TCP, or a Unix socket from `unixsocket`.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// Which protocol a connection speaks: chosen by the listener that accepted it.
#[derive(Debug)]
pub enum Protocol {
    Resp,
    /// An HTTP gateway connection, with its request reader (`crate::http`).
    Http(Box<crate::http::RequestReader>),
}

#[derive(Debug)]
pub struct Connection {
    pub stream: Stream,
    /// Bytes received and not yet parsed.
    pub query: BytesMut,
    pub parser: RequestParser,
    /// The request being parsed or run; its arguments share `query`'s memory.
    pub argv: Vec<Bytes>,
    /// Whether the connection is queued in the server's pending writes.
    pub write_queued: bool,
    /// The event-loop iteration in which the socket was last read.
    pub read_turn: u64,
    pub protocol: Protocol,
}

impl Connection {
    pub fn new(stream: Stream, protocol: Protocol) -> Connection {
        Connection {
            stream,
            query: BytesMut::new(),
            parser: RequestParser::default(),
            argv: Vec::new(),
            write_queued: false,
            read_turn: 0,
            protocol,
        }
    }

    /// The facts about this connection a session shows (CLIENT LIST's addr, laddr, fd).
    pub fn link(&self) -> Link {
        let (addr, laddr) = match &self.stream {
            Stream::Tcp(tcp) => (
                tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
                tcp.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            ),
            // Redis prints a Unix socket client as `addr=/path:0 laddr=/path:0`, the listening socket's path.
            Stream::Unix(unix) => {
                let path = unix.local_addr().ok().and_then(|a| a.as_pathname().map(|p| p.display().to_string()));
                let name = format!("{}:0", path.unwrap_or_default());
                (name.clone(), name)
            }
        };
        let fd = match &self.stream {
            Stream::Tcp(tcp) => tcp.as_raw_fd(),
            Stream::Unix(unix) => unix.as_raw_fd(),
        };
        let http = matches!(self.protocol, Protocol::Http(_));
        let unix = matches!(self.stream, Stream::Unix(_));
        Link { addr, laddr, fd, http, unix, ..Link::default() }
    }

    /// Copies the query buffer's sizes into the session's `link`.
    pub fn update_link(&self, link: &mut Link) {
        link.qbuf = self.query.len();
        link.qbuf_free = self.query.capacity() - self.query.len();
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

impl Source for Stream {
    fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(registry, token, interests),
            Stream::Unix(s) => s.register(registry, token, interests),
        }
    }

    fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(registry, token, interests),
            Stream::Unix(s) => s.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s) => s.deregister(registry),
        }
    }
}
