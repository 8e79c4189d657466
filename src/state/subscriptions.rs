//! The pub/sub registry (Redis's `server.pubsub_channels`, `pubsub_patterns`, `pubsubshard_channels`) and
//! each subscriber's own side of it (`Subscriptions`, on its `Session`), plus delivery of push frames into
//! other sessions' output buffers.
//!
//! API: `subscribe` / `unsubscribe` for the three kinds (`Kind`), `forget` (a closing session leaves every
//! list), `publish` (the frame once, then one copy into each receiver's buffer), and `Outbox`, which says
//! where a push for a session goes: straight into its `Reply`, or, for the session whose command is running
//! (its buffer is moved out for the call, see `cmd::call`), into `Outbox::caller_pushes`, which the call
//! merges into its reply, past CLIENT REPLY OFF as Redis's CLIENT_PUSHING does.
//!
//! # Invariants
//! - A session is listed under a channel (pattern, shard channel) exactly when its `Subscriptions` has it,
//!   and a registry entry with no subscriber does not exist (PUBSUB CHANNELS and NUMPAT count entries).
//! - A session's `subscriptions` is `Some` exactly when it has at least one subscription of any kind (Redis's
//!   CLIENT_PUBSUB flag), so `Session::is_subscribed` is one test.

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};

use super::session::{ClientId, Sessions};
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;

/// The three subscription kinds, each with its own registry and its own words in the push frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    /// The first element of a subscription confirmation.
    pub fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    /// The first element of an unsubscription confirmation.
    pub fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// One session's subscriptions.
#[derive(Debug, Default)]
pub struct Subscriptions {
    pub channels: HashSet<Bytes>,
    pub patterns: HashSet<Bytes>,
    pub shard_channels: HashSet<Bytes>,
}

impl Subscriptions {
    fn of(&mut self, kind: Kind) -> &mut HashSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// The count a (un)subscription confirmation carries: channels plus patterns, or shard channels alone
    /// (Redis's clientSubscriptionsCount / clientShardSubscriptionsCount).
    pub fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard_channels.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty()
    }
}

/// Subscribers of one channel or pattern, in subscription order (Redis 7.0 keeps a list, so delivery follows
/// that order). Unsubscribing is linear in the list, as in Redis.
type Subscribers = Vec<ClientId>;

/// Where pushes go while a command runs, and which sessions got output from another's command.
#[derive(Debug, Default)]
pub struct Outbox {
    /// The session whose command is running (its output buffer is out of its `Session`), if any.
    pub caller: Option<ClientId>,
    /// Whether that command's reply is dropped by CLIENT REPLY (pushes still go out).
    pub caller_muted: bool,
    /// Pushes for the caller, merged into its reply by `cmd::call`; `resp3` is the caller's protocol.
    pub caller_pushes: Reply,
    /// Sessions whose buffer went from empty to holding a push: the event loop queues them for a write.
    pub woken: Vec<ClientId>,
}

impl Outbox {
    /// Makes `id` the caller while its command runs; returns the previous caller's facts for `leave`.
    pub fn enter(&mut self, id: ClientId, muted: bool, resp3: bool) -> (Option<ClientId>, bool, bool) {
        debug_assert!(self.caller_pushes.buf.is_empty());
        let outer = (self.caller, self.caller_muted, self.caller_pushes.resp3);
        (self.caller, self.caller_muted, self.caller_pushes.resp3) = (Some(id), muted, resp3);
        outer
    }

    /// Restores what `enter` returned.
    pub fn leave(&mut self, outer: (Option<ClientId>, bool, bool)) {
        (self.caller, self.caller_muted, self.caller_pushes.resp3) = outer;
    }

    /// Moves the caller's pending pushes into `buf` at `at` (before the reply written from there on).
    pub fn insert_caller_pushes(&mut self, buf: &mut Vec<u8>, at: usize) {
        if !self.caller_pushes.buf.is_empty() {
            buf.splice(at..at, self.caller_pushes.buf.drain(..));
        }
    }

    /// Appends the caller's pending pushes to `buf`.
    pub fn take_caller_pushes(&mut self, buf: &mut Vec<u8>) {
        if !self.caller_pushes.buf.is_empty() {
            buf.append(&mut self.caller_pushes.buf);
        }
    }

    /// Writes `bytes` for session `to` as they are (MONITOR's lines).
    pub fn deliver_raw(&mut self, sessions: &mut Sessions, to: ClientId, bytes: &[u8]) {
        if self.caller == Some(to) {
            self.caller_pushes.buf.extend_from_slice(bytes);
            return;
        }
        let session = &mut sessions[to];
        if session.reply_pending() == 0 {
            self.woken.push(to);
        }
        session.reply.buf.extend_from_slice(bytes);
    }

