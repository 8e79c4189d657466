//! The listening sockets: RESP over TCP on every `bind` address, RESP over the Unix socket, and the HTTP
//! gateway on `http-port`. The event loop accepts from them; CONFIG SET port, bind and http-port rebind them
//! through `state::Listening`, the one way a command reaches them without seeing a socket, as Redis's
//! changeListenPort and changeBindAddr do: the new sockets are bound before the old ones close, or, when
//! they overlap (the same port on other addresses), the old ones close first and come back if the new ones
//! cannot be bound. Either way a failure leaves the listeners as they were.

use mio::net::{TcpListener, UnixListener};
use mio::{Interest, Registry, Token};
use std::any::Any;
use std::io;
use std::net::SocketAddr;

use super::connection::Stream;
use crate::config::Config;
use crate::net::listen::{self, ListenError, Listener as Kind};
use crate::state::{Listening, RebindError};

/// Listeners take the tokens just below the signal pipe's, counting down.
pub const LISTENER_FIRST: usize = usize::MAX - 1;
/// Most addresses `bind` may name.
pub const BIND_ADDRESSES_MAX: usize = 16;
/// Every listener: the `bind` addresses for RESP and for HTTP, and the Unix socket.
const LISTENERS_MAX: usize = 2 * BIND_ADDRESSES_MAX + 1;

/// One listening socket and the kind of client it accepts.
#[derive(Debug)]
struct Bound {
    kind: Kind,
    socket: Socket,
}

#[derive(Debug)]
enum Socket {
    Tcp(TcpListener),
    Unix(UnixListener),
}

#[derive(Debug)]
pub struct Listeners {
    registry: Registry,
    bound: Vec<Bound>,
    /// What the TCP listeners were made from, so a rebind changes only what CONFIG SET changed.
    port: u16,
    http_port: u16,
    bind: Vec<String>,
    backlog: u32,
}

impl Listeners {
    /// Binds every listener `config` asks for and registers them with `registry`.
    pub fn bind(registry: Registry, config: &Config) -> io::Result<Listeners> {
        let backlog = config.tcp_backlog;
        let mut bound = bind_kind(Kind::Resp, &config.bind, config.port, backlog)?;
        if !config.unixsocket.is_empty() {
            let path = std::path::Path::new(&config.unixsocket);
            let socket = listen::bind_unix(path, config.unixsocketperm, backlog)
                .map_err(|e| io::Error::new(e.kind(), format!("Failed opening Unix socket: {e}")))?;
            bound.push(Bound { kind: Kind::Resp, socket: Socket::Unix(socket) });
        }
        bound.extend(bind_kind(Kind::Http, &config.bind, config.http_port, backlog)?);
        let mut listeners = Listeners {
            registry,
            bound,
            port: config.port,
            http_port: config.http_port,
            bind: config.bind.clone(),
            backlog,
        };
        listeners.register_all()?;
        Ok(listeners)
    }

    /// The listener a poll token names, if it is a listener token.
    pub fn index_of(&self, token: Token) -> Option<usize> {
        let index = LISTENER_FIRST.checked_sub(token.0)?;
        (index < self.bound.len()).then_some(index)
    }

    pub fn len(&self) -> usize {
        self.bound.len()
    }

    /// Accepts one waiting connection on listener `index`: its kind and the stream, or the error
    /// (`WouldBlock` once none waits).
    pub fn accept(&self, index: usize) -> (Kind, io::Result<Stream>) {
        let listener = &self.bound[index];
        let stream = match &listener.socket {
            Socket::Tcp(socket) => socket.accept().map(|(stream, _)| {
                let _ = stream.set_nodelay(true);
                Stream::Tcp(stream)
            }),
            Socket::Unix(socket) => socket.accept().map(|(stream, _)| Stream::Unix(stream)),
        };
        (listener.kind, stream)
    }

