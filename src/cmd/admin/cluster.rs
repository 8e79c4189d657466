//! CLUSTER, READONLY and READWRITE on a standalone server: every one answers Redis's "cluster support
//! disabled" error. The subcommands are registered with Redis 7.0's arities so that an unknown subcommand or a
//! wrong argument count gets the same error as from Redis, which checks those before the command runs.

use super::super::errors::{CLUSTER_DISABLED, CmdResult};
use super::super::{Ctx, Handlers};
use crate::resp::reply::Reply;

/// READONLY, READWRITE and every CLUSTER subcommand.
pub(super) fn cluster_disabled(_ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    Err(CLUSTER_DISABLED.into())
}

/// The CLUSTER subcommands' handlers, bound to their entries in src/cmd/meta.
pub(super) const HANDLERS: Handlers = &[
    ("cluster|addslots", cluster_disabled),
    ("cluster|addslotsrange", cluster_disabled),
    ("cluster|bumpepoch", cluster_disabled),
    ("cluster|count-failure-reports", cluster_disabled),
    ("cluster|countkeysinslot", cluster_disabled),
    ("cluster|delslots", cluster_disabled),
    ("cluster|delslotsrange", cluster_disabled),
    ("cluster|failover", cluster_disabled),
    ("cluster|flushslots", cluster_disabled),
    ("cluster|forget", cluster_disabled),
    ("cluster|getkeysinslot", cluster_disabled),
    ("cluster|help", cluster_disabled),
    ("cluster|info", cluster_disabled),
    ("cluster|keyslot", cluster_disabled),
    ("cluster|links", cluster_disabled),
    ("cluster|meet", cluster_disabled),
    ("cluster|myid", cluster_disabled),
    ("cluster|nodes", cluster_disabled),
    ("cluster|replicas", cluster_disabled),
    ("cluster|replicate", cluster_disabled),
    ("cluster|reset", cluster_disabled),
    ("cluster|saveconfig", cluster_disabled),
    ("cluster|set-config-epoch", cluster_disabled),
    ("cluster|setslot", cluster_disabled),
    ("cluster|shards", cluster_disabled),
    ("cluster|slaves", cluster_disabled),
    ("cluster|slots", cluster_disabled),
];
