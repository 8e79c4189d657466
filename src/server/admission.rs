//! Who may connect: `maxclients` (fitted to the open-file limit at startup, as Redis's adjustOpenFilesLimit
//! does, so that the limit is reached before `accept` fails with EMFILE and a client gets an error instead of
//! hanging in the backlog) and protected mode (clientAcceptHandler: without a password, only loopback
//! clients are served).
//!
//! A refused client gets one best-effort write straight on its socket (Redis's error line, or the HTTP
//! form of it) and is dropped before it has a session.

use std::io;
use std::net::IpAddr;

use crate::config::Config;
use crate::net::listen::Listener as ListenerKind;

use super::Stream;

/// File descriptors Redis keeps for itself beyond one per client (CONFIG_MIN_RESERVED_FDS: listeners,
/// logs, persistence files).
const RESERVED_FDS: u64 = 32;

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

/// Raises the open-file limit to what `maxclients` needs, or lowers `maxclients` to what the limit allows,
/// logging Redis's lines; exits as Redis does when not even the reserved descriptors fit.
pub fn fit_maxclients(config: &mut Config) {
    let wanted = config.maxclients as u64 + RESERVED_FDS;
    let Ok((old_limit, hard_limit)) = open_files_limit() else {
        crate::log!(
            Warning,
            "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients \
             configuration accordingly.",
            crate::util::strerror::strerror(&io::Error::last_os_error())
        );
        config.maxclients = (1024 - RESERVED_FDS) as usize;
        return;
    };
    if old_limit >= wanted {
        return;
    }
    // As Redis: try the full need, then 16 fewer at a time, down to the current limit.
    let mut best = wanted;
    let mut error = None;
    while best > old_limit {
        match set_open_files_limit(best, hard_limit) {
            Ok(()) => break,
            Err(e) => error = Some(e),
        }
        if best < 16 {
            best = old_limit;
            break;
        }
        best -= 16;
    }
    let best = best.max(old_limit);
    if best >= wanted {
        crate::log!(
            Notice,
            "Increased maximum number of open files to {} (it was originally set to {}).",
            wanted,
            old_limit
        );
        return;
    }
    if best <= RESERVED_FDS {
        crate::log!(
            Warning,
            "Your current 'ulimit -n' of {} is not enough for the server to start. Please increase your open file \
             limit to at least {}. Exiting.",
            old_limit,
            wanted
        );
        std::process::exit(1);
    }
    let requested = config.maxclients;
    config.maxclients = (best - RESERVED_FDS) as usize;
    let error = error.map(|e| crate::util::strerror::strerror(&e)).unwrap_or_default();
    crate::log!(
        Warning,
        "You requested maxclients of {} requiring at least {} max file descriptors.",
        requested,
        wanted
    );
    crate::log!(Warning, "Server can't set maximum open files to {} because of OS error: {}.", wanted, error);
    crate::log!(
        Warning,
        "Current maximum open files is {}. maxclients has been reduced to {} to compensate for low ulimit. If you \
         need higher maxclients increase 'ulimit -n'.",
        best,
        config.maxclients
    );
}

/// RLIMIT_NOFILE's soft and hard limits.
fn open_files_limit() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live, properly aligned local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Sets RLIMIT_NOFILE's soft limit to `files`, and the hard limit too when `files` is above it (which only a
/// privileged process may do). Redis sets the hard limit to `files` even when it was higher; keeping it leaves
/// a later raise possible and changes nothing a client sees.
fn set_open_files_limit(files: u64, hard_limit: u64) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: files, rlim_max: hard_limit.max(files) };
    // SAFETY: setrlimit only reads one `rlimit` through a pointer to a live, properly aligned local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
