//! maxmemory (Redis's evict.c driving loop and the maxmemory step of processCommand and scriptCall).
//!
//! Before each arriving command, when `maxmemory` is set, `admit` runs an eviction pass: while the memory
//! counted against the limit (`used_memory` minus `mem_not_counted_for_evict`, the AOF buffer) is over it,
//! it deletes the key the policy's sampling picks (`db::eviction_pool`), counting what each deletion freed.
//! A command flagged `denyoom` (and, as Redis, anything queued in MULTI but EXEC/DISCARD/QUIT/RESET, an EXEC
//! holding a `denyoom` command, and a script declared without `no-writes` or `allow-oom`) is refused with
//! -OOM when the pass could not get under the limit. With `maxmemory 0`, or under the limit, the check is one
//! comparison of the allocator's counter.
//!
//! A pass is bounded by `maxmemory-eviction-tenacity`'s time limit (checked every 16 keys, as Redis): one
//! that runs out of time sets `EvictionStatus::continues`, and the event loop runs further passes between
//! polls until memory is under the limit, so a burst of writes never stalls the loop. Each evicted key is
//! announced to WATCH, to `evicted` keyspace events and to the propagated stream (DEL, or UNLINK under
//! `lazyfree-lazy-eviction`, which also frees the value on the lazyfree thread).
//!
//! Scripts are judged once, when they arrive; inside one, a `denyoom` command is refused only if memory was
//! over the limit then and the script has not written yet (a script cannot be stopped halfway), and
//! evictions wait for the script's end, as in Redis.

use bytes::Bytes;
use std::time::Instant;

use super::{Resolved, flag};
use crate::config::notify;
use crate::db::eviction_pool::{EvictionPolicy, Pick};
use crate::db::lazyfree;
use crate::state::State;
use crate::state::session::ClientId;
use crate::util::alloc;

/// Redis's shared.oomerr.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// How an eviction pass ended (Redis's EVICT_OK, EVICT_RUNNING, EVICT_FAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evicted {
    /// Memory is under the limit (or eviction must not run now).
    Ok,
    /// Still over, and passes continue from the event loop.
    Running,
    /// Over, and nothing (more) may be evicted.
    Fail,
}

/// processCommand's maxmemory step for an arriving command: runs an eviction pass and says whether the
/// command is refused with -OOM. Call it only when `maxmemory` is set.
pub fn refuses(state: &mut State, id: ClientId, cmd: Resolved, argv: &[Bytes]) -> bool {
    let out_of_memory = perform_evictions(state) == Evicted::Fail;
    state.eviction.pre_command_oom = out_of_memory;
    if !out_of_memory {
        return false;
    }
    let name = cmd.spec.name;
    let queuing = state.sessions[id].multi.is_some() && !matches!(name, "exec" | "discard" | "quit" | "reset");
    queuing || is_denyoom(state, id, cmd, argv)
}

/// Whether the command may grow memory: its own flag, an EXEC's queued commands, a script's declaration.
/// A transaction already doomed counts none of its commands, as Redis stops queuing (and collecting their
/// flags) once a transaction is aborted or a watched key changed: its EXEC answers EXECABORT or null, not OOM.
fn is_denyoom(state: &State, id: ClientId, cmd: Resolved, argv: &[Bytes]) -> bool {
    if cmd.spec.flags & flag::DENYOOM != 0 {
        return true;
    }
    let session = &state.sessions[id];
    match cmd.spec.name {
        "exec" => session.multi.as_ref().filter(|multi| !multi.aborted && !session.dirty_cas).is_some_and(|multi| {
            multi.commands.iter().any(|queued| {
                super::call::lookup(queued)
                    .is_ok_and(|c| c.spec.flags & flag::DENYOOM != 0 || super::eval::declared_denyoom(state, c, queued))
            })
        }),
        _ => super::eval::declared_denyoom(state, cmd, argv),
    }
}

/// scriptVerifyOOM: whether a command a script calls is refused with -OOM.
pub fn refuses_in_script(state: &State, cmd: Resolved, allow_oom: bool) -> bool {
    state.config.maxmemory != 0
        && !allow_oom
        && state.eviction.pre_command_oom
        && cmd.spec.flags & flag::DENYOOM != 0
        && !crate::scripting::wrote()
}

/// Memory the limit does not count (freeMemoryGetNotCountedMemory): the AOF buffer and the replicas' output
/// buffers, which evicting keys would only grow (each eviction is a DEL they must receive).
pub fn not_counted_for_evict(state: &State) -> u64 {
    let aof = if state.propagation.to_aof { state.propagation.stream.capacity() } else { 0 };
    (aof + crate::state::replication::buffers_bytes(state)) as u64
}

/// Bytes to free to get under `maxmemory`, or `None` when under it or unlimited (getMaxmemoryState).
fn bytes_to_free(state: &State) -> Option<u64> {
    let max = state.config.maxmemory;
    let used = alloc::used_memory() as u64;
    if max == 0 || used <= max {
        return None;
    }
    let counted = counted_memory(state);
    (counted > max).then(|| counted - max)
}

