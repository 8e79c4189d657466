//! The loop's side of a busy script (`state::busy_script`): `Io` is the `EventPump` the server hands down
//! with every command it reads from a connection, and a script past `busy-reply-threshold` runs through it
//! a few turns of the loop from inside its Lua hook (Redis's processEventsWhileBlocked).
//!
//! A turn polls without sleeping, accepts, reads and runs other clients' requests (`cmd::call` refuses all
//! but the `allow-busy` commands with -BUSY) and writes their replies, as Redis's beforeSleep does in this
//! mode; timers, the AOF, client eviction and freeing wait for the loop proper. The script's caller is
//! protected (Redis's protectClient): its events are put off to the loop proper's next turn, it is neither
//! read nor written meanwhile, and its connection stays until the script's command returns.

use std::time::Duration;

use super::{Io, Loop};
use crate::state::State;
use crate::state::busy_script::EventPump;
use crate::state::session::ClientId;

/// Turns of the loop per call, as Redis's processEventsWhileBlocked (it stops early on a turn with nothing).
const TURNS_MAX: usize = 4;

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").field("connections", &self.connections.len()).field("turn", &self.turn).finish()
    }
}

impl EventPump for Io {
    fn process_events_while_blocked(&mut self, state: &mut State) {
        Loop { state, io: self }.process_events_while_blocked();
    }
}

impl Loop<'_> {
    fn process_events_while_blocked(&mut self) {
        if let Some(busy) = self.state.busy.as_mut().filter(|busy| !busy.served) {
            busy.served = true;
            // Readiness is edge-triggered, and the loop's batch may hold events of clients not handled yet
            // (the script's command came first): each connection is read once, so no request sent before
            // the script turned busy waits for its end.
            let ids = self.io.connections.iter().enumerate().filter(|(_, conn)| conn.is_some());
            let ids: Vec<ClientId> = ids.map(|(index, _)| ClientId(index)).collect();
            self.io.pending_reads.extend(ids);
        }
        let mut events = std::mem::replace(&mut self.io.busy_events, mio::Events::with_capacity(0));
        for _ in 0..TURNS_MAX {
            self.io.turn += 1;
            if self.io.poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
                break;
            }
            let mut handled = 0;
            for event in events.iter() {
                handled += 1;
                self.handle_event(event);
            }
            self.process_pending_reads();
            handled += self.io.pending_writes.len();
            self.flush_pending_writes();
            if self.shutdown_while_busy() {
                std::process::exit(0);
            }
            if handled == 0 {
                break;
            }
        }
        self.io.busy_events = events;
    }

    /// SHUTDOWN NOSAVE ran from inside the script: the server exits with the script unfinished (its
    /// effects, never propagated, are lost with the rest of the dataset).
    fn shutdown_while_busy(&mut self) -> bool {
        matches!(self.state.shutdown, Some(crate::state::Shutdown::Command { .. })) && self.finish_shutdown()
    }

    /// Whether `id` runs the busy script, so is neither read nor written now (see the module's header).
    pub(super) fn protected(&self, id: ClientId) -> bool {
        self.state.busy.as_ref().is_some_and(|busy| busy.caller == id)
    }

    /// `protected`, for a read: the read is put off to the loop proper's next turn (readiness is
    /// edge-triggered, so the event just taken would not come again).
    pub(super) fn read_put_off(&mut self, id: ClientId) -> bool {
        let protected = self.protected(id);
        if protected {
            self.io.pending_reads.push(id);
        }
        protected
    }
}
