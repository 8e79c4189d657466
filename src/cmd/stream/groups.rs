//! Consumer groups: XGROUP (CREATE SETID DESTROY CREATECONSUMER DELCONSUMER HELP), XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM. Claims propagate as Redis's XCLAIM ... FORCE JUSTID LASTID form (and XGROUP SETID when only the
//! last ID moved), so a replica or the AOF ends with the same PEL.

use bytes::Bytes;

use super::ids::{parse_plain, parse_range_end, parse_range_start, parse_strict};
use super::{id_bytes, reply_entry, reply_id};
use crate::cmd::args::{self, Keyword};
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::cmd::{Ctx, Handler};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::stream_group::{ENTRIES_READ_UNKNOWN, Group, Nack};
use crate::types::stream_object::{Stream, StreamId};

const KEY_REQUIRED: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want \
                            to use the MKSTREAM option to create an empty stream automatically.";
const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
const ENTRIESREAD_RANGE: &str = "ERR value for ENTRIESREAD must be positive or -1";
const AUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";
const HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

pub const HANDLERS: &[(&str, Handler)] = &[
    ("xack", xack),
    ("xautoclaim", xautoclaim),
    ("xclaim", xclaim),
    ("xgroup", crate::cmd::admin::container),
    ("xgroup|create", xgroup),
    ("xgroup|createconsumer", xgroup),
    ("xgroup|delconsumer", xgroup),
    ("xgroup|destroy", xgroup),
    ("xgroup|help", xgroup_help),
    ("xgroup|setid", xgroup),
    ("xpending", xpending),
];

/// What an XCLAIM that reproduces `nack` (for entry `id`, the group at `last_id`) propagates as.
pub fn claim_argv(key: &Bytes, group: &Bytes, id: StreamId, nack: &Nack, last_id: StreamId) -> Vec<Bytes> {
    let text = |s: &'static str| Bytes::from_static(s.as_bytes());
    vec![
        text("XCLAIM"),
        key.clone(),
        group.clone(),
        Bytes::copy_from_slice(&nack.consumer),
        text("0"),
        id_bytes(id),
        text("TIME"),
        Bytes::from(nack.delivery_time.to_string()),
        text("RETRYCOUNT"),
        Bytes::from(nack.delivery_count.to_string()),
        text("FORCE"),
        text("JUSTID"),
        text("LASTID"),
        id_bytes(last_id),
    ]
}

/// XGROUP CREATECONSUMER (streamPropagateConsumerCreation).
pub fn create_consumer_argv(key: &Bytes, group: &[u8], consumer: &[u8]) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"CREATECONSUMER"),
        key.clone(),
        Bytes::copy_from_slice(group),
        Bytes::copy_from_slice(consumer),
    ]
}

/// XGROUP SETID with the group's last ID and entries-read (streamPropagateGroupID).
pub fn setid_argv(key: &Bytes, name: &[u8], group: &Group) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        Bytes::copy_from_slice(name),
        id_bytes(group.last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(group.entries_read.to_string()),
    ]
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    super::quoting_error(&[b"NOGROUP No such key '", key, b"' or consumer group '", group, b"'"])
}

/// XGROUP's and XINFO CONSUMERS' NOGROUP text.
pub fn no_such_group(key: &[u8], name: &[u8]) -> CmdError {
    super::quoting_error(&[b"NOGROUP No such consumer group '", name, b"' for key name '", key, b"'"])
}

fn xgroup_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    crate::cmd::admin::reply_help(reply, "XGROUP", HELP);
    Ok(())
}

