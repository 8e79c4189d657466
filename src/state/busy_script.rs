//! A script running past `busy-reply-threshold` (Redis's timed-out script). From then on, every 100,000 Lua
//! instructions, its hook runs a few non-blocking turns of the event loop (Redis's
//! processEventsWhileBlocked): other clients are accepted, read and answered, each command with -BUSY unless
//! it is flagged `allow-busy` (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS, SHUTDOWN NOSAVE, AUTH, HELLO,
//! MULTI, ...), and their replies are written at once. The script's own caller is left alone meanwhile (its
//! input waits, its connection is neither written nor freed), as Redis's protectClient does.
//!
//! How a command reaches the loop without knowing it: the server hands an [`EventPump`] down with each
//! command it reads from a socket (`cmd::call_pumped`), `Ctx` carries it (EXEC passes it on to its queue),
//! and the script's client calls it from the hook with the `State` it holds. `State::busy` is what commands
//! see of the script meanwhile.
//!
//! **Invariant:** `State::busy` is set exactly while a script that passed the threshold runs, and only
//! commands of other clients run while it is set (the script's own `redis.call`s run with `in_script`).

use std::time::Instant;

use bytes::Bytes;

use super::State;
use super::session::ClientId;

/// What other clients get while a script is busy (Redis's `slowevalerr`).
pub const BUSY_EVAL: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// The same for a function (Redis's `slowscripterr`).
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The event loop as a busy script re-enters it.
pub trait EventPump: std::fmt::Debug {
    /// Up to four non-blocking turns of the loop for every client but the script's caller; returns at once
    /// when a turn finds nothing to do. Exits the process if a client ran SHUTDOWN NOSAVE meanwhile.
    fn process_events_while_blocked(&mut self, state: &mut State);
}

/// The script that passed `busy-reply-threshold`.
#[derive(Debug, Clone)]
pub struct Busy {
    /// The client that runs it (EVAL's, FCALL's or EXEC's): protected while it runs.
    pub caller: ClientId,
    /// A function (FCALL): FUNCTION KILL ends it, SCRIPT KILL is refused; the reverse for EVAL.
    pub function: bool,
    /// The script's SHA-1 or the function's name.
    pub name: String,
    /// The caller's command, for FUNCTION STATS.
    pub argv: Vec<Bytes>,
    pub started: Instant,
    /// SCRIPT KILL or FUNCTION KILL asked for its end: the hook raises the error at its next turn.
    pub killed: bool,
    /// FUNCTION STATS's counts, taken when the function started (the engine is busy running it).
    pub libraries: usize,
    pub functions: usize,
    /// The loop has served a turn since the script turned busy (see `server::busy`).
    pub served: bool,
}

impl Busy {
    /// The -BUSY error for this kind of script.
    pub fn error(&self) -> &'static str {
        if self.function { BUSY_FUNCTION } else { BUSY_EVAL }
    }
}
