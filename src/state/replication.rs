//! The master's half of replication (Redis's replication.c): the replicas that SYNC or PSYNC attached, the
//! replication id and offset, and what each replica still has to receive.
//!
//! # A full sync
//! SYNC or PSYNC makes the session a replica waiting for a snapshot. `persist` forks a BGSAVE for the
//! waiting replicas as soon as no other child runs, and PSYNC is then answered `+FULLRESYNC <id> <offset>`
//! with the offset of the fork (no backlog is kept, so every sync is full). When the BGSAVE ends, each replica it was forked for is sent
//! `$<len>\r\n` and the file `dir/dbfilename` in chunks (by `server::replicas`), then the commands
//! propagated since the fork. Those accumulate meanwhile in the replica's own reply buffer, so the
//! `replica` class of `client-output-buffer-limit` counts them, as Redis's does.
//!
//! # The stream
//! Every attached replica is fed the same bytes, `Propagation::replica_stream`, once per event-loop
//! iteration (`feed`); `offset` counts them (`master_repl_offset`). The stream of a newly attached replica
//! starts with SELECT: attaching makes the next command select its database again.
//!
//! # Invariants
//! - `replicas` lists exactly the sessions whose `replica` is attached, in attach order.
//! - `Propagation::to_replicas` is true exactly while `replicas` is not empty.
//! - A replica's reply buffer holds only the stream: its own commands' replies are dropped (reply mode off).

use std::fs::File;

use super::State;
use super::session::{ClientId, ReplyMode};

/// The PING fed to replicas every `repl-ping-replica-period`, as the stream encodes it.
pub const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

#[derive(Debug)]
pub struct Replication {
    /// The replication id (40 hex digits, new each start).
    pub replid: String,
    /// Bytes of stream fed to replicas since the start (`master_repl_offset`).
    pub offset: u64,
    /// Attached replicas, in attach order (INFO's `slave0`, `slave1`, ...).
    pub replicas: Vec<ClientId>,
    /// Unix ms of the last PING fed to the replicas, and the second the replication cron last ran.
    pub last_ping_ms: i64,
    pub last_cron_s: i64,
    /// Clients blocked in WAIT: (client, the offset they wait for, how many replicas).
    pub waiting: Vec<(ClientId, u64, i64)>,
    /// A WAIT blocked: ask the replicas for their offsets (REPLCONF GETACK) before the next poll.
    pub getack_wanted: bool,
    /// A REPLCONF ACK arrived: WAITs may be answered.
    pub acks_arrived: bool,
    /// The snapshot a diskless sync streams from its child, while it is read.
    pub diskless: Option<Diskless>,
    /// The running fork child writes to the replicas' sockets, not to a file: its end is no save.
    pub diskless_child: bool,
}

/// A diskless sync in flight (Redis's `rdb_pipe_*`): the child writes the snapshot into `pipe`, and every
/// chunk read from it is appended to each receiving replica's `head`. The next chunk is read only once
/// every receiver has written the last one, so the slowest replica sets the pace and memory stays at one
/// chunk per replica.
#[derive(Debug)]
pub struct Diskless {
    pub pipe: mio::net::UnixStream,
    /// The 40 characters that follow `$EOF:` and end the snapshot.
    pub mark: String,
    /// The pipe had data when a receiver was still writing: read again once they all drained.
    pub resume: bool,
    /// Whether the event loop registered `pipe` with its poll yet.
    pub registered: bool,
}

/// `REPLCONF GETACK *`, which asks replicas for an ACK of their offset.
pub const GETACK: &[u8] = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";

impl Replication {
    pub fn new(replid: String) -> Replication {
        Replication {
            replid,
            offset: 0,
            replicas: Vec::new(),
            last_ping_ms: 0,
            last_cron_s: 0,
            waiting: Vec::new(),
            getack_wanted: false,
            acks_arrived: false,
            diskless: None,
            diskless_child: false,
        }
    }
}

/// Where a replica is in its sync (Redis's SLAVE_STATE_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// REPLCONF was seen, no SYNC yet: not a replica.
    Handshake,
    /// Waiting for a BGSAVE to be forked for it (another child runs).
    WaitBgsaveStart,
    /// A BGSAVE runs for it.
    WaitBgsaveEnd,
    /// The snapshot is being sent.
    SendingRdb,
    /// Receiving the stream.
    Online,
}

