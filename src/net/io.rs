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

/// Reads from `stream` into `buf` until `WouldBlock`, EOF, an error, or `budget` bytes. `wanted` is how much
/// the parser knows it still needs (a big bulk argument), so that space is reserved in one step, capped by
/// `reserve_step`.
pub fn read_into(
    stream: &mut impl Read,
    buf: &mut BytesMut,
    budget: usize,
    chunk: usize,
    wanted: usize,
    reserve_step: usize,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    loop {
        if outcome.bytes >= budget {
            outcome.more = true;
            return outcome;
        }
        let want = chunk.max(wanted.saturating_sub(outcome.bytes).min(reserve_step));
        if buf.capacity() - buf.len() < chunk {
            buf.reserve(want);
        }
        let start = buf.len();
        let room = (buf.capacity() - start).min(want);
        // Zero-filling the space we read into keeps this free of `unsafe`; it is one memset of at most `want`
        // bytes (16 KiB for ordinary requests) per read call.
        buf.resize(start + room, 0);
        match stream.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                outcome.closed = true;
                return outcome;
            }
            Ok(n) => {
                buf.truncate(start + n);
                outcome.bytes += n;
                if n < room {
                    // A short read emptied the socket's receive queue. Linux's edge-triggered epoll reports every
                    // later arrival as a new event, so the extra read that would only return WouldBlock is
                    // skipped: it is one syscall per request at pipeline depth 1.
                    return outcome;
                }
            }
            Err(e) => {
                buf.truncate(start);
                match e.kind() {
                    ErrorKind::WouldBlock => return outcome,
                    ErrorKind::Interrupted => continue,
                    _ => {
                        outcome.closed = true;
                        return outcome;
                    }
                }
            }
        }
    }
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