/// XGROUP's subcommands, in xgroupCommand's order of checks.
fn xgroup(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let sub = Keyword::of(&argv[1]);
    let (key, name) = (&argv[2], &argv[3]);
    let (mut mkstream, mut entries_read) = (false, ENTRIES_READ_UNKNOWN);
    if sub.is("create") || sub.is("setid") {
        let mut i = 5;
        while i < argv.len() {
            let opt = Keyword::of(&argv[i]);
            if sub.is("create") && opt.is("mkstream") {
                mkstream = true;
                i += 1;
            } else if opt.is("entriesread") && i + 1 < argv.len() {
                entries_read = args::int(&argv[i + 1])?;
                if entries_read < 0 && entries_read != ENTRIES_READ_UNKNOWN {
                    return Err(ENTRIESREAD_RANGE.into());
                }
                i += 2;
            } else {
                return Err(errors::subcommand_syntax(b"XGROUP", &argv[1]));
            }
        }
    }
    let exists = ctx.write_typed::<Stream>(key)?.is_some();
    if !mkstream {
        let stream = ctx.write_typed::<Stream>(key)?.ok_or(KEY_REQUIRED)?;
        let needs_group = sub.is("setid") || sub.is("createconsumer") || sub.is("delconsumer");
        if needs_group && !stream.groups.contains_key(&name[..]) {
            return Err(no_such_group(key, name));
        }
    }
    let now_ms = ctx.now_ms;
    let event = if sub.is("create") && argv.len() <= 8 {
        let last = ctx.write_typed::<Stream>(key)?.map_or(StreamId::MIN, |s| s.last_id);
        let id = if &argv[4][..] == b"$" { last } else { parse_plain(&argv[4], 0)? };
        if !exists {
            ctx.db().insert_new(key, Value::Stream(Box::default()));
        }
        let stream = ctx.write_typed::<Stream>(key)?.expect("exists or was created");
        if stream.groups.contains_key(&name[..]) {
            return Err(BUSYGROUP.into());
        }
        stream.groups.insert(name[..].into(), Group::new(id, entries_read));
        reply.ok();
        "xgroup-create"
    } else if sub.is("setid") && (argv.len() == 5 || argv.len() == 7) {
        let stream = ctx.write_typed::<Stream>(key)?.expect("checked above");
        let id = if &argv[4][..] == b"$" { stream.last_id } else { super::ids::parse_id(&argv[4], 0)? };
        let group = stream.groups.get_mut(&name[..]).expect("checked above");
        group.last_id = id;
        group.entries_read = entries_read;
        reply.ok();
        "xgroup-setid"
    } else if sub.is("destroy") && argv.len() == 4 {
        let stream = ctx.write_typed::<Stream>(key)?.expect("checked above");
        if stream.groups.remove(&name[..]).is_none() {
            reply.int(0);
            return Ok(());
        }
        reply.int(1);
        "xgroup-destroy"
    } else if sub.is("createconsumer") && argv.len() == 5 {
        let stream = ctx.write_typed::<Stream>(key)?.expect("checked above");
        let group = stream.groups.get_mut(&name[..]).expect("checked above");
        let created = group.consumer(&argv[4], now_ms);
        reply.int(i64::from(created));
        if !created {
            return Ok(());
        }
        "xgroup-createconsumer"
    } else if sub.is("delconsumer") && argv.len() == 5 {
        let stream = ctx.write_typed::<Stream>(key)?.expect("checked above");
        let group = stream.groups.get_mut(&name[..]).expect("checked above");
        let Some(pending) = group.delete_consumer(&argv[4]) else {
            reply.int(0);
            return Ok(());
        };
        reply.int(pending as i64);
        "xgroup-delconsumer"
    } else {
        return Err(errors::subcommand_syntax(b"XGROUP", &argv[1]));
    };
    ctx.key_changed(key);
    ctx.notify(notify::STREAM, event, key);
    Ok(())
}

/// The stream under `key` and its group `name`, or Redis's NOGROUP error (XCLAIM, XAUTOCLAIM, XPENDING).
fn stream_and_group<'a>(ctx: &'a mut Ctx<'_>, key: &[u8], name: &[u8]) -> Result<&'a mut Stream, CmdError> {
    match ctx.write_typed::<Stream>(key)? {
        Some(stream) if stream.groups.contains_key(name) => Ok(stream),
        _ => Err(nogroup(key, name)),
    }
}

fn xack(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, name) = (args.next_key()?, args.next_bytes()?);
    // A missing key or group answers 0 before the IDs are parsed, as Redis 7.0.15 does.
    if ctx.write_typed::<Stream>(key)?.is_none_or(|s| !s.groups.contains_key(&name[..])) {
        reply.int(0);
        return Ok(());
    }
    let ids = args.rest().iter().map(|id| parse_plain(id, 0)).collect::<Result<Vec<_>, _>>()?;
    let stream = ctx.write_typed::<Stream>(key)?.expect("checked above");
    let group = stream.groups.get_mut(&name[..]).expect("checked above");
    let acked = ids.into_iter().filter(|&id| group.ack(id)).count();
    reply.int(acked as i64);
    if acked > 0 {
        ctx.key_changed_by(key, acked);
    }
    Ok(())
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]].
fn xpending(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let (key, name) = (&argv[1], &argv[2]);
    if argv.len() != 3 && !(6..=9).contains(&argv.len()) {
        return Err(errors::SYNTAX.into());
    }
    let mut range = None;
    if argv.len() >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if Keyword::of(&argv[3]).is("idle") {
            min_idle = args::int(&argv[4])?;
            if argv.len() < 8 {
                return Err(errors::SYNTAX.into());
            }
            at += 2;
        }
        let count = args::int(&argv[at + 2])?.max(0) as usize;
        let start = parse_range_start(&argv[at])?;
        let end = parse_range_end(&argv[at + 1])?;
        range = Some((min_idle, start, end, count, argv.get(at + 3)));
    }
    let now_ms = ctx.now_ms;
    let stream = match ctx.read_typed::<Stream>(key)? {
        Some(stream) if stream.groups.contains_key(&name[..]) => stream,
        _ => return Err(nogroup(key, name)),
    };
    let group = &stream.groups[&name[..]];
    let Some((min_idle, start, end, count, consumer)) = range else {
        pending_summary(reply, group);
        return Ok(());
    };
    let ids: Vec<StreamId> = match consumer {
        Some(consumer) => match group.consumers.get(&consumer[..]) {
            Some(c) if start <= end => c.pending.range(start..=end).copied().collect(),
            _ => Vec::new(),
        },
        None if start <= end => group.pel.range(start..=end).map(|(id, _)| *id).collect(),
        None => Vec::new(),
    };
    let start_at = reply.begin_array();
    let mut n = 0;
    for id in ids.into_iter().take(count) {
        let nack = &group.pel[&id];
        let idle = now_ms.wrapping_sub(nack.delivery_time);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        reply.array(4);
        reply_id(reply, id);
        reply.bulk(&nack.consumer);
        reply.int(idle);
        reply.int(nack.delivery_count as i64);
        n += 1;
    }
    reply.end_array(start_at, n);
    Ok(())
}

