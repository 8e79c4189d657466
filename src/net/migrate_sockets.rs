//! MIGRATE's outgoing connections (Redis's `migrate_cached_sockets` and syncio.c): blocking TCP sockets to
//! target instances, cached by the `host:port` text the command named, with the timed writes and line reads
//! Redis does on them.
//!
//! - `MigrateSockets::checkout` hands out the cached socket for a name, or connects a new one as Redis 7.0's
//!   connBlockingConnect does (waiting up to the timeout, and taking even a connect that then failed for a
//!   socket, whose first write reports it), dropping a random entry when `MIGRATE_SOCKET_CACHE_ITEMS_MAX` are
//!   cached; `checkin` puts it back after a use that went well, and a socket that failed is simply dropped
//!   (migrateCloseSocket).
//! - `close_idle` runs from the cron: a socket unused for more than `MIGRATE_SOCKET_CACHE_TTL_S` seconds is
//!   closed, as migrateCloseTimedoutSockets does from serverCron.
//! - `MigrateSocket::write_all` writes in `MIGRATE_WRITE_CHUNK_BYTES` chunks, each within the timeout
//!   (syncWrite); `read_line` reads one reply line with the timeout applying to every read (syncReadLine, whose
//!   per-byte reads each wait up to the timeout), at most `MIGRATE_REPLY_LINE_BYTES_MAX` bytes.
//!
//! These sockets are never registered with the event loop's poll (a connect waits on a poll of its own):
//! MIGRATE blocks the loop for the transfer, as Redis's does, so the keyspace stays on the one thread. A failure says whether it was a timeout, because
//! Redis retries a failed exchange once on a fresh connection unless it timed out.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::limits::{
    MIGRATE_REPLY_LINE_BYTES_MAX, MIGRATE_SOCKET_CACHE_ITEMS_MAX, MIGRATE_SOCKET_CACHE_TTL_S, MIGRATE_WRITE_CHUNK_BYTES,
};

/// Why a timed socket operation failed: Redis's `errno == ETIMEDOUT` test decides whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncError {
    TimedOut,
    /// Closed by the peer, reset, refused, or anything else.
    Failed,
}

impl SyncError {
    fn of(err: &io::Error) -> SyncError {
        match err.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => SyncError::TimedOut,
            _ => SyncError::Failed,
        }
    }
}

/// One connection to a target instance.
#[derive(Debug)]
pub struct MigrateSocket {
    /// The stream, read through a buffer; bytes a reply left unread stay in it, as they would stay in Redis's
    /// socket, for the next exchange.
    reader: BufReader<TcpStream>,
    /// The database last selected on the target, -1 for none yet (Redis's `last_dbid`; a MIGRATE to db -1 on
    /// a new connection therefore sends no SELECT, as in Redis).
    pub last_dbid: i64,
    /// Unix seconds of the last checkout.
    last_use_s: i64,
}

impl MigrateSocket {
    /// Writes `bytes` in chunks, each of which must be written within `timeout` (Redis's connSyncWrite per
    /// 64 KiB chunk).
    pub fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), SyncError> {
        let stream = self.reader.get_mut();
        for chunk in bytes.chunks(MIGRATE_WRITE_CHUNK_BYTES) {
            // A timeout too long for an Instant has no deadline: Redis's own wait is then as good as endless.
            let deadline = Instant::now().checked_add(timeout);
            let mut rest = chunk;
            while !rest.is_empty() {
                let left = deadline.map_or(timeout, |deadline| deadline.saturating_duration_since(Instant::now()));
                if left.is_zero() {
                    return Err(SyncError::TimedOut);
                }
                stream.set_write_timeout(Some(left)).map_err(|err| SyncError::of(&err))?;
                match stream.write(rest) {
                    Ok(0) => return Err(SyncError::Failed),
                    Ok(written) => rest = &rest[written..],
                    Err(err) if err.kind() == ErrorKind::Interrupted => {}
                    Err(err) => return Err(SyncError::of(&err)),
                }
            }
        }
        Ok(())
    }

    /// Reads one line into `line` (cleared first), without its `\n` and a `\r` before it, waiting at most
    /// `timeout` for each read. As syncReadLine: at most `MIGRATE_REPLY_LINE_BYTES_MAX` bytes are taken (the
    /// rest of a longer line stays for the next read), and a line with nothing before its `\n` (`\r` counts) is
    /// a failure, since Redis's caller treats a length of 0 as one.
    pub fn read_line(&mut self, line: &mut Vec<u8>, timeout: Duration) -> Result<(), SyncError> {
        line.clear();
        self.reader.get_mut().set_read_timeout(Some(timeout)).map_err(|err| SyncError::of(&err))?;
        let mut taken = 0;
        while taken < MIGRATE_REPLY_LINE_BYTES_MAX {
            let available = match self.reader.fill_buf() {
                Ok([]) => return Err(SyncError::Failed),
                Ok(available) => available,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(SyncError::of(&err)),
            };
            let room = MIGRATE_REPLY_LINE_BYTES_MAX - taken;
            let window = &available[..available.len().min(room)];
            if let Some(newline) = window.iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&window[..newline]);
                self.reader.consume(newline + 1);
                taken += newline;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return if taken == 0 { Err(SyncError::Failed) } else { Ok(()) };
            }
            line.extend_from_slice(window);
            taken += window.len();
            let used = window.len();
            self.reader.consume(used);
        }
        Ok(())
    }
}