    /// The port a TCP listener of `kind` is bound to (differs from the config when it asked for 0).
    pub fn bound_port(&self, kind: Kind) -> Option<u16> {
        self.bound.iter().filter(|b| b.kind == kind).find_map(|b| match &b.socket {
            Socket::Tcp(socket) => socket.local_addr().ok().map(|addr| addr.port()),
            Socket::Unix(_) => None,
        })
    }

    /// Registers every listener under the token of its index (after a rebind the indexes move).
    fn register_all(&mut self) -> io::Result<()> {
        for (index, listener) in self.bound.iter_mut().enumerate().take(LISTENERS_MAX) {
            let token = Token(LISTENER_FIRST - index);
            match &mut listener.socket {
                Socket::Tcp(socket) => {
                    let _ = self.registry.deregister(socket);
                    self.registry.register(socket, token, Interest::READABLE)?;
                }
                Socket::Unix(socket) => {
                    let _ = self.registry.deregister(socket);
                    self.registry.register(socket, token, Interest::READABLE)?;
                }
            }
        }
        Ok(())
    }

    /// Replaces the TCP listeners of `kind` with ones on `bind`:`port`; on failure they stay as they were.
    fn rebind_kind(&mut self, kind: Kind, bind: &[String], port: u16, old_port: u16) -> io::Result<()> {
        let ours = |b: &Bound| b.kind == kind && matches!(b.socket, Socket::Tcp(_));
        match bind_kind(kind, bind, port, self.backlog) {
            Ok(new) => {
                self.bound.retain(|b| !ours(b));
                self.bound.extend(new);
                Ok(())
            }
            // The same port on overlapping addresses: free ours first, and take them back on failure.
            Err(_) if port == old_port => {
                self.bound.retain(|b| !ours(b));
                match bind_kind(kind, bind, port, self.backlog) {
                    Ok(new) => {
                        self.bound.extend(new);
                        Ok(())
                    }
                    Err(e) => {
                        let old = bind_kind(kind, &self.bind, old_port, self.backlog);
                        self.bound.extend(old.unwrap_or_default());
                        Err(e)
                    }
                }
            }
            Err(e) => Err(e),
        }
    }
}

impl Listening for Listeners {
    fn rebind(&mut self, config: &Config) -> Result<(), RebindError> {
        let bind_changed = config.bind != self.bind;
        let targets =
            [(Kind::Resp, config.port, self.port, "port"), (Kind::Http, config.http_port, self.http_port, "http-port")];
        for (kind, port, old_port, directive) in targets {
            if port == old_port && !bind_changed {
                continue;
            }
            if let Err(e) = self.rebind_kind(kind, &config.bind, port, old_port) {
                crate::log!(Warning, "Failed to listen on {directive} {port}: {e}");
                let _ = self.register_all();
                let (directive, reason) = if port != old_port {
                    (directive, "Unable to listen on this port. Check server logs.")
                } else {
                    ("bind", "Failed to bind to specified addresses.")
                };
                return Err(RebindError { directive, reason });
            }
            match kind {
                Kind::Resp => self.port = port,
                Kind::Http => self.http_port = port,
            }
        }
        self.bind = config.bind.clone();
        let _ = self.register_all();
        Ok(())
    }

    fn port(&self) -> u16 {
        self.bound_port(Kind::Resp).unwrap_or(self.port)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Binds every `bind` address on `port` for `kind` (none when the port is 0), as Redis does: `*` is every
/// IPv4 address, `::*` every IPv6 address, and a leading `-` marks an address whose failure to bind is not
/// fatal.
fn bind_kind(kind: Kind, addresses: &[String], port: u16, backlog: u32) -> io::Result<Vec<Bound>> {
    let mut bound = Vec::new();
    if port == 0 {
        return Ok(bound);
    }
    for address in addresses.iter().take(BIND_ADDRESSES_MAX) {
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
        match listen::bind_tcp(SocketAddr::new(ip, port), backlog) {
            Ok(socket) => bound.push(Bound { kind, socket: Socket::Tcp(socket) }),
            Err(_) if optional => continue,
            Err(e) => return Err(ListenError::wrap(kind, name, port, e)),
        }
    }
    Ok(bound)
}
