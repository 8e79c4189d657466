//! Which key to evict next (Redis's evict.c without its driving loop, which is `cmd::evict`): the
//! `maxmemory-policy` names, and the eviction pool of the best candidates seen so far.
//!
//! Redis approximates LRU, LFU and shortest-TTL-first by sampling: each pass takes `maxmemory-samples` random
//! keys from every database (all keys, or only those with a TTL for the volatile policies), scores them (idle
//! seconds, 255 minus the decayed LFU counter, or how soon the TTL ends) and merges them into a pool of the 16
//! best candidates across databases, kept between passes, so the approximation improves as evictions go on.
//! The best candidate still stored is evicted; one deleted meanwhile is dropped from the pool. The random
//! policies take one random key from the next database in turn.
//!
//! The pool keeps its key buffers when candidates leave it, so a steady state of evictions allocates nothing.

use super::{Keyspace, access};
use crate::util::rng::Rng;

/// Candidates kept between passes (Redis's EVPOOL_SIZE).
pub const EVPOOL_SIZE: usize = 16;

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvictionPolicy {
    #[default]
    NoEviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl EvictionPolicy {
    /// The policy a `maxmemory-policy` value names (the config table has checked it is one of them).
    pub fn from_name(name: &str) -> EvictionPolicy {
        match name {
            "allkeys-lru" => EvictionPolicy::AllkeysLru,
            "allkeys-lfu" => EvictionPolicy::AllkeysLfu,
            "allkeys-random" => EvictionPolicy::AllkeysRandom,
            "volatile-lru" => EvictionPolicy::VolatileLru,
            "volatile-lfu" => EvictionPolicy::VolatileLfu,
            "volatile-random" => EvictionPolicy::VolatileRandom,
            "volatile-ttl" => EvictionPolicy::VolatileTtl,
            _ => EvictionPolicy::NoEviction,
        }
    }

    /// Whether access words are LFU counters under this policy (MAXMEMORY_FLAG_LFU).
    pub fn is_lfu(self) -> bool {
        matches!(self, EvictionPolicy::AllkeysLfu | EvictionPolicy::VolatileLfu)
    }

    /// Whether the policy reads access words (LRU or LFU), so small integers cannot be shared objects.
    pub fn tracks_access(self) -> bool {
        matches!(
            self,
            EvictionPolicy::AllkeysLru
                | EvictionPolicy::AllkeysLfu
                | EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileLfu
        )
    }

    /// Whether only keys with a TTL may be evicted.
    fn volatile(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileLfu
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
        )
    }

    fn random(self) -> bool {
        matches!(self, EvictionPolicy::AllkeysRandom | EvictionPolicy::VolatileRandom)
    }
}

/// What one choice of a key to evict goes by: the policy, `maxmemory-samples`, and the time idle times are
/// measured at.
#[derive(Debug, Clone, Copy)]
pub struct Pick {
    pub policy: EvictionPolicy,
    pub samples: usize,
    pub now_ms: i64,
}

#[derive(Debug)]
struct Candidate {
    /// Higher is evicted first.
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// The pool of best candidates, and the turn of the random policies.
#[derive(Debug, Default)]
pub struct EvictionPool {
    /// Sorted by ascending score: the best candidate is last.
    candidates: Vec<Candidate>,
    /// Key buffers of candidates that left, reused for the next ones.
    spare: Vec<Vec<u8>>,
    /// The database the random policies look at next.
    next_db: usize,
}

impl EvictionPool {
    /// The next key to evict under `policy`, sampling `samples` keys per database, as (database, key), or
    /// `None` if no key may be evicted.
    pub fn best_key(&mut self, keyspace: &Keyspace, pick: Pick, rng: &mut Rng) -> Option<(usize, Vec<u8>)> {
        match pick.policy {
            EvictionPolicy::NoEviction => None,
            policy if policy.random() => self.random_key(keyspace, policy.volatile(), rng),
            _ => self.pooled_key(keyspace, pick, rng),
        }
    }

