//! The event loop's side of the AOF: opening (and loading) it at startup, and in each `before_sleep`,
//! before replies are written, following CONFIG SET appendonly, running a rewrite BGREWRITEAOF or the
//! auto-rewrite thresholds asked for, and writing the iteration's stream (`aof::Aof::flush`).

use super::{Loop, Server};
use crate::aof::Aof;
use crate::child::Done;

impl Server {
    /// Opens the AOF when `appendonly yes`, loading it if it exists (it wins over any RDB file, as in Redis).
    /// A file that cannot be loaded is fatal, as in Redis: the line is logged and the process exits.
    pub fn start_aof(&mut self) {
        self.view().start_aof();
    }
}

impl Loop<'_> {
    fn start_aof(&mut self) {
        // DEBUG LOADAOF loads what the manifest names even while the AOF is off (after a BGREWRITEAOF).
        self.state.aof.reload = Some(crate::aof::reload);
        if !self.state.config.appendonly {
            return;
        }
        match Aof::open_at_startup(self.state) {
            Ok(aof) => self.io.aof = Some(aof),
            Err(line) => {
                crate::log!(Warning, "{line}");
                std::process::exit(1);
            }
        }
    }

    /// The AOF step of `before_sleep` (Redis's flushAppendOnlyFile there, and its cron's rewrite checks).
    pub(super) fn persist(&mut self) {
        let state = &mut self.state;
        match (state.config.appendonly, self.io.aof.take()) {
            (true, None) => match Aof::start(state) {
                Ok(aof) => self.io.aof = Some(aof),
                Err(line) => {
                    crate::log!(Warning, "{line}");
                    state.config.appendonly = false;
                }
            },
            (false, Some(aof)) => {
                aof.stop(state);
                crate::log!(Notice, "AOF disabled");
            }
            (false, None) => {
                if state.aof.rewrite_scheduled && state.persistence.child.is_none() {
                    state.aof.rewrite_scheduled = false;
                    if let Err(line) = Aof::rewrite_while_off(state) {
                        state.aof.last_rewrite_ok = false;
                        crate::log!(Warning, "{line}");
                    }
                }
            }
            (true, Some(mut aof)) => {
                let wanted =
                    state.aof.rewrite_scheduled || (!crate::aof::rewriting(state) && Aof::wants_auto_rewrite(state));
                if wanted && aof.start_background_rewrite(state) {
                    state.aof.rewrite_scheduled = false;
                }
                aof.flush(state, false);
                self.io.aof = Some(aof);
            }
        }
    }

    /// A rewrite child ended: its file becomes the base (or the failure is recorded).
    pub(super) fn aof_child_done(&mut self, done: &Done) {
        match self.io.aof.as_mut() {
            Some(aof) => aof.background_rewrite_done(self.state, done),
            None => crate::log!(Warning, "Background AOF rewrite ended after the AOF was turned off"),
        }
    }

    /// At shutdown: the last writes are written and synced whatever the policy, as Redis does.
    pub(super) fn close_aof(&mut self) {
        if let Some(aof) = self.io.aof.take() {
            aof.stop(self.state);
        }
    }
}
