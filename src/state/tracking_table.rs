//! Client-side caching's server half (Redis's `tracking.c` tables): which clients may hold which keys, which
//! clients follow which BCAST prefixes, and each tracking client's options. Pure structure: sending the
//! invalidation messages is `cmd::tracking`'s job.
//!
//! The key table maps a key name (all databases share it, as in Redis) to the clients that read it while
//! tracking. A client is named by its slot and its CLIENT ID together, so a slot reused by a later client is
//! never mistaken for the one that read the key; entries of clients that turned tracking off or left are
//! dropped lazily, when the key is invalidated, as Redis does (a client leaving costs nothing here). The keys
//! are also kept in a dense vector, so `tracking-table-max-keys` can evict a random one in O(1).
//!
//! The prefix table maps each BCAST prefix to its clients and to the keys under it changed since the last
//! broadcast (with the client that changed each last, for NOLOOP). A key is matched against the prefixes by
//! looking up each of its own prefixes whose length some registered prefix has, so the cost is one lookup per
//! distinct prefix length, not one comparison per prefix.
//!
//! # Invariants
//! - `total_items` is the sum of the clients listed under every key (INFO `tracking_total_items`).
//! - `order[keys[k].index] == k` for every key `k`.
//! - A session is listed under a prefix exactly when its `ClientTracking::prefixes` has it, and a prefix
//!   with no client does not exist; `lengths` counts the prefixes of each length.

use bytes::Bytes;
use hashbrown::HashMap;
use std::collections::{BTreeMap, BTreeSet};

use super::session::{ClientId, Sessions};

/// A tracking client's options (CLIENT TRACKING ON ...), kept in its `Session` while tracking is on.
#[derive(Debug, Clone, Default)]
pub struct ClientTracking {
    /// The CLIENT ID invalidations go to, 0 for the client itself; its slot once resolved.
    pub redirect: u64,
    pub redirect_slot: Option<ClientId>,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES (under OPTIN) or NO (under OPTOUT) was given for the next command.
    pub caching: bool,
    /// The redirect client was gone when an invalidation was due (CLIENT LIST flag `R`).
    pub broken_redirect: bool,
    /// BCAST prefixes, in byte order as Redis's rax lists them.
    pub prefixes: BTreeSet<Bytes>,
}

/// The clients of one BCAST prefix and the keys under it changed since the last broadcast.
#[derive(Debug, Default)]
pub struct Bcast {
    pub clients: Vec<ClientId>,
    /// Changed keys in byte order, each with the session that changed it last.
    pub keys: BcastKeys,
}

/// Keys changed under a prefix, each with the session that changed it last (`None`: expiry, eviction).
pub type BcastKeys = BTreeMap<Bytes, Option<ClientId>>;

/// One remembered key: its place in `order` and the clients that read it.
#[derive(Debug)]
struct Readers {
    index: usize,
    clients: Vec<(ClientId, u64)>,
}

/// An invalidation for the client whose command is running, sent after its reply: a key, or `None` for
/// "every key" (a flush).
pub type Pending = (ClientId, Option<Bytes>);

/// The tracking tables and counters.
#[derive(Debug, Default)]
pub struct TrackingTable {
    keys: HashMap<Bytes, Readers>,
    order: Vec<Bytes>,
    total_items: u64,
    pub prefixes: BTreeMap<Bytes, Bcast>,
    lengths: BTreeMap<usize, usize>,
    /// Sessions with tracking on (INFO `tracking_clients`); while 0, no command pays for tracking.
    pub clients: usize,
    /// Invalidations for the running command's own client, sent when its call ends (after its reply).
    pub pending: Vec<Pending>,
    /// How many passes of the table bound in a row ended still over the bound (each tries 100 more keys).
    pub over_limit_rounds: u32,
    /// Some script command read keys while the script runs: the script's declared keys are remembered
    /// when it ends (Redis remembers the caller's keys on every read command of a script).
    pub script_read: bool,
    /// The invalidation frame being built, reused from one message to the next.
    pub frame: Vec<u8>,
}

impl TrackingTable {
    /// Whether a changed key can concern anyone: the key table or the prefix table is not empty.
    #[inline]
    pub fn is_active(&self) -> bool {
        !self.keys.is_empty() || !self.prefixes.is_empty()
    }

    /// Remembers that `client` (slot and CLIENT ID) may cache `key`.
    pub fn remember(&mut self, key: &[u8], client: (ClientId, u64)) {
        if let Some(readers) = self.keys.get_mut(key) {
            if !readers.clients.contains(&client) {
                readers.clients.push(client);
                self.total_items += 1;
            }
            return;
        }
        let key = Bytes::copy_from_slice(key);
        self.keys.insert(key.clone(), Readers { index: self.order.len(), clients: vec![client] });
        self.order.push(key);
        self.total_items += 1;
    }

    /// Forgets `key`, returning the clients that had read it.
    pub fn take(&mut self, key: &[u8]) -> Option<Vec<(ClientId, u64)>> {
        let (_, readers) = self.keys.remove_entry(key)?;
        self.order.swap_remove(readers.index);
        if let Some(moved) = self.order.get(readers.index) {
            self.keys.get_mut(&moved[..]).expect("every ordered key is in the table").index = readers.index;
        }
        self.total_items -= readers.clients.len() as u64;
        Some(readers.clients)
    }

