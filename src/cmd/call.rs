//! The one call: runs a command for a session and says what happened. RESP input, EXEC's queued
//! commands, served waiters, HTTP requests and tests all come through here, so lookup, the checks, timing,
//! statistics, CLIENT REPLY, the MULTI queue and serving the keys a command made ready happen in one place.
//!
//! The checks run in Redis's order (`processCommand`): unknown command or subcommand, then arity, then
//! authentication, then the MULTI queue, so the error a client sees for a bad request is the one Redis sends.
//! `call` is Redis's processCommand + call; `execute` is its inner `call()` alone, which EXEC uses for the
//! queued commands (their replies go into EXEC's array, under EXEC's reply mode).

use bytes::Bytes;
use std::time::Instant;

use super::{Ctx, Resolved, errors, table};
use crate::resp::reply::Reply;
use crate::state::busy_script::EventPump;
use crate::state::session::{ClientId, ReplyMode};
use crate::state::{State, propagation};

/// What happened to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and replied (an error reply from the handler included).
    Replied,
    /// It parked the session on keys: the reply comes when a key is ready, at the deadline, or on CLIENT UNBLOCK.
    Blocked,
    /// Queued between MULTI and EXEC (the reply was QUEUED).
    Queued,
    /// Refused before running: unknown command or subcommand, wrong arity, not authenticated.
    Refused,
    /// It ran, and the connection is to be closed once the reply is written (QUIT, CLIENT KILL of oneself).
    Close,
}

/// Runs `argv` for session `id`, writing the reply into the session's output buffer under its CLIENT REPLY
/// mode. When the outermost call ends, the keys it made ready are served.
pub fn call(state: &mut State, id: ClientId, argv: &[Bytes]) -> Outcome {
    call_serving(state, id, argv, None, None)
}

/// `call` for a command read from a connection: a script it runs that passes `busy-reply-threshold` serves
/// the loop's other clients through `pump` (`state::busy_script`).
pub fn call_pumped(state: &mut State, id: ClientId, argv: &[Bytes], pump: &mut dyn EventPump) -> Outcome {
    call_serving(state, id, argv, None, Some(pump))
}

/// `call` for a parked session's command, run again because `ready_key` may now serve it (Redis serves a
/// waiter from the key that became ready, not from the first of its keys that holds a value).
pub(crate) fn call_serving(
    state: &mut State,
    id: ClientId,
    argv: &[Bytes],
    ready_key: Option<&[u8]>,
    pump: Option<&mut dyn EventPump>,
) -> Outcome {
    state.call_depth += 1;
    if state.tracking.clients > 0 && ready_key.is_none() {
        // Before the command, as Redis's processCommand: its evictions reach this client before its reply.
        super::tracking::limit_table(state);
    }
    let outcome = with_output(state, id, |state, reply| execute(state, id, argv, reply, ready_key, pump));
    // Another client's command run from inside a busy script leaves the script's execution unit, its pending
    // invalidations and the keys it made ready to the script's own end.
    if state.busy.is_none() {
        end_unit(state, id);
    }
    let session = &state.sessions[id];
    let outcome = if outcome == Outcome::Replied && (session.close_after_reply || session.close_asap) {
        Outcome::Close
    } else {
        outcome
    };
    if state.call_depth == 1 && state.blocking.has_ready() {
        // Still counted as inside this call, so the served waiters' own calls do not serve in turn.
        super::blocking::serve_ready(state);
    }
    state.call_depth -= 1;
    outcome
}

/// What follows a call: the caller's own invalidations, then the end of the execution unit (a command with
/// EXEC's queue, or one served waiter: each waiter served later is a unit of its own, as in Redis).
fn end_unit(state: &mut State, id: ClientId) {
    if !state.tracking.pending.is_empty() {
        // Invalidations of this client's own keys come after its reply (a whole transaction's).
        super::tracking::send_pending(state);
    }
    let replica_stream_before = state.propagation.replica_stream.len();
    state.propagation.end_unit();
    if state.propagation.replica_stream.len() > replica_stream_before {
        // WAIT waits for the replicas to acknowledge this offset (Redis's `woff`).
        state.sessions[id].write_offset = state.replication.offset + state.propagation.replica_stream.len() as u64;
    }
}

/// Writes the reply that ends parked session `id`'s block (timeout, CLIENT UNBLOCK), under its reply mode,
/// and counts the command, which Redis counts once it replies.
pub(crate) fn answer_parked(state: &mut State, id: ClientId, write: impl FnOnce(&mut Reply)) {
    with_output(state, id, |state, reply| {
        write(reply);
        let cmd_id = state.sessions[id].last_command;
        if let Some(cmd_id) = cmd_id {
            state.stats.commands[cmd_id].calls += 1;
        }
        record_errors(state, reply, cmd_id);
        Outcome::Replied
    });
}