fn pending_summary(reply: &mut Reply, group: &Group) {
    reply.array(4);
    reply.int(group.pel.len() as i64);
    let (Some((first, _)), Some((last, _))) = (group.pel.first_key_value(), group.pel.last_key_value()) else {
        reply.null();
        reply.null();
        reply.null_array();
        return;
    };
    reply_id(reply, *first);
    reply_id(reply, *last);
    let owners: Vec<_> = group.consumers.iter().filter(|(_, c)| !c.pending.is_empty()).collect();
    reply.array(owners.len());
    for (name, consumer) in owners {
        reply.array(2);
        reply.bulk(name);
        reply.bulk_i64(consumer.pending.len() as i64);
    }
}

/// One claim's options (XCLAIM's IDLE/TIME, RETRYCOUNT, JUSTID).
struct ClaimOptions {
    delivery_time: i64,
    retry_count: Option<u64>,
    justid: bool,
    force: bool,
}

/// Moves pending entry `id` to `consumer` as XCLAIM/XAUTOCLAIM do, and writes it (or its ID).
fn claim_one(
    stream: &Stream,
    group: &mut Group,
    consumer: &[u8],
    id: StreamId,
    options: &ClaimOptions,
    reply: &mut Reply,
) {
    let nack = group.pel.get_mut(&id).expect("the caller checked it is pending");
    nack.delivery_time = options.delivery_time;
    match options.retry_count {
        Some(count) => nack.delivery_count = count,
        None if !options.justid => nack.delivery_count += 1,
        None => {}
    }
    let time = nack.delivery_time;
    group.deliver(id, consumer, time, false);
    if options.justid {
        reply_id(reply, id);
    } else if let Some(entry) = stream.get(id) {
        reply_entry(reply, &entry);
    }
}