    /// The key at `index` of the dense order (for a random pick), if any.
    pub fn key_at(&self, index: usize) -> Option<&Bytes> {
        self.order.get(index)
    }

    /// Forgets every key (FLUSHALL, FLUSHDB: Redis empties the whole table either way).
    pub fn clear_keys(&mut self) {
        self.keys.clear();
        self.order.clear();
        self.total_items = 0;
    }

    pub fn total_keys(&self) -> usize {
        self.keys.len()
    }

    pub fn total_items(&self) -> u64 {
        self.total_items
    }

    /// Registers `client` under BCAST `prefix`; false if it already was.
    pub fn add_prefix(&mut self, prefix: &Bytes, client: ClientId) -> bool {
        let bcast = match self.prefixes.get_mut(&prefix[..]) {
            Some(bcast) => bcast,
            None => {
                *self.lengths.entry(prefix.len()).or_insert(0) += 1;
                self.prefixes.entry(prefix.clone()).or_default()
            }
        };
        if bcast.clients.contains(&client) {
            return false;
        }
        bcast.clients.push(client);
        true
    }

    /// Takes `client` off BCAST `prefix`, dropping the prefix with its last client.
    pub fn remove_prefix(&mut self, prefix: &[u8], client: ClientId) {
        let Some(bcast) = self.prefixes.get_mut(prefix) else { return };
        bcast.clients.retain(|&c| c != client);
        if bcast.clients.is_empty() {
            self.prefixes.remove(prefix);
            if let Some(count) = self.lengths.get_mut(&prefix.len()) {
                *count -= 1;
                if *count == 0 {
                    self.lengths.remove(&prefix.len());
                }
            }
        }
    }

    /// Notes `key`, changed by `modifier`, under every prefix it starts with, for the next broadcast.
    pub fn mark_for_broadcast(&mut self, key: &[u8], modifier: Option<ClientId>) {
        for &len in self.lengths.keys() {
            if len > key.len() {
                break;
            }
            if let Some(bcast) = self.prefixes.get_mut(&key[..len]) {
                match bcast.keys.get_mut(key) {
                    Some(last) => *last = modifier,
                    None => {
                        bcast.keys.insert(Bytes::copy_from_slice(key), modifier);
                    }
                }
            }
        }
    }
}

/// Turns tracking off for session `id` (CLIENT TRACKING OFF, disconnection): its BCAST prefixes are
/// released at once, its keys in the key table lazily.
pub fn disable(table: &mut TrackingTable, sessions: &mut Sessions, id: ClientId) {
    let Some(tracking) = sessions[id].tracking.take() else { return };
    for prefix in &tracking.prefixes {
        table.remove_prefix(prefix, id);
    }
    table.clients -= 1;
}

/// Whether two prefixes would both cover some key (one starts with the other), Redis's stringCheckPrefix.
pub fn prefixes_overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_counts_and_dense_order_stay_consistent() {
        let mut table = TrackingTable::default();
        let (a, b) = ((ClientId(1), 10), (ClientId(2), 20));
        table.remember(b"k1", a);
        table.remember(b"k1", a);
        table.remember(b"k1", b);
        table.remember(b"k2", a);
        table.remember(b"k3", b);
        assert_eq!((table.total_keys(), table.total_items()), (3, 4));
        assert_eq!(table.take(b"k1"), Some(vec![a, b]));
        assert_eq!(table.take(b"k1"), None);
        assert_eq!((table.total_keys(), table.total_items()), (2, 2));
        for index in 0..2 {
            let key = table.key_at(index).unwrap().clone();
            assert_eq!(table.keys[&key].index, index);
        }
        table.clear_keys();
        assert!(!table.is_active() && table.key_at(0).is_none());
    }

    #[test]
    fn broadcast_marks_keys_under_every_matching_prefix() {
        let mut table = TrackingTable::default();
        let (c1, c2) = (ClientId(1), ClientId(2));
        assert!(table.add_prefix(&Bytes::from_static(b"a:"), c1));
        assert!(!table.add_prefix(&Bytes::from_static(b"a:"), c1));
        table.add_prefix(&Bytes::from_static(b""), c2);
        table.mark_for_broadcast(b"a:1", Some(c1));
        table.mark_for_broadcast(b"b", None);
        table.mark_for_broadcast(b"a:1", None);
        assert_eq!(table.prefixes[&b"a:"[..]].keys.iter().collect::<Vec<_>>(), [(&Bytes::from_static(b"a:1"), &None)]);
        assert_eq!(table.prefixes[&b""[..]].keys.len(), 2);
        table.remove_prefix(b"a:", c1);
        table.remove_prefix(b"", c2);
        assert!(table.prefixes.is_empty() && table.lengths.is_empty());
    }

    #[test]
    fn overlap_is_one_prefix_of_the_other() {
        assert!(prefixes_overlap(b"FOO", b"FOOBAR") && prefixes_overlap(b"", b"x"));
        assert!(!prefixes_overlap(b"FOO", b"BAR"));
    }
}
