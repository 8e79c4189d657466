//! The event loop's side of replication (see `state::replication`): each `before_sleep` hands the
//! iteration's stream to the replicas and answers the WAITs their acknowledgements satisfy; a replica's
//! socket gets, before its stream, what precedes it (`+FULLRESYNC`, keepalive newlines, `$<len>` and the
//! snapshot file, read in chunks as the socket takes them, so a big snapshot is never held in memory); the
//! cron feeds the PINGs and keepalives Redis's replicationCron sends and drops replicas that stopped
//! acknowledging.

use std::io::Read;

use mio::Interest;

use crate::net::io::{self as netio, WriteOutcome};
use crate::state::replication::{self, SyncState};
use crate::state::session::ClientId;

use super::Loop;

/// Snapshot bytes read per chunk (Redis's PROTO_IOBUF_LEN).
const RDB_CHUNK_BYTES: usize = 16 * 1024;
/// Pipe chunks forwarded per event-loop iteration at most, so a fast replica cannot hold the loop.
const PIPE_CHUNKS_PER_TURN: usize = 64;

/// How writing what precedes a replica's stream went.
pub(super) enum Prefix {
    /// All written: the stream may follow.
    Done,
    /// The socket is full.
    Blocked,
    /// Nothing more to write until the snapshot is ready, or the connection failed.
    Waiting,
}

