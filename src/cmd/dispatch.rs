//! From a parsed request to a reply: look the command up, check it, run it, count it.
//!
//! The checks run in Redis's order (`processCommand`): unknown command or subcommand, then arity, then
//! authentication, so the error a client sees for a bad request is the one Redis would send.

use bytes::Bytes;
use std::time::Instant;

use super::{Ctx, Resolved, errors};
use crate::resp::reply::Reply;
use crate::state::State;

/// Runs one request from client `me`, writing its reply into `reply`.
///
/// `started` is when the caller finished the previous request of the same batch (or began the batch); the
/// command's duration for INFO commandstats runs from there to the end of the handler, and that end is
/// returned for the next request. So each command costs one clock read, not two: profiles showed
/// `clock_gettime` at 10% of the server's CPU time with two.
pub fn process_command(
    state: &mut State,
    me: usize,
    argv: &[Bytes],
    reply: &mut Reply,
    now_ms: i64,
    started: Instant,
) -> Instant {
    let found = lookup(state, argv);
    state.clients[me].last_command = found.as_ref().ok().map(|cmd| cmd.id);
    let cmd = match found.and_then(|cmd| check_arity(state, cmd, argv.len())) {
        Ok(cmd) => cmd,
        Err(err) => {
            let err = super::tx::reject_in_multi(state, me, argv, err);
            reply.error(&*err.0);
            record_errors(state, reply, None);
            return started;
        }
    };
    if !state.clients[me].authenticated && cmd.spec.flags & super::flag::NO_AUTH == 0 {
        let err = super::tx::reject_in_multi(state, me, argv, "NOAUTH Authentication required.".into());
        reply.error(&*err.0);
        record_errors(state, reply, Some(cmd.id));
        return started;
    }
    if super::tx::queue_if_in_multi(state, me, cmd, argv, reply) {
        return started;
    }
    let db_index = state.clients[me].db;
    let reply_mark = reply.len();
    let mut ctx = Ctx { state, me, argv, now_ms, db_index, cmd };
    if let Err(err) = (cmd.spec.run)(&mut ctx, reply) {
        reply.error(&*err.0);
    }
    super::tx::touch_expired(state);
    let finished = Instant::now();
    let stat = &mut state.stats.commands[cmd.id];
    // A command that blocked has not run yet: it is counted when it replies (see `blocking`).
    let blocked = reply.len() == reply_mark && state.clients[me].parked.is_some();
    stat.calls += u64::from(!blocked);
    let duration_us = finished.saturating_duration_since(started).as_micros() as u64;
    stat.usec += duration_us;
    state.stats.latency.record(duration_us);
    state.stats.total_commands += 1;
    record_errors(state, reply, Some(cmd.id));
    finished
}

/// Finds the command (and subcommand) for `argv`.
fn lookup(state: &State, argv: &[Bytes]) -> Result<Resolved, errors::CmdError> {
    let table = &state.table;
    let Some(top) = table.lookup(&argv[0]) else {
        return Err(errors::unknown_command(argv));
    };
    if argv.len() >= 2 && !top.spec.subcommands.is_empty() {
        table.lookup_sub(top, &argv[1]).ok_or_else(|| errors::unknown_subcommand(&argv[0], &argv[1]))
    } else {
        Ok(top)
    }
}

fn check_arity(state: &State, cmd: Resolved, argc: usize) -> Result<Resolved, errors::CmdError> {
    if cmd.spec.arity_ok(argc) { Ok(cmd) } else { Err(errors::wrong_arity(&state.table.names[cmd.id])) }
}

/// Moves the error replies the command produced into INFO's error statistics.
pub(crate) fn record_errors(state: &mut State, reply: &mut Reply, cmd_id: Option<usize>) {
    if reply.errors.is_empty() {
        return;
    }
    if let Some(id) = cmd_id {
        state.stats.commands[id].failed_calls += 1;
    }
    for code in reply.errors.drain(..) {
        state.stats.total_error_replies += 1;
        *state.stats.errors_by_code.entry(code).or_insert(0) += 1;
    }
}