/// The cache of connections by the `host:port` text MIGRATE was given (so `localhost:6379` and
/// `127.0.0.1:6379` are two entries, as in Redis).
#[derive(Debug, Default)]
pub struct MigrateSockets {
    cached: HashMap<Vec<u8>, MigrateSocket>,
}

impl MigrateSockets {
    /// How many are cached (INFO `migrate_cached_sockets`).
    pub fn len(&self) -> usize {
        self.cached.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cached.is_empty()
    }

    /// Takes the socket cached under `name` out of the cache, or connects to `host`:`port` (see `connect`: only
    /// a name that does not resolve or a connect refused at once fails here). With the cache full, the entry at `victim(len)` in the
    /// table's order is closed first, Redis's random eviction. The caller puts the socket back with `checkin`
    /// unless it failed.
    pub fn checkout(
        &mut self,
        name: &[u8],
        host: &[u8],
        port: i32,
        timeout: Duration,
        now_s: i64,
        victim: impl FnOnce(usize) -> usize,
    ) -> io::Result<MigrateSocket> {
        if let Some(mut socket) = self.cached.remove(name) {
            socket.last_use_s = now_s;
            return Ok(socket);
        }
        if self.cached.len() >= MIGRATE_SOCKET_CACHE_ITEMS_MAX {
            let index = victim(self.cached.len()).min(self.cached.len() - 1);
            let doomed = self.cached.keys().nth(index).cloned();
            doomed.map(|name| self.cached.remove(&name));
        }
        let stream = connect(host, port, timeout)?;
        stream.set_nodelay(true)?;
        Ok(MigrateSocket { reader: BufReader::new(stream), last_dbid: -1, last_use_s: now_s })
    }

    /// Caches `socket` under `name` again.
    pub fn checkin(&mut self, name: &[u8], socket: MigrateSocket) {
        self.cached.insert(name.to_vec(), socket);
    }

    /// Closes the sockets unused for more than `MIGRATE_SOCKET_CACHE_TTL_S` seconds.
    pub fn close_idle(&mut self, now_s: i64) {
        self.cached.retain(|_, socket| now_s - socket.last_use_s <= MIGRATE_SOCKET_CACHE_TTL_S);
    }
}

/// A blocking socket to `host`:`port`, made as Redis 7.0's connBlockingConnect makes it: a non-blocking connect
/// to the first address getaddrinfo gives that does not fail at once (anetTcpNonBlockConnect), then a wait of up
/// to `timeout` for it to become writable, *whatever the wait's outcome*. So only a name that does not resolve
/// or a connect refused on the spot is an error here; a connection refused a moment later, or still pending
/// after the timeout, is a socket whose first write fails (or waits out the write timeout), and MIGRATE then
/// answers the IOERR of writing, as Redis does.
///
/// `port` is the C int Redis formats as the service for getaddrinfo, whose glibc refuses a negative one (not a
/// number, and no service has that name) and keeps the low 16 bits of a bigger one.
fn connect(host: &[u8], port: i32, timeout: Duration) -> io::Result<TcpStream> {
    let host = std::str::from_utf8(host).map_err(|_| io::Error::new(ErrorKind::InvalidInput, "host is not UTF-8"))?;
    if port < 0 {
        return Err(io::Error::new(ErrorKind::InvalidInput, "Servname not supported for ai_socktype"));
    }
    let port = port as u16;
    let mut last = io::Error::new(ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        let mut stream = match mio::net::TcpStream::connect(addr) {
            Ok(stream) => stream,
            Err(err) => {
                last = err;
                continue;
            }
        };
        wait_writable(&mut stream, timeout);
        let stream = TcpStream::from(stream);
        stream.set_nonblocking(false)?;
        return Ok(stream);
    }
    Err(last)
}

