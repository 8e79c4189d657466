//! WATCH bookkeeping: which clients watch which (db, key).
//!
//! The map from key to watchers lets a write invalidate exactly the transactions that watch its key, in O(1)
//! when nobody watches it; each client keeps its own list (`Client::watched`) for UNWATCH, EXEC and
//! disconnects. Pure bookkeeping: marking clients dirty is `cmd::tx`'s job.
//!
//! # Invariant
//! A client is listed under (db, key) exactly when that key is in its `watched` list.

use bytes::Bytes;
use hashbrown::HashMap;

use super::session::ClientId;

#[derive(Debug, Default)]
pub struct Watches {
    /// Per database (grown on demand): key → watching clients.
    by_db: Vec<HashMap<Bytes, Vec<ClientId>>>,
    /// Watched (db, key) pairs across all databases, so writes check one integer when nobody watches.
    len: usize,
}

impl Watches {
    /// Adds `client` as a watcher of `key`; false if it already watched it.
    pub fn add(&mut self, client: ClientId, db: usize, key: &Bytes) -> bool {
        if self.by_db.len() <= db {
            self.by_db.resize_with(db + 1, HashMap::new);
        }
        let watchers = self.by_db[db].entry(key.clone()).or_insert_with(|| {
            self.len += 1;
            Vec::new()
        });
        if watchers.contains(&client) {
            return false;
        }
        watchers.push(client);
        true
    }

    /// Removes `client` as a watcher of `key`.
    pub fn remove(&mut self, client: ClientId, db: usize, key: &[u8]) {
        let Some(keys) = self.by_db.get_mut(db) else { return };
        let Some(watchers) = keys.get_mut(key) else { return };
        watchers.retain(|&c| c != client);
        if watchers.is_empty() {
            keys.remove(key);
            self.len -= 1;
        }
    }

    /// The clients watching `key` of `db`.
    pub fn watchers(&self, db: usize, key: &[u8]) -> &[ClientId] {
        if self.len == 0 {
            return &[];
        }
        self.by_db.get(db).and_then(|keys| keys.get(key)).map_or(&[], Vec::as_slice)
    }

    /// Every watched key of `db` with its watchers.
    pub fn in_db(&self, db: usize) -> impl Iterator<Item = (&Bytes, &[ClientId])> {
        self.by_db.get(db).into_iter().flatten().map(|(key, watchers)| (key, watchers.as_slice()))
    }

    /// Whether anyone watches a key of `db`.
    pub fn any_in(&self, db: usize) -> bool {
        self.by_db.get(db).is_some_and(|keys| !keys.is_empty())
    }

    /// Watched (db, key) pairs; zero once every watcher has unwatched.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_remove_leave_no_empty_entries() {
        let mut watches = Watches::default();
        let key = Bytes::from_static(b"k");
        assert!(watches.add(ClientId(1), 0, &key));
        assert!(!watches.add(ClientId(1), 0, &key));
        assert!(watches.add(ClientId(2), 0, &key));
        assert!(watches.add(ClientId(2), 3, &key));
        assert_eq!(watches.watchers(0, b"k"), [ClientId(1), ClientId(2)]);
        assert_eq!(watches.watchers(1, b"k"), [] as [ClientId; 0]);
        watches.remove(ClientId(1), 0, b"k");
        watches.remove(ClientId(2), 0, b"k");
        assert!(!watches.any_in(0));
        assert_eq!(watches.len(), 1);
        watches.remove(ClientId(2), 3, b"k");
        assert!(watches.is_empty());
    }
}
