//! Lazy freeing (Redis's lazyfree.c over its BIO_LAZY_FREE thread): a value too big to free quickly, or a
//! whole database, is handed to one helper thread that drops it, so deleting a million-element set never
//! stalls the loop.
//!
//! Only ownership moves: the keyspace stays on the loop's thread, and what the helper receives is already
//! out of it (unlinked from its table), so nothing is shared and nothing is locked. The thread starts on the
//! first hand-off and lives as long as the process; a fork child never has it (and never frees lazily).
//!
//! What goes lazily follows Redis: UNLINK and FLUSHDB/FLUSHALL ASYNC always; DEL, deletion by expiry, by
//! eviction and by overwriting (SET, RENAME, RESTORE REPLACE...) under their `lazyfree-lazy-*` directives. A
//! value is handed off only when its free effort (about one unit per allocation: list nodes, hashtable
//! entries, skiplist members, stream nodes and PEL entries; 1 for every compact encoding) exceeds
//! `LAZYFREE_THRESHOLD`, as lazyfreeGetFreeEffort decides; a smaller one costs less to free than to send.
//! A database flushed asynchronously always goes, whatever its size, as Redis's emptyDbAsync.
//!
//! INFO's `lazyfree_pending_objects` and `lazyfreed_objects` count objects as Redis does: one per value, one
//! per key of a flushed database. The counters are process-wide atomics because the helper updates them.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};

use super::{Db, Value};

/// Values whose free effort is at most this are freed in place (Redis's LAZYFREE_THRESHOLD).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// What the helper frees, with the number of objects it counts for.
enum Garbage {
    Value(Value),
    Db(Box<Db>, u64),
}

static PENDING_OBJECTS: AtomicU64 = AtomicU64::new(0);
static FREED_OBJECTS: AtomicU64 = AtomicU64::new(0);
static HELPER: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();

/// The helper's end of the channel, starting it on first use; `None` if no thread could be started (the
/// caller then frees in place).
fn helper() -> Option<&'static Sender<Garbage>> {
    HELPER
        .get_or_init(|| {
            let (sender, receiver) = channel::<Garbage>();
            let spawned = std::thread::Builder::new().name("lazyfree".into()).spawn(move || {
                for garbage in receiver {
                    let objects = match garbage {
                        Garbage::Value(value) => {
                            drop(value);
                            1
                        }
                        Garbage::Db(db, objects) => {
                            drop(db);
                            objects
                        }
                    };
                    PENDING_OBJECTS.fetch_sub(objects, Ordering::Relaxed);
                    FREED_OBJECTS.fetch_add(objects, Ordering::Relaxed);
                }
            });
            spawned.ok().map(|_| sender)
        })
        .as_ref()
}

/// About how many allocations freeing `value` releases (lazyfreeGetFreeEffort).
pub fn free_effort(value: &Value) -> usize {
    use crate::types::{hash_object::Hash, set_object::Set, zset_object::Zset};
    match value {
        Value::List(list) => list.node_count(),
        Value::Hash(hash @ Hash::Table(_)) => hash.len(),
        Value::Set(set @ Set::Table(_)) => set.len(),
        Value::Zset(zset @ Zset::Large(_)) => zset.len(),
        Value::Stream(stream) => {
            // As Redis: every node is an allocation, and so are the groups and their PEL entries, estimated
            // from the first group's PEL.
            let groups = stream.groups.values().next().map_or(0, |first| stream.groups.len() * (1 + first.pel.len()));
            stream.radix_nodes() + groups
        }
        _ => 1,
    }
}

/// Frees `value`: on the helper thread when `lazy` and it is big enough, else here. Returns whether it was
/// handed off.
pub fn free_value(value: Value, lazy: bool) -> bool {
    if !lazy || free_effort(&value) <= LAZYFREE_THRESHOLD {
        return false;
    }
    let Some(helper) = helper() else { return false };
    PENDING_OBJECTS.fetch_add(1, Ordering::Relaxed);
    if let Err(returned) = helper.send(Garbage::Value(value)) {
        PENDING_OBJECTS.fetch_sub(1, Ordering::Relaxed);
        drop(returned);
        return false;
    }
    true
}

/// Frees a whole database's old contents on the helper thread (FLUSHDB/FLUSHALL ASYNC), counting one object
/// per key; in place if there is no helper.
pub fn free_db(db: Db) {
    let objects = db.len() as u64;
    if objects == 0 {
        return;
    }
    let Some(helper) = helper() else { return };
    PENDING_OBJECTS.fetch_add(objects, Ordering::Relaxed);
    if let Err(returned) = helper.send(Garbage::Db(Box::new(db), objects)) {
        PENDING_OBJECTS.fetch_sub(objects, Ordering::Relaxed);
        drop(returned);
    }
}

/// Objects handed off and not freed yet (INFO `lazyfree_pending_objects`).
pub fn pending_objects() -> u64 {
    PENDING_OBJECTS.load(Ordering::Relaxed)
}

/// Objects the helper has freed since start or CONFIG RESETSTAT (INFO `lazyfreed_objects`).
pub fn freed_objects() -> u64 {
    FREED_OBJECTS.load(Ordering::Relaxed)
}

/// CONFIG RESETSTAT (Redis's lazyfreeResetStats).
pub fn reset_stats() {
    FREED_OBJECTS.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::set_object::{Limits, Set};

    fn big_set(members: usize) -> Value {
        let mut set = Set::new();
        let limits = Limits::default();
        for i in 0..members {
            set.add(format!("m{i}").as_bytes(), &limits);
        }
        Value::Set(set)
    }

    #[test]
    fn effort_decides_what_goes_to_the_helper() {
        assert_eq!(free_effort(&Value::Int(3)), 1);
        // Past 128 members a set is a hashtable, one allocation per member; below, one buffer.
        assert_eq!(free_effort(&big_set(100)), 1);
        assert_eq!(free_effort(&big_set(200)), 200);
        assert!(!free_value(big_set(100), true), "a compact value is freed in place");
        assert!(!free_value(big_set(1000), false), "not asked to be lazy");
        let before = freed_objects();
        assert!(free_value(big_set(1000), true));
        let mut db = Db::default();
        for i in 0..10u32 {
            db.insert_new(i.to_string().as_bytes(), Value::Int(1));
        }
        free_db(db);
        // Other tests may hand off values (or reset the counter) meanwhile: wait until ours are counted.
        for _ in 0..1000 {
            if freed_objects() >= before + 11 || freed_objects() < before {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("the helper freed {} objects, expected 11", freed_objects() - before);
    }
}
