//! Writing replies: a connection is queued once, written in `before_sleep`, and only a short write registers
//! WRITABLE interest, dropped again once the output drains.

use mio::{Interest, Token};

use crate::net::io::{self as netio, WriteOutcome};
use crate::state::session::ClientId;

use super::replicas::Prefix;
use super::{Loop, Protocol};

impl Loop<'_> {
    /// Queues the client for a write in `before_sleep` if it has pending replies.
    pub(super) fn queue_write(&mut self, id: ClientId) {
        if self.io.connections[id.index()].is_none() || self.output_over_limit(id, self.state.now_ms) {
            return;
        }
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
        let session = &self.state.sessions[id];
        let replica_prefix = session.replica.as_ref().is_some_and(|r| r.prefix_pending());
        if !conn.write_queued && (session.reply_pending() > 0 || session.close_after_reply || replica_prefix) {
            conn.write_queued = true;
            self.io.pending_writes.push(id);
        }
    }

    /// Writes pending replies; registers WRITABLE only when the socket is full, and drops it once drained.
    pub(super) fn write_client(&mut self, id: ClientId) {
        // The busy script's caller: its reply buffer is out for the call (see `busy.rs`).
        if self.protected(id) {
            return;
        }
        if self.state.sessions[id].replica.is_some() {
            match self.write_replica_prefix(id) {
                Prefix::Done => {}
                Prefix::Blocked => return self.wait_writable(id),
                Prefix::Waiting => return,
            }
        }
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
        let session = &mut self.state.sessions[id];
        let Some(link) = session.link.as_mut() else { return };
        if session.close_asap {
            return;
        }
        if let Protocol::Http(reader) = &mut conn.protocol {
            reader.encode_events(&mut session.reply.buf, self.state.now_ms);
        }
        let before = link.sent;
        let outcome = netio::write_from(&mut conn.stream, &session.reply.buf, &mut link.sent);
        self.state.stats.net_output_bytes += (link.sent - before) as u64;
        match outcome {
            WriteOutcome::Failed => self.state.close_asap(id),
            WriteOutcome::Blocked => self.wait_writable(id),
            WriteOutcome::Done => {
                session.reply.buf.clear();
                link.sent = 0;
                if let Protocol::Http(reader) = &mut conn.protocol {
                    reader.output_drained();
                }
                if session.reply.buf.capacity() > crate::limits::REPLY_SHRINK_BYTES {
                    session.reply.buf.shrink_to(crate::limits::REPLY_SHRINK_BYTES);
                }
                if link.write_waiting {
                    link.write_waiting = false;
                    let _ = self.io.poll.registry().reregister(&mut conn.stream, Token(id.index()), Interest::READABLE);
                }
                if session.close_after_reply {
                    self.state.close_asap(id);
                } else if !conn.query.is_empty() {
                    // Input may have been paused behind a large reply backlog.
                    self.io.pending_reads.push(id);
                }
            }
        }
    }

    /// The socket is full: WRITABLE interest is registered until the output drains.
    fn wait_writable(&mut self, id: ClientId) {
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
        let Some(link) = self.state.sessions[id].link.as_mut() else { return };
        if !link.write_waiting {
            link.write_waiting = true;
            let interest = Interest::READABLE | Interest::WRITABLE;
            let _ = self.io.poll.registry().reregister(&mut conn.stream, Token(id.index()), interest);
        }
    }
}
