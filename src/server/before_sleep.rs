//! What runs between event batches, in the order Redis's beforeSleep has it: first the clients whose block
//! ended get their replies and their waiting input resumes (handleClientsBlockedOnKeys has already served
//! keys at the end of each command, in `cmd::call`), then the BCAST invalidations are sent, then the AOF is written (flushAppendOnlyFile), clients that
//! received pushes (pub/sub messages) are queued, then every pending reply is written
//! (handleClientsWithPendingWrites), and last the clients marked for closing are freed, so no event of the
//! batch just handled can name a freed slot.

use super::Loop;

impl Loop<'_> {
    pub(super) fn before_sleep(&mut self) {
        self.feed_replicas();
        self.handle_unblocked();
        crate::cmd::tracking::broadcast(self.state);
        // Before any reply leaves: under `appendfsync always` a write is on disk before its client hears of it.
        self.persist();
        self.queue_woken();
        // After the turn's input ran, before replies leave: the clients over `maxmemory-clients` go now.
        self.evict_clients();
        self.flush_pending_writes();
        self.free_closed();
    }

    /// Queues the clients that other clients' commands (or expiry's notifications) wrote pushes for.
    fn queue_woken(&mut self) {
        let mut woken = std::mem::take(&mut self.state.outbox.woken);
        for &id in &woken {
            if self.state.sessions.get(id).is_some_and(|s| !s.close_asap) {
                self.queue_write(id);
            }
        }
        woken.clear();
        self.state.outbox.woken = woken;
    }

    /// Writes every queued client's replies.
    pub(super) fn flush_pending_writes(&mut self) {
        let mut ids = std::mem::take(&mut self.io.pending_writes);
        for &id in &ids {
            if let Some(conn) = self.io.connections.get_mut(id.index()).and_then(Option::as_mut) {
                conn.write_queued = false;
                self.write_client(id);
            }
        }
        ids.clear();
        self.io.pending_writes = ids;
    }
}
