//! The keyspace: numbered databases of keys → values, with TTLs and lazy expiry.
//!
//! # Layout
//! A `Db` splits its keys over `SHARDS` hashbrown tables chosen by bits of the key's hash. A hashbrown table
//! grows by rehashing everything at once; with 4096 shards a growth step moves 1/4096 of the keys, so even at 10M
//! keys no insert stalls the loop for long (Redis gets the same from incremental rehashing). The shard vector
//! is allocated on a database's first write, so unused databases cost nothing.
//!
//! Keys with a TTL are also listed in `expires`, a dense vector of (hash, deadline) that the active expiry
//! cycle samples at random in O(1). The entry stores its slot index; removal swaps the last slot into the hole
//! and fixes the moved entry's index, found by its hash and old index (no key copy is kept).
//!
//! # Invariants
//! - Every `Entry` with `expire_slot != NO_EXPIRE` is pointed to by exactly that slot, and every slot points
//!   back to one entry (checked by `check_invariants` in tests).
//! - Lookups made for commands (`get`, `get_mut`, `peek`, `remove`, ...) never return a key whose deadline is <=
//!   the `now_ms` they are given; they delete it instead (Redis's `expireIfNeeded`).
//!
//! # Access times
//! Every entry keeps the second of its last access in a `u32` that fits in the entry's padding, so it costs no
//! memory: Redis's 24-bit LRU clock, without the 194-day wrap. `get_entry` (and so `get`, `get_mut`, `set`,
//! `set_expire`, `persist`) stamps it, as Redis's `lookupKey` does; `peek`, `expire_at`, `contains`, `scan` and
//! `random_key` do not, as Redis's `LOOKUP_NOTOUCH` readers (TTL, TYPE, EXISTS, OBJECT) and iterators do not.
//! A new entry is stamped with the time of the database's latest lookup: an insert always follows the lookup
//! that found its key absent, so that is the command's own `now_ms`.
//!
//! # SCAN
//! A cursor is a shard index. SCAN returns whole shards, so a key present for the whole iteration is returned
//! (a key never changes shard): Redis's guarantee without its reverse-binary cursor.

pub mod digest;
pub mod expire;
pub mod value;

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use crate::types::small::SmallBytes;
use crate::util::rng::Rng;
pub use value::{Value, ValueType};

/// Shards per database; a power of two.
pub const SHARDS: usize = 4096;
/// A lazy flush of fewer keys than this frees them in place: starting a thread would cost more.
pub const LAZYFREE_KEYS_MIN: usize = 1024;
const NO_EXPIRE: u32 = u32::MAX;

/// One key and its value.
#[derive(Debug)]
pub struct Entry {
    key: SmallBytes,
    pub value: Value,
    /// Index into `Db::expires`, or NO_EXPIRE.
    expire_slot: u32,
    /// Unix second of the last access (see "Access times").
    access_s: u32,
}

impl Entry {
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// Bytes the entry takes, for MEMORY USAGE: its slot in the keyspace table, the key's heap bytes and the
    /// value's (see `Value::heap_bytes` for `samples`).
    pub fn memory_usage(&self, samples: usize) -> usize {
        size_of::<Entry>() + self.key.heap_bytes() + self.value.heap_bytes(samples)
    }

    /// Whether the key has a TTL, passed or not.
    pub fn has_expire(&self) -> bool {
        self.expire_slot != NO_EXPIRE
    }

    /// Whole seconds since the last access at `now_ms` (OBJECT IDLETIME); 0 if the clock went back.
    pub fn idle_s(&self, now_ms: i64) -> u32 {
        unix_s(now_ms).saturating_sub(self.access_s)
    }
}

/// The access-clock reading for `now_ms`: Unix seconds, saturated into a `u32` (good until 2106).
fn unix_s(now_ms: i64) -> u32 {
    (now_ms / 1000).clamp(0, i64::from(u32::MAX)) as u32
}

#[derive(Debug, Clone, Copy)]
struct ExpireSlot {
    hash: u64,
    at_ms: i64,
}

