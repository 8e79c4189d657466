//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP. Names, values and CONFIG SET's checks and error texts live
//! in `crate::config`; this module only turns them into replies.

use super::super::errors::{self, CmdResult};
use super::super::{Ctx, Handlers};
use crate::resp::reply::Reply;

/// The CONFIG subcommands' handlers, bound to their entries in src/cmd/meta.
pub(super) const HANDLERS: Handlers = &[
    ("config|get", config_get),
    ("config|help", config_help),
    ("config|resetstat", config_resetstat),
    ("config|rewrite", config_rewrite),
    ("config|set", config_set),
];

const HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
];

/// CONFIG GET pattern [pattern ...]: a map of name → value (a flat array in RESP2).
fn config_get(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let patterns: Vec<&[u8]> = ctx.sub_args().rest().iter().map(|p| p.as_ref()).collect();
    let found = ctx.state.config.get(&patterns);
    reply.map(found.len());
    for (name, value) in &found {
        reply.bulk(name.as_bytes());
        reply.bulk(value.as_bytes());
    }
    Ok(())
}

/// CONFIG SET name value [name value ...]: all or nothing, with the config module's error text. Protected
/// directives follow `enable-protected-configs`, for which a loopback client is local.
fn config_set(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let pairs = ctx.sub_args().rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    let pairs: Vec<(&[u8], &[u8])> = pairs.chunks_exact(2).map(|p| (p[0].as_ref(), p[1].as_ref())).collect();
    let local = super::caller_is_local(ctx);
    let before = ctx.state.config.clone();
    ctx.state.config.set_as(&pairs, local)?;
    let maxmemory_set = pairs.iter().any(|(name, _)| name.eq_ignore_ascii_case(b"maxmemory"));
    if ctx.state.config.maxclients != before.maxclients {
        fit_maxclients(ctx, &before)?;
    }
    rebind_if_changed(ctx, before)?;
    ctx.state.sync_key_logs();
    ctx.state.configure_keyspace();
    if maxmemory_set {
        apply_maxmemory(ctx);
    }
    let names: Vec<&[u8]> = pairs.iter().map(|(name, _)| *name).collect();
    ctx.state.config.not_acted_on_among(&names).iter().for_each(|w| crate::log!(Warning, "{}", w));
    reply.ok();
    Ok(())
}

/// Raises the open-file limit for a new `maxclients`, as Redis's updateMaxclients does; when the system will
/// not allow that many, the whole CONFIG SET is rolled back and fails naming the number that would fit.
fn fit_maxclients(ctx: &mut Ctx<'_>, before: &crate::config::Config) -> CmdResult {
    let fitted = crate::net::open_files::fit_maxclients(ctx.state.config.maxclients);
    if fitted == ctx.state.config.maxclients {
        return Ok(());
    }
    ctx.state.config = before.clone();
    Err(format!(
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to \
         handle the specified number of clients, try with {fitted}"
    )
    .into())
}

/// A new `maxmemory` is enforced at once, as Redis's updateMaxmemory does: one bounded eviction pass now (the
/// event loop continues it if it runs out of time), with a warning when memory is already over the limit.
fn apply_maxmemory(ctx: &mut Ctx<'_>) {
    let max = ctx.state.config.maxmemory;
    if max == 0 {
        return;
    }
    let counted = crate::cmd::evict::counted_memory(ctx.state);
    if max < counted {
        crate::log!(
            Warning,
            "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage \
             ({counted}). This will result in key eviction and/or the inability to accept new write commands \
             depending on the maxmemory-policy."
        );
    }
    crate::cmd::evict::perform_evictions(ctx.state);
}

/// Applies a change of `port`, `bind` or `http-port` to the listeners, as Redis's apply functions do; if they
/// cannot be bound the whole CONFIG SET is rolled back to `before` and fails with Redis's text.
fn rebind_if_changed(ctx: &mut Ctx<'_>, before: crate::config::Config) -> CmdResult {
    let config = &ctx.state.config;
    if config.port == before.port && config.bind == before.bind && config.http_port == before.http_port {
        return Ok(());
    }
    let state = &mut *ctx.state;
    match state.listening.rebind(&state.config) {
        Ok(()) => {
            state.port = state.listening.port();
            Ok(())
        }
        Err(failed) => {
            state.config = before;
            let (directive, reason) = (failed.directive, failed.reason);
            Err(format!("ERR CONFIG SET failed (possibly related to argument '{directive}') - {reason}").into())
        }
    }
}

/// CONFIG RESETSTAT: zeroes the counters INFO reports, as Redis's `resetServerStats` and command statistics.
fn config_resetstat(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ctx.state.stats.reset();
    crate::db::lazyfree::reset_stats();
    ctx.state.eviction.exceeded_total_us = 0;
    for db in &mut ctx.state.keyspace.dbs {
        db.expired_count = 0;
    }
    reply.ok();
    Ok(())
}

/// CONFIG REWRITE. Without a config file Redis refuses; rewriting a file is not supported yet, and we answer
/// with Redis's failure text for it rather than pretend.
fn config_rewrite(ctx: &mut Ctx<'_>, _reply: &mut Reply) -> CmdResult {
    if ctx.state.config.config_file.is_none() {
        return Err("ERR The server is running without a config file".into());
    }
    Err("ERR Rewriting config file: Operation not supported".into())
}

fn config_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::reply_help(reply, "CONFIG", HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn config_replies() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "CONFIG GET databases"), "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
        assert_eq!(t.run(me, "CONFIG GET nosuch"), "*0\r\n");
        assert_eq!(t.run(me, "CONFIG SET hz 5 x"), "-ERR syntax error\r\n");
        assert_eq!(
            t.run(me, "CONFIG SET nosuch 1"),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
        );
        assert_eq!(t.run(me, "CONFIG REWRITE"), "-ERR The server is running without a config file\r\n");
        assert!(t.run(me, "CONFIG HELP").starts_with("*11\r\n+CONFIG <subcommand>"));
        t.run(me, "SET k v");
        assert_eq!(t.run(me, "CONFIG RESETSTAT"), "+OK\r\n");
        // The reset itself is counted once it has run, as in Redis.
        assert_eq!(t.state.stats.total_commands, 1);
        assert!(!t.run(me, "INFO commandstats").contains("cmdstat_set:"));
        t.run(me, "HELLO 3");
        assert_eq!(t.run(me, "CONFIG GET databases"), "%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
    }
}
