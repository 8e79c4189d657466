//! The keyspace: numbered databases of keys → values, with TTLs and lazy expiry.
//!
//! # Layout
//! One record per key: an `Entry` holds the key and the value (both inline when short, see `SmallBytes` and
//! `Value`), the access word and, for a key with a TTL, its slot in the TTL index: 56 bytes. Records live in
//! the database's own pages (`slab`: 256 records to a 14 KiB page, no allocator header or rounding per key)
//! and are named by 4-byte handles; the tables hold only handles, so a table slot costs 5 bytes (the handle
//! and hashbrown's one-byte tag) and its spare capacity costs 5 bytes a slot, not a whole record.
//!
//! A `Db` splits its keys over `SHARDS` hashbrown tables chosen by bits of the key's hash. A hashbrown table
//! grows by rehashing everything at once; with 4096 shards a growth step moves 1/4096 of the keys, so even at 10M
//! keys no insert stalls the loop for long (Redis gets the same from incremental rehashing). Rehashing reads each
//! key through its handle. The record pages never move, so growing the keyspace never copies records either.
//! The shard vector is allocated on a database's first write, so unused databases cost nothing.
//!
//! A key with a TTL is listed in `expiring` (`ttl_index`), a paged vector of (handle, deadline) slots, 12 bytes
//! a key, so the active expiry cycle samples keys with a TTL at random in O(1) and a key without one pays nothing
//! for deadlines. The record stores its slot; removal swaps the last slot into the hole and fixes the moved
//! record's slot through its handle (no probe, no key copy).
//!
//! # Invariants
//! - Every table handle names a live record of `slab`, and every live record is named by one table slot.
//! - Every `Entry` with `expire_slot != NO_EXPIRE` is named by exactly that slot of `expiring`, and every slot
//!   names one entry (checked by `check_invariants` in tests).
//! - Lookups made for commands (`get`, `get_mut`, `peek`, `remove`, ...) never return a key whose deadline is <=
//!   the `now_ms` they are given; they delete it instead (Redis's `expireIfNeeded`).
//!
//! # Access words
//! Every entry keeps an access word, a `u32`: Redis's 24-bit `lru` field, an LRU clock reading or an LFU counter
//! as `policy.access` says (see `access`).
//! `get_entry` (and so `get`, `get_mut`, `set`, `set_expire`, `persist`) updates it, as Redis's `lookupKey`
//! does; `peek`, `expire_at`, `contains`, `scan` and `random_key` do not, as Redis's `LOOKUP_NOTOUCH` readers
//! (TTL, TYPE, EXISTS, OBJECT) and iterators do not. A new entry gets the word of the time of the database's
//! latest lookup: an insert always follows the lookup that found its key absent, so that is the command's own
//! `now_ms`.
//!
//! # Freeing
//! A value the database itself drops (an expired key, an overwritten value) goes through `lazyfree` under
//! `lazyfree-lazy-expire` / `lazyfree-lazy-server-del` (`policy`), so a big one is freed off the loop. A deleted
//! key's record slot is reused by the next insert (see `slab` for how `used_memory` counts it).
//!
//! # SCAN
//! A cursor is a shard index. SCAN returns whole shards, so a key present for the whole iteration is returned
//! (a key never changes shard): Redis's guarantee without its reverse-binary cursor.

pub mod access;
pub mod digest;
pub mod eviction_pool;
pub mod expire;
pub mod lazyfree;
pub mod slab;
pub mod ttl_index;
pub mod value;

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use crate::types::small::SmallBytes;
use crate::util::rng::Rng;
use slab::{Handle, Slab};
use ttl_index::TtlIndex;
pub use value::{Value, ValueType};

/// Shards per database; a power of two.
pub const SHARDS: usize = 4096;
const NO_EXPIRE: u32 = u32::MAX;

/// One key and its value: the record a table slot names.
#[derive(Debug)]
pub struct Entry {
    key: SmallBytes,
    pub value: Value,
    /// Index into `Db::expiring`, which holds the deadline, or NO_EXPIRE.
    expire_slot: u32,
    /// The access word (see "Access words").
    access: u32,
}

/// An entry taken out of a dataset (`Db::into_entries`), with its deadline in Unix ms and its access word.
#[derive(Debug)]
pub struct MovedEntry {
    pub key: SmallBytes,
    pub value: Value,
    pub deadline: Option<i64>,
    pub access: u32,
}