impl SyncState {
    /// The name INFO's `slaveN:state=` gives.
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Handshake | SyncState::WaitBgsaveStart | SyncState::WaitBgsaveEnd => "wait_bgsave",
            SyncState::SendingRdb => "send_bulk",
            SyncState::Online => "online",
        }
    }
}

/// What the master knows of one replica connection.
#[derive(Debug)]
pub struct Replica {
    pub state: SyncState,
    /// Bytes to write before the snapshot and the stream: `+FULLRESYNC`, keepalive newlines, `$<len>`.
    pub head: Vec<u8>,
    pub head_sent: usize,
    /// The snapshot file being sent and how many of its bytes remain.
    pub rdb: Option<(File, u64)>,
    /// REPLCONF listening-port / ip-address.
    pub listening_port: u16,
    pub announced_ip: Option<String>,
    /// It synced with PSYNC (so it sends REPLCONF ACK; an old SYNC replica does not).
    pub psync: bool,
    /// REPLCONF rdb-only 1 (`redis-cli --rdb`): the snapshot alone, no stream after it.
    pub rdb_only: bool,
    /// REPLCONF capa eof: it reads a snapshot of unknown length ended by a mark (a diskless sync).
    pub reads_eof: bool,
    /// It receives the snapshot a diskless sync reads from the pipe (until the pipe ends).
    pub from_pipe: bool,
    /// When SYNC attached it (Unix ms), for `repl-diskless-sync-delay`.
    pub attached_ms: i64,
    /// The last offset it acknowledged, and when (Unix ms).
    pub ack_offset: u64,
    pub ack_ms: i64,
}

impl Replica {
    pub fn new(now_ms: i64) -> Replica {
        Replica {
            state: SyncState::Handshake,
            head: Vec::new(),
            head_sent: 0,
            rdb: None,
            listening_port: 0,
            announced_ip: None,
            psync: false,
            rdb_only: false,
            reads_eof: false,
            from_pipe: false,
            attached_ms: now_ms,
            ack_offset: 0,
            ack_ms: now_ms,
        }
    }

    /// Whether SYNC/PSYNC made the session a replica.
    pub fn attached(&self) -> bool {
        self.state != SyncState::Handshake
    }

    /// Whether bytes that precede the stream wait to be written (so the connection must be written to).
    pub fn prefix_pending(&self) -> bool {
        self.head_sent < self.head.len() || self.rdb.is_some()
    }

    /// Whether all of the snapshot has been queued: the file is read to its end, or the pipe ended.
    pub fn snapshot_queued(&self) -> bool {
        self.rdb.is_none() && !self.from_pipe
    }
}

/// Makes session `id` a replica waiting for a snapshot (SYNC, PSYNC); `persist` forks one for it.
pub fn attach(state: &mut State, id: ClientId, psync: bool, now_ms: i64) {
    let session = &mut state.sessions[id];
    session.reply_mode = ReplyMode::Off;
    let replica = session.replica.get_or_insert_with(|| Box::new(Replica::new(now_ms)));
    replica.state = SyncState::WaitBgsaveStart;
    replica.psync = psync;
    replica.ack_ms = now_ms;
    replica.attached_ms = now_ms;
    if state.replication.replicas.is_empty() {
        // The PING period counts from the first replica, as Redis's cron counts from its start.
        state.replication.last_ping_ms = now_ms;
    }
    state.replication.replicas.push(id);
    state.propagation.to_replicas = true;
    state.propagation_consumers_changed();
}

/// Forgets replica `id` (its connection is closing).
pub fn detach(state: &mut State, id: ClientId) {
    let Some(replica) = state.sessions.get_mut(id).and_then(|s| s.replica.take()) else { return };
    if !replica.attached() {
        return;
    }
    state.replication.replicas.retain(|&r| r != id);
    crate::log!(Notice, "Connection with replica {} lost.", replica_name(state, id, &replica));
    if state.replication.replicas.is_empty() {
        state.propagation.to_replicas = false;
        state.propagation.replica_stream.clear();
        state.propagation_consumers_changed();
    }
}

/// `ip:port` as Redis's replicationGetSlaveName names a replica in its log lines.
pub fn replica_name(state: &State, id: ClientId, replica: &Replica) -> String {
    let ip = replica.announced_ip.clone().unwrap_or_else(|| replica_ip(state, id));
    format!("{}:{}", ip, replica.listening_port)
}