impl Loop<'_> {
    /// The `before_sleep` step: WAITs that acknowledgements satisfy, more of a diskless snapshot, then the
    /// stream (and a GETACK a WAIT asked for) to every replica.
    pub(super) fn feed_replicas(&mut self) {
        if self.state.replication.diskless.as_ref().is_some_and(|d| d.resume) {
            self.forward_rdb_pipe();
        }
        let state = &mut self.state;
        if state.replication.acks_arrived {
            crate::cmd::replica_sync::serve_waits(state);
        }
        if state.replication.replicas.is_empty() {
            return;
        }
        let mut fed = replication::feed(state);
        if std::mem::take(&mut state.replication.getack_wanted) {
            replication::append_to_all(state, replication::GETACK);
            fed = true;
        }
        if fed {
            self.queue_replicas();
        }
    }

    /// Registers a diskless sync's pipe with the poll, once.
    pub(super) fn register_rdb_pipe(&mut self) {
        if let Some(diskless) = self.state.replication.diskless.as_mut().filter(|d| !d.registered) {
            diskless.registered = true;
            if let Err(e) = self.io.poll.registry().register(&mut diskless.pipe, super::RDB_PIPE, Interest::READABLE) {
                crate::log!(Warning, "Registering the diskless sync's pipe: {}", e);
            }
        }
    }

    /// Moves a diskless snapshot from the child's pipe to its replicas, a chunk at a time, while every one of
    /// them takes what it was given (Redis's rdbPipeReadHandler). Ends with the mark once the pipe does; a
    /// snapshot nobody receives any more is abandoned and its child killed.
    pub(super) fn forward_rdb_pipe(&mut self) {
        let mut chunk = [0u8; RDB_CHUNK_BYTES];
        for _ in 0..PIPE_CHUNKS_PER_TURN {
            let Some(diskless) = self.state.replication.diskless.as_mut() else { return };
            diskless.resume = false;
            let receivers = replication::pipe_receivers(self.state);
            if receivers.is_empty() {
                crate::log!(Warning, "Diskless rdb transfer, last replica dropped, killing fork child.");
                self.end_rdb_pipe();
                crate::persist::kill_rdb_child(self.state);
                return;
            }
            let drained = |server: &Loop<'_>, id: ClientId| {
                server.state.sessions[id].replica.as_ref().is_some_and(|r| r.head_sent >= r.head.len())
            };
            if !receivers.iter().all(|&id| drained(self, id)) {
                return;
            }
            let Some(diskless) = self.state.replication.diskless.as_mut() else { return };
            let got = diskless.pipe.read(&mut chunk);
            let n = match got {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::log!(Warning, "Diskless rdb transfer, read error sending DB to replicas: {}", e);
                    0
                }
            };
            let mark = diskless.mark.clone();
            for &id in &receivers {
                let Some(replica) = self.state.sessions[id].replica.as_mut() else { continue };
                if n == 0 {
                    replica.head.extend_from_slice(mark.as_bytes());
                    replica.from_pipe = false;
                } else {
                    replica.head.extend_from_slice(&chunk[..n]);
                }
                self.write_client(id);
            }
            if n == 0 {
                crate::log!(
                    Notice,
                    "Diskless rdb transfer, done reading from pipe, {} replicas still up.",
                    receivers.len()
                );
                self.end_rdb_pipe();
                return;
            }
        }
        // Budget spent with data left: the next iteration goes on without waiting for the pipe's readiness.
        if let Some(diskless) = self.state.replication.diskless.as_mut() {
            diskless.resume = true;
        }
    }

    fn end_rdb_pipe(&mut self) {
        if let Some(mut diskless) = self.state.replication.diskless.take() {
            let _ = self.io.poll.registry().deregister(&mut diskless.pipe);
        }
    }

    fn queue_replicas(&mut self) {
        for index in 0..self.state.replication.replicas.len() {
            let id = self.state.replication.replicas[index];
            self.queue_write(id);
        }
    }

    /// Writes what must precede replica `id`'s stream (see `Prefix`).
    pub(super) fn write_replica_prefix(&mut self, id: ClientId) -> Prefix {
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return Prefix::Waiting };
        let Some(replica) = self.state.sessions[id].replica.as_mut() else { return Prefix::Done };
        loop {
            let before = replica.head_sent;
            let outcome = netio::write_from(&mut conn.stream, &replica.head, &mut replica.head_sent);
            self.state.stats.net_output_bytes += (replica.head_sent - before) as u64;
            match outcome {
                WriteOutcome::Blocked => return Prefix::Blocked,
                WriteOutcome::Failed => {
                    self.state.close_asap(id);
                    return Prefix::Waiting;
                }
                WriteOutcome::Done => {
                    replica.head.clear();
                    replica.head_sent = 0;
                }
            }
            if replica.from_pipe {
                // Drained: the pipe may be read again (`forward_rdb_pipe`).
                if let Some(diskless) = self.state.replication.diskless.as_mut() {
                    diskless.resume = true;
                }
                break;
            }
            let Some((file, remaining)) = replica.rdb.as_mut() else { break };
            if *remaining == 0 {
                replica.rdb = None;
                break;
            }
            let take = (*remaining).min(RDB_CHUNK_BYTES as u64) as usize;
            replica.head.resize(take, 0);
            match file.read(&mut replica.head) {
                Ok(n) if n > 0 => {
                    replica.head.truncate(n);
                    *remaining -= n as u64;
                }
                result => {
                    let why = result.err().map_or("the file is shorter than it was".to_string(), |e| e.to_string());
                    crate::log!(Warning, "Read error sending DB to replica: {}", why);
                    self.state.close_asap(id);
                    return Prefix::Waiting;
                }
            }
        }
        let Some(replica) = self.state.sessions[id].replica.as_mut() else { return Prefix::Waiting };
        if replica.state == SyncState::SendingRdb && replica.snapshot_queued() && !replica.prefix_pending() {
            replica.state = SyncState::Online;
            let name = replication::replica_name(self.state, id, self.state.sessions[id].replica.as_ref().unwrap());
            crate::log!(Notice, "Synchronization with replica {} succeeded", name);
        }
        match self.state.sessions[id].replica.as_ref().map(|r| r.state) {
            Some(SyncState::Online | SyncState::Handshake) | None => Prefix::Done,
            _ => Prefix::Waiting,
        }
    }

    /// The cron's part (Redis's replicationCron): every second a newline to replicas waiting for their
    /// snapshot (so they do not time out), every `repl-ping-replica-period` a PING in the stream, and replicas
    /// whose last ACK is older than `repl-timeout` are dropped.
    pub(super) fn replication_cron(&mut self, now_ms: i64) {
        let state = &mut self.state;
        if state.replication.replicas.is_empty() || now_ms / 1000 == state.replication.last_cron_s {
            return;
        }
        state.replication.last_cron_s = now_ms / 1000;
        let period_ms = i64::from(state.config.repl_ping_replica_period_s) * 1000;
        if now_ms - state.replication.last_ping_ms >= period_ms {
            state.replication.last_ping_ms = now_ms;
            replication::feed(state);
            replication::append_to_all(state, replication::PING);
        }
        let timeout_ms = i64::from(state.config.repl_timeout_s) * 1000;
        let mut timed_out = Vec::new();
        for &id in &state.replication.replicas {
            let Some(replica) = state.sessions[id].replica.as_mut() else { continue };
            match replica.state {
                SyncState::WaitBgsaveStart | SyncState::WaitBgsaveEnd => replica.head.push(b'\n'),
                SyncState::Online if replica.psync && now_ms - replica.ack_ms > timeout_ms => timed_out.push(id),
                _ => {}
            }
        }
        for id in timed_out {
            let name = replication::replica_name(state, id, state.sessions[id].replica.as_ref().unwrap());
            crate::log!(Warning, "Disconnecting timedout replica (streaming sync): {}", name);
            state.close_asap(id);
        }
        self.queue_replicas();
    }
}