    /// Writes one push frame for session `to`: `tail` is the frame without its type byte (`*` in RESP2,
    /// `>` in RESP3, the only difference between the two encodings of a message).
    fn deliver(&mut self, sessions: &mut Sessions, to: ClientId, tail: &[u8]) {
        if self.caller == Some(to) {
            let pushes = &mut self.caller_pushes;
            pushes.buf.push(if pushes.resp3 { b'>' } else { b'*' });
            pushes.buf.extend_from_slice(tail);
            return;
        }
        let session = &mut sessions[to];
        if session.reply_pending() == 0 {
            self.woken.push(to);
        }
        let reply = &mut session.reply;
        reply.buf.push(if reply.resp3 { b'>' } else { b'*' });
        reply.buf.extend_from_slice(tail);
    }
}

/// The server side of pub/sub.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: HashMap<Bytes, Subscribers>,
    patterns: HashMap<Bytes, Subscribers>,
    shard_channels: HashMap<Bytes, Subscribers>,
    /// The frame being published, reused from one PUBLISH to the next.
    frame: Vec<u8>,
}

impl PubSub {
    fn registry(&mut self, kind: Kind) -> &mut HashMap<Bytes, Subscribers> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// Subscribes session `id` to `name` (a channel, pattern or shard channel); false if it already was.
    pub fn subscribe(&mut self, sessions: &mut Sessions, id: ClientId, kind: Kind, name: &Bytes) -> bool {
        let subscriptions = sessions[id].subscriptions.get_or_insert_with(Box::default);
        if !subscriptions.of(kind).insert(name.clone()) {
            return false;
        }
        match self.registry(kind).get_mut(&name[..]) {
            Some(subscribers) => subscribers.push(id),
            None => {
                self.registry(kind).insert(name.clone(), vec![id]);
            }
        }
        true
    }

    /// Unsubscribes session `id` from `name`; false if it was not subscribed.
    pub fn unsubscribe(&mut self, sessions: &mut Sessions, id: ClientId, kind: Kind, name: &[u8]) -> bool {
        let session = &mut sessions[id];
        let Some(subscriptions) = session.subscriptions.as_mut() else { return false };
        if !subscriptions.of(kind).remove(name) {
            return false;
        }
        if subscriptions.is_empty() {
            session.subscriptions = None;
        }
        self.unlist(kind, name, id);
        true
    }

    /// Removes `id` from the registry's list for `name`, and the entry if it was the last subscriber.
    fn unlist(&mut self, kind: Kind, name: &[u8], id: ClientId) {
        let registry = self.registry(kind);
        let subscribers = registry.get_mut(name).expect("a subscription is listed in the registry");
        let at = subscribers.iter().position(|&s| s == id).expect("the subscriber is in the list");
        subscribers.remove(at);
        if subscribers.is_empty() {
            registry.remove(name);
        }
    }

    /// The names session `id` is subscribed to with `kind`, for an unsubscribe-all (in the set's order, as
    /// Redis walks its dict).
    pub fn names_of(sessions: &Sessions, id: ClientId, kind: Kind) -> Vec<Bytes> {
        match &sessions[id].subscriptions {
            Some(subscriptions) => {
                let set = match kind {
                    Kind::Channel => &subscriptions.channels,
                    Kind::Pattern => &subscriptions.patterns,
                    Kind::Shard => &subscriptions.shard_channels,
                };
                set.iter().cloned().collect()
            }
            None => Vec::new(),
        }
    }

    /// Takes a closing session out of every list, without confirmations.
    pub fn forget(&mut self, sessions: &mut Sessions, id: ClientId) {
        let Some(subscriptions) = sessions[id].subscriptions.take() else { return };
        let Subscriptions { channels, patterns, shard_channels } = *subscriptions;
        for (kind, names) in [(Kind::Channel, channels), (Kind::Pattern, patterns), (Kind::Shard, shard_channels)] {
            for name in names {
                self.unlist(kind, &name, id);
            }
        }
    }

    /// Sends `message` on `channel` to its subscribers and, unless `shard`, to the sessions whose patterns
    /// match it; returns how many received it. Each frame is encoded once and copied into each receiver's
    /// output buffer: no allocation per receiver.
    pub fn publish(
        &mut self,
        sessions: &mut Sessions,
        outbox: &mut Outbox,
        channel: &[u8],
        message: &[u8],
        shard: bool,
    ) -> usize {
        let mut receivers = 0;
        let registry = if shard { &self.shard_channels } else { &self.channels };
        if let Some(subscribers) = registry.get(channel) {
            let word: &[u8] = if shard { b"smessage" } else { b"message" };
            encode_tail(&mut self.frame, &[word, channel, message]);
            for &to in subscribers {
                outbox.deliver(sessions, to, &self.frame);
            }
            receivers += subscribers.len();
        }
        if shard {
            return receivers;
        }
        for (pattern, subscribers) in &self.patterns {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            encode_tail(&mut self.frame, &[b"pmessage", pattern, channel, message]);
            for &to in subscribers {
                outbox.deliver(sessions, to, &self.frame);
            }
            receivers += subscribers.len();
        }
        receivers
    }