/// One numbered database.
#[derive(Debug, Default)]
pub struct Db {
    shards: Vec<HashTable<Entry>>,
    len: usize,
    expires: Vec<ExpireSlot>,
    hasher: DefaultHashBuilder,
    /// Keys deleted because their TTL passed (INFO `expired_keys`).
    pub expired_count: u64,
    /// The `now_ms` of the latest lookup, which stamps new entries' access time.
    clock_ms: i64,
    /// While some client WATCHes a key here, the keys that expiry deletes are recorded, because deletion by
    /// expiry invalidates a WATCH like any other change (`cmd::tx` drains this).
    pub expired_log: Option<Vec<Box<[u8]>>>,
    /// While writes are propagated (`State::propagation`), the keys expiry deleted, which the stream records
    /// as DEL; always empty otherwise.
    pub expired_to_propagate: Vec<Box<[u8]>>,
    pub propagate_expired: bool,
    /// While the AOF is replayed, nothing is stale: the commands saw those keys live, so they must too
    /// (Redis's keyIsExpired answers no while loading).
    pub loading: bool,
    /// While `new` keyspace notifications are on, the keys created (`cmd::notify` drains this).
    pub new_log: Option<Vec<Box<[u8]>>>,
}

fn shard_of(hash: u64) -> usize {
    // hashbrown uses the low bits for the bucket and the top 7 for its tag; take bits from the middle so a
    // shard's keys still spread over its table.
    (hash >> 32) as usize & (SHARDS - 1)
}

impl Db {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keys that have a TTL (INFO's `expires=`).
    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// Average time to live in ms of the keys with a TTL (INFO's `avg_ttl`), estimated from at most `samples`
    /// evenly spaced entries so INFO stays cheap on big databases; 0 when no key has a TTL. Like Redis's
    /// estimate, it may count keys whose deadline passed but that were not deleted yet as 0 ms.
    pub fn avg_ttl_ms(&self, now_ms: i64, samples: usize) -> i64 {
        if self.expires.is_empty() || samples == 0 {
            return 0;
        }
        let stride = self.expires.len().div_ceil(samples);
        let (sum, count) = self
            .expires
            .iter()
            .step_by(stride)
            .fold((0i128, 0i128), |(sum, count), slot| (sum + i128::from((slot.at_ms - now_ms).max(0)), count + 1));
        (sum / count) as i64
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn is_stale(&self, entry: &Entry, now_ms: i64) -> bool {
        entry.expire_slot != NO_EXPIRE && self.expires[entry.expire_slot as usize].at_ms <= now_ms && !self.loading
    }

    /// Whether `key` is stored but its TTL has passed at `now_ms` (Redis's keyIsExpired); deletes nothing.
    pub fn holds_stale(&self, key: &[u8], now_ms: i64) -> bool {
        if self.len == 0 {
            return false;
        }
        let hash = self.hash(key);
        self.shards[shard_of(hash)].find(hash, |e| *e.key == *key).is_some_and(|e| self.is_stale(e, now_ms))
    }

    /// Whether `key` is stored, live or stale, without expiring it (WATCH's "was it there" checks).
    pub fn holds(&self, key: &[u8]) -> bool {
        self.find_raw(key).is_some()
    }

    /// The entry of `key`, live or stale, neither expired nor marked accessed (Redis's bare `dictFind`, which
    /// WATCH, DEBUG DIGEST-VALUE and MEMORY USAGE use because they must see logically expired keys too).
    pub fn find_raw(&self, key: &[u8]) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        self.shards[shard_of(hash)].find(hash, |e| *e.key == *key)
    }

    /// The deadline (unix ms) of a stored entry, if it has one (an AOF rewrite writes it as PEXPIREAT).
    pub fn deadline_of(&self, entry: &Entry) -> Option<i64> {
        entry.has_expire().then(|| self.expires[entry.expire_slot as usize].at_ms)
    }

    /// Every stored entry, live or stale, in no particular order (DEBUG DIGEST).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.shards.iter().flat_map(|shard| shard.iter())
    }

    /// The deadline of a stored entry in Unix ms, passed or not (RDB saving reads it beside the entry).
    pub fn entry_expire_ms(&self, entry: &Entry) -> Option<i64> {
        entry.has_expire().then(|| self.expires[entry.expire_slot as usize].at_ms)
    }

