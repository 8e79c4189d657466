//! Blocked clients: per-(db, key) FIFO wait queues, the timeout index, and the keys made ready by writes.
//!
//! A client blocked on several keys has one node in each key's queue. Queues are doubly linked lists threaded
//! through one `Slab` of nodes, so parking a client and unlinking it (served, timed out, unblocked, killed or
//! disconnected) cost O(1) per key, whatever the number of other waiters. Deadlines sit in a `BTreeSet`
//! ordered by time, so the timer finds the next one at once. Pure bookkeeping: serving a ready key (re-running
//! the parked command) is the dispatcher's job (`cmd::blocking`).
//!
//! # Invariants
//! - A node is in exactly one queue, and the client it names has the node in its `Parked::nodes`.
//! - A queue exists only while it has nodes: no empty queue, no node, no deadline outlives its client's block.
//! - A (db, key) is in `ready` at most once.

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};
use slab::Slab;
use std::collections::BTreeSet;

use super::session::ClientId;
use crate::db::ValueType;

/// One database's key.
pub type DbKey = (usize, Bytes);

/// What a blocked client waits for; kept on the client while it is parked.
#[derive(Debug)]
pub struct Parked {
    pub db: usize,
    /// The value type that can serve the client: a key holding another type wakes nobody.
    pub kind: ValueType,
    /// Unix ms after which the client gets the timeout reply; `None` waits forever.
    pub deadline_ms: Option<i64>,
    /// This client's node in each key's queue, in the command's key order.
    nodes: Vec<usize>,
    /// The command to run again when a key becomes ready.
    pub argv: Vec<Bytes>,
}

/// What a blocked command waits for: a value of type `kind` at one of `keys` of database `db`, until
/// `deadline_ms` (unix ms; `None` waits forever).
#[derive(Debug, Clone, Copy)]
pub struct BlockTarget<'a> {
    pub db: usize,
    pub keys: &'a [Bytes],
    pub kind: ValueType,
    pub deadline_ms: Option<i64>,
}

#[derive(Debug)]
struct Node {
    /// Slab key of the blocked client.
    client: ClientId,
    queue: DbKey,
    prev: Option<usize>,
    next: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Queue {
    head: usize,
    tail: usize,
}

#[derive(Debug, Default)]
pub struct Blocking {
    /// Per database (grown on demand), the queue of each key with waiters; looked up by `&[u8]` without
    /// building a key.
    queues: Vec<HashMap<Bytes, Queue>>,
    /// Queues across all databases, so a write checks one integer when nobody is blocked.
    queues_len: usize,
    nodes: Slab<Node>,
    /// (deadline unix ms, client id, client slab key): ids make entries unique and order ties by arrival.
    deadlines: BTreeSet<(i64, u64, ClientId)>,
    ready: Vec<DbKey>,
    ready_set: HashSet<DbKey>,
    blocked_clients: usize,
}

impl Blocking {
    /// Parks client `client` (`id` its CLIENT ID) at the tail of each key's queue, to run `argv` again.
    pub fn park(&mut self, client: ClientId, id: u64, target: BlockTarget<'_>, argv: Vec<Bytes>) -> Parked {
        let BlockTarget { db, keys, kind, deadline_ms } = target;
        let mut nodes = Vec::with_capacity(keys.len());
        for key in keys {
            let queue_key = (db, key.clone());
            // BLPOP k k parks once on k, as Redis's dictAdd of the key into the client's set does.
            if nodes.iter().any(|&node: &usize| self.nodes[node].queue == queue_key) {
                continue;
            }
            nodes.push(self.push_node(client, queue_key));
        }
        if let Some(at) = deadline_ms {
            self.deadlines.insert((at, id, client));
        }
        self.blocked_clients += 1;
        Parked { db, kind, deadline_ms, nodes, argv }
    }

    /// Removes every trace of a parked client: its nodes and its deadline.
    pub fn unpark(&mut self, client: ClientId, id: u64, parked: Parked) {
        for node in parked.nodes {
            self.unlink(node);
        }
        if let Some(at) = parked.deadline_ms {
            self.deadlines.remove(&(at, id, client));
        }
        self.blocked_clients -= 1;
    }