/// The replica's address as its connection shows it, without the port.
pub fn replica_ip(state: &State, id: ClientId) -> String {
    let addr = state.sessions[id].link.as_ref().map(|l| l.addr.clone()).unwrap_or_default();
    match addr.rsplit_once(':') {
        Some((ip, _)) => ip.to_string(),
        None => addr,
    }
}

/// Hands the stream gathered since the last call to every attached replica; returns whether there was any.
pub fn feed(state: &mut State) -> bool {
    if state.propagation.replica_stream.is_empty() {
        return false;
    }
    let stream = std::mem::take(&mut state.propagation.replica_stream);
    append_to_all(state, &stream);
    let mut stream = stream;
    stream.clear();
    state.propagation.replica_stream = stream;
    true
}

/// Appends `bytes` to the stream of every replica a snapshot was forked for, and advances the offset. A
/// replica still waiting for its fork gets nothing: its snapshot will hold these changes.
pub fn append_to_all(state: &mut State, bytes: &[u8]) {
    for &id in &state.replication.replicas {
        let session = &mut state.sessions[id];
        if session.replica.as_ref().is_some_and(|r| r.state != SyncState::WaitBgsaveStart && !r.rdb_only) {
            session.reply.buf.extend_from_slice(bytes);
        }
    }
    state.replication.offset += bytes.len() as u64;
}

/// Bytes the replication stream holds: the part not yet fed and every replica's output buffer (INFO's
/// `mem_clients_slaves`; not counted against `maxmemory`).
pub fn buffers_bytes(state: &State) -> usize {
    let queued: usize = state.replication.replicas.iter().map(|&id| state.sessions[id].reply.buf.capacity()).sum();
    queued + state.propagation.replica_stream.capacity()
}

/// The replicas that acknowledged at least `offset` (WAIT's count).
pub fn acked_at_least(state: &State, offset: u64) -> usize {
    state
        .replication
        .replicas
        .iter()
        .filter_map(|&id| state.sessions[id].replica.as_ref())
        .filter(|r| r.state == SyncState::Online && r.ack_offset >= offset)
        .count()
}

/// Redis's repl_good_slaves_count, counted when asked rather than by the cron: the online replicas whose last
/// ACK is at most `min-replicas-max-lag` seconds old (whole seconds, as Redis's unixtime difference).
pub fn good_replicas(state: &State, now_ms: i64) -> usize {
    let lag_max_s = i64::from(state.config.min_replicas_max_lag_s);
    state
        .replication
        .replicas
        .iter()
        .filter_map(|&id| state.sessions[id].replica.as_ref())
        .filter(|r| r.state == SyncState::Online && (now_ms - r.ack_ms).max(0) / 1000 <= lag_max_s)
        .count()
}

/// Redis's checkGoodReplicasStatus: writes are allowed unless `min-replicas-to-write` and
/// `min-replicas-max-lag` are both set and fewer good replicas than the first are attached.
pub fn enough_good_replicas(state: &State, now_ms: i64) -> bool {
    let config = &state.config;
    config.min_replicas_to_write == 0
        || config.min_replicas_max_lag_s == 0
        || good_replicas(state, now_ms) >= config.min_replicas_to_write as usize
}

/// Whether a snapshot is to be forked now for the replicas waiting for one (Redis's replicationCron): no
/// child runs and, when `repl-diskless-sync` is on, the first of them has waited
/// `repl-diskless-sync-delay` seconds for others to join, or `repl-diskless-sync-max-replicas` are waiting.
pub fn fork_due(state: &State, now_ms: i64) -> bool {
    if state.persistence.child.is_some() {
        return false;
    }
    let waiting: Vec<&Replica> =
        replicas_in(state, SyncState::WaitBgsaveStart).filter_map(|id| state.sessions[id].replica.as_deref()).collect();
    let Some(longest_ms) = waiting.iter().map(|r| now_ms - r.attached_ms).max() else { return false };
    let config = &state.config;
    let max = config.repl_diskless_sync_max_replicas;
    !config.repl_diskless_sync
        || (max > 0 && waiting.len() >= max as usize)
        || longest_ms >= i64::from(config.repl_diskless_sync_delay_s) * 1000
}

/// Whether every replica waiting for a fork reads the EOF-marked snapshot a diskless sync sends.
pub fn waiting_all_read_eof(state: &State) -> bool {
    replicas_in(state, SyncState::WaitBgsaveStart)
        .all(|id| state.sessions[id].replica.as_ref().is_some_and(|r| r.reads_eof))
}