/// Runs `f` with session `id`'s output buffer moved out of the session (so `f` can hold it beside `&mut
/// State`), and drops what `f` wrote if CLIENT REPLY mutes it.
///
/// Pushes for this session written meanwhile (its own subscriptions, messages it published to itself) wait
/// in `State::outbox`; `execute` merges them in before each command's reply, or, when the reply is muted, they
/// are appended here after it is dropped, since CLIENT REPLY never mutes a push.
#[inline]
fn with_output(state: &mut State, id: ClientId, f: impl FnOnce(&mut State, &mut Reply) -> Outcome) -> Outcome {
    let session = &mut state.sessions[id];
    let mut reply = std::mem::take(&mut session.reply);
    let mark = reply.len();
    let muted = begin_reply_mode(&mut session.reply_mode);
    let outer = state.outbox.enter(id, muted, reply.resp3);
    let outcome = f(state, &mut reply);
    let session = &mut state.sessions[id];
    end_reply_mode(&mut session.reply_mode, &mut reply, mark, muted, outcome == Outcome::Blocked);
    state.outbox.take_caller_pushes(&mut reply.buf);
    state.outbox.leave(outer);
    state.sessions[id].reply = reply;
    outcome
}

/// Whether this command's reply is dropped: OFF, or the one command after SKIP (which stays `Skipping` while
/// that command is blocked, as Redis's CLIENT_REPLY_SKIP does).
fn begin_reply_mode(mode: &mut ReplyMode) -> bool {
    match *mode {
        ReplyMode::On => false,
        ReplyMode::Off | ReplyMode::Skipping => true,
        ReplyMode::SkipNext => {
            *mode = ReplyMode::Skipping;
            true
        }
    }
}

/// Drops a muted reply (unless the command was CLIENT REPLY ON, which replies), and ends a SKIP once its
/// command has answered.
fn end_reply_mode(mode: &mut ReplyMode, reply: &mut Reply, mark: usize, muted: bool, blocked: bool) {
    if muted && *mode != ReplyMode::On {
        reply.buf.truncate(mark);
    }
    if *mode == ReplyMode::Skipping && !blocked {
        *mode = ReplyMode::On;
    }
}

/// Looks the command up, checks it, queues it in MULTI or runs it, and counts it; the reply goes to `reply`.
pub(crate) fn execute(
    state: &mut State,
    id: ClientId,
    argv: &[Bytes],
    reply: &mut Reply,
    ready_key: Option<&[u8]>,
    pump: Option<&mut dyn EventPump>,
) -> Outcome {
    let found = lookup(argv);
    let cmd_id = found.as_ref().ok().map(|cmd| cmd.id);
    state.sessions[id].last_command = cmd_id;
    let cmd = match found.and_then(|cmd| check_arity(cmd, argv.len())) {
        Ok(cmd) => cmd,
        // A wrong arity counts as the command's rejected call; an unknown command counts in no command's.
        Err(err) => return refuse(state, id, argv, reply, err, cmd_id),
    };
    execute_found(state, id, cmd, argv, reply, ready_key, pump)
}

