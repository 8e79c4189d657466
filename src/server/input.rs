//! Reading a connection and running what it sent: RESP requests through `cmd::call`, HTTP requests through
//! `http::process_input`.

use crate::cmd::{Outcome, call};
use crate::net::io as netio;
use crate::resp::parse::ParseLimits;
use crate::state::session::ClientId;

use super::Server;
use super::connection::Protocol;

impl Server {
    /// Reads what the socket has (up to the budget), then runs every complete request.
    pub(super) fn read_client(&mut self, id: ClientId) {
        let Some(conn) = self.connections[id.index()].as_mut() else { return };
        let wanted = match &conn.protocol {
            Protocol::Resp => conn.parser.bytes_wanted(),
            Protocol::Http(reader) => reader.bytes_wanted(conn.query.len()),
        };
        let outcome = netio::read_into(
            &mut conn.stream,
            &mut conn.query,
            &mut self.read_scratch,
            crate::limits::READ_BUDGET_BYTES,
            wanted,
            crate::limits::BULK_RESERVE_STEP_BYTES,
        );
        self.state.stats.net_input_bytes += outcome.bytes as u64;
        self.state.begin_batch();
        if outcome.bytes > 0 {
            self.state.sessions[id].last_interaction_ms = self.state.now_ms;
        }
        if outcome.more {
            self.pending_reads.push(id);
        }
        self.process_input(id);
        let Some(conn) = self.connections[id.index()].as_ref() else { return };
        let limit = self.state.config.client_query_buffer_limit as usize;
        if conn.query.len() > limit && !self.state.sessions[id].close_asap {
            crate::log!(Warning, "Closing client that reached max query buffer length (qbuf={})", conn.query.len());
            self.state.close_asap(id);
        }
        if outcome.closed {
            self.state.close_asap(id);
        }
    }

    /// Runs every complete request in the connection's query buffer, then queues its replies.
    pub(super) fn process_input(&mut self, id: ClientId) {
        let Some(conn) = self.connections[id.index()].as_mut() else { return };
        if let Protocol::Http(reader) = &mut conn.protocol {
            crate::http::process_input(&mut self.state, id, reader, &mut conn.query, &mut self.http_scratch);
        } else {
            self.process_resp(id);
        }
        self.handle_unblocked();
        self.queue_write(id);
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
                let outcome = call(&mut self.state, id, &argv);
                if outcome == Outcome::Close || self.state.sessions[id].postponed.is_some() {
                    break;
                }
                continue;
            }
            let limits = ParseLimits {
                proto_max_bulk_len: self.state.config.proto_max_bulk_len,
                authenticated: session.authenticated,
            };
            let Some(conn) = self.connections[id.index()].as_mut() else { return };
            match conn.parser.parse(&mut conn.query, &mut conn.argv, &limits) {
                Ok(true) => {
                    let outcome = call(&mut self.state, id, &conn.argv);
                    conn.argv.clear();
                    if outcome == Outcome::Close || self.state.sessions[id].postponed.is_some() {
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

    /// Copies the connection's query buffer sizes into its session's `Link`.
    fn update_link(&mut self, id: ClientId) {
        if let (Some(conn), Some(link)) = (&self.connections[id.index()], &mut self.state.sessions[id].link) {
            conn.update_link(link);
        }
    }

    /// Sends the replies of every session whose block ended and resumes the input that waited behind it.
    pub(super) fn handle_unblocked(&mut self) {
        for id in std::mem::take(&mut self.state.unblocked) {
            if self.state.sessions.get(id).is_some_and(|s| !s.close_asap) {
                self.queue_write(id);
                self.pending_reads.push(id);
            }
        }
    }

    /// Runs requests of clients whose last read stopped at the budget or whose input resumes.
    pub(super) fn process_pending_reads(&mut self) {
        for id in std::mem::take(&mut self.pending_reads) {
            if self.state.sessions.get(id).is_some_and(|s| !s.close_asap) {
                self.read_client(id);
            }
        }
    }
}
