//! Listening sockets, made the way Redis's anet.c makes them, with the backlog `tcp-backlog` asks for
//! (mio's `TcpListener::bind` always listens with 128 and drops bursts of connections beyond it).
//!
//! API: [`bind_tcp`] and [`bind_unix`] return non-blocking mio listeners; a failure is an
//! `io::Error` whose text names the step that failed as anet does (`bind: Address already in use`).
//! [`ListenError`] carries which listener (RESP or HTTP) and which address failed up to `main`, which
//! words it as Redis does; [`backlog_warning`] is Redis's somaxconn check.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::util::strerror::strerror;

/// `sizeof(sockaddr_un.sun_path)` on Linux: a Unix socket path must be shorter.
const UNIX_PATH_LEN_MAX: usize = 108;

/// A TCP listener on `addr`, as anetTcpServer: SO_REUSEADDR, IPV6_V6ONLY for IPv6 (so `*` and `::*` can
/// both be bound), then `listen(backlog)`.
pub fn bind_tcp(addr: SocketAddr, backlog: u32) -> io::Result<mio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(step("socket"))?;
    socket.set_reuse_address(true).map_err(step("setsockopt SO_REUSEADDR"))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(step("setsockopt"))?;
    }
    socket.bind(&addr.into()).map_err(step("bind"))?;
    listen(&socket, backlog)?;
    socket.set_nonblocking(true).map_err(step("fcntl(F_SETFL,O_NONBLOCK)"))?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

/// A Unix socket listener at `path`, as initServer and anetUnixServer make it: a stale file is removed
/// first, the path must fit `sun_path`, and a nonzero `perm` is chmod()ed onto the socket file.
pub fn bind_unix(path: &Path, perm: u32, backlog: u32) -> io::Result<mio::net::UnixListener> {
    let length = path.as_os_str().len();
    if length >= UNIX_PATH_LEN_MAX {
        let message = format!("unix socket path too long ({length}), must be under {UNIX_PATH_LEN_MAX}");
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    let _ = std::fs::remove_file(path);
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(step("socket"))?;
    socket.bind(&SockAddr::unix(path)?).map_err(step("bind"))?;
    listen(&socket, backlog)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm)).map_err(step("chmod"))?;
    }
    socket.set_nonblocking(true).map_err(step("fcntl(F_SETFL,O_NONBLOCK)"))?;
    Ok(mio::net::UnixListener::from_std(socket.into()))
}

/// `listen(2)` with a backlog beyond `c_int` saturated, as the kernel caps it at somaxconn anyway.
fn listen(socket: &Socket, backlog: u32) -> io::Result<()> {
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX)).map_err(step("listen"))
}

/// Prefixes an error with the system call that failed, keeping its kind and errno-derived text.
fn step(name: &'static str) -> impl Fn(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{name}: {}", strerror(&e)))
}

/// Redis's checkTcpBacklogSettings: the kernel silently lowers a backlog above somaxconn.
pub fn backlog_warning(backlog: u32) -> Option<String> {
    let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?.trim().parse().ok()?;
    (somaxconn < backlog).then(|| {
        format!(
            "WARNING: The TCP backlog setting of {backlog} cannot be enforced because \
             /proc/sys/net/core/somaxconn is set to the lower value of {somaxconn}."
        )
    })
}

/// Which listener could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The RESP port (`port`).
    Resp,
    /// Ours: the HTTP gateway (`http-port`).
    Http,
}

/// A listener that could not be created: carried inside an `io::Error` (see [`ListenError::wrap`]) so
/// the server's setup keeps its `io::Result`, and found again by [`ListenError::find`].
#[derive(Debug)]
pub struct ListenError {
    pub listener: Listener,
    /// The bind address as configured, without a leading `-`.
    pub address: String,
    pub port: u16,
    /// The failed step and its error, e.g. `bind: Address already in use`.
    pub cause: io::Error,
}

impl ListenError {
    /// An `io::Error` of the cause's kind that carries this error.
    pub fn wrap(listener: Listener, address: &str, port: u16, cause: io::Error) -> io::Error {
        io::Error::new(cause.kind(), ListenError { listener, address: address.to_string(), port, cause })
    }

