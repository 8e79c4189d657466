//! Keyspace notifications (Redis's `notify.c`): `notify-keyspace-events` decides which classes of change are
//! published, as `event` on `__keyspace@<db>__:<key>` and as `key` on `__keyevent@<db>__:<event>`.
//!
//! Commands call `Ctx::notify(class, event, key)` next to their `key_changed`, with Redis 7.0's event name
//! for the change. Read misses (`keymiss`) are recorded by `Ctx`'s lookups. Two kinds of event happen inside the keyspace, where no `State` is at hand: keys deleted
//! by expiry (lazy and active) and keys created (`new`). The `Db` logs them while someone needs them
//! (`State::sync_key_logs`), and `drain_key_logs` passes them on: before each notification a command sends (so
//! `expired` and `new` come first, where Redis fires them, inside the lookup and dbAdd), after each command,
//! and after each active expiry slice. WATCH reads the expired log the same way.
//!
//! With no subscriber at all nothing is built: a notification then costs one flag test and one emptiness
//! test.

use crate::config::notify::{self, KEYEVENT, KEYSPACE};
use crate::state::State;

/// Publishes one event of `class` about `key` of database `db`, if the configuration asks for it.
pub fn keyspace_event(state: &mut State, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = state.config.notify_keyspace_events;
    if flags & class == 0 || flags & (KEYSPACE | KEYEVENT) == 0 || !state.pubsub.has_receivers() {
        return;
    }
    let mut channel = std::mem::take(&mut state.notify_channel);
    let mut digits = itoa::Buffer::new();
    let db_digits = digits.format(db).as_bytes();
    if flags & KEYSPACE != 0 {
        channel_name(&mut channel, b"__keyspace@", db_digits, key);
        state.pubsub.publish(&mut state.sessions, &mut state.outbox, &channel, event.as_bytes(), false);
    }
    if flags & KEYEVENT != 0 {
        channel_name(&mut channel, b"__keyevent@", db_digits, event.as_bytes());
        state.pubsub.publish(&mut state.sessions, &mut state.outbox, &channel, key, false);
    }
    state.notify_channel = channel;
}

/// `<prefix><db>__:<suffix>` into `channel`.
fn channel_name(channel: &mut Vec<u8>, prefix: &[u8], db: &[u8], suffix: &[u8]) {
    channel.clear();
    channel.extend_from_slice(prefix);
    channel.extend_from_slice(db);
    channel.extend_from_slice(b"__:");
    channel.extend_from_slice(suffix);
}

/// Passes the keys expiry deleted to WATCH, client-side caching and `expired` events, the keys created to `new` events, and the
/// keys read lookups missed to `keymiss` events.
pub fn drain_key_logs(state: &mut State) {
    if !state.key_misses.is_empty() {
        for (db, key) in std::mem::take(&mut state.key_misses) {
            keyspace_event(state, notify::KEY_MISS, "keymiss", &key, db);
        }
    }
    if state.watches.is_empty() && !state.key_events_logged() && state.tracking.clients == 0 {
        return;
    }
    for db in 0..state.keyspace.dbs.len() {
        let store = &mut state.keyspace.dbs[db];
        let expired = store.expired_log.as_mut().filter(|log| !log.is_empty()).map(std::mem::take);
        let created = store.new_log.as_mut().filter(|log| !log.is_empty()).map(std::mem::take);
        for key in expired.iter().flatten() {
            super::tx::touch(state, db, key);
            super::tracking::key_changed(state, key, None);
            keyspace_event(state, notify::EXPIRED, "expired", key, db);
        }
        for key in created.iter().flatten() {
            keyspace_event(state, notify::NEW, "new", key, db);
        }
        // Hand the buffers back so the next command's log does not allocate them again.
        let store = &mut state.keyspace.dbs[db];
        for (log, drained) in [(&mut store.expired_log, expired), (&mut store.new_log, created)] {
            if let (Some(log), Some(mut drained)) = (log.as_mut(), drained)
                && log.is_empty()
            {
                drained.clear();
                *log = drained;
            }
        }
    }
}