fn xclaim(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let (key, name, consumer) = (&argv[1], &argv[2], &argv[3]);
    let now_ms = ctx.now_ms;
    stream_and_group(ctx, key, name)?;
    let min_idle = args::int(&argv[4]).map_err(|_| "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let ids_end = 5 + argv[5..].iter().take_while(|arg| parse_plain(arg, 0).is_ok()).count();
    let mut options = ClaimOptions { delivery_time: -1, retry_count: None, justid: false, force: false };
    let mut last_id = StreamId::MIN;
    let mut j = ids_end;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = Keyword::of(&argv[j]);
        let number = |j: usize, what: &str| {
            args::int(&argv[j]).map_err(|_| CmdError::from(format!("ERR Invalid {what} option argument for XCLAIM")))
        };
        if opt.is("force") {
            options.force = true;
        } else if opt.is("justid") {
            options.justid = true;
        } else if opt.is("idle") && more > 0 {
            j += 1;
            options.delivery_time = now_ms.wrapping_sub(number(j, "IDLE")?);
        } else if opt.is("time") && more > 0 {
            j += 1;
            options.delivery_time = number(j, "TIME")?;
        } else if opt.is("retrycount") && more > 0 {
            j += 1;
            options.retry_count = Some(number(j, "RETRYCOUNT")?.max(0) as u64);
        } else if opt.is("lastid") && more > 0 {
            j += 1;
            last_id = parse_strict(&argv[j], 0)?.0;
        } else {
            return Err(super::quoting_error(&[b"ERR Unrecognized XCLAIM option '", &argv[j], b"'"]));
        }
        j += 1;
    }
    if options.delivery_time < 0 || options.delivery_time > now_ms {
        options.delivery_time = now_ms;
    }
    let stream = stream_and_group(ctx, key, name)?;
    let (group_name, mut group) = stream.groups.remove_entry(&name[..]).expect("checked above");
    let mut propagate_setid = last_id > group.last_id;
    if propagate_setid {
        group.last_id = last_id;
    }
    let (mut props, mut created) = (Vec::new(), false);
    let at = reply.begin_array();
    let mut n = 0;
    for arg in &argv[5..ids_end] {
        let id = parse_plain(arg, 0)?;
        if stream.get(id).is_none() {
            if let Some(nack) = group.pel.get(&id) {
                props.push(claim_argv(key, name, id, nack, group.last_id));
                group.ack(id);
                propagate_setid = false;
            }
            continue;
        }
        let pending = group.pel.get(&id);
        if pending.is_none() && !options.force {
            continue;
        }
        if let Some(nack) = pending
            && min_idle > 0
            && now_ms.wrapping_sub(nack.delivery_time) < min_idle
        {
            continue;
        }
        if pending.is_none() {
            group.pel.insert(id, Nack { delivery_time: now_ms, delivery_count: 1, consumer: Box::default() });
        }
        created |= group.consumer(consumer, now_ms);
        claim_one(stream, &mut group, consumer, id, &options, reply);
        n += 1;
        props.push(claim_argv(key, name, id, &group.pel[&id], group.last_id));
        propagate_setid = false;
    }
    reply.end_array(at, n);
    if propagate_setid {
        props.push(setid_argv(key, name, &group));
    }
    stream.groups.insert(group_name, group);
    finish_claims(ctx, key, props, created);
    Ok(())
}

/// Propagates the claims' XCLAIMs instead of the command itself, and marks the key changed if any; announces
/// the claiming consumer if the claims `created` it.
fn finish_claims(ctx: &mut Ctx<'_>, key: &[u8], props: Vec<Vec<Bytes>>, created: bool) {
    ctx.prevent_propagation();
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    if props.is_empty() {
        return;
    }
    // Redis counts each claim, and the consumer's creation.
    let changes = props.len() + usize::from(created);
    for argv in props {
        ctx.also_propagate(|| argv);
    }
    ctx.key_changed_by(key, changes);
}

fn xautoclaim(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let (key, name, consumer) = (&argv[1], &argv[2], &argv[3]);
    let now_ms = ctx.now_ms;
    // Every argument is checked before the key's type and group, as Redis 7.0.15 does.
    let min_idle = args::int(&argv[4]).map_err(|_| "ERR Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = parse_range_start(&argv[5])?;
    let (mut count, mut justid) = (100usize, false);
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = Keyword::of(&argv[j]);
        if opt.is("count") && more > 0 {
            let max = i64::MAX / 16;
            let n = args::int(&argv[j + 1]).map_err(|_| CmdError::from(AUTOCLAIM_COUNT))?;
            if !(1..=max).contains(&n) {
                return Err(AUTOCLAIM_COUNT.into());
            }
            count = n as usize;
            j += 1;
        } else if opt.is("justid") {
            justid = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let stream = stream_and_group(ctx, key, name)?;
    let (group_name, mut group) = stream.groups.remove_entry(&name[..]).expect("checked above");
    let options = ClaimOptions { delivery_time: now_ms, retry_count: None, justid, force: false };
    let mut attempts = count.saturating_mul(10);
    let (mut props, mut deleted, mut created) = (Vec::new(), Vec::new(), false);
    let mut body = Reply::new(reply.resp3);
    let mut n = 0;
    let mut cursor = group.pel.range(start..).map(|(id, _)| *id).next();
    while let Some(id) = cursor {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        cursor = id.next().and_then(|after| group.pel.range(after..).map(|(id, _)| *id).next());
        if stream.get(id).is_none() {
            props.push(claim_argv(key, name, id, &group.pel[&id], group.last_id));
            group.ack(id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        if min_idle > 0 && now_ms.wrapping_sub(group.pel[&id].delivery_time) < min_idle {
            continue;
        }
        created |= group.consumer(consumer, now_ms);
        claim_one(stream, &mut group, consumer, id, &options, &mut body);
        n += 1;
        count -= 1;
        props.push(claim_argv(key, name, id, &group.pel[&id], group.last_id));
    }
    reply.array(3);
    reply_id(reply, cursor.unwrap_or(StreamId::MIN));
    reply.array(n);
    reply.buf.extend_from_slice(&body.buf);
    reply.array(deleted.len());
    for id in deleted {
        reply_id(reply, id);
    }
    stream.groups.insert(group_name, group);
    finish_claims(ctx, key, props, created);
    Ok(())
}
