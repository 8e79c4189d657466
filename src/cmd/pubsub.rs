//! Pub/sub commands (Redis's `pubsub.c`): SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE
//! SUNSUBSCRIBE PUBLISH SPUBLISH and the PUBSUB container, over the registry in `state::subscriptions`.
//!
//! Confirmations and messages are push frames: RESP3 `>` frames, RESP2 arrays. They are written through
//! `State::outbox`, never into the handler's `reply`, so CLIENT REPLY OFF does not drop them (Redis's
//! CLIENT_PUSHING) and a message a client publishes to itself lands before PUBLISH's own reply. In RESP2 a
//! subscribed client may only run the commands of `allowed_when_subscribed`; `cmd::call` refuses the rest
//! before they are queued or run.

use bytes::Bytes;

use super::admin::reply_help;
use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers, Resolved};
use crate::resp::reply::Reply;
use crate::state::subscriptions::{Kind, PubSub};

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("subscribe", subscribe),
    ("psubscribe", psubscribe),
    ("ssubscribe", ssubscribe),
    ("unsubscribe", unsubscribe),
    ("punsubscribe", punsubscribe),
    ("sunsubscribe", sunsubscribe),
    ("publish", publish),
    ("spublish", spublish),
    ("pubsub", super::admin::container),
    ("pubsub|channels", pubsub_channels),
    ("pubsub|shardchannels", pubsub_shardchannels),
    ("pubsub|numsub", pubsub_numsub),
    ("pubsub|shardnumsub", pubsub_shardnumsub),
    ("pubsub|numpat", pubsub_numpat),
    ("pubsub|help", pubsub_help),
]];

/// The commands a subscribed RESP2 client may run (Redis's processCommand list).
const ALLOWED_WHEN_SUBSCRIBED: &[&str] =
    &["ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"];

/// Whether a subscribed RESP2 client may run `cmd`, by its full name (a subcommand such as `slowlog|reset` is
/// not RESET).
pub fn allowed_when_subscribed(cmd: Resolved) -> bool {
    ALLOWED_WHEN_SUBSCRIBED.contains(&super::table().names[cmd.id].as_str())
}

/// The refusal for any other command, naming it by its full name (`client|list`) as Redis does.
#[cold]
pub fn only_pubsub_allowed(cmd: Resolved) -> CmdError {
    let name = &super::table().names[cmd.id];
    format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in \
         this context"
    )
    .into()
}

fn subscribe(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    subscribe_each(ctx, Kind::Channel);
    Ok(())
}

fn psubscribe(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    subscribe_each(ctx, Kind::Pattern);
    Ok(())
}

fn ssubscribe(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    // A client that expects one reply per command (EXEC's queue) cannot enter subscribed mode this way:
    // Redis's ssubscribeCommand refuses CLIENT_DENY_BLOCKING, with no exception for MULTI as SUBSCRIBE has.
    if ctx.state.in_exec {
        return Err("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client".into());
    }
    subscribe_each(ctx, Kind::Shard);
    Ok(())
}

/// Subscribes the caller to every argument, confirming each (already subscribed or not) with the count after.
fn subscribe_each(ctx: &mut Ctx<'_>, kind: Kind) {
    let argv = ctx.argv;
    for name in &argv[1..] {
        let state = &mut *ctx.state;
        state.pubsub.subscribe(&mut state.sessions, ctx.me, kind, name);
        let count = subscription_count(ctx, kind);
        confirm(ctx, kind.subscribe_word(), Some(name), count);
    }
}

fn unsubscribe(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    unsubscribe_each(ctx, Kind::Channel);
    Ok(())
}

fn punsubscribe(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    unsubscribe_each(ctx, Kind::Pattern);
    Ok(())
}

fn sunsubscribe(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    unsubscribe_each(ctx, Kind::Shard);
    Ok(())
}

/// Unsubscribes the caller from every argument (each confirmed, subscribed or not), or with no argument from
/// every subscription of the kind, confirmed one by one, or by a single confirmation with a null name when
/// there was none.
fn unsubscribe_each(ctx: &mut Ctx<'_>, kind: Kind) {
    let names: Vec<Bytes> =
        if ctx.argv.len() > 1 { ctx.argv[1..].to_vec() } else { PubSub::names_of(&ctx.state.sessions, ctx.me, kind) };
    if names.is_empty() {
        let count = subscription_count(ctx, kind);
        confirm(ctx, kind.unsubscribe_word(), None, count);
    }
    for name in &names {
        let state = &mut *ctx.state;
        state.pubsub.unsubscribe(&mut state.sessions, ctx.me, kind, name);
        let count = subscription_count(ctx, kind);
        confirm(ctx, kind.unsubscribe_word(), Some(name), count);
    }
}

