//! MONITOR (Redis's monitorCommand and replicationFeedMonitors): a monitor client receives, for each command
//! another client (or itself) runs, a status line `+<unix s>.<us> [<db> <addr>] "arg" ...`, arguments quoted
//! as sdscatrepr quotes them and passwords redacted as in the slow log.
//!
//! `cmd::call` feeds a command after it ran (so MULTI, its commands, then EXEC come in that order; a script
//! before it runs, so that the commands it calls, shown from the client `lua`, follow it), unless it
//! was refused before running, is flagged `admin` or `skip_monitor` (CONFIG, DEBUG, CLIENT LIST... are not
//! shown, as in Redis), or is a waiter's re-run (shown once, when it first ran). A monitor is a replica to
//! Redis: it may not touch the keyspace any more (`refuse_keyspace`).

use bytes::Bytes;

use super::errors::{CmdError, CmdResult};
use super::{Ctx, Handlers, Resolved, flag};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::state::session::ClientId;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[("monitor", monitor)]];

/// MONITOR: the caller becomes a monitor (again: a no-op). Inside EXEC it is refused, as Redis refuses it to a
/// client that expects one reply per command.
fn monitor(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if ctx.state.in_exec {
        return Err("ERR MONITOR isn't allowed for DENY BLOCKING client".into());
    }
    if ctx.session().monitor {
        return Ok(());
    }
    ctx.session().monitor = true;
    ctx.state.monitors.push(ctx.me);
    reply.ok();
    Ok(())
}

/// The refusal a monitor or a replica gets for a command that reads or writes keys (Redis's, for any replica).
pub fn refuse_keyspace(state: &State, id: ClientId, cmd: Resolved) -> Option<CmdError> {
    let touches_keys = cmd.spec.flags & (flag::WRITE | flag::READONLY | flag::MAY_REPLICATE) != 0;
    let session = &state.sessions[id];
    (touches_keys && (session.monitor || session.is_replica()))
        .then(|| "ERR Replica can't interact with the keyspace".into())
}

/// Whether `cmd` is shown to monitors; inlined so that with no monitor it costs one test.
#[inline]
pub fn shown(state: &State, cmd: Resolved) -> bool {
    !state.monitors.is_empty() && cmd.spec.flags & (flag::ADMIN | flag::SKIP_MONITOR) == 0
}

/// Whether `cmd` is a script run, shown before it runs (and even when it then fails, NOSCRIPT included) so
/// that the commands the script calls follow it, as Redis 7.0 shows them; its `skip_monitor` flag keeps it
/// from being shown again after.
#[inline]
pub fn shown_before_run(state: &State, cmd: Resolved) -> bool {
    !state.monitors.is_empty()
        && matches!(cmd.spec.name, "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro")
}

/// Sends session `id`'s command `argv` to every monitor; a script's own calls are shown as the client `lua`.
#[cold]
pub fn feed(state: &mut State, id: ClientId, cmd: Resolved, argv: &[Bytes]) {
    let now_us = crate::clock::unix_us();
    let session = &state.sessions[id];
    let (seconds, micros) = (now_us / 1_000_000, now_us % 1_000_000);
    let client: std::borrow::Cow<'_, str> = match &session.link {
        // A Unix-socket client is named by the socket, as Redis names it.
        Some(link) if link.unix => format!("unix:{}", state.config.unixsocket).into(),
        Some(link) => link.addr.as_str().into(),
        None if state.in_script => "lua".into(),
        None => "".into(),
    };
    let mut line = format!("+{seconds}.{micros:06} [{} {client}]", session.db);
    let hidden = super::slowlog_command::redacted(cmd, argv);
    for (index, arg) in argv.iter().enumerate() {
        line.push(' ');
        crate::util::splitargs::push_repr(&mut line, if hidden(index) { b"(redacted)" } else { arg });
    }
    line.push_str("\r\n");
    let state = &mut *state;
    for &monitor in &state.monitors {
        state.outbox.deliver_raw(&mut state.sessions, monitor, line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn monitors_see_other_clients_commands_quoted_and_redacted() {
        let mut t = TestServer::new();
        let (monitor, client) = (t.connect(), t.connect());
        assert_eq!(t.run(monitor, "MONITOR"), "+OK\r\n");
        t.state.sessions[monitor].reply.buf.clear();
        t.run(client, "SET k a\"b\n\u{1}\u{e9}");
        t.run(client, "CONFIG GET x");
        t.run(client, "AUTH secret");
        let seen = String::from_utf8(t.state.sessions[monitor].reply.buf.clone()).unwrap();
        let lines: Vec<&str> = seen.split("\r\n").filter(|line| !line.is_empty()).collect();
        assert_eq!(lines.len(), 2, "{seen}");
        assert!(lines[0].ends_with(r#" [0 127.0.0.1:40001] "SET" "k" "a\"b\n\x01\xc3\xa9""#), "{seen}");
        assert!(lines[1].ends_with(r#""AUTH" "(redacted)""#), "{seen}");
        assert_eq!(t.run(monitor, "GET k"), "-ERR Replica can't interact with the keyspace\r\n");
    }
}
