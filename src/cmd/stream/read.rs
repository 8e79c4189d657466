//! XREAD and XREADGROUP (Redis's xreadCommand), blocking on the per-key wait queues.
//!
//! A read that finds nothing and has BLOCK parks; its argv is parked with each `$` replaced by the stream's
//! last ID at that moment (Redis resolves `$` once, or an entry added between park and wake-up would be
//! missed). A re-run for a ready key serves from that key alone; an XREADGROUP whose group went away meanwhile
//! gets Redis's NOGROUP error. XREADGROUP delivers through the group's PEL and propagates what it did as
//! XCLAIMs (or XGROUP SETID with NOACK), never as itself, as Redis does.

use bytes::Bytes;

use super::ids::parse_plain;
use super::{id_bytes, reply_entry, reply_id, streams_and_ids};
use crate::cmd::Ctx;
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::config::notify;
use crate::db::ValueType;
use crate::resp::reply::Reply;
use crate::types::stream_group::{ENTRIES_READ_UNKNOWN, Group};
use crate::types::stream_object::{Stream, StreamId};

pub const UNBALANCED: &str =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
const GROUP_ONLY_XREADGROUP: &str = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
const NOACK_ONLY_XREADGROUP: &str = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
const MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
const DOLLAR_IN_GROUP: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the \
                               history of this consumer by specifying a proper ID, or use the > ID to get new \
                               messages. The $ ID would just return an empty result set.";
const GT_WITHOUT_GROUP: &str =
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
const GROUP_GONE: &str = "NOGROUP the consumer group this client was blocked on no longer exists";
const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";

pub const HANDLERS: &[(&str, crate::cmd::Handler)] = &[("xread", xread), ("xreadgroup", xreadgroup)];

/// What one XREAD/XREADGROUP asked for.
struct ReadArgs<'a> {
    block: Option<Option<i64>>,
    count: usize,
    group: Option<(&'a Bytes, &'a Bytes)>,
    noack: bool,
    keys: &'a [Bytes],
    ids: &'a [Bytes],
    /// Where the IDs start in argv, for pinning `$`.
    ids_at: usize,
}