/// The caller's count for `kind`'s confirmations.
fn subscription_count(ctx: &mut Ctx<'_>, kind: Kind) -> usize {
    ctx.session().subscriptions.as_ref().map_or(0, |subscriptions| subscriptions.count_for(kind))
}

/// Writes a (un)subscription confirmation for the caller: `[word, name or null, count]`.
fn confirm(ctx: &mut Ctx<'_>, word: &[u8], name: Option<&[u8]>, count: usize) {
    let pushes = &mut ctx.state.outbox.caller_pushes;
    pushes.push(3);
    pushes.bulk(word);
    match name {
        Some(name) => pushes.bulk(name),
        None => pushes.null(),
    }
    pushes.int(count as i64);
}

fn publish(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    publish_generic(ctx, reply, false)
}

fn spublish(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    publish_generic(ctx, reply, true)
}

/// PUBLISH / SPUBLISH channel message: the number of receivers.
fn publish_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, shard: bool) -> CmdResult {
    let (channel, message) = (&ctx.argv[1], &ctx.argv[2]);
    let state = &mut *ctx.state;
    let receivers = state.pubsub.publish(&mut state.sessions, &mut state.outbox, channel, message, shard);
    // Outside cluster mode the message goes on to the replicas (not the AOF), as forceCommandPropagation
    // with PROPAGATE_REPL does, so their subscribers get it too.
    state.propagation.force_to_replicas();
    reply.int(receivers as i64);
    Ok(())
}

fn pubsub_channels(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    channel_list(ctx, reply, false)
}

fn pubsub_shardchannels(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    channel_list(ctx, reply, true)
}

/// PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the channels with subscribers, matching the pattern.
fn channel_list(ctx: &mut Ctx<'_>, reply: &mut Reply, shard: bool) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(errors::subcommand_syntax(&ctx.argv[0], &ctx.argv[1]));
    }
    let pattern = ctx.argv.get(2).map(|p| &p[..]);
    let start = reply.begin_array();
    let mut len = 0;
    for channel in ctx.state.pubsub.active(shard, pattern) {
        reply.bulk(channel);
        len += 1;
    }
    reply.end_array(start, len);
    Ok(())
}

fn pubsub_numsub(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    numsub(ctx, reply, false)
}

fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    numsub(ctx, reply, true)
}

/// PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: each channel and its subscriber count, as a flat array (a map
/// in RESP3 is not what Redis 7.0 sends).
fn numsub(ctx: &mut Ctx<'_>, reply: &mut Reply, shard: bool) -> CmdResult {
    let channels = &ctx.argv[2..];
    reply.array(channels.len() * 2);
    for channel in channels {
        reply.bulk(channel);
        reply.int(ctx.state.pubsub.subscriber_count(shard, channel) as i64);
    }
    Ok(())
}

fn pubsub_numpat(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(ctx.state.pubsub.pattern_count() as i64);
    Ok(())
}

fn pubsub_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply_help(
        reply,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn subscribed_resp2_clients_are_restricted_and_resp3_ones_are_not() {
        let mut t = TestServer::new();
        let (a, b) = (t.connect(), t.connect());
        assert_eq!(t.run(a, "SUBSCRIBE c"), "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
        assert!(t.run(a, "GET k").starts_with("-ERR Can't execute 'get': only (P|S)SUBSCRIBE"));
        assert_eq!(t.run(a, "PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert!(t.run(a, "SLOWLOG RESET").starts_with("-ERR Can't execute 'slowlog|reset'"), "not RESET");
        t.run(b, "HELLO 3");
        assert_eq!(t.run(b, "SUBSCRIBE c"), ">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
        assert_eq!(t.run(b, "PUBLISH c m"), ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n:2\r\n");
        assert!(t.state.sessions[a].reply.buf.ends_with(b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"));
        assert_eq!(t.run(a, "UNSUBSCRIBE"), "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n");
        assert_eq!(t.run(a, "PUNSUBSCRIBE"), "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
        assert_eq!(t.run(a, "GET k"), "$-1\r\n");
    }

    #[test]
    fn pushes_survive_client_reply_off() {
        let mut t = TestServer::new();
        let a = t.connect();
        t.run(a, "CLIENT REPLY OFF");
        assert_eq!(t.run(a, "PSUBSCRIBE c*"), "*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:1\r\n");
        assert_eq!(t.run(a, "PING"), "");
    }
}
