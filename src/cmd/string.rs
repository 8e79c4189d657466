//! String commands (Redis's t_string.c). Placeholder: GET and SET without options.

use super::errors::{self, CmdResult};
use super::{CommandSpec, Ctx, flag::*};
use crate::db::Value;
use crate::resp::reply::Reply;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, get).keys(1, 1, 1).acl("read string fast"),
    CommandSpec::new("set", -3, WRITE | DENYOOM, set).keys(1, 1, 1).acl("write string slow"),
];

fn get(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    match ctx.read_key(&argv[1]) {
        None => reply.null(),
        Some(v) => v.with_str(|s| reply.bulk(s)).ok_or(errors::WRONGTYPE)?,
    }
    Ok(())
}

fn set(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let now_ms = ctx.now_ms;
    ctx.db().set(&argv[1], Value::from_arg(&argv[2]), false, now_ms);
    ctx.key_changed(&argv[1]);
    reply.ok();
    Ok(())
}