    /// Makes `key` look idle for `idle_s` seconds at `now_ms` (RESTORE IDLETIME); false if it is not stored.
    pub fn set_idle(&mut self, key: &[u8], idle_s: u64, now_ms: i64) -> bool {
        if self.len == 0 {
            return false;
        }
        let hash = self.hash(key);
        match self.shards[shard_of(hash)].find_mut(hash, |e| *e.key == *key) {
            Some(entry) => {
                entry.access_s = unix_s(now_ms).saturating_sub(u32::try_from(idle_s).unwrap_or(u32::MAX));
                true
            }
            None => false,
        }
    }

    /// Finds `key` and marks it accessed, deleting it first if its TTL has passed at `now_ms`.
    pub fn get_entry(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        let entry = self.lookup(key, now_ms)?;
        entry.access_s = unix_s(now_ms);
        Some(entry)
    }

    /// Finds `key` without marking it accessed (Redis's `LOOKUP_NOTOUCH`: TTL, TYPE, EXISTS, OBJECT), deleting
    /// it first if its TTL has passed at `now_ms`.
    pub fn peek(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        self.lookup(key, now_ms).map(|e| &*e)
    }

    /// The lookup behind `get_entry` and `peek`: lazy expiry, no access stamp.
    fn lookup(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        self.clock_ms = now_ms;
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        let shard = shard_of(hash);
        let stale = match self.shards[shard].find(hash, |e| *e.key == *key) {
            None => return None,
            Some(e) => self.is_stale(e, now_ms),
        };
        if stale {
            self.remove_hashed(hash, key);
            self.expired_count += 1;
            self.log_expired(key);
            return None;
        }
        self.shards[shard].find_mut(hash, |e| *e.key == *key)
    }

    /// Records a key expiry deleted for those who react to deletions: WATCH and the propagated stream.
    fn log_expired(&mut self, key: &[u8]) {
        if let Some(log) = &mut self.expired_log {
            log.push(key.into());
        }
        if self.propagate_expired {
            self.expired_to_propagate.push(key.into());
        }
    }

    pub fn get(&mut self, key: &[u8], now_ms: i64) -> Option<&Value> {
        self.get_entry(key, now_ms).map(|e| &e.value)
    }

    pub fn get_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Value> {
        self.get_entry(key, now_ms).map(|e| &mut e.value)
    }

    /// Whether `key` exists (and is live), without marking it accessed.
    pub fn contains(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.lookup(key, now_ms).is_some()
    }