/// `from_script`: the caller is a Lua script, where BLOCK is refused as it is read (Redis's xreadCommand keeps
/// this error for scripts, which would otherwise get an immediate null as in EXEC).
fn parse_args<'a>(
    argv: &'a [Bytes],
    now_ms: i64,
    group_form: bool,
    from_script: bool,
) -> Result<ReadArgs<'a>, CmdError> {
    let mut read = ReadArgs { block: None, count: 0, group: None, noack: false, keys: &[], ids: &[], ids_at: 0 };
    let mut streams_at = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = crate::cmd::args::Keyword::of(&argv[i]);
        if opt.is("block") && more > 0 {
            if from_script {
                let name = String::from_utf8_lossy(&argv[0]);
                return Err(format!("ERR {name} command is not allowed with BLOCK option from scripts").into());
            }
            i += 1;
            let ms = crate::cmd::args::int(&argv[i]).map_err(|_| CmdError::from(TIMEOUT_NOT_INTEGER))?;
            if ms < 0 {
                return Err(errors::TIMEOUT_NEGATIVE.into());
            }
            read.block = Some((ms > 0).then(|| now_ms.saturating_add(ms)));
        } else if opt.is("count") && more > 0 {
            i += 1;
            read.count = crate::cmd::args::int(&argv[i])?.max(0) as usize;
        } else if opt.is("streams") && more > 0 {
            streams_at = Some(i + 1);
            break;
        } else if opt.is("group") && more >= 2 {
            if !group_form {
                return Err(GROUP_ONLY_XREADGROUP.into());
            }
            read.group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if opt.is("noack") {
            if !group_form {
                return Err(NOACK_ONLY_XREADGROUP.into());
            }
            read.noack = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    let streams_at = streams_at.ok_or(errors::SYNTAX)?;
    let mut rest = crate::cmd::args::Args::new(argv, streams_at);
    let (keys, ids) = streams_and_ids(&mut rest)?;
    if group_form && read.group.is_none() {
        return Err(MISSING_GROUP.into());
    }
    read.keys = keys;
    read.ids = ids;
    read.ids_at = streams_at + keys.len();
    Ok(read)
}

/// Where a stream is read from: after an ID, or `>` (new entries for the group).
#[derive(Clone, Copy, PartialEq)]
enum ReadFrom {
    After(StreamId),
    New,
}

fn xread(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    read_generic(ctx, reply, false)
}

fn xreadgroup(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    read_generic(ctx, reply, true)
}

/// Checks every key's type, group and ID in argument order, as Redis does before serving anything.
fn resolve(ctx: &mut Ctx<'_>, read: &ReadArgs<'_>) -> Result<Vec<ReadFrom>, CmdError> {
    let mut froms = Vec::with_capacity(read.keys.len());
    for (key, id) in read.keys.iter().zip(read.ids) {
        let stream = ctx.read_typed::<Stream>(key)?;
        if let Some((group, _)) = read.group
            && stream.is_none_or(|s| !s.groups.contains_key(&group[..]))
        {
            if ctx.ready_key.is_some() {
                return Err(GROUP_GONE.into());
            }
            return Err(super::quoting_error(&[
                b"NOGROUP No such key '",
                key,
                b"' or consumer group '",
                group,
                b"' in XREADGROUP with GROUP option",
            ]));
        }
        let from = match &id[..] {
            b"$" if read.group.is_some() => return Err(DOLLAR_IN_GROUP.into()),
            b"$" => ReadFrom::After(stream.map_or(StreamId::MIN, |s| s.last_id)),
            b">" if read.group.is_none() => return Err(GT_WITHOUT_GROUP.into()),
            b">" => ReadFrom::New,
            _ => ReadFrom::After(parse_plain(id, 0)?),
        };
        froms.push(from);
    }
    Ok(froms)
}

fn read_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, group_form: bool) -> CmdResult {
    let argv = ctx.argv;
    let read = parse_args(argv, ctx.now_ms, group_form, ctx.state.in_script)?;
    let froms = resolve(ctx, &read)?;
    let serve_only = ctx.ready_key.and_then(|ready| read.keys.iter().position(|key| **key == *ready));
    let start = reply.begin_array();
    let mut served = 0;
    for (index, (key, from)) in read.keys.iter().zip(&froms).enumerate() {
        if serve_only.is_some_and(|only| only != index) {
            continue;
        }
        if serve_one(ctx, reply, &read, key, *from)? {
            served += 1;
        }
    }
    if served > 0 {
        end_top(reply, start, served);
        if group_form {
            ctx.prevent_propagation();
        }
        return Ok(());
    }
    reply.buf.truncate(start);
    match read.block {
        Some(deadline) if !ctx.state.in_exec => {
            let mut parked = argv.to_vec();
            for (i, from) in froms.iter().enumerate() {
                if let ReadFrom::After(id) = from
                    && &read.ids[i][..] == b"$"
                {
                    parked[read.ids_at + i] = id_bytes(*id);
                }
            }
            ctx.block_as(read.keys, ValueType::Stream, deadline, parked, reply);
        }
        _ => reply.null_array(),
    }
    Ok(())
}

/// The top-level reply: an array of `[key, entries]` in RESP2, a map in RESP3 (Redis 7.0's XREAD).
fn end_top(reply: &mut Reply, start: usize, served: usize) {
    if reply.resp3 { reply.end_map(start, served) } else { reply.end_array(start, served) }
}