    /// Hands back the key buffer of an evicted key, so the pool can reuse it.
    pub fn recycle(&mut self, mut key: Vec<u8>) {
        if self.spare.len() < EVPOOL_SIZE {
            key.clear();
            self.spare.push(key);
        }
    }

    /// Forgets every candidate (the databases were flushed or swapped, so the pool names other keys now).
    pub fn clear(&mut self) {
        while let Some(candidate) = self.candidates.pop() {
            self.recycle(candidate.key);
        }
    }

    fn random_key(&mut self, keyspace: &Keyspace, volatile: bool, rng: &mut Rng) -> Option<(usize, Vec<u8>)> {
        let dbs = keyspace.dbs.len();
        for _ in 0..dbs {
            self.next_db = (self.next_db + 1) % dbs;
            let mut picked = None;
            keyspace.dbs[self.next_db].sample(rng, 1, volatile, |key, _, _| picked = Some(key.to_vec()));
            if let Some(key) = picked {
                return Some((self.next_db, key));
            }
        }
        None
    }

    /// evictionPoolPopulate over every database, then the best candidate still stored; repeats while every
    /// candidate turned out deleted, and gives up when no database has a key to sample.
    fn pooled_key(&mut self, keyspace: &Keyspace, pick: Pick, rng: &mut Rng) -> Option<(usize, Vec<u8>)> {
        let Pick { policy, samples, now_ms } = pick;
        let volatile = policy.volatile();
        let access = keyspace.dbs.first().map(|db| db.policy.access).unwrap_or_default();
        loop {
            let mut sampled_any = false;
            for (index, db) in keyspace.dbs.iter().enumerate() {
                let keys = if volatile { db.expires_len() } else { db.len() };
                if keys == 0 {
                    continue;
                }
                sampled_any = true;
                db.sample(rng, samples, volatile, |key, word, deadline| {
                    let score = match policy {
                        EvictionPolicy::VolatileTtl => u64::MAX - deadline.unwrap_or(0).max(0) as u64,
                        _ => access::eviction_score(access, word, now_ms),
                    };
                    self.offer(score, index, key);
                });
            }
            if !sampled_any {
                return None;
            }
            while let Some(best) = self.candidates.pop() {
                let db = &keyspace.dbs[best.db];
                let stored = if volatile { db.holds_volatile(&best.key) } else { db.holds(&best.key) };
                if stored {
                    return Some((best.db, best.key));
                }
                self.recycle(best.key);
            }
        }
    }

    /// Puts a sampled key in the pool if it beats the worst candidate or there is room (the insertion of
    /// evictionPoolPopulate: when full, the worst candidate leaves).
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        let at = self.candidates.partition_point(|c| c.score < score);
        let at = if self.candidates.len() < EVPOOL_SIZE {
            at
        } else if at == 0 {
            return;
        } else {
            let worst = self.candidates.remove(0);
            self.recycle(worst.key);
            at - 1
        };
        let mut buffer = self.spare.pop().unwrap_or_default();
        buffer.extend_from_slice(key);
        self.candidates.insert(at, Candidate { score, db, key: buffer });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Policy, Value};

    fn keyspace_with(keys: u32, ttl_every: u32) -> Keyspace {
        let mut keyspace = Keyspace::new(2);
        for i in 0..keys {
            let key = format!("k{i}");
            let db = &mut keyspace.dbs[(i % 2) as usize];
            // Key i was last used at second i: the lower, the idler.
            db.get(b"-", i64::from(i) * 1000);
            db.insert_new(key.as_bytes(), Value::Int(1));
            if ttl_every > 0 && i % ttl_every == 0 {
                db.set_expire(key.as_bytes(), 1_000_000 + i64::from(keys - i), i64::from(i) * 1000);
            }
        }
        keyspace
    }