    /// Stores `value` under `key`, replacing any value. The TTL is dropped unless `keep_ttl`.
    /// Returns true if the key existed (and was live) before.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now_ms: i64) -> bool {
        if let Some(entry) = self.get_entry(key, now_ms) {
            entry.value = value;
            if !keep_ttl {
                self.persist(key, now_ms);
            }
            return true;
        }
        self.insert_new(key, value);
        false
    }

    /// Inserts a key the caller knows is absent.
    pub fn insert_new(&mut self, key: &[u8], value: Value) {
        self.insert_expiring(key, value, None);
    }

    /// Inserts a key the caller knows is absent, with a deadline in Unix ms or none (RENAME, MOVE, COPY).
    pub fn insert_expiring(&mut self, key: &[u8], value: Value, expire_at_ms: Option<i64>) {
        let inserted = self.insert_absent(key, value, expire_at_ms);
        debug_assert!(inserted, "insert_expiring of a key that is stored");
    }

    /// Inserts `key` unless it is stored (live or stale); false, dropping `value`, if it is. One probe of the
    /// table either way (an RDB load checks every key for duplicates this way).
    pub fn insert_absent(&mut self, key: &[u8], value: Value, expire_at_ms: Option<i64>) -> bool {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| HashTable::new()).collect();
        }
        let hash = self.hash(key);
        let hasher = &self.hasher;
        let hashbrown::hash_table::Entry::Vacant(vacant) =
            self.shards[shard_of(hash)].entry(hash, |e| *e.key == *key, |e| hasher.hash_one(&*e.key))
        else {
            return false;
        };
        let expire_slot = match expire_at_ms {
            None => NO_EXPIRE,
            Some(at_ms) => {
                self.expires.push(ExpireSlot { hash, at_ms });
                (self.expires.len() - 1) as u32
            }
        };
        vacant.insert(Entry { key: SmallBytes::from(key), value, expire_slot, access_s: unix_s(self.clock_ms) });
        self.len += 1;
        if let Some(log) = &mut self.new_log {
            log.push(key.into());
        }
        true
    }

    /// Makes room for about `keys` more keys, spread over the shards (an RDB load, from its RESIZEDB hint, which
    /// the caller bounds by what the input can hold).
    pub fn reserve(&mut self, keys: usize) {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| HashTable::new()).collect();
        }
        let per_shard = keys.div_ceil(SHARDS);
        let hasher = &self.hasher;
        for shard in &mut self.shards {
            shard.reserve(per_shard, |e| hasher.hash_one(&*e.key));
        }
    }

    /// Deletes `key`; returns its value if it existed and was live.
    pub fn remove(&mut self, key: &[u8], now_ms: i64) -> Option<Value> {
        self.remove_entry(key, now_ms).map(|(value, _)| value)
    }

    /// Deletes `key`; returns its value and deadline (Unix ms, if it had one) if it existed and was live, so the
    /// caller can put both back under another name or in another database (RENAME, MOVE).
    pub fn remove_entry(&mut self, key: &[u8], now_ms: i64) -> Option<(Value, Option<i64>)> {
        let slot = self.lookup(key, now_ms)?.expire_slot;
        let expire_at_ms = self.deadline(slot);
        let hash = self.hash(key);
        self.remove_hashed(hash, key).map(|e| (e.value, expire_at_ms))
    }

    /// A deep copy of `key`'s value with its deadline (Unix ms, if any), without marking it accessed (COPY).
    pub fn copy_entry(&mut self, key: &[u8], now_ms: i64) -> Option<(Value, Option<i64>)> {
        let entry = self.lookup(key, now_ms)?;
        let (value, slot) = (entry.value.duplicate(), entry.expire_slot);
        Some((value, self.deadline(slot)))
    }

    fn remove_hashed(&mut self, hash: u64, key: &[u8]) -> Option<Entry> {
        let shard = &mut self.shards[shard_of(hash)];
        let (entry, _) = shard.find_entry(hash, |e| *e.key == *key).ok()?.remove();
        self.len -= 1;
        if entry.expire_slot != NO_EXPIRE {
            self.drop_expire_slot(entry.expire_slot);
        }
        Some(entry)
    }

    /// Removes expires slot `slot`, moving the last slot into its place and repointing that slot's entry.
    fn drop_expire_slot(&mut self, slot: u32) {
        let last = (self.expires.len() - 1) as u32;
        self.expires.swap_remove(slot as usize);
        if slot != last {
            let moved = self.expires[slot as usize];
            let entry = self.shards[shard_of(moved.hash)]
                .find_mut(moved.hash, |e| e.expire_slot == last)
                .expect("every expires slot points to an entry");
            entry.expire_slot = slot;
        }
    }

    /// The key's deadline in Unix ms: `None` if the key is missing, `Some(None)` if it has no TTL.
    /// Does not mark the key accessed.
    pub fn expire_at(&mut self, key: &[u8], now_ms: i64) -> Option<Option<i64>> {
        let slot = self.lookup(key, now_ms)?.expire_slot;
        Some(self.deadline(slot))
    }

    /// The deadline held by expires slot `slot`, or `None` for NO_EXPIRE.
    fn deadline(&self, slot: u32) -> Option<i64> {
        (slot != NO_EXPIRE).then(|| self.expires[slot as usize].at_ms)
    }

    /// Sets the deadline of an existing key. Returns false if the key is missing.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64, now_ms: i64) -> bool {
        let hash = self.hash(key);
        let next_slot = self.expires.len() as u32;
        let Some(entry) = self.get_entry(key, now_ms) else { return false };
        if entry.expire_slot != NO_EXPIRE {
            let slot = entry.expire_slot as usize;
            self.expires[slot].at_ms = at_ms;
        } else {
            entry.expire_slot = next_slot;
            self.expires.push(ExpireSlot { hash, at_ms });
        }
        true
    }

    /// Removes the key's TTL. Returns true if it had one.
    pub fn persist(&mut self, key: &[u8], now_ms: i64) -> bool {
        let Some(entry) = self.get_entry(key, now_ms) else { return false };
        let slot = std::mem::replace(&mut entry.expire_slot, NO_EXPIRE);
        if slot == NO_EXPIRE {
            return false;
        }
        self.drop_expire_slot(slot);
        true
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.flush(false);
    }

    /// Removes every key and returns how many there were (FLUSHDB, FLUSHALL). With `lazy` (their ASYNC option)
    /// a large database is freed on a short-lived helper thread, as Redis's lazyfree does, so dropping millions
    /// of keys does not stall the loop; the thread owns the old tables alone, so nothing is shared.
    pub fn flush(&mut self, lazy: bool) -> usize {
        let fresh = Db {
            expired_count: self.expired_count,
            clock_ms: self.clock_ms,
            propagate_expired: self.propagate_expired,
            loading: self.loading,
            expired_log: self.expired_log.take(),
            new_log: self.new_log.take(),
            ..Db::default()
        };
        let old = std::mem::replace(self, fresh);
        let removed = old.len;
        if lazy && removed >= LAZYFREE_KEYS_MIN {
            // If the thread cannot start, the closure (and the tables in it) is dropped here instead.
            let _ = std::thread::Builder::new().name("lazyfree".into()).spawn(move || drop(old));
        }
        removed
    }

    /// Calls `f` for every stored key of the shards from `cursor` on, a whole shard at a time, with whether its
    /// TTL has passed at `now_ms`, until at least `count` keys were offered or the end was reached; returns the
    /// next cursor (0 at the end). Nothing is deleted here: SCAN expires only the stale keys it would return
    /// (through a lookup, so the deletion is propagated), as Redis's scanGenericCommand does.
    pub fn scan(&self, cursor: u64, count: usize, now_ms: i64, mut f: impl FnMut(&Entry, bool)) -> u64 {
        let mut shard = cursor as usize;
        let mut offered = 0;
        while shard < self.shards.len() && offered < count {
            for entry in self.shards[shard].iter() {
                f(entry, self.is_stale(entry, now_ms));
                offered += 1;
            }
            shard += 1;
        }
        if shard >= self.shards.len() { 0 } else { shard as u64 }
    }

    /// Calls `f` for every live key, skipping stale ones without deleting them (KEYS, as Redis 7.0's
    /// keysCommand checks keyIsExpired).
    pub fn for_each(&self, now_ms: i64, mut f: impl FnMut(&Entry)) {
        let mut cursor = 0;
        loop {
            cursor = self.scan(cursor, usize::MAX, now_ms, |entry, stale| {
                if !stale {
                    f(entry)
                }
            });
            if cursor == 0 {
                return;
            }
        }
    }

    /// A random live key (RANDOMKEY), deleting stale keys it meets.
    pub fn random_key(&mut self, rng: &mut Rng, now_ms: i64) -> Option<Box<[u8]>> {
        while self.len > 0 {
            let shard = &self.shards[rng.below(SHARDS)];
            if shard.is_empty() {
                continue;
            }
            let entry = shard.iter().nth(rng.below(shard.len())).expect("index below len");
            let key: Box<[u8]> = entry.key().into();
            if self.lookup(&key, now_ms).is_some() {
                return Some(key);
            }
        }
        None
    }

    /// Samples up to `samples` keys that have a TTL and deletes the stale ones; returns (sampled, deleted).
    /// This is one round of the active expiry cycle.
    pub fn expire_round(&mut self, rng: &mut Rng, samples: usize, now_ms: i64) -> (usize, usize) {
        let mut deleted = 0;
        let sampled = samples.min(self.expires.len());
        for _ in 0..sampled {
            if self.expires.is_empty() {
                break;
            }
            let slot = rng.below(self.expires.len());
            let ExpireSlot { hash, at_ms } = self.expires[slot];
            if at_ms > now_ms {
                continue;
            }
            let shard = &mut self.shards[shard_of(hash)];
            let found = shard.find_entry(hash, |e| e.expire_slot == slot as u32);
            let (entry, _) = found.unwrap_or_else(|_| panic!("every expires slot points to an entry")).remove();
            self.len -= 1;
            self.drop_expire_slot(entry.expire_slot);
            self.expired_count += 1;
            self.log_expired(&entry.key);
            deleted += 1;
        }
        (sampled, deleted)
    }

    /// Asserts the expires/entries cross-links; for tests.
    pub fn check_invariants(&self) {
        let mut with_ttl = 0;
        let mut total = 0;
        for shard in &self.shards {
            for e in shard.iter() {
                total += 1;
                if e.expire_slot != NO_EXPIRE {
                    with_ttl += 1;
                    assert_eq!(self.expires[e.expire_slot as usize].hash, self.hash(&e.key));
                }
            }
        }
        assert_eq!(total, self.len);
        assert_eq!(with_ttl, self.expires.len());
    }
}