/// The fork for the waiting replicas failed: they are closed, as Redis does.
pub fn close_waiting(state: &mut State) {
    let waiting: Vec<ClientId> = replicas_in(state, SyncState::WaitBgsaveStart).collect();
    for id in waiting {
        state.close_asap(id);
    }
}

/// The attached replicas in `sync_state`.
pub fn replicas_in(state: &State, sync_state: SyncState) -> impl Iterator<Item = ClientId> + '_ {
    state
        .replication
        .replicas
        .iter()
        .copied()
        .filter(move |&id| state.sessions[id].replica.as_ref().is_some_and(|r| r.state == sync_state))
}

/// A BGSAVE was forked: the replicas waiting for one now wait for it to end, and their stream starts here.
/// What was gathered before the fork goes to the replicas synced earlier: the snapshot holds its effects.
/// PSYNC's `+FULLRESYNC` names the offset of the fork, as Redis's replicationSetupSlaveForFullResync.
pub fn bgsave_forked(state: &mut State) {
    feed(state);
    let waiting: Vec<ClientId> = replicas_in(state, SyncState::WaitBgsaveStart).collect();
    let line = format!("+FULLRESYNC {} {}\r\n", state.replication.replid, state.replication.offset);
    for id in waiting {
        if let Some(replica) = state.sessions[id].replica.as_mut() {
            replica.state = SyncState::WaitBgsaveEnd;
            if replica.psync {
                replica.head.extend_from_slice(line.as_bytes());
            }
        }
    }
    // The new replicas' stream must say which database its first command is for.
    state.propagation.replica_db = None;
}

/// A child writing the snapshot into `pipe` was forked: the waiting replicas receive it as the pipe is
/// read (`server::replicas`), after `$EOF:<mark>`, and it ends with the mark.
pub fn diskless_forked(state: &mut State, pipe: mio::net::UnixStream) {
    let mut rng = crate::util::rng::Rng::new(state.replication.offset ^ crate::clock::unix_us() as u64);
    let mark: String = (0..40).map(|_| char::from(b"0123456789abcdef"[rng.below(16)])).collect();
    let waiting: Vec<ClientId> = replicas_in(state, SyncState::WaitBgsaveStart).collect();
    bgsave_forked(state);
    for id in waiting {
        if let Some(replica) = state.sessions[id].replica.as_mut() {
            replica.head.extend_from_slice(format!("$EOF:{mark}\r\n").as_bytes());
            replica.state = SyncState::SendingRdb;
            replica.from_pipe = true;
        }
    }
    state.replication.diskless = Some(Diskless { pipe, mark, resume: true, registered: false });
    state.replication.diskless_child = true;
}

/// The replicas still receiving the diskless snapshot.
pub fn pipe_receivers(state: &State) -> Vec<ClientId> {
    let receives = |id: &ClientId| state.sessions[*id].replica.as_ref().is_some_and(|r| r.from_pipe);
    state.replication.replicas.iter().copied().filter(receives).collect()
}

/// A diskless sync's child ended. On failure its replicas are closed; on success the pipe ends on its own.
pub fn diskless_child_ended(state: &mut State, ok: bool) {
    state.replication.diskless_child = false;
    if ok {
        crate::log!(Notice, "Background RDB transfer terminated with success");
        return;
    }
    crate::log!(Warning, "Background transfer error");
    state.replication.diskless = None;
    for id in pipe_receivers(state) {
        state.close_asap(id);
    }
}

/// A BGSAVE ended: on success each replica it was forked for starts receiving `path`; on failure they are
/// closed, as Redis's updateSlavesWaitingBgsave does.
pub fn bgsave_ended(state: &mut State, ok: bool, path: &std::path::Path) {
    let waiting: Vec<ClientId> = replicas_in(state, SyncState::WaitBgsaveEnd).collect();
    for id in waiting {
        let opened = if ok { File::open(path).and_then(|f| Ok((f.metadata()?.len(), f))) } else { Err(failed()) };
        match opened {
            Ok((len, file)) => {
                let Some(replica) = state.sessions[id].replica.as_mut() else { continue };
                replica.head.extend_from_slice(format!("${len}\r\n").as_bytes());
                replica.rdb = Some((file, len));
                replica.state = SyncState::SendingRdb;
            }
            Err(e) => {
                crate::log!(Warning, "SYNC failed. BGSAVE child returned an error ({e})");
                state.close_asap(id);
            }
        }
    }
}

fn failed() -> std::io::Error {
    std::io::Error::other("the snapshot could not be written")
}
