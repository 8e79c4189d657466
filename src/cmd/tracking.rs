//! Client-side caching's invalidations (Redis's `tracking.c` behaviour; the tables are
//! `state::tracking_table`, the CLIENT subcommands `cmd::conn::client_tracking`).
//!
//! - A read-only command of a tracking client remembers its keys (`after_command`, from `call::execute`);
//!   a script remembers the keys it declared once any command it ran read something, as Redis 7.0 does.
//! - A changed key (`key_changed`, from `Ctx::key_changed_in` and from the expired-key drain, the same hooks
//!   WATCH has) is forgotten and its readers are sent `invalidate`; the running command's own client gets it
//!   after its reply (`send_pending`, when its call ends), everyone else at once. A key changed under a BCAST
//!   prefix is collected and broadcast once per event-loop pass (`broadcast`, from `before_sleep`).
//! - FLUSHALL, FLUSHDB and DEBUG RELOAD send every tracking client a null invalidation (`flushed`).
//! - A key `maxmemory` evicts goes through `key_evicted`, which tells even the running command's client at
//!   once, since Redis evicts before the command runs.
//! - `tracking-table-max-keys` is kept by `limit_table` before each command and in the cron: random keys are
//!   evicted from the table and their readers invalidated, 100 more keys per pass while it stays over.
//!
//! A message goes to the tracking client as a RESP3 push (`>2 invalidate [keys]`), or to its REDIRECT client:
//! a push under RESP3, a `message` on `__redis__:invalidate` if that client speaks RESP2 and has subscribed
//! to anything, else nowhere. A redirect client that is gone marks the redirection broken and, under RESP3,
//! tells the tracking client with a `tracking-redir-broken` push. With no tracking client, the command path
//! pays one test of `TrackingTable::clients` per hook (a key change one test that both tables are empty),
//! and a table entry whose readers all left is dropped when its key changes, as
//! Redis does (INFO `tracking_total_keys` counts it until then).

use bytes::Bytes;

use super::{Resolved, flag};
use crate::state::State;
use crate::state::session::ClientId;
use crate::state::tracking_table::BcastKeys;

/// The head of an invalidation push (RESP3), and of the pub/sub message a RESP2 redirect client gets.
const PUSH_HEAD: &[u8] = b">2\r\n$10\r\ninvalidate\r\n";
const MESSAGE_HEAD: &[u8] = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";