impl Entry {
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// Bytes the entry takes, for MEMORY USAGE: its record, its table slot, its TTL index slot if it has a TTL,
    /// the key's heap bytes and the value's (see `Value::heap_bytes` for `samples`).
    pub fn memory_usage(&self, samples: usize) -> usize {
        let ttl = if self.has_expire() { size_of::<Handle>() + size_of::<i64>() } else { 0 };
        size_of::<Entry>() + size_of::<Handle>() + ttl + self.key.heap_bytes() + self.value.heap_bytes(samples)
    }

    /// Whether the key has a TTL, passed or not.
    pub fn has_expire(&self) -> bool {
        self.expire_slot != NO_EXPIRE
    }

    /// The access word, read with `access`'s functions under the databases' policy.
    pub fn access_word(&self) -> u32 {
        self.access
    }
}

/// What the databases need of the config, set by `Keyspace::configure`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub access: access::AccessPolicy,
    /// `lazyfree-lazy-expire`: expired values are freed through `lazyfree`.
    pub lazy_expire: bool,
    /// `lazyfree-lazy-server-del`: overwritten values are freed through `lazyfree`.
    pub lazy_server_del: bool,
    /// `maxmemory` with an LRU or LFU policy: a stored small integer gets a value of its own instead of the
    /// shared one, since a shared object cannot carry a key's access word (Redis's
    /// MAXMEMORY_FLAG_NO_SHARED_INTEGERS; OBJECT REFCOUNT shows it).
    pub unshared_integers: bool,
}

impl Policy {
    fn stored(self, value: Value) -> Value {
        match value {
            Value::Int(n) if self.unshared_integers => Value::OwnInt(n),
            value => value,
        }
    }
}

