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
/// Ordinary reads go through `scratch`, a buffer the caller zeroed once and reuses for every client, and only
/// the bytes received are copied into `buf`: reading straight into `buf` would mean zero-filling its spare room
/// before every read (safe Rust cannot hand uninitialised memory to `read`), and profiles showed that memset
/// costing more than everything else on the request path. When the parser is waiting for a big bulk argument
/// (`wanted` bytes), the read goes straight into `buf`, reserved in steps of at most `reserve_step`: that room is
/// then filled, so its one-time zeroing is not wasted and the data is not copied twice.
pub fn read_into(
    stream: &mut impl Read,
    buf: &mut BytesMut,
    scratch: &mut [u8],
    budget: usize,
    wanted: usize,
    reserve_step: usize,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    loop {
        if outcome.bytes >= budget {
            outcome.more = true;
            return outcome;
        }
        let still_wanted = wanted.saturating_sub(outcome.bytes).min(reserve_step);
        let result = if still_wanted > scratch.len() {
            read_direct(stream, buf, still_wanted)
        } else {
            read_via_scratch(stream, buf, scratch)
        };
        match result {
            Ok((0, _)) => {
                outcome.closed = true;
                return outcome;
            }
            Ok((n, room)) => {
                outcome.bytes += n;
                if n < room {
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

/// One read into `scratch`, then the bytes received appended to `buf`. Returns (bytes read, room offered).
fn read_via_scratch(stream: &mut impl Read, buf: &mut BytesMut, scratch: &mut [u8]) -> std::io::Result<(usize, usize)> {
    let n = stream.read(scratch)?;
    buf.extend_from_slice(&scratch[..n]);
    Ok((n, scratch.len()))
}

/// One read straight into `buf`'s spare room, grown to `want` bytes. Returns (bytes read, room offered).
fn read_direct(stream: &mut impl Read, buf: &mut BytesMut, want: usize) -> std::io::Result<(usize, usize)> {
    buf.reserve(want);
    let start = buf.len();
    buf.resize(start + want, 0);
    let result = stream.read(&mut buf[start..]);
    buf.truncate(start + *result.as_ref().unwrap_or(&0));
    result.map(|n| (n, want))
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
        let outcome = read_into(&mut stream, &mut buf, &mut [0; 16], 1 << 20, 0, 1 << 20);
        assert_eq!(outcome, ReadOutcome { bytes: 10, closed: false, more: false });
        assert_eq!(&buf[..], &[1; 10]);
    }

    #[test]
    fn full_reads_continue_until_budget() {
        let mut stream = Pieces(vec![vec![7; 64]]);
        let mut buf = BytesMut::new();
        let outcome = read_into(&mut stream, &mut buf, &mut [0; 16], 32, 0, 1 << 20);
        assert_eq!(outcome, ReadOutcome { bytes: 32, closed: false, more: true });
        assert_eq!(buf.len(), 32);
    }

    #[test]
    fn big_bulk_reads_go_straight_into_the_buffer() {
        let mut stream = Pieces(vec![vec![9; 100]]);
        let mut buf = BytesMut::new();
        let outcome = read_into(&mut stream, &mut buf, &mut [0; 16], 1 << 20, 100, 64);
        // 64 (one reserve step, a full read), then 36 of a 64-byte room: a short read ends the pass.
        assert_eq!(outcome.bytes, 100);
        assert_eq!(&buf[..], &[9; 100][..]);
    }

    #[test]
    fn eof_closes() {
        let mut stream = std::io::Cursor::new(Vec::<u8>::new());
        let mut buf = BytesMut::new();
        assert!(read_into(&mut stream, &mut buf, &mut [0; 16], 1 << 20, 0, 1 << 20).closed);
    }
}