/// What an invalidation says.
#[derive(Debug, Clone, Copy)]
enum Message<'a> {
    /// One key.
    Key(&'a [u8]),
    /// Every key (a flush): a null in the tracking client's protocol, as Redis sends it.
    All,
    /// An array of keys already encoded (a broadcast).
    Keys(&'a [u8]),
}

/// The change hook: `key` was modified (or deleted by expiry, `modifier` then `None`).
#[inline]
pub fn key_changed(state: &mut State, key: &[u8], modifier: Option<ClientId>) {
    if state.tracking.is_active() {
        invalidate_key(state, key, modifier, Scope { bcast: true, defer_own: true });
    }
}

/// The hook for a key `maxmemory` evicted: as in Redis, where eviction runs before the command, even the
/// running command's own client is told at once, before its reply.
#[inline]
pub fn key_evicted(state: &mut State, key: &[u8]) {
    if state.tracking.is_active() {
        invalidate_key(state, key, None, Scope { bcast: true, defer_own: false });
    }
}

/// Who hears of an invalidated key: `bcast`, the BCAST clients too (not when the table bound drops the key:
/// the key itself did not change); `defer_own`, the running command's own client after its reply.
#[derive(Debug, Clone, Copy)]
struct Scope {
    bcast: bool,
    defer_own: bool,
}

/// Forgets `key` and invalidates it for its readers, and for the BCAST clients of its prefixes as `scope` says.
fn invalidate_key(state: &mut State, key: &[u8], modifier: Option<ClientId>, scope: Scope) {
    let bcast = scope.bcast;
    if bcast && !state.tracking.prefixes.is_empty() {
        state.tracking.mark_for_broadcast(key, modifier);
    }
    let Some(readers) = state.tracking.take(key) else { return };
    // The client whose command is running (for a script, the script's caller).
    let current = state.outbox.caller;
    for (slot, id) in readers {
        let Some(tracking) = state.sessions.get(slot).filter(|s| s.id == id).and_then(|s| s.tracking.as_deref()) else {
            continue;
        };
        // A client that switched to BCAST no longer hears of keys it read before.
        if tracking.bcast {
            continue;
        }
        if Some(slot) == current && tracking.noloop {
            continue;
        }
        if Some(slot) == current && scope.defer_own {
            state.tracking.pending.push((slot, Some(Bytes::copy_from_slice(key))));
        } else {
            send(state, slot, Message::Key(key));
        }
    }
}

/// Sends the invalidations held for the client whose call just ended, after its reply.
pub fn send_pending(state: &mut State) {
    let mut pending = std::mem::take(&mut state.tracking.pending);
    for (slot, key) in pending.drain(..) {
        if state.sessions.get(slot).is_some_and(|s| s.tracking.is_some()) {
            send(state, slot, key.as_deref().map_or(Message::All, Message::Key));
        }
    }
    state.tracking.pending = pending;
}

/// FLUSHALL / FLUSHDB: every tracking client is told that all its keys are invalid, and the table empties.
pub fn flushed(state: &mut State) {
    if state.tracking.clients > 0 {
        let current = state.outbox.caller;
        let tracking: Vec<ClientId> =
            state.sessions.iter().filter(|(_, s)| s.tracking.is_some()).map(|(id, _)| id).collect();
        for slot in tracking {
            if Some(slot) == current {
                state.tracking.pending.push((slot, None));
            } else {
                send(state, slot, Message::All);
            }
        }
    }
    state.tracking.clear_keys();
}

/// Whether session `id` speaks RESP3, also while it is the running command's client (whose reply, with
/// its protocol, is out of its session then).
fn resp3_of(state: &State, id: ClientId) -> bool {
    if state.outbox.caller == Some(id) { state.outbox.caller_pushes.resp3 } else { state.sessions[id].reply.resp3 }
}

/// Sends `message` for tracking session `tracker`, to itself or to its redirect client.
fn send(state: &mut State, tracker: ClientId, message: Message<'_>) {
    let tracker_resp3 = resp3_of(state, tracker);
    let Some(tracking) = state.sessions[tracker].tracking.as_deref() else { return };
    let (redirect, redirect_slot) = (tracking.redirect, tracking.redirect_slot);
    let mut to = tracker;
    if redirect != 0 {
        match redirect_slot.filter(|&slot| state.sessions.get(slot).is_some_and(|s| s.id == redirect)) {
            Some(slot) => to = slot,
            None => return redirect_broken(state, tracker, tracker_resp3),
        }
    }
    let (to_resp3, to_subscribed) = (resp3_of(state, to), state.sessions[to].is_subscribed());
    if state.sessions[to].is_http() {
        // A redirect to an HTTP gateway connection: its output holds only HTTP responses.
        return;
    }
    let frame = &mut state.tracking.frame;
    frame.clear();
    if to_resp3 {
        frame.extend_from_slice(PUSH_HEAD);
    } else if to != tracker && to_subscribed {
        frame.extend_from_slice(MESSAGE_HEAD);
    } else {
        // A RESP2 connection cannot take a push in between replies.
        return;
    }
    match message {
        Message::Key(key) => {
            frame.extend_from_slice(b"*1\r\n");
            bulk(frame, key);
        }
        Message::All => frame.extend_from_slice(if tracker_resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Message::Keys(encoded) => frame.extend_from_slice(encoded),
    }
    state.outbox.deliver_raw(&mut state.sessions, to, &state.tracking.frame);
}

/// The redirect client of `tracker` is gone: the redirection is marked broken (TRACKINGINFO, CLIENT LIST
/// `R`) and a RESP3 tracker is told with a push.
fn redirect_broken(state: &mut State, tracker: ClientId, tracker_resp3: bool) {
    let Some(tracking) = state.sessions[tracker].tracking.as_deref_mut() else { return };
    tracking.broken_redirect = true;
    if tracker_resp3 {
        let mut frame = b">2\r\n$21\r\ntracking-redir-broken\r\n:".to_vec();
        frame.extend_from_slice(itoa::Buffer::new().format(tracking.redirect).as_bytes());
        frame.extend_from_slice(b"\r\n");
        state.outbox.deliver_raw(&mut state.sessions, tracker, &frame);
    }
}

fn bulk(frame: &mut Vec<u8>, item: &[u8]) {
    frame.push(b'$');
    frame.extend_from_slice(itoa::Buffer::new().format(item.len()).as_bytes());
    frame.extend_from_slice(b"\r\n");
    frame.extend_from_slice(item);
    frame.extend_from_slice(b"\r\n");
}

/// After command `cmd` (`argv`) ran for session `id`, while some client tracks: a read-only command of a
/// tracking client remembers its keys (Redis's trackingRememberKeys, honouring OPTIN/OPTOUT and CLIENT
/// CACHING), and CLIENT CACHING's one-command effect ends.
pub fn after_command(state: &mut State, id: ClientId, cmd: Resolved, argv: &[Bytes]) {
    let flags = cmd.spec.flags;
    if state.in_script {
        state.tracking.script_read |= flags & flag::READONLY != 0;
        return;
    }
    let script_read = std::mem::take(&mut state.tracking.script_read);
    let session = &state.sessions[id];
    let Some(tracking) = session.tracking.as_deref() else { return };
    // The read-only script commands remember nothing of their own: their scripts' reads decide.
    let read =
        script_read || (flags & flag::READONLY != 0 && !matches!(cmd.spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro"));
    let opted_out = (tracking.optin && !tracking.caching) || (tracking.optout && tracking.caching);
    if read && !tracking.bcast && !opted_out && flags & flag::PUBSUB == 0 {
        let identity = (id, session.id);
        for position in super::admin::key_positions(cmd, argv) {
            state.tracking.remember(&argv[position], identity);
        }
    }
    end_caching(state, id, Some(cmd.id));
}

/// CLIENT CACHING lasts for the next command (a whole transaction, a refused command too), as Redis's
/// resetClient clears it after any command but CLIENT's own; `cmd_id` (the table's) is `None` for an unknown
/// command.
pub fn end_caching(state: &mut State, id: ClientId, cmd_id: Option<usize>) {
    let session = &mut state.sessions[id];
    if !state.in_exec
        && session.multi.is_none()
        && !cmd_id.is_some_and(|cmd_id| super::table().names[cmd_id].starts_with("client|"))
        && let Some(tracking) = session.tracking.as_deref_mut()
    {
        tracking.caching = false;
    }
}

/// Keeps the key table within `tracking-table-max-keys` (Redis's trackingLimitUsedSlots): evicts random keys,
/// invalidating them for their readers, up to 100 per pass times the passes in a row that ended over.
pub fn limit_table(state: &mut State) {
    let max = state.config.tracking_table_max_keys;
    if max == 0 || state.tracking.total_keys() <= max {
        state.tracking.over_limit_rounds = 0;
        return;
    }
    let effort = 100 * (u64::from(state.tracking.over_limit_rounds) + 1);
    for _ in 0..effort {
        let total = state.tracking.total_keys();
        if total == 0 {
            break;
        }
        let pick = state.rng.below(total);
        let key = state.tracking.key_at(pick).expect("a key below the count").clone();
        invalidate_key(state, &key, None, Scope { bcast: false, defer_own: false });
        if state.tracking.total_keys() <= max {
            state.tracking.over_limit_rounds = 0;
            return;
        }
    }
    state.tracking.over_limit_rounds = state.tracking.over_limit_rounds.saturating_add(1);
}

/// Sends each BCAST prefix's changed keys to the prefix's clients, once per event-loop pass (Redis's
/// trackingBroadcastInvalidationMessages); a NOLOOP client is not told of keys it changed last itself.
pub fn broadcast(state: &mut State) {
    if state.tracking.prefixes.values().all(|bcast| bcast.keys.is_empty()) {
        return;
    }
    let mut prefixes = std::mem::take(&mut state.tracking.prefixes);
    for bcast in prefixes.values_mut().filter(|bcast| !bcast.keys.is_empty()) {
        let common = encode_keys(&bcast.keys, None);
        for &client in &bcast.clients {
            let noloop = state.sessions[client].tracking.as_deref().is_some_and(|t| t.noloop);
            if !noloop {
                send(state, client, Message::Keys(&common));
            } else if bcast.keys.values().any(|&by| by != Some(client)) {
                send(state, client, Message::Keys(&encode_keys(&bcast.keys, Some(client))));
            }
        }
        bcast.keys.clear();
    }
    state.tracking.prefixes = prefixes;
}

/// The array of `keys` as RESP, leaving out the keys `excluded` changed last.
fn encode_keys(keys: &BcastKeys, excluded: Option<ClientId>) -> Vec<u8> {
    let kept = || keys.iter().filter(|&(_, &by)| excluded.is_none() || by != excluded).map(|(key, _)| key);
    let mut out = Vec::with_capacity(16 + keys.keys().map(|k| k.len() + 16).sum::<usize>());
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(kept().count()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for key in kept() {
        bulk(&mut out, key);
    }
    out
}