    /// Whether any session could receive a message (keyspace notifications skip building their channel
    /// names when none can).
    pub fn has_receivers(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty()
    }

    /// Channels (or shard channels) with subscribers, those matching `pattern` if given (PUBSUB CHANNELS).
    pub fn active(&self, shard: bool, pattern: Option<&[u8]>) -> impl Iterator<Item = &Bytes> {
        let registry = if shard { &self.shard_channels } else { &self.channels };
        registry.keys().filter(move |name| pattern.is_none_or(|p| glob_match(p, name, false)))
    }

    /// Subscribers of `channel` (PUBSUB NUMSUB, SHARDNUMSUB), patterns not counted.
    pub fn subscriber_count(&self, shard: bool, channel: &[u8]) -> usize {
        let registry = if shard { &self.shard_channels } else { &self.channels };
        registry.get(channel).map_or(0, Vec::len)
    }

    /// Distinct patterns with subscribers (PUBSUB NUMPAT, INFO pubsub_patterns).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Distinct channels with subscribers (INFO pubsub_channels) and shard channels (pubsubshard_channels).
    pub fn channel_count(&self, shard: bool) -> usize {
        if shard { self.shard_channels.len() } else { self.channels.len() }
    }
}

/// Writes `items` as a RESP array's body (the length line and the bulk strings) into `frame`, without the
/// leading type byte, which depends on the receiver's protocol.
fn encode_tail(frame: &mut Vec<u8>, items: &[&[u8]]) {
    let mut digits = itoa::Buffer::new();
    frame.clear();
    frame.extend_from_slice(digits.format(items.len()).as_bytes());
    frame.extend_from_slice(b"\r\n");
    for item in items {
        frame.push(b'$');
        frame.extend_from_slice(digits.format(item.len()).as_bytes());
        frame.extend_from_slice(b"\r\n");
        frame.extend_from_slice(item);
        frame.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::session::Session;

    fn sessions(n: usize) -> (Sessions, Vec<ClientId>) {
        let mut sessions = Sessions::default();
        let ids = (0..n).map(|i| sessions.insert(Session::new(i as u64 + 1, None, 0, true))).collect();
        (sessions, ids)
    }

    #[test]
    fn registry_and_sessions_agree_through_every_path() {
        let (mut sessions, ids) = sessions(2);
        let mut pubsub = PubSub::default();
        let chan = Bytes::from_static(b"c");
        assert!(pubsub.subscribe(&mut sessions, ids[0], Kind::Channel, &chan));
        assert!(!pubsub.subscribe(&mut sessions, ids[0], Kind::Channel, &chan));
        assert!(pubsub.subscribe(&mut sessions, ids[1], Kind::Channel, &chan));
        assert!(pubsub.subscribe(&mut sessions, ids[1], Kind::Pattern, &Bytes::from_static(b"c*")));
        assert_eq!((pubsub.subscriber_count(false, b"c"), pubsub.pattern_count()), (2, 1));
        assert!(pubsub.unsubscribe(&mut sessions, ids[0], Kind::Channel, b"c"));
        assert!(!pubsub.unsubscribe(&mut sessions, ids[0], Kind::Channel, b"c"));
        assert!(!sessions[ids[0]].is_subscribed() && sessions[ids[1]].is_subscribed());
        pubsub.forget(&mut sessions, ids[1]);
        assert!(!sessions[ids[1]].is_subscribed());
        assert_eq!((pubsub.channel_count(false), pubsub.pattern_count()), (0, 0));
    }

    #[test]
    fn publish_copies_one_frame_per_receiver_in_each_protocol() {
        let (mut sessions, ids) = sessions(2);
        sessions[ids[1]].reply.resp3 = true;
        let mut pubsub = PubSub::default();
        let mut outbox = Outbox::default();
        for &id in &ids {
            pubsub.subscribe(&mut sessions, id, Kind::Pattern, &Bytes::from_static(b"n?ws"));
        }
        assert_eq!(pubsub.publish(&mut sessions, &mut outbox, b"news", b"hi", false), 2);
        assert_eq!(pubsub.publish(&mut sessions, &mut outbox, b"news", b"hi", true), 0);
        let frame = "4\r\n$8\r\npmessage\r\n$4\r\nn?ws\r\n$4\r\nnews\r\n$2\r\nhi\r\n";
        assert_eq!(String::from_utf8_lossy(&sessions[ids[0]].reply.buf), format!("*{frame}"));
        assert_eq!(String::from_utf8_lossy(&sessions[ids[1]].reply.buf), format!(">{frame}"));
        assert_eq!(outbox.woken, ids);
    }
}
