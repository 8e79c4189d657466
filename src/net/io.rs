//! Socket reads and writes for edge-triggered readiness: each drains the socket (or stops at a budget), because
//! mio reports readiness once per change, not once per byte left.

use bytes::BytesMut;
use std::io::{ErrorKind, Read, Write};

/// What one read pass found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    pub bytes: usize,
    /// The peer closed its side or the socket failed: the client must go.
    pub closed: bool,
    /// The budget ran out before `WouldBlock`: more may be waiting, so read again soon.
    pub more: bool,
}

/// Reads from `stream` into `buf` until the socket is drained, EOF, an error, or `budget` bytes.
///
/// Every read goes through `scratch`, a buffer the caller zeroed once and reuses for every client, and only
/// the bytes received are copied into `buf`: reading straight into `buf` would mean zero-filling its spare room
/// before every read (safe Rust cannot hand uninitialised memory to `read`), which costs more than everything
/// else on the request path and, for a client that announces a big bulk and sends it a byte at a time, made
/// every one-byte read pay for megabytes of memset. When the parser waits for `wanted` more bytes of a big
/// argument, `buf` grows geometrically (see [`reserve_for_bulk`]), so a bulk of any size is copied O(1) times
/// per byte while its memory stays proportional to what has arrived.
pub fn read_into(
    stream: &mut impl Read,
    buf: &mut BytesMut,
    scratch: &mut [u8],
    budget: usize,
    wanted: usize,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    loop {
        if outcome.bytes >= budget {
            outcome.more = true;
            return outcome;
        }
        reserve_for_bulk(buf, wanted.saturating_sub(outcome.bytes), scratch.len());
        match stream.read(scratch) {
            Ok(0) => {
                outcome.closed = true;
                return outcome;
            }
            Ok(n) => {
                buf.extend_from_slice(&scratch[..n]);
                outcome.bytes += n;
                if n < scratch.len() {
                    // A short read emptied the socket's receive queue. Linux's edge-triggered epoll reports every
                    // later arrival as a new event, so the extra read that would only return WouldBlock is
                    // skipped: it is one syscall per request at pipeline depth 1.
                    return outcome;
                }
            }
            Err(e) => match e.kind() {
                ErrorKind::WouldBlock => return outcome,
                ErrorKind::Interrupted => continue,
                _ => {
                    outcome.closed = true;
                    return outcome;
                }
            },
        }
    }
}

/// Makes room for the next `chunk` bytes of a bulk argument of which `missing` bytes are still to come: when
/// the spare room is short, the buffer grows by what it already holds (at least a chunk, at most what is
/// missing). Doubling keeps the copies of a huge argument linear (a shared `BytesMut` would otherwise grow by
/// small steps), and growing by what arrived, not by what was announced, means a `$536870912` header followed
/// by a trickle costs about twice the bytes received, never the announced size. Reserving never touches the
/// new room, so nothing is zero-filled ahead of the data.
fn reserve_for_bulk(buf: &mut BytesMut, missing: usize, chunk: usize) {
    if missing == 0 || buf.capacity() - buf.len() >= chunk {
        return;
    }
    buf.reserve(buf.len().max(chunk).min(missing.max(chunk)));
}

/// What one write pass did.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Everything was written.
    Done,
    /// The socket is full; wait for WRITABLE.
    Blocked,
    /// The socket failed: the client must go.
    Failed,
}

/// Writes `data[*sent..]` until done or `WouldBlock`, advancing `*sent`.
pub fn write_from(stream: &mut impl Write, data: &[u8], sent: &mut usize) -> WriteOutcome {
    while *sent < data.len() {
        match stream.write(&data[*sent..]) {
            Ok(0) => return WriteOutcome::Failed,
            Ok(n) => *sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return WriteOutcome::Blocked,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return WriteOutcome::Failed,
        }
    }
    WriteOutcome::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its data in fixed pieces, then reports WouldBlock.
    struct Pieces(Vec<Vec<u8>>);

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let Some(piece) = self.0.first_mut() else { return Err(ErrorKind::WouldBlock.into()) };
            let n = piece.len().min(out.len());
            out[..n].copy_from_slice(&piece[..n]);
            piece.drain(..n);
            if piece.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    #[test]
    fn reads_through_scratch_and_stops_on_short_read() {
        let mut stream = Pieces(vec![vec![1; 10], vec![2; 5]]);
        let mut buf = BytesMut::new();
        let outcome = read_into(&mut stream, &mut buf, &mut [0; 16], 1 << 20, 0);
        assert_eq!(outcome, ReadOutcome { bytes: 10, closed: false, more: false });
        assert_eq!(&buf[..], &[1; 10]);
    }

    #[test]
    fn full_reads_continue_until_budget() {
        let mut stream = Pieces(vec![vec![7; 64]]);
        let mut buf = BytesMut::new();
        let outcome = read_into(&mut stream, &mut buf, &mut [0; 16], 32, 0);
        assert_eq!(outcome, ReadOutcome { bytes: 32, closed: false, more: true });
        assert_eq!(buf.len(), 32);
    }

    #[test]
    fn big_bulk_room_grows_with_what_arrived_not_with_what_was_announced() {
        // A client announced a 512 MiB bulk and sends it a byte per read.
        let mut buf = BytesMut::new();
        for _ in 0..1000 {
            let mut stream = Pieces(vec![vec![9; 1]]);
            let outcome = read_into(&mut stream, &mut buf, &mut [0; 16], 1 << 20, 512 << 20);
            assert_eq!(outcome.bytes, 1);
        }
        assert_eq!(&buf[..], &[9; 1000][..]);
        assert!(buf.capacity() <= 4 * 1000, "capacity {} for 1000 bytes received", buf.capacity());
    }

    #[test]
    fn big_bulk_reads_grow_geometrically() {
        let mut stream = Pieces((0..1000).map(|_| vec![7; 16]).collect());
        let mut buf = BytesMut::new();
        let mut capacities = std::collections::BTreeSet::new();
        while !stream.0.is_empty() {
            let missing = 16_000 - buf.len();
            read_into(&mut stream, &mut buf, &mut [0; 16], 1 << 20, missing);
            capacities.insert(buf.capacity());
        }
        assert_eq!(buf.len(), 16_000);
        // Doubling from one chunk: a handful of sizes, not one per read.
        assert!(capacities.len() < 16, "{capacities:?}");
    }

    #[test]
    fn eof_closes() {
        let mut stream = std::io::Cursor::new(Vec::<u8>::new());
        let mut buf = BytesMut::new();
        assert!(read_into(&mut stream, &mut buf, &mut [0; 16], 1 << 20, 0).closed);
    }
}
