//! Who may connect: `maxclients` (fitted to the open-file limit by `net::open_files`, so that the limit is
//! reached before `accept` fails with EMFILE and a client gets an error instead of hanging in the backlog)
//! and protected mode (clientAcceptHandler: without a password, only loopback clients are served).
//!
//! A refused client gets one best-effort write straight on its socket (Redis's error line, or the HTTP
//! form of it) and is dropped before it has a session.

use std::net::IpAddr;

use crate::config::Config;
use crate::net::listen::Listener as ListenerKind;

use super::Stream;

/// Redis 7.0's protected-mode refusal, sent to a non-loopback client when no password is set.
pub const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no \
     password is set for the default user. In this mode connections are only accepted from the loopback \
     interface. If you want to connect from external computers to Redis you may adopt one of the following \
     solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the \
     loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE \
     Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change \
     permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration \
     file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the \
     server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an \
     authentication password for the default user. NOTE: You only need to do one of the above things in order \
     for the server to start accepting connections from the outside.\r\n";

/// Why an accepted connection is turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MaxClients,
    ProtectedMode,
}

/// Whether a new connection on a `kind` listener may be served, with `clients` sessions already open.
pub fn refusal(config: &Config, clients: usize, stream: &Stream) -> Option<Refusal> {
    if clients >= config.maxclients {
        return Some(Refusal::MaxClients);
    }
    let Stream::Tcp(tcp) = stream else { return None };
    let peer = tcp.peer_addr().ok()?.ip();
    (config.protected_mode && config.requirepass.is_none() && !is_loopback_as_redis(peer))
        .then_some(Refusal::ProtectedMode)
}

/// Redis compares the peer's address text with `127.0.0.1` and `::1` only, so 127.0.0.2 is not local.
fn is_loopback_as_redis(ip: IpAddr) -> bool {
    ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
}

/// The bytes a refused client gets before its socket is closed.
pub fn refusal_bytes(refusal: Refusal, kind: ListenerKind) -> Vec<u8> {
    match (refusal, kind) {
        (Refusal::MaxClients, ListenerKind::Resp) => b"-ERR max number of clients reached\r\n".to_vec(),
        (Refusal::ProtectedMode, ListenerKind::Resp) => DENIED.as_bytes().to_vec(),
        (Refusal::MaxClients, ListenerKind::Http) => {
            crate::http::refusal_response(503, "max number of clients reached")
        }
        (Refusal::ProtectedMode, ListenerKind::Http) => crate::http::refusal_response(
            403,
            "protected mode: only loopback clients are served while no password is set (requirepass)",
        ),
    }
}