/// `execute` for a command its caller looked up and whose arity it checked (a script's `redis.call`, which
/// checks them first to give its own refusals).
pub(crate) fn execute_found(
    state: &mut State,
    id: ClientId,
    cmd: Resolved,
    argv: &[Bytes],
    reply: &mut Reply,
    ready_key: Option<&[u8]>,
    pump: Option<&mut dyn EventPump>,
) -> Outcome {
    state.sessions[id].last_command = Some(cmd.id);
    if !state.sessions[id].authenticated && cmd.spec.flags & super::flag::NO_AUTH == 0 {
        return refuse(state, id, argv, reply, "NOAUTH Authentication required.".into(), Some(cmd.id));
    }
    // Right after authentication in processCommand: SAVE, SHUTDOWN, SYNC and PSYNC cannot be queued, and the
    // refusal dooms the transaction (EXEC answers EXECABORT), so a queued SHUTDOWN never stops the server.
    if cmd.spec.flags & super::flag::NO_MULTI != 0 && state.sessions[id].multi.is_some() {
        return refuse(state, id, argv, reply, errors::NO_MULTI.into(), Some(cmd.id));
    }
    // processCommand's maxmemory step, for arriving commands (not EXEC's queue, a script's calls or a waiter's
    // re-run): with no limit, or under it, one comparison.
    // Not while a script is busy: evicting keys under a running script would break its atomicity (Redis skips
    // performEvictions inside a yielding command too).
    if state.config.maxmemory != 0
        && !state.in_exec
        && state.busy.is_none()
        && ready_key.is_none()
        && super::evict::refuses(state, id, cmd, argv)
    {
        return refuse(state, id, argv, reply, super::evict::OOM.into(), Some(cmd.id));
    }
    if let Some(err) = disk_refusal(state).filter(|_| cmd.spec.name == "ping" || is_write(state, id, &cmd, argv)) {
        return refuse(state, id, argv, reply, err, Some(cmd.id));
    }
    // Next in processCommand: with `min-replicas-to-write`, a write (or an EXEC holding one) needs enough good
    // replicas. EXEC's queued commands are not checked again: EXEC was.
    if !state.in_exec
        && !crate::state::replication::enough_good_replicas(state, state.now_ms)
        && is_write(state, id, &cmd, argv)
    {
        return refuse(state, id, argv, reply, errors::NOREPLICAS.into(), Some(cmd.id));
    }
    if let Some(err) = super::monitor::refuse_keyspace(state, id, cmd) {
        return refuse(state, id, argv, reply, err, Some(cmd.id));
    }
    // Checked when a command arrives (processCommand), not for the ones EXEC runs.
    if state.sessions[id].is_subscribed()
        && !reply.resp3
        && !state.in_exec
        && !super::pubsub::allowed_when_subscribed(cmd)
    {
        return refuse(state, id, argv, reply, super::pubsub::only_pubsub_allowed(cmd), Some(cmd.id));
    }
    // processCommand's busy step: while a script runs past its threshold, others may run only `allow-busy`
    // commands (the script's own calls come with `in_script`).
    if let Some(busy) = state.busy.as_ref().filter(|_| !state.in_script)
        && cmd.spec.flags & super::flag::ALLOW_BUSY == 0
    {
        let err = busy.error();
        return refuse(state, id, argv, reply, err.into(), Some(cmd.id));
    }
    // A pause holds commands as they arrive (processCommand), not EXEC's queued ones or a waiter's re-run.
    if state.pausing.pause.is_some()
        && !state.in_exec
        && ready_key.is_none()
        && super::conn::pause::postpone_if_paused(state, id, cmd, argv)
    {
        return super::conn::pause::held(state, id, reply);
    }
    if super::tx::queue_if_in_multi(state, id, cmd, argv, reply) {
        return Outcome::Queued;
    }
    let db_index = state.sessions[id].db;
    let now_ms = state.now_ms;
    let dirty_before = state.dirty;
    state.propagation.begin_command();
    let mark = reply.len();
    if ready_key.is_none() && super::monitor::shown_before_run(state, cmd) {
        super::monitor::feed(state, id, cmd, argv);
    }
    let pump = pump.map(|pump| -> &mut dyn EventPump { pump });
    let mut ctx = Ctx { state, me: id, argv, now_ms, db_index, cmd, blocked: false, ready_key, pump };
    if let Err(err) = (cmd.spec.run)(&mut ctx, reply) {
        reply.error(&*err.0);
    }
    let blocked = ctx.blocked;
    // A command that lowered `dirty` (SAVE, DEBUG LOADAOF resetting it) changed nothing to replay, as in Redis.
    if state.propagation.enabled {
        propagation::end_command(state, db_index, argv, state.dirty > dirty_before, cmd.spec.name == "exec");
    }
    super::notify::drain_key_logs(state);
    // After the keys expiry deleted during the command were invalidated, as Redis remembers after its call.
    if state.tracking.clients > 0 {
        super::tracking::after_command(state, id, cmd, argv);
    }
    if !state.outbox.caller_muted {
        // Pushes the command made for its own caller come before its reply, where Redis writes them.
        state.outbox.insert_caller_pushes(&mut reply.buf, mark);
    }
    if ready_key.is_none() && super::monitor::shown(state, cmd) {
        super::monitor::feed(state, id, cmd, argv);
    }
    let duration_us = count(state, cmd, reply, blocked);
    if !blocked && super::slowlog_command::wanted(state, cmd, duration_us) {
        super::slowlog_command::record(state, id, cmd, argv, duration_us);
    }
    if !blocked && state.latency_wanted(duration_us) {
        super::latency::record(state, cmd, duration_us);
    }
    if blocked { Outcome::Blocked } else { Outcome::Replied }
}

/// Why every write is refused now (writeCommandsDeniedByDiskError): a failed background save under
/// `stop-writes-on-bgsave-error`, or a failed AOF write.
fn disk_refusal(state: &State) -> Option<errors::CmdError> {
    let config = &state.config;
    let rdb_failed = config.stop_writes_on_bgsave_error && !config.save.is_empty() && !state.persistence.last_bgsave_ok;
    if !rdb_failed && state.aof.write_error.is_none() {
        return None;
    }
    Some(match state.aof.misconf() {
        Some(aof) if !rdb_failed => aof.into(),
        _ => errors::MISCONF.into(),
    })
}