/// Serves one stream if it has something for the reader; false (and nothing written) if not.
fn serve_one(
    ctx: &mut Ctx<'_>,
    reply: &mut Reply,
    read: &ReadArgs<'_>,
    key: &Bytes,
    from: ReadFrom,
) -> Result<bool, CmdError> {
    let (now_ms, record) = (ctx.now_ms, ctx.propagating());
    let Some(stream) = ctx.write_typed::<Stream>(key)? else { return Ok(false) };
    let last_valid = stream.last_entry_id();
    let Some((group_name, consumer)) = read.group else {
        let ReadFrom::After(after) = from else { return Ok(false) };
        let Some(start) = after.next().filter(|_| !stream.is_empty() && last_valid > after) else {
            return Ok(false);
        };
        header(reply, key);
        super::reply_entries(reply, stream.range(start, StreamId::MAX).take(limit(read.count)));
        return Ok(true);
    };
    let (name, mut group) = stream.groups.remove_entry(&group_name[..]).expect("resolve checked the group");
    if from == ReadFrom::New && (stream.is_empty() || last_valid <= group.last_id) {
        stream.groups.insert(name, group);
        return Ok(false);
    }
    header(reply, key);
    let created = group.consumer(consumer, now_ms);
    // A consumer created by a NOACK read propagates its creation: no XCLAIM will create it on a replica.
    let creation = (created && read.noack).then(|| super::groups::create_consumer_argv(key, group_name, consumer));
    let mut delivery =
        Delivery { group: &mut group, consumer, now_ms, record, claims: Vec::new(), moved_last_id: false };
    match from {
        ReadFrom::After(after) => delivery.history(stream, reply, after, read.count),
        ReadFrom::New => delivery.new_entries(stream, reply, read.count, read.noack),
    }
    let Delivery { claims, moved_last_id, .. } = delivery;
    let setid = (moved_last_id && read.noack).then(|| super::groups::setid_argv(key, &name, &group));
    stream.groups.insert(name, group);
    // One change for the read, one more for the consumer it created (Redis's streamCreateConsumer).
    ctx.state.dirty += 1 + u64::from(created);
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    if ctx.propagating() {
        let stream = ctx.write_typed::<Stream>(key)?.expect("served above");
        let group = &stream.groups[&group_name[..]];
        let argvs: Vec<Vec<Bytes>> = claims
            .iter()
            .map(|&(id, last_id)| super::groups::claim_argv(key, group_name, id, &group.pel[&id], last_id))
            .collect();
        for argv in creation.into_iter().chain(argvs).chain(setid) {
            ctx.also_propagate(|| argv);
        }
    }
    Ok(true)
}

fn limit(count: usize) -> usize {
    if count == 0 { usize::MAX } else { count }
}

/// The `[key, entries]` pair's start (RESP3: a map entry's key).
fn header(reply: &mut Reply, key: &[u8]) {
    if !reply.resp3 {
        reply.array(2);
    }
    reply.bulk(key);
}

/// One XREADGROUP's deliveries to one consumer of one group, with the XCLAIMs that propagate them.
struct Delivery<'g, 'c> {
    group: &'g mut Group,
    consumer: &'c [u8],
    now_ms: i64,
    /// Whether to collect `claims` (only when propagating).
    record: bool,
    /// Each delivered ID with the group's last ID at the time, for its XCLAIM.
    claims: Vec<(StreamId, StreamId)>,
    moved_last_id: bool,
}

impl Delivery<'_, '_> {
    /// `>`: entries after the group's last ID, each added to the PEL (unless NOACK) and moving the last ID
    /// and entries-read on, as streamReplyWithRange does.
    fn new_entries(&mut self, stream: &Stream, reply: &mut Reply, count: usize, noack: bool) {
        let Some(start) = self.group.last_id.next() else { return reply.array(0) };
        let at = reply.begin_array();
        let mut n = 0;
        for entry in stream.range(start, StreamId::MAX).take(limit(count)) {
            reply_entry(reply, &entry);
            n += 1;
            let id = entry.id;
            if id > self.group.last_id {
                if self.group.entries_read != ENTRIES_READ_UNKNOWN && !stream.range_has_tombstones(id, StreamId::MAX) {
                    self.group.entries_read = self.group.entries_read.wrapping_add(1);
                } else if stream.entries_added > 0 {
                    self.group.entries_read =
                        stream.estimate_entries_read(id).map_or(ENTRIES_READ_UNKNOWN, |n| n as i64);
                }
                self.group.last_id = id;
                self.moved_last_id = true;
            }
            if !noack {
                self.group.deliver_fresh(id, self.consumer, self.now_ms);
                if self.record {
                    self.claims.push((id, self.group.last_id));
                }
            }
        }
        reply.end_array(at, n);
    }

    /// An ID: the consumer's own pending entries after it, each delivered again (a deleted one as `[id, nil]`),
    /// as streamReplyWithRangeFromConsumerPEL does.
    fn history(&mut self, stream: &Stream, reply: &mut Reply, after: StreamId, count: usize) {
        let owned: Vec<StreamId> = match self.group.consumers.get(self.consumer) {
            Some(consumer) if let Some(start) = after.next() => {
                consumer.pending.range(start..).take(limit(count)).copied().collect()
            }
            _ => Vec::new(),
        };
        reply.array(owned.len());
        for id in owned {
            match stream.get(id) {
                Some(entry) => {
                    // Redis changes the delivery but propagates nothing for a history read.
                    reply_entry(reply, &entry);
                    self.group.deliver(id, self.consumer, self.now_ms, true);
                }
                None => {
                    reply.array(2);
                    reply_id(reply, id);
                    reply.null_array();
                }
            }
        }
    }
}
