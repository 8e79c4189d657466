//! The master's replication commands (Redis's replication.c): SYNC and PSYNC attach a replica and start its
//! full sync, REPLCONF configures it and carries its acknowledgements, ROLE and WAIT report on replicas.
//! What happens next is in `state::replication` (the stream), `persist` (the fork) and `server::replicas`
//! (sending the snapshot).

use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::persist;
use crate::resp::reply::Reply;
use crate::state::replication::{self, Replica, SyncState};

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] =
    &[&[("psync", sync), ("replconf", replconf), ("role", role), ("sync", sync), ("wait", wait)]];

/// Longest `REPLCONF ip-address` (Redis's NET_HOST_STR_LEN).
const HOST_LEN_MAX: usize = 256;

/// SYNC, and PSYNC replid offset: every sync is full (no backlog is kept, so no offset can be continued).
/// The reply (`+FULLRESYNC` for PSYNC), the snapshot and the stream follow once a BGSAVE is forked for it.
fn sync(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    if ctx.session().is_replica() {
        return Ok(());
    }
    let psync = ctx.argv[0].eq_ignore_ascii_case(b"psync");
    if psync {
        // Redis parses the offset before anything else and answers a bad one with its integer error.
        ctx.args().take(2).map(|a| super::args::int(&a[1])).transpose()?;
    }
    if ctx.session().reply_pending() > 0 {
        return Err("ERR SYNC and PSYNC are invalid with pending output".into());
    }
    let now_ms = ctx.now_ms;
    let name = replica_name(ctx);
    crate::log!(Notice, "Replica {} asks for synchronization", name);
    if psync {
        let asked = String::from_utf8_lossy(&ctx.argv[1]).into_owned();
        if asked == "?" {
            crate::log!(Notice, "Full resync requested by replica {}", name);
        } else {
            crate::log!(
                Notice,
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my \
                 replication IDs are '{}' and '0000000000000000000000000000000000000000')",
                asked,
                ctx.state.replication.replid
            );
        }
    }
    ctx.state.stats.sync_full += 1;
    replication::attach(ctx.state, ctx.me, psync, now_ms);
    // A diskless sync waits `repl-diskless-sync-delay` for more replicas; the cron forks then.
    if replication::fork_due(ctx.state, now_ms) {
        persist::start_sync(ctx.state);
    }
    Ok(())
}

/// The name a replica has in the log: its announced or peer address and its listening port.
fn replica_name(ctx: &mut Ctx<'_>) -> String {
    let me = ctx.me;
    let replica = ctx.state.sessions[me].replica.take().unwrap_or_else(|| Box::new(Replica::new(ctx.now_ms)));
    let name = replication::replica_name(ctx.state, me, &replica);
    ctx.state.sessions[me].replica = Some(replica);
    name
}

/// REPLCONF option value ...: listening-port, ip-address, capa, rdb-only configure the replica-to-be; ACK
/// (from a replica: no reply) records how far it has applied the stream; GETACK is for replicas to answer.
fn replconf(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if ctx.argv.len().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    let now_ms = ctx.now_ms;
    for pair in ctx.argv[1..].chunks(2) {
        let (option, value) = (&pair[0], &pair[1]);
        let lower = option.to_ascii_lowercase();
        match lower.as_slice() {
            b"listening-port" => {
                let port = super::args::int(value)?;
                handshake(ctx, now_ms).listening_port = u16::try_from(port).unwrap_or(0);
            }
            b"ip-address" => {
                if value.len() >= HOST_LEN_MAX {
                    return Err(CmdError::from(format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        value.len()
                    )));
                }
                handshake(ctx, now_ms).announced_ip = Some(String::from_utf8_lossy(value).into_owned());
            }
            // `eof`: it reads a snapshot streamed with an end mark (a diskless sync); others need no care here.
            b"capa" => {
                if value.eq_ignore_ascii_case(b"eof") {
                    handshake(ctx, now_ms).reads_eof = true;
                }
            }
            b"rdb-only" => {
                let rdb_only = super::args::int(value)?;
                if !(0..=1).contains(&rdb_only) {
                    return Err(errors::NOT_INTEGER.into());
                }
                handshake(ctx, now_ms).rdb_only = rdb_only == 1;
            }
            b"ack" => {
                // A replica's ACK is never answered, and a non-replica's is ignored, as in Redis.
                if let Ok(offset) = super::args::int(value)
                    && let Some(replica) = ctx.session().replica.as_mut().filter(|r| r.attached())
                {
                    replica.ack_offset = replica.ack_offset.max(u64::try_from(offset).unwrap_or(0));
                    replica.ack_ms = now_ms;
                    ctx.state.replication.acks_arrived = true;
                }
                return Ok(());
            }
            // Only a replica answers GETACK, and this server is always a master.
            b"getack" => return Ok(()),
            _ => {
                return Err(CmdError::from(format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(option)
                )));
            }
        }
    }
    reply.ok();
    Ok(())
}

