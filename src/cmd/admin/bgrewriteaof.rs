//! BGREWRITEAOF: asks the event loop for an AOF rewrite, which it starts in its next `before_sleep` in a
//! forked child (`aof::Aof::start_background_rewrite`), or once a running BGSAVE child ends ("scheduled").
//! Redis replies before the rewrite is done too; INFO's `aof_rewrites` and `aof_last_bgrewrite_status` tell
//! when it is.

use crate::child::ChildKind;
use crate::cmd::Ctx;
use crate::cmd::errors::CmdResult;
use crate::resp::reply::Reply;

pub(super) fn bgrewriteaof(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    match ctx.state.persistence.child.as_ref().map(|child| child.kind) {
        Some(ChildKind::Aof) => return Err("ERR Background append only file rewriting already in progress".into()),
        Some(ChildKind::Rdb) => reply.simple("Background append only file rewriting scheduled"),
        None => reply.simple("Background append only file rewriting started"),
    }
    ctx.state.aof.rewrite_scheduled = true;
    Ok(())
}