/// All databases.
#[derive(Debug)]
pub struct Keyspace {
    pub dbs: Vec<Db>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        Keyspace { dbs: (0..databases).map(|_| Db::default()).collect() }
    }

    /// Total keys deleted by expiry, lazy or active.
    pub fn expired_count(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired_count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_remove() {
        let mut db = Db::default();
        assert!(!db.set(b"a", Value::from_arg(b"1"), false, 0));
        assert!(db.set(b"a", Value::from_arg(b"2"), false, 0));
        assert_eq!(db.get(b"a", 0), Some(&Value::Int(2)));
        assert_eq!(db.remove(b"a", 0), Some(Value::Int(2)));
        assert_eq!(db.get(b"a", 0), None);
        assert_eq!(db.len(), 0);
    }

    #[test]
    fn lazy_expiry_and_slot_moves() {
        let mut db = Db::default();
        for i in 0..100u32 {
            let key = i.to_string();
            db.insert_new(key.as_bytes(), Value::Int(i.into()));
            assert!(db.set_expire(key.as_bytes(), 1000 + i64::from(i), 0));
        }
        db.check_invariants();
        assert!(db.persist(b"5", 0));
        assert!(!db.persist(b"5", 0));
        db.check_invariants();
        // At t=1050 keys 0..=50 (except the persisted 5) are stale.
        assert_eq!(db.get(b"10", 1050), None);
        assert_eq!(db.expire_at(b"60", 1050), Some(Some(1060)));
        assert_eq!(db.expire_at(b"5", 1050), Some(None));
        db.check_invariants();
        let mut live = 0;
        db.for_each(1050, |_| live += 1);
        assert_eq!(live, 50);
        // Iteration skips stale keys without deleting them: only key 10's lookup did.
        assert_eq!(db.expires_len(), 98);
        db.check_invariants();
    }

    #[test]
    fn avg_ttl_estimates_remaining_time() {
        let mut db = Db::default();
        assert_eq!(db.avg_ttl_ms(0, 16), 0);
        for i in 0..100u32 {
            let key = i.to_string();
            db.insert_new(key.as_bytes(), Value::Int(1));
            db.set_expire(key.as_bytes(), 1000 + 10 * i64::from(i), 0);
        }
        // Exact when every slot is sampled: deadlines 1000..=1990 seen at t=500 average 995 ms.
        assert_eq!(db.avg_ttl_ms(500, 1000), 995);
        let estimate = db.avg_ttl_ms(500, 10);
        assert!((900..=1100).contains(&estimate), "{estimate}");
        // Past deadlines count as zero rather than negative.
        assert_eq!(db.avg_ttl_ms(5000, 1000), 0);
    }

    #[test]
    fn expire_rounds_reclaim_everything_stale() {
        let mut db = Db::default();
        let mut rng = Rng::new(1);
        for i in 0..1000u32 {
            let key = i.to_string();
            db.insert_new(key.as_bytes(), Value::Int(1));
            db.set_expire(key.as_bytes(), if i % 2 == 0 { 10 } else { 1_000_000 }, 0);
        }
        for _ in 0..2000 {
            db.expire_round(&mut rng, 20, 100);
        }
        db.check_invariants();
        assert_eq!(db.len(), 500);
        assert_eq!(db.expired_count, 500);
    }

    #[test]
    fn scan_visits_every_key_once() {
        let mut db = Db::default();
        for i in 0..5000u32 {
            db.insert_new(i.to_string().as_bytes(), Value::Int(1));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = db.scan(cursor, 10, 0, |e, _| assert!(seen.insert(e.key().to_vec())));
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5000);
    }

    #[test]
    fn entry_is_seven_words() {
        // Inline key (24) + value (24) + expires slot and access stamp (4 + 4): the access stamp lives in what
        // would otherwise be padding. Growing this grows every key's cost.
        assert_eq!(std::mem::size_of::<Entry>(), 56);
    }

    #[test]
    fn lookups_stamp_access_time_unless_peeking() {
        let mut db = Db::default();
        db.set(b"k", Value::Int(1), false, 10_000);
        assert_eq!(db.peek(b"k", 15_900).unwrap().idle_s(15_900), 5);
        assert_eq!(db.expire_at(b"k", 16_000), Some(None));
        assert!(db.contains(b"k", 16_000));
        assert_eq!(db.peek(b"k", 17_000).unwrap().idle_s(17_000), 7);
        db.get(b"k", 17_000);
        assert_eq!(db.peek(b"k", 19_999).unwrap().idle_s(19_999), 2);
        // A clock that went back reads as no idle time.
        assert_eq!(db.peek(b"k", 1_000).unwrap().idle_s(1_000), 0);
        // A new key is stamped with the lookup that found it absent.
        assert!(db.get(b"new", 30_000).is_none());
        db.insert_new(b"new", Value::Int(2));
        assert_eq!(db.peek(b"new", 31_000).unwrap().idle_s(31_000), 1);
    }

    #[test]
    fn remove_entry_and_insert_expiring_carry_the_deadline() {
        let mut db = Db::default();
        db.insert_new(b"a", Value::Int(1));
        db.insert_new(b"b", Value::Int(2));
        db.set_expire(b"a", 500, 0);
        db.set_expire(b"b", 600, 0);
        let (value, at) = db.remove_entry(b"a", 0).unwrap();
        assert_eq!((value, at), (Value::Int(1), Some(500)));
        db.check_invariants();
        db.insert_expiring(b"c", Value::Int(1), at);
        db.insert_expiring(b"d", Value::Int(3), None);
        db.check_invariants();
        assert_eq!(db.expire_at(b"c", 0), Some(Some(500)));
        assert_eq!(db.expire_at(b"d", 0), Some(None));
        assert_eq!(db.remove_entry(b"b", 600), None, "a stale key is not returned");
        assert_eq!(db.remove_entry(b"d", 0), Some((Value::Int(3), None)));
        assert_eq!(db.len(), 1);
        db.check_invariants();
    }

    #[test]
    fn copy_entry_is_deep_and_keeps_the_source() {
        let mut db = Db::default();
        let mut value = Value::from_arg(b"abc");
        value.make_raw().unwrap().push(b'd');
        db.insert_new(b"s", value);
        db.set_expire(b"s", 900, 0);
        let (mut copy, at) = db.copy_entry(b"s", 0).unwrap();
        assert_eq!(at, Some(900));
        copy.make_raw().unwrap().push(b'e');
        assert_eq!(db.get(b"s", 0).and_then(|v| v.with_str(<[u8]>::to_vec)), Some(b"abcd".to_vec()));
        assert_eq!(db.copy_entry(b"missing", 0), None);
    }

    #[test]
    fn flush_counts_and_empties_both_ways() {
        for lazy in [false, true] {
            let mut db = Db::default();
            for i in 0..(LAZYFREE_KEYS_MIN as u32 + 10) {
                db.insert_new(i.to_string().as_bytes(), Value::Int(1));
                db.set_expire(i.to_string().as_bytes(), 1000, 0);
            }
            db.expired_count = 7;
            assert_eq!(db.flush(lazy), LAZYFREE_KEYS_MIN + 10);
            assert_eq!((db.len(), db.expires_len(), db.expired_count), (0, 0, 7));
            assert_eq!(db.get(b"1", 0), None);
            db.insert_new(b"x", Value::Int(1));
            db.check_invariants();
        }
    }

    #[test]
    fn random_key_finds_live_keys() {
        let mut db = Db::default();
        let mut rng = Rng::new(3);
        assert_eq!(db.random_key(&mut rng, 0), None);
        db.insert_new(b"x", Value::Int(1));
        assert_eq!(db.random_key(&mut rng, 0).as_deref(), Some(&b"x"[..]));
    }
}
