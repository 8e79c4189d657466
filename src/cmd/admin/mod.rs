//! Server commands (Redis's server.c, config.c, debug.c, cluster.c): TIME LASTSAVE SHUTDOWN here; INFO in
//! `info.rs`, CONFIG in `config.rs`, COMMAND in `command.rs`, DEBUG in `debug.rs`, CLUSTER / READONLY /
//! READWRITE in `cluster.rs`, MEMORY in `memory.rs`.
//!
//! Also the two helpers every container command shares: `reply_help` (Redis's `addReplyHelp` layout) and
//! `container` (the handler a container's own name never reaches, since `call` resolves its subcommand).

mod bgrewriteaof;
mod cluster;
mod command;
pub(crate) use command::key_positions;
mod config_command;
mod debug;
mod info;
mod memory;
#[cfg(test)]
pub(crate) mod testkit;

use super::errors::{self, CmdResult};
use super::{Ctx, Handlers};
use crate::clock;
use crate::resp::reply::Reply;
use crate::state::Shutdown;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[
    &[
        ("time", time),
        ("info", info::info),
        ("lastsave", lastsave),
        ("bgrewriteaof", bgrewriteaof::bgrewriteaof),
        ("readonly", cluster::cluster_disabled),
        ("readwrite", cluster::cluster_disabled),
        ("shutdown", shutdown),
        ("debug", debug::debug),
        ("config", container),
        ("command", command::command),
        ("memory", container),
        ("cluster", container),
    ],
    command::HANDLERS,
    config_command::HANDLERS,
    memory::HANDLERS,
    cluster::HANDLERS,
];