    /// Records that `key` of `db` may now serve waiters, if anyone waits on it. O(1); called on every write.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.queues_len == 0 {
            return;
        }
        let Some((key, _)) = self.queues.get(db).and_then(|queues| queues.get_key_value(key)) else {
            return;
        };
        let ready = (db, key.clone());
        if self.ready_set.insert(ready.clone()) {
            self.ready.push(ready);
        }
    }

    /// Records that every key of `db` that has waiters may now serve them (SWAPDB, a database that changed as
    /// a whole).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<Bytes> = self.queues.get(db).map(|queues| queues.keys().cloned().collect()).unwrap_or_default();
        for key in keys {
            self.signal(db, &key);
        }
    }

    /// Takes the keys signalled so far, in signal order.
    pub fn take_ready(&mut self) -> Vec<DbKey> {
        self.ready_set.clear();
        std::mem::take(&mut self.ready)
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The longest-waiting client on `key`: (its node, its id).
    pub fn first_waiter(&self, key: &DbKey) -> Option<(usize, ClientId)> {
        let node = self.queue(key)?.head;
        Some((node, self.nodes[node].client))
    }

    /// The waiter after `node` in its queue. `node` must still be linked.
    pub fn next_waiter(&self, node: usize) -> Option<(usize, ClientId)> {
        let next = self.nodes[node].next?;
        Some((next, self.nodes[next].client))
    }

    /// The clients waiting on `key`, front (longest waiting) first.
    #[cfg(test)]
    pub fn waiters(&self, key: &DbKey) -> Vec<ClientId> {
        let mut clients = Vec::new();
        let mut next = self.queue(key).map(|queue| queue.head);
        while let Some(node) = next {
            clients.push(self.nodes[node].client);
            next = self.nodes[node].next;
        }
        clients
    }

    /// The earliest deadline, for the poll timeout.
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.first().map(|&(at, _, _)| at)
    }

    /// Clients whose deadline has passed at `now_ms`, earliest first; they stay parked until unparked. Passed
    /// means strictly before, as in Redis: `now_ms` is a whole millisecond, so a deadline of `at` fires only once
    /// the clock reads `at + 1`, never a fraction of a millisecond early.
    pub fn expired(&self, now_ms: i64) -> Vec<ClientId> {
        self.deadlines.iter().take_while(|&&(at, _, _)| at < now_ms).map(|&(_, _, client)| client).collect()
    }

    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.blocked_clients
    }

    /// Number of blocked clients with a deadline (INFO `clients_in_timeout_table`).
    pub fn clients_with_deadline(&self) -> usize {
        self.deadlines.len()
    }

    /// Number of keys with at least one waiter (leak checks in tests).
    pub fn keys_with_waiters(&self) -> usize {
        self.queues_len
    }

    /// Total entries held: nodes, queues and deadlines. Zero whenever no client is blocked.
    pub fn entries(&self) -> usize {
        self.nodes.len() + self.queues_len + self.deadlines.len()
    }

    fn queue(&self, (db, key): &DbKey) -> Option<&Queue> {
        self.queues.get(*db)?.get(key)
    }

    fn queue_mut(&mut self, (db, key): &DbKey) -> &mut Queue {
        self.queues[*db].get_mut(key).expect("a node's queue exists")
    }

    fn push_node(&mut self, client: ClientId, queue_key: DbKey) -> usize {
        let tail = self.queue(&queue_key).map(|queue| queue.tail);
        let node = self.nodes.insert(Node { client, queue: queue_key.clone(), prev: tail, next: None });
        match tail {
            Some(tail) => {
                self.nodes[tail].next = Some(node);
                self.queue_mut(&queue_key).tail = node;
            }
            None => {
                let (db, key) = queue_key;
                if self.queues.len() <= db {
                    self.queues.resize_with(db + 1, HashMap::new);
                }
                self.queues[db].insert(key, Queue { head: node, tail: node });
                self.queues_len += 1;
            }
        }
        node
    }

    fn unlink(&mut self, node: usize) {
        let Node { queue, prev, next, .. } = self.nodes.remove(node);
        match prev {
            Some(prev) => self.nodes[prev].next = next,
            None => match next {
                Some(next) => self.queue_mut(&queue).head = next,
                None => {
                    self.queues[queue.0].remove(&queue.1);
                    self.queues_len -= 1;
                }
            },
        }
        match (next, prev) {
            (Some(next), _) => self.nodes[next].prev = prev,
            (None, Some(prev)) => self.queue_mut(&queue).tail = prev,
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(keys: &[Bytes], deadline_ms: Option<i64>) -> BlockTarget<'_> {
        BlockTarget { db: 0, keys, kind: ValueType::List, deadline_ms }
    }

    fn keys(names: &[&str]) -> Vec<Bytes> {
        names.iter().map(|name| Bytes::copy_from_slice(name.as_bytes())).collect()
    }

    fn ids(indexes: &[usize]) -> Vec<ClientId> {
        indexes.iter().map(|&index| ClientId(index)).collect()
    }

    fn key(name: &str) -> DbKey {
        (0, Bytes::copy_from_slice(name.as_bytes()))
    }

    #[test]
    fn queues_are_fifo_and_unparking_leaves_nothing_behind() {
        let mut blocking = Blocking::default();
        let a = blocking.park(ClientId(1), 101, target(&keys(&["x", "y"]), Some(500)), Vec::new());
        let b = blocking.park(ClientId(2), 102, target(&keys(&["y"]), None), Vec::new());
        let c = blocking.park(ClientId(3), 103, target(&keys(&["y", "x", "y"]), Some(100)), Vec::new());
        assert_eq!(blocking.waiters(&key("x")), ids(&[1, 3]));
        assert_eq!(blocking.waiters(&key("y")), ids(&[1, 2, 3]));
        assert_eq!(blocking.next_deadline(), Some(100));
        assert_eq!(blocking.expired(500), ids(&[3]));
        assert_eq!(blocking.expired(501), ids(&[3, 1]));
        blocking.unpark(ClientId(2), 102, b);
        assert_eq!(blocking.waiters(&key("y")), ids(&[1, 3]));
        blocking.unpark(ClientId(1), 101, a);
        assert_eq!(blocking.waiters(&key("x")), ids(&[3]));
        assert_eq!(blocking.blocked_clients(), 1);
        blocking.unpark(ClientId(3), 103, c);
        assert_eq!(blocking.entries(), 0);
        assert_eq!(blocking.blocked_clients(), 0);
    }

    #[test]
    fn a_key_is_ready_once_and_only_with_waiters() {
        let mut blocking = Blocking::default();
        blocking.signal(0, b"x");
        assert!(!blocking.has_ready());
        let parked = blocking.park(ClientId(1), 1, target(&keys(&["x"]), None), Vec::new());
        blocking.signal(0, b"x");
        blocking.signal(0, b"x");
        blocking.signal(1, b"x");
        assert_eq!(blocking.take_ready(), [key("x")]);
        blocking.signal(0, b"x");
        assert!(blocking.has_ready());
        blocking.unpark(ClientId(1), 1, parked);
        assert_eq!(blocking.entries(), 0);
    }

    #[test]
    fn random_park_and_unpark_never_leaks() {
        let mut rng = crate::util::rng::Rng::new(3);
        let mut blocking = Blocking::default();
        let mut parked: Vec<(usize, Parked)> = Vec::new();
        let names = ["a", "b", "c", "d"];
        for step in 0..2000 {
            if parked.is_empty() || rng.below(2) == 0 {
                let chosen: Vec<&str> = (0..1 + rng.below(3)).map(|_| names[rng.below(names.len())]).collect();
                let deadline = (rng.below(2) == 0).then_some(rng.below(1000) as i64);
                parked.push((
                    step,
                    blocking.park(ClientId(step), step as u64, target(&keys(&chosen), deadline), Vec::new()),
                ));
            } else {
                let (client, entry) = parked.swap_remove(rng.below(parked.len()));
                blocking.unpark(ClientId(client), client as u64, entry);
            }
            let in_queues: usize = names.iter().map(|name| blocking.waiters(&key(name)).len()).sum();
            let expected: usize = parked.iter().map(|(_, p)| p.nodes.len()).sum();
            assert_eq!(in_queues, expected);
        }
        for (client, entry) in parked {
            blocking.unpark(ClientId(client), client as u64, entry);
        }
        assert_eq!(blocking.entries(), 0);
    }
}