/// The memory `maxmemory` is held against: used memory less what it does not count.
pub fn counted_memory(state: &State) -> u64 {
    (alloc::used_memory() as u64).saturating_sub(not_counted_for_evict(state))
}

/// Redis's evictionTimeLimitUs: how long one pass may run, from `maxmemory-eviction-tenacity`.
fn time_limit_us(tenacity: u32) -> u64 {
    match tenacity {
        0..=10 => 50 * u64::from(tenacity),
        11..=99 => (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        _ => u64::MAX,
    }
}

/// Evictions must wait while a script runs, while the AOF loads (its commands obey no limit), and while
/// clients are paused, when the dataset must not change (isSafeToPerformEvictions).
fn safe_to_evict(state: &State) -> bool {
    !state.in_script && !state.keyspace.dbs.first().is_some_and(|db| db.loading) && state.pausing.pause.is_none()
}

/// One eviction pass (performEvictions).
pub fn perform_evictions(state: &mut State) -> Evicted {
    if !safe_to_evict(state) {
        return Evicted::Ok;
    }
    let Some(to_free) = bytes_to_free(state) else {
        state.eviction.note_exceeded(false);
        return Evicted::Ok;
    };
    state.eviction.note_exceeded(true);
    let policy = state.eviction.policy;
    if policy == EvictionPolicy::NoEviction {
        return Evicted::Fail;
    }
    let limit_us = time_limit_us(state.config.maxmemory_eviction_tenacity);
    let started = Instant::now();
    let lazy = state.config.lazyfree_lazy_eviction;
    let samples = state.config.maxmemory_samples.max(1) as usize;
    let (mut freed, mut keys_freed) = (0u64, 0u64);
    while freed < to_free {
        let pick = Pick { policy, samples, now_ms: crate::clock::unix_ms() };
        let picked = state.eviction.pool.best_key(&state.keyspace, pick, &mut state.rng);
        let Some((db, key)) = picked else {
            return cant_free(state, limit_us);
        };
        freed += evict_key(state, db, key, lazy);
        keys_freed += 1;
        if keys_freed.is_multiple_of(16) {
            // Values freed on the lazyfree thread are not in `freed`: check the counter itself now and then.
            if lazy && bytes_to_free(state).is_none() {
                break;
            }
            if started.elapsed().as_micros() as u64 > limit_us {
                state.eviction.continues = true;
                break;
            }
        }
    }
    state.record_latency("eviction-cycle", started.elapsed().as_micros() as u64);
    if state.eviction.continues { Evicted::Running } else { Evicted::Ok }
}

/// Nothing more may be evicted: if the lazyfree thread still holds values, give it one time limit's worth
/// to free them, as Redis does, then judge again.
fn cant_free(state: &mut State, limit_us: u64) -> Evicted {
    if lazyfree::pending_objects() > 0 {
        std::thread::sleep(std::time::Duration::from_micros(limit_us.min(100_000)));
        if bytes_to_free(state).is_none() {
            return Evicted::Ok;
        }
    }
    Evicted::Fail
}

/// Deletes one chosen key and tells everyone who reacts to deletions; returns the bytes that freed here.
fn evict_key(state: &mut State, db: usize, key: Vec<u8>, lazy: bool) -> u64 {
    let before = alloc::used_memory();
    let started = Instant::now();
    if let Some(value) = state.keyspace.dbs[db].evict(&key) {
        lazyfree::free_value(value, lazy);
    }
    state.record_latency("eviction-del", started.elapsed().as_micros() as u64);
    let freed = before.saturating_sub(alloc::used_memory()) as u64;
    state.stats.evicted_keys += 1;
    super::tx::touch(state, db, &key);
    super::tracking::key_evicted(state, &key);
    super::notify::keyspace_event(state, notify::EVICTED, "evicted", &key, db);
    if state.propagation.enabled {
        // Each eviction is a unit of its own, as each active expiry is.
        let verb = crate::state::propagation::deletion(lazy);
        state.propagation.push(db, [Bytes::from_static(verb), Bytes::copy_from_slice(&key)]);
        state.propagation.end_unit();
    }
    state.eviction.pool.recycle(key);
    freed
}

/// The event loop's continuation of a pass that ran out of time (evictionTimeProc): another pass, and
/// another on the next turn while it still runs out of time.
pub fn continue_evictions(state: &mut State) {
    state.eviction.continues = false;
    perform_evictions(state);
    super::notify::drain_key_logs(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_limits_as_redis() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        assert_eq!(time_limit_us(11), 575);
        assert_eq!(time_limit_us(99), (500.0 * 1.15f64.powi(89)) as u64);
        assert_eq!(time_limit_us(100), u64::MAX);
    }
}