/// aeWait(fd, AE_WRITABLE, timeout) on a connecting socket, whose result Redis 7.0 ignores: a poll of its own
/// for the one socket.
fn wait_writable(stream: &mut mio::net::TcpStream, timeout: Duration) {
    let Ok(mut poll) = mio::Poll::new() else { return };
    if poll.registry().register(stream, mio::Token(0), mio::Interest::WRITABLE).is_err() {
        return;
    }
    let mut events = mio::Events::with_capacity(1);
    let _ = poll.poll(&mut events, Some(timeout));
    let _ = poll.registry().deregister(stream);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const TIMEOUT: Duration = Duration::from_millis(500);

    /// A socket connected to a listener, and the accepted end the test plays the target with.
    fn pair(sockets: &mut MigrateSockets, name: &[u8]) -> (MigrateSocket, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let socket = sockets.checkout(name, b"127.0.0.1", i32::from(port), TIMEOUT, 100, |_| 0).unwrap();
        (socket, listener.accept().unwrap().0)
    }

    #[test]
    fn lines_are_read_as_sync_read_line_reads_them() {
        let mut sockets = MigrateSockets::default();
        let (mut socket, mut target) = pair(&mut sockets, b"t:1");
        let long = vec![b'x'; MIGRATE_REPLY_LINE_BYTES_MAX + 5];
        target.write_all(b"+OK\r\n-ERR bad\r\nplain\n\r\n").unwrap();
        target.write_all(&long).unwrap();
        target.write_all(b"\r\n\n").unwrap();
        let mut line = Vec::new();
        socket.read_line(&mut line, TIMEOUT).unwrap();
        assert_eq!(line, b"+OK");
        socket.read_line(&mut line, TIMEOUT).unwrap();
        assert_eq!(line, b"-ERR bad");
        socket.read_line(&mut line, TIMEOUT).unwrap();
        assert_eq!(line, b"plain");
        // A bare "\r\n" has one byte before its newline: Redis counts it as a (empty) line.
        socket.read_line(&mut line, TIMEOUT).unwrap();
        assert_eq!(line, b"");
        socket.read_line(&mut line, TIMEOUT).unwrap();
        assert_eq!(line.len(), MIGRATE_REPLY_LINE_BYTES_MAX);
        socket.read_line(&mut line, TIMEOUT).unwrap();
        assert_eq!(line, b"xxxxx");
        assert_eq!(socket.read_line(&mut line, TIMEOUT), Err(SyncError::Failed), "nothing before the newline");
        assert_eq!(socket.read_line(&mut line, Duration::from_millis(50)), Err(SyncError::TimedOut));
        drop(target);
        assert_eq!(socket.read_line(&mut line, TIMEOUT), Err(SyncError::Failed), "closed by the target");
    }

    #[test]
    fn a_target_that_never_reads_times_the_write_out() {
        let mut sockets = MigrateSockets::default();
        let (mut socket, _target) = pair(&mut sockets, b"t:1");
        // More than loopback's send and receive buffers hold together (about 10 MB by default).
        let payload = vec![0u8; 32 << 20];
        assert_eq!(socket.write_all(&payload, Duration::from_millis(200)), Err(SyncError::TimedOut));
    }

    #[test]
    fn a_refused_connection_fails_on_its_first_write_as_in_redis() {
        let port = i32::from(TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
        let mut sockets = MigrateSockets::default();
        let mut socket = sockets.checkout(b"t:1", b"127.0.0.1", port, TIMEOUT, 100, |_| 0).unwrap();
        assert_eq!(socket.write_all(b"*1\r\n$4\r\nPING\r\n", TIMEOUT), Err(SyncError::Failed));
        assert!(sockets.checkout(b"t:2", b"", port, TIMEOUT, 100, |_| 0).is_err(), "a name that does not resolve");
        assert!(sockets.checkout(b"t:3", b"127.0.0.1", -1, TIMEOUT, 100, |_| 0).is_err(), "a negative service");
    }

    #[test]
    fn the_cache_reuses_evicts_and_expires() {
        let mut sockets = MigrateSockets::default();
        let (socket, _target) = pair(&mut sockets, b"t:1");
        sockets.checkin(b"t:1", socket);
        assert_eq!(sockets.len(), 1);
        // Cached: no connection is made, so even an unreachable address works.
        let socket = sockets.checkout(b"t:1", b"127.0.0.1", 1, TIMEOUT, 105, |_| 0).unwrap();
        assert_eq!(sockets.len(), 0);
        sockets.checkin(b"t:1", socket);
        sockets.close_idle(105 + MIGRATE_SOCKET_CACHE_TTL_S);
        assert_eq!(sockets.len(), 1);
        sockets.close_idle(106 + MIGRATE_SOCKET_CACHE_TTL_S);
        assert!(sockets.is_empty());
        let mut targets = Vec::new();
        for index in 0..=MIGRATE_SOCKET_CACHE_ITEMS_MAX {
            let name = format!("t:{index}");
            let (socket, target) = pair(&mut sockets, name.as_bytes());
            sockets.checkin(name.as_bytes(), socket);
            targets.push(target);
        }
        assert_eq!(sockets.len(), MIGRATE_SOCKET_CACHE_ITEMS_MAX);
    }
}
