//! BGREWRITEAOF: asks the event loop for an AOF rewrite, which it runs in its next `before_sleep`
//! (`aof::Aof::rewrite`: the dataset as a new base file, a new incr file, the manifest switched). Redis
//! replies before the rewrite is done too; INFO's `aof_rewrites` and `aof_last_bgrewrite_status` tell when.

use crate::cmd::Ctx;
use crate::cmd::errors::CmdResult;
use crate::resp::reply::Reply;

pub(super) fn bgrewriteaof(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ctx.state.aof.rewrite_scheduled = true;
    reply.simple("Background append only file rewriting started");
    Ok(())
}