    /// The same error, now naming `listener` (the HTTP gateway binds with the RESP code).
    pub fn retag(error: io::Error, listener: Listener) -> io::Error {
        match error.downcast::<ListenError>() {
            Ok(inner) => io::Error::new(inner.cause.kind(), ListenError { listener, ..inner }),
            Err(error) => error,
        }
    }

    pub fn find(error: &io::Error) -> Option<&ListenError> {
        error.get_ref().and_then(|inner| inner.downcast_ref::<ListenError>())
    }

    /// The two log lines: Redis's own for the RESP port (the suite and tools match them), and the same
    /// shape naming `http-port` for the gateway.
    pub fn log_lines(&self) -> [String; 2] {
        let (address, port, cause) = (&self.address, self.port, &self.cause);
        match self.listener {
            Listener::Resp => [
                format!("Warning: Could not create server TCP listening socket {address}:{port}: {cause}"),
                format!("Failed listening on port {port} (TCP), aborting."),
            ],
            Listener::Http => [
                format!(
                    "Warning: Could not create HTTP gateway listening socket {address}:{port} (http-port): {cause}"
                ),
                format!("Failed listening on port {port} (HTTP gateway, http-port), aborting."),
            ],
        }
    }
}

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.address, self.port, self.cause)
    }
}

impl std::error::Error for ListenError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_tcp_names_the_failed_step() {
        let first = bind_tcp("127.0.0.1:0".parse().unwrap(), 511).unwrap();
        let taken = first.local_addr().unwrap();
        let error = bind_tcp(taken, 511).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(error.to_string(), "bind: Address already in use");
    }

    #[test]
    fn bind_tcp_listens_with_the_backlog_asked_for() {
        // Nobody accepts: with backlog 1 the kernel queues at most two connections, so a third waits.
        let listener = bind_tcp("127.0.0.1:0".parse().unwrap(), 1).unwrap();
        let addr = listener.local_addr().unwrap();
        let queued: Vec<_> = (0..2).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
        let third = socket2::Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        third.set_nonblocking(true).unwrap();
        let _ = third.connect(&addr.into());
        std::thread::sleep(std::time::Duration::from_millis(200));
        // A completed connect makes the socket writable with no error; a SYN still waiting does not.
        assert!(third.peer_addr().is_err() || third.take_error().unwrap().is_some(), "{queued:?}");
    }

    #[test]
    fn bind_unix_replaces_a_stale_file_and_applies_perm() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("ferrokv-listen-{}.sock", std::process::id()));
        std::fs::write(&path, b"stale").unwrap();
        let listener = bind_unix(&path, 0o700, 511).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::os::unix::net::UnixStream::connect(&path).unwrap();
        drop(listener);
        let _ = std::fs::remove_file(&path);
        let long = Path::new("/tmp").join("x".repeat(120));
        assert_eq!(
            bind_unix(&long, 0, 511).unwrap_err().to_string(),
            "unix socket path too long (125), must be under 108"
        );
    }

    #[test]
    fn listen_errors_are_worded_per_listener() {
        let cause = || io::Error::new(io::ErrorKind::AddrInUse, "bind: Address already in use");
        let error = ListenError::wrap(Listener::Resp, "127.0.0.1", 6379, cause());
        let lines = ListenError::find(&error).unwrap().log_lines();
        assert_eq!(
            lines,
            [
                "Warning: Could not create server TCP listening socket 127.0.0.1:6379: bind: Address already in use",
                "Failed listening on port 6379 (TCP), aborting.",
            ]
        );
        let error = ListenError::retag(error, Listener::Http);
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        let lines = ListenError::find(&error).unwrap().log_lines();
        assert_eq!(lines[1], "Failed listening on port 6379 (HTTP gateway, http-port), aborting.");
        assert!(lines[0].contains("HTTP gateway listening socket 127.0.0.1:6379 (http-port): bind: Address"));
    }
}
