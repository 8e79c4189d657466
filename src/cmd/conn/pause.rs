//! CLIENT PAUSE and CLIENT UNPAUSE, and `postpone_if_paused`, the check `cmd::call` makes for every arriving
//! command while a pause is in force (see `state::client_pause`). An HTTP request cannot wait for the end of a pause
//! (its connection expects one answer per request), so a held one is answered with an error instead.

use bytes::Bytes;

use crate::cmd::errors::{CmdError, CmdResult};
use crate::cmd::{Ctx, Handlers, Outcome, Resolved, call, eval};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::state::client_pause::PauseMode;
use crate::state::session::ClientId;
use crate::util::num;

/// The answer to a command CLIENT PAUSE holds when it comes over HTTP (ferrokv's own: Redis has no HTTP).
const PAUSED_OVER_HTTP: &str = "ERR the server is paused by CLIENT PAUSE: retry once the pause ends";

pub const HANDLERS: Handlers = &[("client|pause", client_pause), ("client|unpause", client_unpause)];

/// CLIENT PAUSE timeout [WRITE | ALL]: the mode is checked before the timeout (milliseconds), as in Redis.
fn client_pause(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let mode = match argv.get(3) {
        None => PauseMode::All,
        Some(mode) if mode.eq_ignore_ascii_case(b"write") => PauseMode::Write,
        Some(mode) if mode.eq_ignore_ascii_case(b"all") => PauseMode::All,
        Some(_) => return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()),
    };
    let timeout_ms = num::parse_i64(&argv[2]).ok_or(CmdError::from("ERR timeout is not an integer or out of range"))?;
    if timeout_ms < 0 {
        return Err("ERR timeout is negative".into());
    }
    let end_ms = crate::clock::unix_ms().saturating_add(timeout_ms);
    ctx.state.pausing.pause(mode, end_ms);
    ctx.state.keyspace.pause_expiry(true);
    reply.ok();
    Ok(())
}

fn client_unpause(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    unpause(ctx.state);
    reply.ok();
    Ok(())
}

/// Ends the pause and hands the held sessions to the event loop, which runs their commands again.
pub fn unpause(state: &mut State) {
    state.keyspace.pause_expiry(false);
    for id in state.pausing.unpause() {
        if state.sessions.get(id).is_some_and(|session| session.postponed.is_some()) {
            state.unblocked.push(id);
        }
    }
}

/// Holds session `id`'s command if the pause in force covers it: WRITE holds commands that write or may
/// replicate, and EXEC of a transaction holding one; ALL holds everything. True if held.
pub fn postpone_if_paused(state: &mut State, id: ClientId, cmd: Resolved, argv: &[Bytes]) -> bool {
    let Some(mode) = state.pausing.mode(crate::clock::unix_ms()) else { return false };
    if mode == PauseMode::Write && !may_replicate(state, id, cmd, argv) {
        return false;
    }
    state.sessions[id].postponed = Some(argv.to_vec());
    state.pausing.postponed.push(id);
    true
}

/// What a held command's call returns: blocked, except over HTTP, whose request cannot wait: it is answered
/// with an error instead (and not run).
pub fn held(state: &mut State, id: ClientId, reply: &mut Reply) -> Outcome {
    if !state.sessions[id].is_http() {
        return Outcome::Blocked;
    }
    state.sessions[id].postponed = None;
    state.pausing.postponed.retain(|&held| held != id);
    reply.error(PAUSED_OVER_HTTP);
    Outcome::Refused
}

/// Whether `cmd` writes or may replicate (for EXEC: whether a queued command does).
fn may_replicate(state: &State, id: ClientId, cmd: Resolved, argv: &[Bytes]) -> bool {
    if eval::may_replicate(state, cmd, argv) {
        return true;
    }
    if cmd.spec.name != "exec" {
        return false;
    }
    let queued = state.sessions[id].multi.as_ref().map_or(&[][..], |multi| &multi.commands[..]);
    queued.iter().any(|argv| call::lookup(argv).is_ok_and(|queued| eval::may_replicate(state, queued, argv)))
}
