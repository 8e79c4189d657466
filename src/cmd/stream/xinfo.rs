//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP, in Redis 7.0's field order.

use super::{reply_entries, reply_id};
use crate::cmd::args::{self, Keyword};
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::cmd::{Ctx, Handler};
use crate::resp::reply::Reply;
use crate::types::stream_group::{ENTRIES_READ_UNKNOWN, Group};
use crate::types::stream_object::{Stream, StreamId};

const HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];
/// XINFO STREAM FULL's default COUNT.
const FULL_COUNT: usize = 10;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("xinfo", crate::cmd::admin::container),
    ("xinfo|consumers", xinfo_consumers),
    ("xinfo|groups", xinfo_groups),
    ("xinfo|help", xinfo_help),
    ("xinfo|stream", xinfo_stream),
];

fn xinfo_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    crate::cmd::admin::reply_help(reply, "XINFO", HELP);
    Ok(())
}

fn stream<'a>(ctx: &'a mut Ctx<'_>) -> Result<&'a Stream, CmdError> {
    let key = ctx.sub_args().next_key()?;
    ctx.read_typed::<Stream>(key)?.ok_or_else(|| errors::NO_SUCH_KEY.into())
}

fn field(reply: &mut Reply, name: &str) {
    reply.bulk(name.as_bytes());
}

/// streamReplyWithCGLag: how many entries the group has not read, or null when it cannot be known.
fn reply_lag(reply: &mut Reply, stream: &Stream, group: &Group) {
    let lag = if stream.entries_added == 0 {
        Some(0)
    } else if group.entries_read != ENTRIES_READ_UNKNOWN && !stream.range_has_tombstones(group.last_id, StreamId::MAX) {
        Some((stream.entries_added as i64).wrapping_sub(group.entries_read))
    } else {
        stream.estimate_entries_read(group.last_id).map(|read| stream.entries_added.wrapping_sub(read) as i64)
    };
    match lag {
        Some(lag) => reply.int(lag),
        None => reply.null(),
    }
}

fn reply_entries_read(reply: &mut Reply, group: &Group) {
    if group.entries_read == ENTRIES_READ_UNKNOWN { reply.null() } else { reply.int(group.entries_read) }
}

fn xinfo_stream(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let stream = stream(ctx)?;
    let syntax = || errors::subcommand_syntax(b"XINFO", &argv[1]);
    let mut full = None;
    if argv.len() > 3 {
        if !Keyword::of(&argv[3]).is("full") {
            return Err(syntax());
        }
        let mut count = FULL_COUNT;
        if argv.len() > 4 {
            if argv.len() != 6 || !Keyword::of(&argv[4]).is("count") {
                return Err(syntax());
            }
            let n = args::int(&argv[5])?;
            count = if n < 0 { FULL_COUNT } else { n as usize };
        }
        full = Some(if count == 0 { usize::MAX } else { count });
    }
    reply.map(if full.is_some() { 9 } else { 10 });
    field(reply, "length");
    reply.int(stream.len() as i64);
    field(reply, "radix-tree-keys");
    reply.int(stream.node_count() as i64);
    field(reply, "radix-tree-nodes");
    reply.int(stream.radix_nodes() as i64);
    field(reply, "last-generated-id");
    reply_id(reply, stream.last_id);
    field(reply, "max-deleted-entry-id");
    reply_id(reply, stream.max_deleted_id);
    field(reply, "entries-added");
    reply.int(stream.entries_added as i64);
    field(reply, "recorded-first-entry-id");
    reply_id(reply, stream.first_id());
    let Some(count) = full else {
        field(reply, "groups");
        reply.int(stream.groups.len() as i64);
        for (name, entry) in [
            ("first-entry", stream.range(StreamId::MIN, StreamId::MAX).next()),
            ("last-entry", stream.range_rev(StreamId::MIN, StreamId::MAX).next()),
        ] {
            field(reply, name);
            match entry {
                Some(entry) => super::reply_entry(reply, &entry),
                None => reply.null(),
            }
        }
        return Ok(());
    };
    field(reply, "entries");
    reply_entries(reply, stream.range(StreamId::MIN, StreamId::MAX).take(count));
    field(reply, "groups");
    reply.array(stream.groups.len());
    for (name, group) in &stream.groups {
        reply.map(7);
        field(reply, "name");
        reply.bulk(name);
        field(reply, "last-delivered-id");
        reply_id(reply, group.last_id);
        field(reply, "entries-read");
        reply_entries_read(reply, group);
        field(reply, "lag");
        reply_lag(reply, stream, group);
        field(reply, "pel-count");
        reply.int(group.pel.len() as i64);
        field(reply, "pending");
        let shown = group.pel.len().min(count);
        reply.array(shown);
        for (id, nack) in group.pel.iter().take(shown) {
            reply.array(4);
            reply_id(reply, *id);
            reply.bulk(&nack.consumer);
            reply.int(nack.delivery_time);
            reply.int(nack.delivery_count as i64);
        }
        field(reply, "consumers");
        reply.array(group.consumers.len());
        for (consumer_name, consumer) in &group.consumers {
            reply.map(4);
            field(reply, "name");
            reply.bulk(consumer_name);
            field(reply, "seen-time");
            reply.int(consumer.seen_time);
            field(reply, "pel-count");
            reply.int(consumer.pending.len() as i64);
            field(reply, "pending");
            let shown = consumer.pending.len().min(count);
            reply.array(shown);
            for id in consumer.pending.iter().take(shown) {
                let nack = &group.pel[id];
                reply.array(3);
                reply_id(reply, *id);
                reply.int(nack.delivery_time);
                reply.int(nack.delivery_count as i64);
            }
        }
    }
    Ok(())
}

fn xinfo_groups(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let stream = stream(ctx)?;
    reply.array(stream.groups.len());
    for (name, group) in &stream.groups {
        reply.map(6);
        field(reply, "name");
        reply.bulk(name);
        field(reply, "consumers");
        reply.int(group.consumers.len() as i64);
        field(reply, "pending");
        reply.int(group.pel.len() as i64);
        field(reply, "last-delivered-id");
        reply_id(reply, group.last_id);
        field(reply, "entries-read");
        reply_entries_read(reply, group);
        field(reply, "lag");
        reply_lag(reply, stream, group);
    }
    Ok(())
}

fn xinfo_consumers(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let now_ms = ctx.now_ms;
    let (key, name) = (&argv[2], &argv[3]);
    let stream = stream(ctx)?;
    let Some(group) = stream.groups.get(&name[..]) else {
        return Err(super::groups::no_such_group(key, name));
    };
    reply.array(group.consumers.len());
    for (consumer_name, consumer) in &group.consumers {
        reply.map(3);
        field(reply, "name");
        reply.bulk(consumer_name);
        field(reply, "pending");
        reply.int(consumer.pending.len() as i64);
        field(reply, "idle");
        reply.int(now_ms.wrapping_sub(consumer.seen_time).max(0));
    }
    Ok(())
}
