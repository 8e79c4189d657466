//! Reading a connection and running what it sent: RESP requests through `cmd::call`, HTTP requests through
//! `http::process_input`.

use crate::cmd::{Outcome, call_pumped};
use crate::net::io as netio;
use crate::resp::parse::ParseLimits;
use crate::state::session::ClientId;

use super::Loop;
use super::connection::Protocol;

/// Whether a request's name is `POST` or `Host:`, which no RESP client sends and every HTTP request does
/// (Redis compares with `strcasecmp`, so the name ends at a NUL).
fn is_http_request(argv: &[bytes::Bytes]) -> bool {
    let Some(name) = argv.first() else { return false };
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:")
}

impl Loop<'_> {
    /// Reads what the socket has (up to the budget), then runs every complete request.
    pub(super) fn read_client(&mut self, id: ClientId) {
        if self.read_put_off(id) {
            return;
        }
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
        conn.read_turn = self.io.turn;
        let wanted = match &conn.protocol {
            Protocol::Resp => conn.parser.bytes_wanted(),
            Protocol::Http(reader) => reader.bytes_wanted(conn.query.len()),
        };
        let outcome = netio::read_into(
            &mut conn.stream,
            &mut conn.query,
            &mut self.io.read_scratch,
            wanted.clamp(crate::limits::READ_BUDGET_BYTES, crate::limits::BULK_READ_BUDGET_BYTES),
            wanted,
        );
        self.state.stats.net_input_bytes += outcome.bytes as u64;
        self.state.begin_batch();
        if outcome.bytes > 0 {
            self.state.sessions[id].last_interaction_ms = self.state.now_ms;
        }
        if outcome.more {
            self.io.pending_reads.push(id);
        }
        if self.query_buffer_over_limit(id) {
            return;
        }
        self.process_input(id);
        if outcome.closed {
            self.state.close_asap(id);
        }
    }

    /// Runs every complete request in the connection's query buffer, then queues its replies.
    pub(super) fn process_input(&mut self, id: ClientId) {
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
        if matches!(conn.protocol, Protocol::Http(_)) {
            self.process_http(id);
        } else {
            self.process_resp(id);
        }
        self.handle_unblocked();
        self.queue_write(id);
    }

    /// Runs HTTP client `id`'s complete requests. Its reader, query buffer and the scratch buffers are taken
    /// out for the call (no allocation: the protocol is swapped, the buffers moved), so the loop can be handed
    /// down with it for a busy script, which leaves this connection alone meanwhile.
    fn process_http(&mut self, id: ClientId) {
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
        let Protocol::Http(mut reader) = std::mem::replace(&mut conn.protocol, Protocol::Resp) else { return };
        let mut query = std::mem::take(&mut conn.query);
        let mut scratch = std::mem::take(&mut self.io.http_scratch);
        crate::http::process_input(self.state, id, &mut reader, &mut query, &mut scratch, &mut *self.io);
        self.io.http_scratch = scratch;
        if let Some(conn) = self.io.connections[id.index()].as_mut() {
            conn.protocol = Protocol::Http(reader);
            conn.query = query;
        }
    }

    /// Parses and runs RESP requests (first a command CLIENT PAUSE held, once the pause is over) until the buffer
    /// holds no complete one, the session blocks or is held by a pause or is closing,
    /// or its unsent replies pass `REPLY_PAUSE_BYTES` (resumed by `write_client` once they drain).
    ///
    /// The session's `Link` shows the query buffer as it was when the batch began while the batch runs (a
    /// lone CLIENT INFO sees `qbuf=26`, as Redis's query buffer is trimmed only after the batch), and what is
    /// left once it ends.
    fn process_resp(&mut self, id: ClientId) {
        self.update_link(id);
        loop {
            let session = &mut self.state.sessions[id];
            if session.close_after_reply
                || session.close_asap
                || session.parked.is_some()
                || session.reply_pending() > crate::limits::REPLY_PAUSE_BYTES
            {
                break;
            }
            if let Some(argv) = session.postponed.take() {
                // A command CLIENT PAUSE held runs before any later input (it may be held again).
                let outcome = call_pumped(self.state, id, &argv, &mut *self.io);
                if outcome == Outcome::Close || self.state.sessions[id].postponed.is_some() {
                    break;
                }
                continue;
            }
            let limits = ParseLimits {
                proto_max_bulk_len: self.state.config.proto_max_bulk_len,
                authenticated: session.authenticated,
            };
            let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
            match conn.parser.parse(&mut conn.query, &mut conn.argv, &limits) {
                Ok(true) if is_http_request(&conn.argv) => {
                    self.refuse_cross_protocol(id);
                    break;
                }
                Ok(true) => {
                    // Taken out for the call, so the loop can be handed down with it (a busy script serves
                    // other clients through it; this connection is left alone meanwhile).
                    let argv = std::mem::take(&mut conn.argv);
                    let outcome = call_pumped(self.state, id, &argv, &mut *self.io);
                    let Some(conn) = self.io.connections[id.index()].as_mut() else { return };
                    conn.argv = argv;
                    conn.argv.clear();
                    // One huge request (an SADD of 100k members) must not pin its argument array for the
                    // connection's life: past what the parser would preallocate, it is given back.
                    conn.argv.shrink_to(crate::limits::ARGV_PREALLOC_MAX);
                    if outcome == Outcome::Close
                        || self.state.sessions[id].postponed.is_some()
                        || self.output_over_limit(id, self.state.now_ms)
                    {
                        break;
                    }
                }
                Ok(false) => break,
                Err(err) => {
                    let session = &mut self.state.sessions[id];
                    session.reply.error(err.reply_bytes());
                    session.reply.errors.clear();
                    session.close_after_reply = true;
                    crate::log!(Verbose, "Protocol error ({}) from client: id={}", err.reply_text(), session.id);
                    break;
                }
            }
        }
        self.update_link(id);
    }

    /// Closes a client that sent an HTTP request line or header to the RESP port, running nothing more it
    /// sent, as Redis's securityWarningCommand does: a web page making a browser POST to a local server
    /// would otherwise have the commands in its body run. The warning is logged at most once a minute.
    fn refuse_cross_protocol(&mut self, id: ClientId) {
        if self.io.security_warnings.ready(std::time::Instant::now()) {
            crate::log!(
                Warning,
                "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to \
                 Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to \
                 compromise your Redis instance. Connection aborted."
            );
        }
        self.state.close_asap(id);
    }

    /// Copies the connection's query buffer sizes into its session's `Link`.
    fn update_link(&mut self, id: ClientId) {
        if let (Some(conn), Some(link)) = (&self.io.connections[id.index()], &mut self.state.sessions[id].link) {
            conn.update_link(link);
        }
    }

    /// Sends the replies of every session whose block ended and resumes the input that waited behind it.
    pub(super) fn handle_unblocked(&mut self) {
        for id in std::mem::take(&mut self.state.unblocked) {
            if self.state.sessions.get(id).is_some_and(|s| !s.close_asap) {
                self.queue_write(id);
                self.io.pending_reads.push(id);
            }
        }
    }

    /// Runs requests of clients whose last read stopped at the budget or whose input resumes. A client
    /// already read in this iteration (its readiness event came first) waits for the next one, so a
    /// pipelining client gets one turn per iteration like everyone else, not two.
    pub(super) fn process_pending_reads(&mut self) {
        let mut ids = std::mem::take(&mut self.io.pending_reads);
        // A client may be queued by its read and again by a resume, and a deferred one stays queued: once is
        // enough, and keeps the queue from growing while a client streams. The first place is kept, so
        // unblocked clients still resume in the order they were served.
        if ids.len() > 1 {
            let mut seen = hashbrown::HashSet::with_capacity(ids.len());
            ids.retain(|&id| seen.insert(id));
        }
        for id in ids {
            if self.state.sessions.get(id).is_none_or(|s| s.close_asap) {
                continue;
            }
            match self.io.connections[id.index()].as_ref() {
                Some(conn) if conn.read_turn == self.io.turn => self.io.pending_reads.push(id),
                Some(_) => self.read_client(id),
                None => {}
            }
        }
    }
}
