//! SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE (Redis's sinterGenericCommand and
//! sunionDiffGenericCommand).
//!
//! The source sets are taken out of the keyspace for the command (`Sources`): each value is swapped for a
//! placeholder, which costs no allocation and no rehash, so the algorithms can hold every source at once,
//! and they are put back before a destination is written (a destination may also be a source). Every key's
//! type is checked before anything is taken, as Redis 7.0.15 does (a WRONGTYPE anywhere wins over a missing
//! key), so an error leaves the keyspace untouched.
//!
//! Results are built with `Set::add`, so a STORE result gets Redis's encoding: an intset when every member
//! is an integer and there are few enough of them.

use bytes::Bytes;

use super::{limits, reply_member, reply_set};
use crate::cmd::Ctx;
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::set_object::{Member, Set};

const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// The source sets of one command, out of the keyspace until `restore`.
struct Sources<'k> {
    /// Each distinct existing key with its set.
    taken: Vec<(&'k [u8], Set)>,
    /// Per argument key: its index in `taken`, or `None` when the key does not exist.
    slots: Vec<Option<usize>>,
}

impl<'k> Sources<'k> {
    fn take(ctx: &mut Ctx<'_>, keys: &'k [Bytes]) -> Result<Sources<'k>, CmdError> {
        for key in keys {
            ctx.read_typed::<Set>(key)?;
        }
        let now_ms = ctx.now_ms;
        let mut sources = Sources { taken: Vec::new(), slots: Vec::with_capacity(keys.len()) };
        for key in keys {
            let slot = match ctx.db().get_mut(key, now_ms) {
                None => None,
                Some(value @ Value::Set(_)) => {
                    let Value::Set(set) = std::mem::replace(value, Value::Int(0)) else { unreachable!() };
                    sources.taken.push((key, set));
                    Some(sources.taken.len() - 1)
                }
                // Every type was checked above, so anything else is the placeholder of a key named twice.
                Some(_) => sources.taken.iter().position(|(taken, _)| *taken == &key[..]),
            };
            sources.slots.push(slot);
        }
        Ok(sources)
    }

    fn sets(&self) -> Vec<Option<&Set>> {
        self.slots.iter().map(|slot| slot.map(|index| &self.taken[index].1)).collect()
    }

    fn restore(self, ctx: &mut Ctx<'_>) {
        let now_ms = ctx.now_ms;
        for (key, set) in self.taken {
            let value = ctx.db().get_mut(key, now_ms).expect("a taken source stays in the keyspace");
            *value = Value::Set(set);
        }
    }
}

/// Passes each member present in every set to `f`, iterating the smallest set, until `f` returns false.
/// A missing key is an empty set, so the intersection is empty.
fn inter_each(sets: &[Option<&Set>], mut f: impl FnMut(Member<'_>) -> bool) {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else { return };
    sets.sort_by_key(|set| set.len());
    let Some((smallest, others)) = sets.split_first() else { return };
    for member in smallest.iter() {
        if others.iter().all(|set| set.contains_member(member)) && !f(member) {
            return;
        }
    }
}

/// SUNION's or SDIFF's result as a new set.
fn union_or_diff(ctx: &Ctx<'_>, sets: &[Option<&Set>], diff: bool) -> Set {
    let limits = limits(ctx);
    let mut result = Set::new();
    if !diff {
        for member in sets.iter().flatten().flat_map(|set| set.iter()) {
            result.add_member(member, &limits);
        }
    } else if let Some((Some(first), others)) = sets.split_first() {
        for member in first.iter() {
            if !others.iter().flatten().any(|set| set.contains_member(member)) {
                result.add_member(member, &limits);
            }
        }
    }
    result
}

/// Stores `result` under `destination`, replacing whatever was there (and its TTL), or deletes `destination`
/// when the result is empty; replies with the result's size.
fn store(ctx: &mut Ctx<'_>, reply: &mut Reply, destination: &[u8], result: Set) {
    let now_ms = ctx.now_ms;
    let len = result.len();
    if result.is_empty() {
        if ctx.db().delete(destination, now_ms) {
            ctx.key_changed(destination);
            ctx.notify(notify::GENERIC, "del", destination);
        }
    } else {
        ctx.db().set(destination, Value::Set(result), false, now_ms);
        ctx.key_changed(destination);
        // The event is the command's name: sinterstore, sunionstore, sdiffstore.
        let event = ctx.cmd.spec.name;
        ctx.notify(notify::SET, event, destination);
    }
    reply.int(len as i64);
}

pub(super) fn sinter(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let keys = ctx.args().rest();
    let sources = Sources::take(ctx, keys)?;
    // The intersection's size is known only at the end: the members go to a scratch reply first.
    let mut members = Reply::new(reply.resp3);
    let mut found = 0;
    inter_each(&sources.sets(), |member| {
        reply_member(&mut members, member);
        found += 1;
        true
    });
    sources.restore(ctx);
    reply.set(found);
    reply.buf.extend_from_slice(&members.buf);
    Ok(())
}

pub(super) fn sinterstore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (destination, keys) = (args.next_key()?, args.rest());
    let limits = limits(ctx);
    let sources = Sources::take(ctx, keys)?;
    let mut result = Set::new();
    inter_each(&sources.sets(), |member| {
        result.add_member(member, &limits);
        true
    });
    sources.restore(ctx);
    store(ctx, reply, destination, result);
    Ok(())
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]: validated in Redis's order (numkeys, its bound, then the
/// options), and the count stops at the limit (0: none).
pub(super) fn sintercard(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let numkeys = args.next_int_in_or(1, i64::MAX, NUMKEYS_NOT_POSITIVE)?;
    let keys = usize::try_from(numkeys).ok().and_then(|n| args.take(n)).ok_or(NUMKEYS_TOO_MANY)?;
    let mut limit = 0;
    while let Some(option) = args.next_option() {
        if option.is("limit") && args.remaining() > 0 {
            limit = args.next_int_in_or(0, i64::MAX, LIMIT_NEGATIVE)?;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let sources = Sources::take(ctx, keys)?;
    let mut count = 0;
    inter_each(&sources.sets(), |_| {
        count += 1;
        count != limit
    });
    sources.restore(ctx);
    reply.int(count);
    Ok(())
}

pub(super) fn sunion(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    union_or_diff_reply(ctx, reply, false)
}

pub(super) fn sdiff(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    union_or_diff_reply(ctx, reply, true)
}

pub(super) fn sunionstore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    union_or_diff_store(ctx, reply, false)
}

pub(super) fn sdiffstore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    union_or_diff_store(ctx, reply, true)
}

fn union_or_diff_reply(ctx: &mut Ctx<'_>, reply: &mut Reply, diff: bool) -> CmdResult {
    let keys = ctx.args().rest();
    let sources = Sources::take(ctx, keys)?;
    let result = union_or_diff(ctx, &sources.sets(), diff);
    sources.restore(ctx);
    reply_set(reply, &result);
    Ok(())
}

fn union_or_diff_store(ctx: &mut Ctx<'_>, reply: &mut Reply, diff: bool) -> CmdResult {
    let mut args = ctx.args();
    let (destination, keys) = (args.next_key()?, args.rest());
    let sources = Sources::take(ctx, keys)?;
    let result = union_or_diff(ctx, &sources.sets(), diff);
    sources.restore(ctx);
    store(ctx, reply, destination, result);
    Ok(())
}