/// Writes a HELP reply as Redis's `addReplyHelp`: a header naming `command`, the given lines, and the HELP
/// entry every container ends with, each as a status reply.
pub fn reply_help(reply: &mut Reply, command: &str, lines: &[&str]) {
    reply.array(lines.len() + 3);
    reply.simple(&format!("{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    for line in lines {
        reply.simple(line);
    }
    reply.simple("HELP");
    reply.simple("    Prints this help.");
}

/// The handler of a container command (CLIENT, CONFIG, CLUSTER). Dispatch always resolves a subcommand or
/// fails first (arity -2 requires one), so this only answers what Redis would if it were ever reached.
pub fn container(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    Err(errors::unknown_subcommand(&argv[0], argv.get(1).map_or(&b""[..], |sub| sub)))
}

/// Whether the calling client counts as local for `enable-debug-command` and `enable-protected-configs`
/// `local`: Redis's `islocalClient` accepts exactly 127.0.0.1 and ::1, Unix sockets, and clients with no
/// connection.
fn caller_is_local(ctx: &mut Ctx<'_>) -> bool {
    let Some(link) = &ctx.session().link else { return true };
    match link.addr.parse::<std::net::SocketAddr>().map(|addr| addr.ip()) {
        Ok(std::net::IpAddr::V4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Ok(std::net::IpAddr::V6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Err(_) => link.addr.starts_with('/'),
    }
}

/// TIME: seconds and microseconds, both as bulk strings.
fn time(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let now_us = clock::unix_us();
    reply.array(2);
    reply.bulk_i64(now_us / 1_000_000);
    reply.bulk_i64(now_us % 1_000_000);
    Ok(())
}

/// LASTSAVE: the Unix time of the last successful save (the start, until one happens).
fn lastsave(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(ctx.state.persistence.last_save_s);
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. A shutdown starts at once and never waits (there are no
/// replicas to wait for), so there is never one in progress to ABORT. On success nothing is replied: the
/// connection closes when the server exits.
fn shutdown(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    let (mut save, mut nosave, mut now, mut force, mut abort) = (false, false, false, false, false);
    let mut args = ctx.args();
    while let Some(option) = args.next_option() {
        let flag = if option.is("nosave") {
            &mut nosave
        } else if option.is("save") {
            &mut save
        } else if option.is("now") {
            &mut now
        } else if option.is("force") {
            &mut force
        } else if option.is("abort") {
            &mut abort
        } else {
            return Err(errors::SYNTAX.into());
        };
        *flag = true;
    }
    if (abort && (save || nosave || now || force)) || (save && nosave) {
        return Err(errors::SYNTAX.into());
    }
    if abort {
        return Err("ERR No shutdown in progress.".into());
    }
    // During a busy script only NOSAVE may stop the server: a save would write the script's half-done work.
    if let Some(busy) = ctx.state.busy.as_ref().filter(|_| !nosave) {
        return Err(busy.error().into());
    }
    let save = if nosave { Some(false) } else { save.then_some(true) };
    // As Redis's prepareForShutdown, the save happens now, so a failure can be answered.
    crate::log!(Warning, "User requested shutdown...");
    if ctx.state.persistence.rdb_child_running() {
        crate::log!(Warning, "There is a child saving an .rdb. Killing it!");
        crate::persist::kill_rdb_child(ctx.state);
    }
    if crate::persist::initial_aof_blocks_shutdown(ctx.state, force) {
        crate::log!(Warning, "Errors trying to shut down the server. Check the logs for more information.");
        return Err("ERR Errors trying to SHUTDOWN. Check logs.".into());
    }
    if save.unwrap_or(!ctx.state.config.save.is_empty()) {
        crate::log!(Notice, "Saving the final RDB snapshot before exiting.");
        if crate::persist::save(ctx.state).is_err() && !force {
            crate::log!(Warning, "Error trying to save the DB, can't exit.");
            return Err("ERR Errors trying to SHUTDOWN. Check logs.".into());
        }
    }
    ctx.state.shutdown = Some(Shutdown::Command { save: Some(false), force });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::testkit::TestServer;
    use super::*;

    #[test]
    fn time_lastsave_and_cluster() {
        let mut t = TestServer::new();
        let me = t.connect();
        let time = t.run(me, "TIME");
        let parts: Vec<&str> = time.split("\r\n").collect();
        assert_eq!(parts[0], "*2");
        let seconds: i64 = parts[2].parse().unwrap();
        assert!((seconds - clock::unix_ms() / 1000).abs() <= 1);
        assert!(parts[4].parse::<i64>().unwrap() < 1_000_000);
        assert_eq!(t.run(me, "LASTSAVE"), format!(":{}\r\n", t.state.persistence.last_save_s));
        let disabled = "-ERR This instance has cluster support disabled\r\n";
        assert_eq!(t.run(me, "READONLY"), disabled);
        assert_eq!(t.run(me, "READWRITE"), disabled);
        assert_eq!(t.run(me, "CLUSTER SLOTS"), disabled);
        assert_eq!(t.run(me, "CLUSTER foo"), "-ERR unknown subcommand 'foo'. Try CLUSTER HELP.\r\n");
        assert_eq!(t.run(me, "CLUSTER INFO x"), "-ERR wrong number of arguments for 'cluster|info' command\r\n");
    }

    #[test]
    fn shutdown_options() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "SHUTDOWN ABORT"), "-ERR No shutdown in progress.\r\n");
        assert_eq!(t.run(me, "SHUTDOWN NOSAVE SAVE"), "-ERR syntax error\r\n");
        assert_eq!(t.run(me, "SHUTDOWN ABORT NOW"), "-ERR syntax error\r\n");
        assert_eq!(t.run(me, "SHUTDOWN later"), "-ERR syntax error\r\n");
        assert_eq!(t.run(me, "SHUTDOWN ABORT\0x"), "-ERR No shutdown in progress.\r\n");
        assert_eq!(t.state.shutdown, None);
        assert_eq!(t.run(me, "SHUTDOWN nosave FORCE"), "");
        assert_eq!(t.state.shutdown, Some(Shutdown::Command { save: Some(false), force: true }));
    }

    #[test]
    fn help_layout() {
        let mut reply = Reply::new(false);
        reply_help(&mut reply, "CONFIG", &["GET <pattern>", "    Return parameters."]);
        let text = String::from_utf8(reply.buf).unwrap();
        assert_eq!(
            text,
            "*5\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n\
             +    Return parameters.\r\n+HELP\r\n+    Prints this help.\r\n"
        );
    }
}
