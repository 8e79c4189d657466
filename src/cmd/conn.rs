//! Connection commands: PING ECHO QUIT SELECT.

use super::errors::{self, CmdResult};
use super::{CommandSpec, Ctx, args, flag::*};
use crate::resp::reply::Reply;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST, ping).acl("fast connection").docs(
        "connection",
        "1.0.0",
        "Returns the server's liveliness response.",
        "O(1)",
    ),
    CommandSpec::new("echo", 2, FAST, echo).acl("fast connection").docs(
        "connection",
        "1.0.0",
        "Returns the given string.",
        "O(1)",
    ),
    CommandSpec::new("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, quit)
        .acl("fast connection")
        .docs("connection", "1.0.0", "Closes the connection.", "O(1)"),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, select).acl("fast connection").docs(
        "connection",
        "1.0.0",
        "Changes the selected database.",
        "O(1)",
    ),
];

fn ping(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    match ctx.argv.len() {
        1 => reply.simple("PONG"),
        2 => reply.bulk(&ctx.argv[1]),
        _ => return Err(errors::wrong_arity("ping")),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.bulk(&ctx.argv[1]);
    Ok(())
}

fn quit(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.ok();
    ctx.client().close_after_reply = true;
    Ok(())
}

fn select(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let index = args::int(ctx.arg(1)).map_err(|_| errors::INVALID_DB_INDEX)?;
    if index < 0 || index as usize >= ctx.state.keyspace.dbs.len() {
        return Err(errors::DB_INDEX_RANGE.into());
    }
    ctx.client().db = index as usize;
    reply.ok();
    Ok(())
}