/// One numbered database.
#[derive(Debug, Default)]
pub struct Db {
    shards: Vec<HashTable<Handle>>,
    /// The records the shards' handles name.
    slab: Slab,
    len: usize,
    /// The handle and deadline of every key with a TTL, for sampling (see "Layout").
    expiring: TtlIndex,
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
    /// While CLIENT PAUSE holds, expired keys read as missing but stay stored: deleting one would be a write
    /// (a DEL to propagate), which the pause forbids (Redis's expireIfNeeded); the end of the pause deletes them.
    pub expiry_paused: bool,
    /// While `new` keyspace notifications are on, the keys created (`cmd::notify` drains this).
    pub new_log: Option<Vec<Box<[u8]>>>,
    pub policy: Policy,
    /// The dice of the LFU counter's probabilistic increments.
    rng: Rng,
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
        self.expiring.len()
    }

    /// Bytes of the tables themselves, apart from keys and values (MEMORY STATS' `overhead.hashtable.main` and
    /// `.expires`): every shard's allocation and the shard vector, and the TTL index.
    pub fn table_bytes(&self) -> (usize, usize) {
        let shards = self.shards.capacity() * size_of::<HashTable<Handle>>();
        let main = shards + self.shards.iter().map(HashTable::allocation_size).sum::<usize>();
        (main, self.expiring.allocation_size())
    }

    /// Average time to live in ms of the keys with a TTL (INFO's `avg_ttl`), estimated from at most `samples`
    /// evenly spaced entries so INFO stays cheap on big databases; 0 when no key has a TTL. Like Redis's
    /// estimate, it may count keys whose deadline passed but that were not deleted yet as 0 ms.
    pub fn avg_ttl_ms(&self, now_ms: i64, samples: usize) -> i64 {
        if self.expiring.is_empty() || samples == 0 {
            return 0;
        }
        let stride = self.expiring.len().div_ceil(samples);
        let (sum, count) = (0..self.expiring.len()).step_by(stride).fold((0i128, 0i128), |(sum, count), slot| {
            let at_ms = self.expiring.deadline(slot);
            (sum + i128::from((at_ms - now_ms).max(0)), count + 1)
        });
        (sum / count) as i64
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The deadline in Unix ms of a stored entry, if it has a TTL (passed or not).
    fn deadline(&self, entry: &Entry) -> Option<i64> {
        entry.has_expire().then(|| self.expiring.deadline(entry.expire_slot as usize))
    }

    fn is_stale(&self, entry: &Entry, now_ms: i64) -> bool {
        !self.loading && self.deadline(entry).is_some_and(|at_ms| at_ms <= now_ms)
    }

    /// The handle of the record of `key` (hashed to `hash`), live or stale.
    fn find(&self, hash: u64, key: &[u8]) -> Option<Handle> {
        let slab = &self.slab;
        self.shards[shard_of(hash)].find(hash, |&h| *slab.get(h).key == *key).copied()
    }

    /// Whether `key` is stored but its TTL has passed at `now_ms` (Redis's keyIsExpired); deletes nothing.
    pub fn holds_stale(&self, key: &[u8], now_ms: i64) -> bool {
        self.find_raw(key).is_some_and(|e| self.is_stale(e, now_ms))
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
        self.find(self.hash(key), key).map(|h| self.slab.get(h))
    }

    /// The deadline (unix ms) of a stored entry, passed or not, if it has one (an RDB save writes it beside the
    /// entry, an AOF rewrite as PEXPIREAT).
    pub fn deadline_of(&self, entry: &Entry) -> Option<i64> {
        self.deadline(entry)
    }

    /// Every stored entry, live or stale, in no particular order (DEBUG DIGEST).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.shards.iter().flat_map(|shard| shard.iter().map(|&h| self.slab.get(h)))
    }

    /// Every entry, moved out of the dataset, so that merging it into another takes the values instead of
    /// copying them.
    pub fn into_entries(mut self) -> impl Iterator<Item = MovedEntry> {
        let handles: Vec<Handle> = self.shards.iter().flat_map(|shard| shard.iter().copied()).collect();
        handles.into_iter().map(move |handle| {
            let deadline = self.deadline(self.slab.get(handle));
            let Entry { key, value, access, .. } = self.slab.remove(handle);
            MovedEntry { key, value, deadline, access }
        })
    }

    /// The access word a key restored or loaded with an idle time or frequency starts with (Redis's
    /// objectSetLRUOrLFU): the frequency under an LFU policy, the idle time under any other, the other ignored;
    /// `None` (a fresh word) when the one the policy reads is not given.
    pub fn access_word_of(&self, idle_s: Option<u64>, freq: Option<u8>, now_ms: i64) -> Option<u32> {
        match (self.policy.access.lfu, idle_s, freq) {
            (true, _, Some(freq)) => Some(access::lfu_with_freq(now_ms, freq)),
            (false, Some(idle_s), _) => Some(access::lru_with_idle(now_ms, idle_s)),
            _ => None,
        }
    }

    /// Finds `key` and marks it accessed, deleting it first if its TTL has passed at `now_ms`.
    pub fn get_entry(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        self.lookup(key, now_ms, true).map(|h| self.slab.get_mut(h))
    }

    /// Finds `key` without marking it accessed (Redis's `LOOKUP_NOTOUCH`: TTL, TYPE, EXISTS, OBJECT), deleting
    /// it first if its TTL has passed at `now_ms`.
    pub fn peek(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        self.lookup(key, now_ms, false).map(|h| self.slab.get(h))
    }

    /// The lookup behind `get_entry` and `peek`: lazy expiry, and the access word updated if `touch`; returns
    /// the live record's handle.
    fn lookup(&mut self, key: &[u8], now_ms: i64, touch: bool) -> Option<Handle> {
        self.clock_ms = now_ms;
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        let handle = self.find(hash, key)?;
        if self.is_stale(self.slab.get(handle), now_ms) {
            if self.expiry_paused {
                return None;
            }
            let removed = self.remove_hashed(hash, key);
            self.expired_count += 1;
            self.log_expired(key);
            self.free_expired(removed.map(|(entry, _)| entry));
            return None;
        }
        if touch {
            let entry = self.slab.get_mut(handle);
            entry.access = access::touched(self.policy.access, entry.access, now_ms, &mut self.rng);
        }
        Some(handle)
    }

    /// Frees the value of a key expiry deleted, lazily under `lazyfree-lazy-expire`.
    fn free_expired(&self, entry: Option<Entry>) {
        if let Some(entry) = entry {
            lazyfree::free_value(entry.value, self.policy.lazy_expire);
        }
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
        self.lookup(key, now_ms, false).is_some()
    }

    /// Stores `value` under `key`, replacing any value. The TTL is dropped unless `keep_ttl`.
    /// Returns true if the key existed (and was live) before.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now_ms: i64) -> bool {
        self.clock_ms = now_ms;
        self.ensure_shards();
        // One hash and one probe for the two common cases, a live key or none; a stale one goes the long way.
        let hash = self.hash(key);
        match self.find(hash, key) {
            Some(handle) if !self.is_stale(self.slab.get(handle), now_ms) => {
                let policy = self.policy;
                let entry = self.slab.get_mut(handle);
                lazyfree::free_value(std::mem::replace(&mut entry.value, policy.stored(value)), policy.lazy_server_del);
                entry.access = access::touched(policy.access, entry.access, now_ms, &mut self.rng);
                if !keep_ttl && entry.expire_slot != NO_EXPIRE {
                    let slot = std::mem::replace(&mut entry.expire_slot, NO_EXPIRE);
                    self.drop_expire_slot(slot);
                }
                true
            }
            Some(_) => {
                self.lookup(key, now_ms, false);
                self.insert_hashed(hash, key, value, None);
                false
            }
            None => {
                self.insert_hashed(hash, key, value, None);
                false
            }
        }
    }

    /// Inserts a key the caller knows is absent.
    pub fn insert_new(&mut self, key: &[u8], value: Value) {
        self.insert_expiring(key, value, None);
    }

    /// Inserts a key the caller knows is absent, with a deadline in Unix ms or none (RENAME, MOVE, COPY).
    pub fn insert_expiring(&mut self, key: &[u8], value: Value, expire_at_ms: Option<i64>) {
        let inserted = self.insert_absent(key, value, expire_at_ms, None);
        debug_assert!(inserted, "insert_expiring of a key that is stored");
    }

    /// Inserts `key` unless it is stored (live or stale), with the access word `access` (else a fresh one);
    /// false, dropping `value`, if it is stored. One probe of the table either way (an RDB load checks every
    /// key for duplicates this way).
    pub fn insert_absent(&mut self, key: &[u8], value: Value, expire_at_ms: Option<i64>, access: Option<u32>) -> bool {
        self.ensure_shards();
        let hash = self.hash(key);
        if self.find(hash, key).is_some() {
            return false;
        }
        let handle = self.insert_hashed(hash, key, value, expire_at_ms);
        if let Some(word) = access {
            self.slab.get_mut(handle).access = word;
        }
        true
    }

    /// Allocates the shard vector on a database's first write.
    fn ensure_shards(&mut self) {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| HashTable::new()).collect();
        }
    }

    /// Inserts `key`, whose hash is `hash` and which the caller checked is absent (stale keys included).
    fn insert_hashed(&mut self, hash: u64, key: &[u8], value: Value, expire_at_ms: Option<i64>) -> Handle {
        let handle = self.slab.insert(Entry {
            key: SmallBytes::from(key),
            value: self.policy.stored(value),
            expire_slot: NO_EXPIRE,
            access: access::new_word(self.policy.access, self.clock_ms),
        });
        if let Some(at_ms) = expire_at_ms {
            self.slab.get_mut(handle).expire_slot = self.expiring.push(handle, at_ms) as u32;
        }
        let (slab, hasher) = (&self.slab, &self.hasher);
        self.shards[shard_of(hash)].insert_unique(hash, handle, |&h| hasher.hash_one(&*slab.get(h).key));
        self.len += 1;
        if let Some(log) = &mut self.new_log {
            log.push(key.into());
        }
        handle
    }

    /// Makes room for about `keys` more keys, spread over the shards (an RDB load, from its RESIZEDB hint, which
    /// the caller bounds by what the input can hold).
    pub fn reserve(&mut self, keys: usize) {
        self.ensure_shards();
        let per_shard = keys.div_ceil(SHARDS);
        let (slab, hasher) = (&self.slab, &self.hasher);
        for shard in &mut self.shards {
            shard.reserve(per_shard, |&h| hasher.hash_one(&*slab.get(h).key));
        }
    }

    /// Deletes `key`; returns its value if it existed and was live.
    pub fn remove(&mut self, key: &[u8], now_ms: i64) -> Option<Value> {
        self.remove_entry(key, now_ms).map(|(value, _)| value)
    }

    /// Deletes `key` for a command that replaces or drops it implicitly (RENAME's or a STORE's destination,
    /// RESTORE REPLACE): Redis's dbDelete, freeing the value lazily under `lazyfree-lazy-server-del`. Returns
    /// whether it existed and was live.
    pub fn delete(&mut self, key: &[u8], now_ms: i64) -> bool {
        let lazy = self.policy.lazy_server_del;
        self.remove(key, now_ms).map(|value| lazyfree::free_value(value, lazy)).is_some()
    }

    /// Deletes `key`; returns its value and deadline (Unix ms, if it had one) if it existed and was live, so the
    /// caller can put both back under another name or in another database (RENAME, MOVE).
    pub fn remove_entry(&mut self, key: &[u8], now_ms: i64) -> Option<(Value, Option<i64>)> {
        self.lookup(key, now_ms, false)?;
        let hash = self.hash(key);
        self.remove_hashed(hash, key).map(|(entry, deadline)| (entry.value, deadline))
    }

    /// A deep copy of `key`'s value with its deadline (Unix ms, if any), without marking it accessed (COPY).
    pub fn copy_entry(&mut self, key: &[u8], now_ms: i64) -> Option<(Value, Option<i64>)> {
        let handle = self.lookup(key, now_ms, false)?;
        let entry = self.slab.get(handle);
        Some((entry.value.duplicate(), self.deadline(entry)))
    }

    /// Removes the record of `key` (hashed to `hash`); returns it with its deadline.
    fn remove_hashed(&mut self, hash: u64, key: &[u8]) -> Option<(Entry, Option<i64>)> {
        let slab = &self.slab;
        let found = self.shards[shard_of(hash)].find_entry(hash, |&h| *slab.get(h).key == *key);
        let (handle, _) = found.ok()?.remove();
        Some(self.remove_record(hash, handle))
    }

    /// Takes the record `handle` out of the slab and the TTL index once its table slot is gone.
    fn remove_record(&mut self, hash: u64, handle: Handle) -> (Entry, Option<i64>) {
        let entry = self.slab.remove(handle);
        self.len -= 1;
        let deadline = (entry.expire_slot != NO_EXPIRE).then(|| self.drop_expire_slot(entry.expire_slot));
        self.shrink_if_sparse(shard_of(hash));
        (entry, deadline)
    }

    /// Gives back most of a shard's table once it is under a quarter full, as Redis's dict shrinks, so deleting
    /// keys returns their slots' memory (eviction counts on it: a table that kept its size would free only the
    /// values). The hysteresis keeps it amortised O(1), and a shard is small, so the rehash is short.
    fn shrink_if_sparse(&mut self, shard: usize) {
        let table = &mut self.shards[shard];
        if table.len() * 4 < table.capacity() {
            let (slab, hasher) = (&self.slab, &self.hasher);
            table.shrink_to(table.len() * 2, |&h| hasher.hash_one(&*slab.get(h).key));
        }
    }

    /// Removes `expiring` slot `slot`, moving the last slot into its place and repointing that slot's record;
    /// returns the removed slot's deadline.
    fn drop_expire_slot(&mut self, slot: u32) -> i64 {
        let last = (self.expiring.len() - 1) as u32;
        let (_, at_ms) = self.expiring.swap_remove(slot as usize);
        if slot != last {
            let moved = self.expiring.handle(slot as usize);
            self.slab.get_mut(moved).expire_slot = slot;
        }
        at_ms
    }

    /// The key's deadline in Unix ms: `None` if the key is missing, `Some(None)` if it has no TTL.
    /// Does not mark the key accessed.
    pub fn expire_at(&mut self, key: &[u8], now_ms: i64) -> Option<Option<i64>> {
        let handle = self.lookup(key, now_ms, false)?;
        Some(self.deadline(self.slab.get(handle)))
    }

    /// Sets the deadline of an existing key. Returns false if the key is missing.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64, now_ms: i64) -> bool {
        let Some(handle) = self.lookup(key, now_ms, true) else { return false };
        match self.slab.get(handle).expire_slot {
            NO_EXPIRE => self.slab.get_mut(handle).expire_slot = self.expiring.push(handle, at_ms) as u32,
            slot => self.expiring.set_deadline(slot as usize, at_ms),
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
    /// the old tables go to the `lazyfree` helper thread, so dropping millions of keys does not stall the loop.
    pub fn flush(&mut self, lazy: bool) -> usize {
        let fresh = Db {
            expired_count: self.expired_count,
            clock_ms: self.clock_ms,
            propagate_expired: self.propagate_expired,
            loading: self.loading,
            expiry_paused: self.expiry_paused,
            expired_log: self.expired_log.take(),
            new_log: self.new_log.take(),
            policy: self.policy,
            ..Db::default()
        };
        let old = std::mem::replace(self, fresh);
        let removed = old.len;
        if lazy {
            lazyfree::free_db(old);
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
            for &handle in self.shards[shard].iter() {
                let entry = self.slab.get(handle);
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
            let &handle = shard.iter().nth(rng.below(shard.len())).expect("index below len");
            let key: Box<[u8]> = self.slab.get(handle).key().into();
            if self.lookup(&key, now_ms, false).is_some() {
                return Some(key);
            }
        }
        None
    }

    /// Offers up to `count` keys picked at random to `f` with their access word and deadline, for eviction
    /// (Redis's dictGetSomeKeys): with `volatile`, random keys that have a TTL; otherwise consecutive entries
    /// from a random place, going on into the next shards. Stale keys are offered too, as Redis's sampling
    /// sees them. Never offers more than the database holds.
    pub fn sample(&self, rng: &mut Rng, count: usize, volatile: bool, mut f: impl FnMut(&[u8], u32, Option<i64>)) {
        if volatile {
            for _ in 0..count.min(self.expiring.len()) {
                let slot = rng.below(self.expiring.len());
                let entry = self.slab.get(self.expiring.handle(slot));
                f(&entry.key, entry.access, Some(self.expiring.deadline(slot)));
            }
            return;
        }
        let mut wanted = count.min(self.len);
        let first = rng.below(SHARDS.min(self.shards.len().max(1)));
        for step in 0..self.shards.len() {
            if wanted == 0 {
                return;
            }
            let shard = &self.shards[(first + step) % self.shards.len()];
            let skip = if step == 0 && !shard.is_empty() { rng.below(shard.len()) } else { 0 };
            for &handle in shard.iter().skip(skip).take(wanted) {
                let entry = self.slab.get(handle);
                f(&entry.key, entry.access, self.deadline(entry));
                wanted -= 1;
            }
        }
    }

    /// Whether `key` is stored (live or stale) with a TTL: a volatile eviction candidate still is one.
    pub fn holds_volatile(&self, key: &[u8]) -> bool {
        self.find_raw(key).is_some_and(Entry::has_expire)
    }

    /// Deletes `key` whether or not its TTL has passed (eviction, which chose it by sampling); returns its value.
    pub fn evict(&mut self, key: &[u8]) -> Option<Value> {
        if self.len == 0 {
            return None;
        }
        let hash = self.hash(key);
        self.remove_hashed(hash, key).map(|(entry, _)| entry.value)
    }

    /// Samples up to `samples` keys that have a TTL and deletes the stale ones; returns (sampled, deleted).
    /// This is one round of the active expiry cycle.
    pub fn expire_round(&mut self, rng: &mut Rng, samples: usize, now_ms: i64) -> (usize, usize) {
        let mut deleted = 0;
        let sampled = samples.min(self.expiring.len());
        for _ in 0..sampled {
            if self.expiring.is_empty() {
                break;
            }
            let slot = rng.below(self.expiring.len());
            if self.expiring.deadline(slot) > now_ms {
                continue;
            }
            let handle = self.expiring.handle(slot);
            let hash = self.hash(&self.slab.get(handle).key);
            let found = self.shards[shard_of(hash)].find_entry(hash, |&h| h == handle);
            found.unwrap_or_else(|_| panic!("every expires slot names a stored record")).remove();
            let (entry, _) = self.remove_record(hash, handle);
            self.expired_count += 1;
            self.log_expired(&entry.key);
            self.free_expired(Some(entry));
            deleted += 1;
        }
        (sampled, deleted)
    }

    /// Asserts the expires/entries cross-links; for tests.
    pub fn check_invariants(&self) {
        let mut with_ttl = 0;
        let mut total = 0;
        for shard in &self.shards {
            for &handle in shard.iter() {
                let e = self.slab.get(handle);
                total += 1;
                if e.expire_slot != NO_EXPIRE {
                    with_ttl += 1;
                    assert_eq!(self.expiring.handle(e.expire_slot as usize), handle);
                }
            }
        }
        assert_eq!(total, self.len);
        assert_eq!(self.slab.records(), self.len);
        assert_eq!(with_ttl, self.expiring.len());
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

    /// Applies the config's policy to every database (at start, after CONFIG SET, after a load).
    pub fn configure(&mut self, policy: Policy) {
        for db in &mut self.dbs {
            db.policy = policy;
        }
    }

    /// Holds (or releases) the deletion of expired keys in every database, for CLIENT PAUSE.
    pub fn pause_expiry(&mut self, paused: bool) {
        for db in &mut self.dbs {
            db.expiry_paused = paused;
        }
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
    fn records_and_table_slots_stay_small() {
        // Inline key (24) + value (24) + expiring slot and access word (4 + 4): 56 bytes, 256 to a 14 KiB page
        // (see `slab`). Growing this by 8 bytes costs every key 8 more; a table slot is a 4-byte handle.
        assert_eq!(size_of::<Entry>(), 56);
        assert_eq!(size_of::<Handle>(), 4);
    }

    #[test]
    fn lookups_stamp_access_time_unless_peeking() {
        let mut db = Db::default();
        db.set(b"k", Value::Int(1), false, 10_000);
        let idle_s = |db: &mut Db, now_ms| access::lru_idle_s(db.peek(b"k", now_ms).unwrap().access_word(), now_ms);
        assert_eq!(idle_s(&mut db, 15_900), 5);
        assert_eq!(db.expire_at(b"k", 16_000), Some(None));
        assert!(db.contains(b"k", 16_000));
        assert_eq!(idle_s(&mut db, 17_000), 7);
        db.get(b"k", 17_000);
        assert_eq!(idle_s(&mut db, 19_999), 2);
        // A new key is stamped with the lookup that found it absent.
        assert!(db.get(b"new", 30_000).is_none());
        db.insert_new(b"new", Value::Int(2));
        assert_eq!(access::lru_idle_s(db.peek(b"new", 31_000).unwrap().access_word(), 31_000), 1);
    }

    #[test]
    fn access_words_follow_the_policy() {
        let now = 60_000_000;
        let mut db = Db::default();
        db.policy.access.lfu = true;
        db.set(b"k", Value::Int(1), false, now);
        let word = |db: &mut Db| db.peek(b"k", now).unwrap().access_word();
        let freq = |db: &mut Db| access::lfu_freq(word(db), now, db.policy.access);
        assert_eq!(freq(&mut db), access::LFU_INIT_VAL);
        for _ in 0..50 {
            db.get(b"k", now);
        }
        assert!(freq(&mut db) > access::LFU_INIT_VAL, "reads count");
        // RESTORE's FREQ applies under LFU and IDLETIME is ignored; the reverse under any other policy.
        let restore = |db: &mut Db, idle_s, freq| {
            db.remove(b"k", now);
            let access = db.access_word_of(idle_s, freq, now);
            assert!(db.insert_absent(b"k", Value::Int(1), None, access));
        };
        restore(&mut db, Some(100), Some(42));
        assert_eq!(freq(&mut db), 42);
        assert_eq!(db.access_word_of(Some(100), None, now), None, "no frequency for an LFU policy");
        db.policy.access.lfu = false;
        restore(&mut db, Some(100), Some(42));
        assert_eq!(access::lru_idle_s(word(&mut db), now), 100);
        assert!(!db.insert_absent(b"k", Value::Int(2), None, None), "stored already");
    }

    #[test]
    fn deleting_keys_gives_table_memory_back() {
        let mut db = Db::default();
        db.insert_new(b"first", Value::Int(1));
        let (empty_main, _) = db.table_bytes();
        for i in 0..50_000u32 {
            db.insert_new(i.to_string().as_bytes(), Value::Int(1));
        }
        assert!(db.table_bytes().0 > empty_main + 50_000 * size_of::<Handle>());
        for i in 0..50_000u32 {
            assert!(db.evict(i.to_string().as_bytes()).is_some());
        }
        db.check_invariants();
        assert!(db.table_bytes().0 < empty_main + 4096, "{} left of {empty_main}", db.table_bytes().0);
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
            for i in 0..1034u32 {
                db.insert_new(i.to_string().as_bytes(), Value::Int(1));
                db.set_expire(i.to_string().as_bytes(), 1000, 0);
            }
            db.expired_count = 7;
            assert_eq!(db.flush(lazy), 1034);
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
