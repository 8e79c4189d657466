//! A stream's consumer group (Redis's streamCG): the last delivered ID, the entries-read counter, the
//! pending entries list (PEL: delivered, not yet acknowledged) and the consumers, each with its own PEL.
//!
//! The group's PEL owns every pending entry (`Nack`, naming its consumer); a consumer's PEL is the set of
//! IDs it owns, so XPENDING by consumer and XACK are both ordered-map operations, as in Redis's two rax.

use std::collections::{BTreeMap, BTreeSet};

use super::stream_object::StreamId;

/// `entries-read` when it cannot be known (SCG_INVALID_ENTRIES_READ).
pub const ENTRIES_READ_UNKNOWN: i64 = -1;

/// One delivered, unacknowledged entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// When it was last delivered (unix ms).
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Box<[u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// When the consumer last read or claimed (unix ms).
    pub seen_time: i64,
    pub pending: BTreeSet<StreamId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, ..Group::default() }
    }

    /// Marks the consumer `name` seen now (streamLookupConsumer's refresh), creating it if missing; true if it
    /// was created, which callers announce as `xgroup-createconsumer`.
    pub fn consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        if let Some(consumer) = self.consumers.get_mut(name) {
            consumer.seen_time = now_ms;
            return false;
        }
        self.consumers.insert(name.into(), Consumer { seen_time: now_ms, ..Consumer::default() });
        true
    }

    /// Records `id` as delivered to `consumer` now: a new pending entry, or one moved to `consumer` with its
    /// delivery count raised (XREADGROUP history, XCLAIM).
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64, count_delivery: bool) {
        if let Some(nack) = self.pel.get_mut(&id) {
            if *nack.consumer != *consumer {
                if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                    old.pending.remove(&id);
                }
                nack.consumer = consumer.into();
            }
            nack.delivery_time = now_ms;
            if count_delivery {
                nack.delivery_count += 1;
            }
        } else {
            self.pel.insert(id, Nack { delivery_time: now_ms, delivery_count: 1, consumer: consumer.into() });
        }
        if let Some(owner) = self.consumers.get_mut(consumer) {
            owner.pending.insert(id);
        }
    }

    /// Records `id`, read as a new entry, as delivered to `consumer` once now; an entry still pending for
    /// someone (after XGROUP SETID moved the group back) changes owner and restarts its count.
    pub fn deliver_fresh(&mut self, id: StreamId, consumer: &[u8], now_ms: i64) {
        self.ack(id);
        self.deliver(id, consumer, now_ms, true);
    }

    /// Acknowledges `id`; false if it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else { return false };
        if let Some(owner) = self.consumers.get_mut(&nack.consumer) {
            owner.pending.remove(&id);
        }
        true
    }

    /// Deletes consumer `name` and its pending entries, returning how many were pending; `None` if missing.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pending {
            self.pel.remove(id);
        }
        Some(consumer.pending.len())
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        let nack = size_of::<StreamId>() + size_of::<Nack>() + 32;
        let consumers: usize =
            self.consumers.iter().map(|(name, c)| name.len() + size_of::<Consumer>() + c.pending.len() * 24).sum();
        size_of::<Group>() + self.pel.len() * nack + consumers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliver_moves_ownership_and_ack_forgets() {
        let mut group = Group::new(StreamId::MIN, 0);
        let id = StreamId::new(1, 0);
        group.consumer(b"a", 5);
        group.consumer(b"b", 5);
        group.deliver(id, b"a", 10, true);
        group.deliver(id, b"b", 20, true);
        assert_eq!(group.pel[&id].delivery_count, 2);
        assert!(group.consumers[&b"a"[..]].pending.is_empty());
        assert!(group.consumers[&b"b"[..]].pending.contains(&id));
        assert!(group.ack(id));
        assert!(!group.ack(id));
        assert!(group.consumers[&b"b"[..]].pending.is_empty());
        group.deliver(id, b"a", 30, true);
        assert_eq!(group.delete_consumer(b"a"), Some(1));
        assert!(group.pel.is_empty());
    }
}
