//! CLUSTER, READONLY and READWRITE on a standalone server: every one answers Redis's "cluster support
//! disabled" error. The subcommands are registered with Redis 7.0's arities so that an unknown subcommand or a
//! wrong argument count gets the same error as from Redis, which checks those before the command runs.

use super::super::errors::{CLUSTER_DISABLED, CmdResult};
use super::super::{CommandSpec, Ctx, flag::*};
use crate::resp::reply::Reply;

/// READONLY, READWRITE and every CLUSTER subcommand.
pub(super) fn cluster_disabled(_ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    Err(CLUSTER_DISABLED.into())
}

pub(super) const SUBCOMMANDS: &[CommandSpec] =
    &[
        CommandSpec::new("addslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs(
                "cluster",
                "3.0.0",
                "Assign new hash slots to receiving node",
                "O(N) where N is the total number of hash slot arguments",
            ),
        CommandSpec::new("addslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs(
                "cluster",
                "7.0.0",
                "Assign new hash slots to receiving node",
                "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
            ),
        CommandSpec::new("bumpepoch", 2, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .tips("nondeterministic_output")
            .docs("cluster", "3.0.0", "Advance the cluster config epoch", "O(1)"),
        CommandSpec::new("count-failure-reports", 3, ADMIN | STALE, cluster_disabled)
            .acl("admin slow dangerous")
            .tips("nondeterministic_output")
            .docs(
                "cluster",
                "3.0.0",
                "Return the number of failure reports active for a given node",
                "O(N) where N is the number of failure reports",
            ),
        CommandSpec::new("countkeysinslot", 3, STALE, cluster_disabled).acl("slow").docs(
            "cluster",
            "3.0.0",
            "Return the number of local keys in the specified hash slot",
            "O(1)",
        ),
        CommandSpec::new("delslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs(
                "cluster",
                "3.0.0",
                "Set hash slots as unbound in receiving node",
                "O(N) where N is the total number of hash slot arguments",
            ),
        CommandSpec::new("delslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs(
                "cluster",
                "7.0.0",
                "Set hash slots as unbound in receiving node",
                "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
            ),
        CommandSpec::new("failover", -2, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Forces a replica to perform a manual failover of its master.", "O(1)"),
        CommandSpec::new("flushslots", 2, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Delete a node's own slots information", "O(1)"),
        CommandSpec::new("forget", 3, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Remove a node from the nodes table", "O(1)"),
        CommandSpec::new("getkeysinslot", 4, STALE, cluster_disabled).acl("slow").tips("nondeterministic_output").docs(
            "cluster",
            "3.0.0",
            "Return local key names in the specified hash slot",
            "O(log(N)) where N is the number of requested keys",
        ),
        CommandSpec::new("help", 2, LOADING | STALE, cluster_disabled).acl("slow").docs(
            "cluster",
            "5.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
        CommandSpec::new("info", 2, STALE, cluster_disabled).acl("slow").tips("nondeterministic_output").docs(
            "cluster",
            "3.0.0",
            "Provides info about Redis Cluster node state",
            "O(1)",
        ),
        CommandSpec::new("keyslot", 3, STALE, cluster_disabled).acl("slow").docs(
            "cluster",
            "3.0.0",
            "Returns the hash slot of the specified key",
            "O(N) where N is the number of bytes in the key",
        ),
        CommandSpec::new("links", 2, STALE, cluster_disabled).acl("slow").tips("nondeterministic_output").docs(
            "cluster",
            "7.0.0",
            "Returns a list of all TCP links to and from peer nodes in cluster",
            "O(N) where N is the total number of Cluster nodes",
        ),
        CommandSpec::new("meet", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Force a node cluster to handshake with another node", "O(1)"),
        CommandSpec::new("myid", 2, STALE, cluster_disabled).acl("slow").docs(
            "cluster",
            "3.0.0",
            "Return the node id",
            "O(1)",
        ),
        CommandSpec::new("nodes", 2, STALE, cluster_disabled).acl("slow").tips("nondeterministic_output").docs(
            "cluster",
            "3.0.0",
            "Get Cluster config for the node",
            "O(N) where N is the total number of Cluster nodes",
        ),
        CommandSpec::new("replicas", 3, ADMIN | STALE, cluster_disabled)
            .acl("admin slow dangerous")
            .tips("nondeterministic_output")
            .docs("cluster", "5.0.0", "List replica nodes of the specified master node", "O(1)"),
        CommandSpec::new("replicate", 3, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Reconfigure a node as a replica of the specified master node", "O(1)"),
        CommandSpec::new("reset", -2, ADMIN | NOSCRIPT | STALE, cluster_disabled).acl("admin slow dangerous").docs(
            "cluster",
            "3.0.0",
            "Reset a Redis Cluster node",
            "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
        ),
        CommandSpec::new("saveconfig", 2, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Forces the node to save cluster state on disk", "O(1)"),
        CommandSpec::new("set-config-epoch", 3, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Set the configuration epoch in a new node", "O(1)"),
        CommandSpec::new("setslot", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster_disabled)
            .acl("admin slow dangerous")
            .docs("cluster", "3.0.0", "Bind a hash slot to a specific node", "O(1)"),
        CommandSpec::new("shards", 2, STALE, cluster_disabled).acl("slow").tips("nondeterministic_output").docs(
            "cluster",
            "7.0.0",
            "Get array of cluster slots to node mappings",
            "O(N) where N is the total number of cluster nodes",
        ),
        CommandSpec::new("slaves", 3, ADMIN | STALE, cluster_disabled)
            .acl("admin slow dangerous")
            .tips("nondeterministic_output")
            .docs("cluster", "3.0.0", "List replica nodes of the specified master node", "O(1)"),
        CommandSpec::new("slots", 2, STALE, cluster_disabled).acl("slow").tips("nondeterministic_output").docs(
            "cluster",
            "3.0.0",
            "Get array of Cluster slot to node mappings",
            "O(N) where N is the total number of Cluster nodes",
        ),
    ];