/// The caller's replica record, made on its first REPLCONF.
fn handshake<'c>(ctx: &'c mut Ctx<'_>, now_ms: i64) -> &'c mut Replica {
    ctx.session().replica.get_or_insert_with(|| Box::new(Replica::new(now_ms)))
}

/// ROLE: `master`, the offset, and each online replica's address, port and acknowledged offset.
fn role(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let state = &*ctx.state;
    let online: Vec<_> = replication::replicas_in(state, SyncState::Online).collect();
    reply.array(3);
    reply.bulk(b"master");
    reply.int(state.replication.offset as i64);
    reply.array(online.len());
    for id in online {
        let Some(replica) = state.sessions[id].replica.as_ref() else { continue };
        let ip = replica.announced_ip.clone().unwrap_or_else(|| replication::replica_ip(state, id));
        reply.array(3);
        reply.bulk(ip.as_bytes());
        reply.bulk(itoa::Buffer::new().format(replica.listening_port).as_bytes());
        reply.bulk(itoa::Buffer::new().format(replica.ack_offset).as_bytes());
    }
    Ok(())
}

/// WAIT numreplicas timeout: how many replicas acknowledged the caller's writes, once `numreplicas` have or
/// the timeout (ms, 0 for ever) passes. Inside MULTI or a script it answers at once, as Redis does.
fn wait(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let wanted = args.next_int()?;
    let timeout_ms = super::args::int(args.next_bytes()?).map_err(|_| CmdError::from(TIMEOUT_NOT_INTEGER))?;
    if timeout_ms < 0 {
        return Err(errors::TIMEOUT_NEGATIVE.into());
    }
    let offset = ctx.session().write_offset;
    let acked = replication::acked_at_least(ctx.state, offset);
    if acked as i64 >= wanted || ctx.state.in_exec || ctx.state.in_script {
        reply.int(acked as i64);
        return Ok(());
    }
    let deadline = (timeout_ms > 0).then(|| ctx.now_ms.saturating_add(timeout_ms));
    ctx.state.replication.waiting.push((ctx.me, offset, wanted));
    ctx.state.replication.getack_wanted = true;
    ctx.block(&[], crate::db::ValueType::String, deadline, reply);
    Ok(())
}

const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";

/// Answers the WAITs that enough acknowledgements now satisfy (after REPLCONF ACKs arrived).
pub fn serve_waits(state: &mut crate::state::State) {
    state.replication.acks_arrived = false;
    let mut waiting = std::mem::take(&mut state.replication.waiting);
    waiting.retain(|&(id, offset, wanted)| {
        if state.sessions.get(id).is_none_or(|s| s.parked.is_none()) {
            return false;
        }
        let acked = replication::acked_at_least(state, offset);
        if (acked as i64) < wanted {
            return true;
        }
        super::call::answer_parked(state, id, |reply| reply.int(acked as i64));
        state.unpark(id);
        state.unblocked.push(id);
        false
    });
    waiting.append(&mut state.replication.waiting);
    state.replication.waiting = waiting;
}

/// What ends a WAIT at its deadline (or CLIENT UNBLOCK): the count of replicas that acknowledged so far.
pub fn wait_ended(state: &mut crate::state::State, id: crate::state::session::ClientId) -> i64 {
    let offset = state.replication.waiting.iter().find(|w| w.0 == id).map_or(0, |w| w.1);
    state.replication.waiting.retain(|w| w.0 != id);
    replication::acked_at_least(state, offset) as i64
}