/// scriptVerifyWriteCommandAllow's checks for a write a script calls: the disk errors, then
/// `min-replicas-to-write`, as for an arriving write.
pub(super) fn script_write_refusal(state: &State) -> Option<errors::CmdError> {
    disk_refusal(state).or_else(|| {
        (!crate::state::replication::enough_good_replicas(state, state.now_ms)).then(|| errors::NOREPLICAS.into())
    })
}

/// processCommand's is_write_command: a write command, a script that declared flags without `no-writes`
/// (scriptFlagsToCmdFlags), or an EXEC whose queue holds one of those.
fn is_write(state: &State, id: ClientId, cmd: &super::Resolved, argv: &[Bytes]) -> bool {
    let writes = |c: &super::Resolved, argv: &[Bytes]| {
        c.spec.flags & super::flag::WRITE != 0 || super::eval::declared_write(state, *c, argv)
    };
    if writes(cmd, argv) {
        return true;
    }
    if cmd.spec.name != "exec" {
        return false;
    }
    let queued = state.sessions[id].multi.as_ref().map_or(&[][..], |m| &m.commands[..]);
    queued.iter().any(|argv| lookup(argv).is_ok_and(|c| writes(&c, argv)))
}

/// Answers a command refused before running, which inside MULTI dooms the transaction.
fn refuse(
    state: &mut State,
    id: ClientId,
    argv: &[Bytes],
    reply: &mut Reply,
    err: errors::CmdError,
    cmd_id: Option<usize>,
) -> Outcome {
    let err = super::tx::reject_in_multi(state, id, argv, err);
    reply.error(&*err.0);
    count_errors(state, reply, cmd_id, Verdict::Rejected);
    if state.tracking.clients > 0 {
        super::tracking::end_caching(state, id, cmd_id);
    }
    Outcome::Refused
}

/// Statistics for a command that ran: its duration runs from the end of the previous command of the batch
/// (`State::last_call_end`), so each command costs one clock read, not two (profiles showed `clock_gettime`
/// at 10% of the server's CPU time with two). A command that blocked is counted when it replies. Returns the
/// duration, for the slow log.
fn count(state: &mut State, cmd: Resolved, reply: &mut Reply, blocked: bool) -> u64 {
    let finished = Instant::now();
    let duration_us = finished.saturating_duration_since(state.last_call_end).as_micros() as u64;
    state.last_call_end = finished;
    let stat = &mut state.stats.commands[cmd.id];
    stat.calls += u64::from(!blocked);
    stat.usec += duration_us;
    if state.config.latency_tracking && !blocked {
        stat.histogram.record(duration_us);
    }
    state.stats.latency.record(duration_us);
    state.stats.total_commands += 1;
    record_errors(state, reply, Some(cmd.id));
    duration_us
}

/// Finds the command (and subcommand) for `argv`.
pub(crate) fn lookup(argv: &[Bytes]) -> Result<Resolved, errors::CmdError> {
    let table = table();
    let Some(top) = table.lookup(&argv[0]) else {
        return Err(errors::unknown_command(argv));
    };
    if argv.len() >= 2 && !top.spec.subcommands.is_empty() {
        table.lookup_sub(top, &argv[1]).ok_or_else(|| errors::unknown_subcommand(&argv[0], &argv[1]))
    } else {
        Ok(top)
    }
}

fn check_arity(cmd: Resolved, argc: usize) -> Result<Resolved, errors::CmdError> {
    if cmd.spec.arity_ok(argc) { Ok(cmd) } else { Err(errors::wrong_arity(&table().names[cmd.id])) }
}

/// Moves the error replies the command produced into INFO's error statistics. Inlined, so the usual case
/// (no error) costs one test and no call.
#[inline]
fn record_errors(state: &mut State, reply: &mut Reply, cmd_id: Option<usize>) {
    if !reply.errors.is_empty() || reply.uncounted_failure {
        count_errors(state, reply, cmd_id, Verdict::Failed);
    }
}

/// How a command that answered with an error counts in INFO commandstats.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Verdict {
    /// Refused before it ran (`rejected_calls`).
    Rejected,
    /// Ran and failed (`failed_calls`).
    Failed,
}

/// Counts the errors in `reply` (each in errorstats and `total_error_replies`) and the command's call as
/// `verdict` says.
#[cold]
pub(super) fn count_errors(state: &mut State, reply: &mut Reply, cmd_id: Option<usize>, verdict: Verdict) {
    if let Some(id) = cmd_id {
        let stat = &mut state.stats.commands[id];
        match verdict {
            Verdict::Rejected => stat.rejected_calls += 1,
            Verdict::Failed => stat.failed_calls += 1,
        }
    }
    reply.uncounted_failure = false;
    for code in reply.errors.drain(..) {
        state.stats.total_error_replies += 1;
        *state.stats.errors_by_code.entry(code).or_insert(0) += 1;
    }
}