    fn evict_all(keyspace: &mut Keyspace, policy: EvictionPolicy, samples: usize) -> Vec<String> {
        let mut pool = EvictionPool::default();
        let mut rng = Rng::new(5);
        let mut order = Vec::new();
        let now_ms = 10_000_000;
        while let Some((db, key)) = pool.best_key(keyspace, Pick { policy, samples, now_ms }, &mut rng) {
            assert!(keyspace.dbs[db].evict(&key).is_some());
            order.push(String::from_utf8(key).unwrap());
        }
        order
    }

    fn index(key: &str) -> u32 {
        key[1..].parse().unwrap()
    }

    #[test]
    fn names_and_flags() {
        assert_eq!(EvictionPolicy::from_name("volatile-ttl"), EvictionPolicy::VolatileTtl);
        assert_eq!(EvictionPolicy::from_name("noeviction"), EvictionPolicy::NoEviction);
        assert!(EvictionPolicy::from_name("allkeys-lfu").is_lfu());
        assert!(!EvictionPolicy::AllkeysLru.is_lfu());
    }

    #[test]
    fn lru_evicts_idle_keys_first() {
        let mut keyspace = keyspace_with(2000, 0);
        let order = evict_all(&mut keyspace, EvictionPolicy::AllkeysLru, 10);
        assert_eq!(order.len(), 2000);
        // The first tenth evicted is far idler than average: sampling approximates LRU.
        let early: u32 = order[..200].iter().map(|k| index(k)).sum::<u32>() / 200;
        assert!(early < 400, "mean index of the first evicted: {early}");
    }

    #[test]
    fn volatile_policies_never_touch_keys_without_ttl() {
        for policy in [EvictionPolicy::VolatileLru, EvictionPolicy::VolatileRandom, EvictionPolicy::VolatileTtl] {
            let mut keyspace = keyspace_with(300, 3);
            let order = evict_all(&mut keyspace, policy, 5);
            assert_eq!(order.len(), 100, "{policy:?}");
            assert!(order.iter().all(|k| index(k).is_multiple_of(3)), "{policy:?}");
            assert_eq!(keyspace.dbs[0].len() + keyspace.dbs[1].len(), 200);
        }
    }

    #[test]
    fn volatile_ttl_evicts_the_nearest_deadline_first() {
        // Deadlines shrink as the index grows, so the highest indexes go first.
        let mut keyspace = keyspace_with(400, 1);
        let order = evict_all(&mut keyspace, EvictionPolicy::VolatileTtl, 10);
        let early: u32 = order[..40].iter().map(|k| index(k)).sum::<u32>() / 40;
        assert!(early > 320, "mean index of the first evicted: {early}");
    }

    #[test]
    fn lfu_evicts_rarely_used_keys_first() {
        let mut keyspace = keyspace_with(0, 0);
        let lfu = Policy { access: access::AccessPolicy { lfu: true, ..Default::default() }, ..Default::default() };
        keyspace.configure(lfu);
        let now_ms = 10_000_000;
        for i in 0..200u32 {
            let key = format!("k{i}");
            keyspace.dbs[0].get(b"-", now_ms);
            keyspace.dbs[0].insert_new(key.as_bytes(), Value::Int(1));
            // Keys 100.. are read 300 times each.
            for _ in 0..if i >= 100 { 300 } else { 0 } {
                keyspace.dbs[0].get(key.as_bytes(), now_ms);
            }
        }
        let order = evict_all(&mut keyspace, EvictionPolicy::AllkeysLfu, 10);
        let early_cold = order[..80].iter().filter(|k| index(k) < 100).count();
        assert!(early_cold >= 75, "{early_cold} of the first 80 evicted were cold");
    }

    #[test]
    fn nothing_to_evict() {
        let mut keyspace = keyspace_with(10, 0);
        assert!(evict_all(&mut keyspace, EvictionPolicy::VolatileLru, 5).is_empty());
        assert!(evict_all(&mut keyspace, EvictionPolicy::NoEviction, 5).is_empty());
        assert_eq!(evict_all(&mut keyspace, EvictionPolicy::AllkeysRandom, 5).len(), 10);
    }
}
