//! Connection commands: PING ECHO QUIT SELECT HELLO AUTH RESET, and the CLIENT container (in `client.rs`).
//!
//! Authentication follows Redis 7.0 with only the `default` user: without `requirepass` the user has no
//! password (`nopass`), so any password authenticates it, except that the one-argument `AUTH <password>` form
//! is refused with Redis's "no password configured" error. With `requirepass`, the password must match.
//!
//! HELLO switches the protocol of its own reply, as Redis does: the handler sets `reply.resp3`, which the
//! server stores back on the client after the call.

mod client;
mod client_tracking;
pub mod pause;

pub use client::{info_string as client_info_string, memory_usage as client_memory_usage};

use super::errors::{self, CmdResult};
use super::{Ctx, Handlers};
use crate::resp::reply::Reply;

pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const AUTH_WITHOUT_PASSWORD: &str = "ERR AUTH <password> called without any password configured for the default \
                                     user. Are you sure your configuration is correct?";
const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
                            HELLO AUTH <user> <pass> option can be used to authenticate the client and select the \
                            RESP protocol version at the same time";

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[
    &[
        ("ping", ping),
        ("echo", echo),
        ("quit", quit),
        ("select", select),
        ("hello", hello),
        ("auth", auth),
        ("reset", reset),
        ("client", super::admin::container),
    ],
    client::HANDLERS,
    client_tracking::HANDLERS,
    pause::HANDLERS,
];

/// PING [message]. A subscribed RESP2 client gets `["pong", message or ""]`, a push-shaped array, as Redis
/// answers in that mode.
fn ping(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    if args.remaining() <= 1 && !reply.resp3 && ctx.session().is_subscribed() {
        reply.array(2);
        reply.bulk(b"pong");
        reply.bulk(if args.remaining() == 1 { args.next_bytes()? } else { b"" });
        return Ok(());
    }
    match args.remaining() {
        0 => reply.simple("PONG"),
        1 => reply.bulk(args.next_bytes()?),
        _ => return Err(errors::wrong_arity("ping")),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.bulk(ctx.args().next_bytes()?);
    Ok(())
}

fn quit(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.ok();
    ctx.session().close_after_reply = true;
    Ok(())
}

/// RESET: the connection as if new (Redis's clearClientConnectionState): no transaction or WATCH, database 0,
/// RESP2, the default user's authentication, no subscription (dropped without confirmations), no MONITOR, no
/// name, replies on, no-evict off. The reply is RESP2's `+RESET`.
fn reset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let me = ctx.me;
    let state = &mut *ctx.state;
    state.unwatch_all(me);
    state.pubsub.forget(&mut state.sessions, me);
    state.monitors.retain(|&monitor| monitor != me);
    state.disable_tracking(me);
    let authenticated = state.config.requirepass.is_none();
    let session = &mut state.sessions[me];
    session.multi = None;
    session.db = 0;
    session.authenticated = authenticated;
    session.name = None;
    session.reply_mode = crate::state::session::ReplyMode::On;
    session.no_evict = false;
    session.monitor = false;
    reply.resp3 = false;
    reply.simple("RESET");
    Ok(())
}

/// SELECT index. Redis reads the index as a C int (`getIntFromObjectOrReply`), so a valid integer outside
/// the int range gets that function's own error (with its "must between" wording) before the range check.
fn select(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let index = ctx.args().next_int_in(i32::MIN.into(), i32::MAX.into())?;
    if index < 0 || index as usize >= ctx.state.keyspace.dbs.len() {
        return Err(errors::DB_INDEX_RANGE.into());
    }
    ctx.session().db = index as usize;
    reply.ok();
    Ok(())
}

/// HELLO [protover [AUTH user pass] [SETNAME name]]. Options apply one by one in argument order, as in
/// Redis: `HELLO 3 SETNAME a BAD` names the connection `a` and then fails on `BAD`.
fn hello(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let mut protover = None;
    if args.remaining() > 0 {
        let not_integer = "ERR Protocol version is not an integer or out of range";
        let version = args.next_int_or(not_integer)?;
        if !(2..=3).contains(&version) {
            return Err("NOPROTO unsupported protocol version".into());
        }
        protover = Some(version);
    }
    while let Some(option) = args.next_option() {
        let more = args.remaining();
        if option.is("auth") && more >= 2 {
            if !authenticate(ctx, args.next_bytes()?, args.next_bytes()?) {
                return Err(WRONGPASS.into());
            }
        } else if option.is("setname") && more >= 1 {
            client::set_name(ctx, args.next_bytes()?)?;
        } else {
            return Err([&b"ERR Syntax error in HELLO option '"[..], option.as_bytes(), b"'"].concat().into());
        }
    }
    if !ctx.session().authenticated {
        return Err(HELLO_NOAUTH.into());
    }
    if let Some(version) = protover {
        reply.resp3 = version == 3;
    }
    hello_reply(ctx, reply);
    Ok(())
}

/// The HELLO map, in Redis's order.
fn hello_reply(ctx: &mut Ctx<'_>, reply: &mut Reply) {
    let id = ctx.session().id as i64;
    let proto = if reply.resp3 { 3 } else { 2 };
    reply.map(7);
    for (name, value) in [("server", "redis"), ("version", crate::config::REDIS_VERSION)] {
        reply.bulk(name.as_bytes());
        reply.bulk(value.as_bytes());
    }
    reply.bulk(b"proto");
    reply.int(proto);
    reply.bulk(b"id");
    reply.int(id);
    for (name, value) in [("mode", "standalone"), ("role", "master")] {
        reply.bulk(name.as_bytes());
        reply.bulk(value.as_bytes());
    }
    reply.bulk(b"modules");
    reply.array(0);
}

/// AUTH [user] password.
fn auth(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    if args.remaining() > 2 {
        return Err(errors::SYNTAX.into());
    }
    let (user, password): (&[u8], &[u8]) = if args.remaining() == 1 {
        // Redis keeps the pre-ACL error for the password-only form when no password is set.
        if ctx.state.config.requirepass.is_none() {
            return Err(AUTH_WITHOUT_PASSWORD.into());
        }
        (b"default", args.next_bytes()?)
    } else {
        (args.next_bytes()?, args.next_bytes()?)
    };
    if !authenticate(ctx, user, password) {
        return Err(WRONGPASS.into());
    }
    reply.ok();
    Ok(())
}

/// Checks a user and password against the only user, `default`, and marks the caller authenticated on success.
/// A failure leaves an authenticated connection authenticated, as in Redis.
fn authenticate(ctx: &mut Ctx<'_>, user: &[u8], password: &[u8]) -> bool {
    let ok = user == b"default" && password_matches(ctx.state.config.requirepass.as_deref(), password);
    if ok {
        ctx.session().authenticated = true;
    }
    ok
}

/// Whether `password` opens the `default` user: any password when none is configured (`nopass`), else the
/// configured one, compared without an early exit so the time taken does not reveal a matching prefix.
pub(crate) fn password_matches(requirepass: Option<&[u8]>, password: &[u8]) -> bool {
    match requirepass {
        None => true,
        Some(expected) => {
            expected.len() == password.len()
                && expected.iter().zip(password).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::password_matches;
    use crate::cmd::admin::testkit::TestServer;
    use crate::config::Config;

    const HELLO_TAIL: &str = "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";

    #[test]
    fn hello_switches_protocol_for_its_own_reply() {
        let mut t = TestServer::new();
        let me = t.connect();
        let id = t.state.sessions[me].id;
        let head = "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n";
        let map = |header: &str, proto: u8| format!("{header}{head}:{proto}\r\n$2\r\nid\r\n:{id}\r\n{HELLO_TAIL}");
        assert_eq!(t.run(me, "HELLO"), map("*14\r\n", 2));
        assert_eq!(t.run(me, "HELLO 3"), map("%7\r\n", 3));
        assert_eq!(t.run(me, "HELLO"), map("%7\r\n", 3));
        assert_eq!(t.run(me, "HELLO 2"), map("*14\r\n", 2));
        assert_eq!(t.run(me, "HELLO 4"), "-NOPROTO unsupported protocol version\r\n");
        assert_eq!(t.run(me, "HELLO x"), "-ERR Protocol version is not an integer or out of range\r\n");
        assert_eq!(t.run(me, "HELLO 3 AUTH default"), "-ERR Syntax error in HELLO option 'AUTH'\r\n");
        // Options apply in order: the name sticks although a later option fails.
        assert_eq!(t.run(me, "HELLO 3 SETNAME conn BAD"), "-ERR Syntax error in HELLO option 'BAD'\r\n");
        assert_eq!(t.run(me, "CLIENT GETNAME"), "$4\r\nconn\r\n");
        assert!(t.run(me, "HELLO 3 SETNAME a\nb").starts_with("-ERR Client names cannot contain spaces"));
        // Option names end at a NUL byte, as for Redis's strcasecmp; the error quotes the C string.
        assert!(t.run(me, "HELLO 3 SetName\0x named").starts_with("%7\r\n"));
        assert_eq!(t.run(me, "HELLO 3 AUTH\0x"), "-ERR Syntax error in HELLO option 'AUTH'\r\n");
    }

    #[test]
    fn select_errors_in_redis_order() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "SELECT 15"), "+OK\r\n");
        assert_eq!(t.state.sessions[me].db, 15);
        assert_eq!(t.run(me, "SELECT abc"), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(t.run(me, "SELECT "), "-ERR value is not an integer or out of range\r\n");
        let range = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n";
        assert_eq!(t.run(me, "SELECT 9999999999999"), range);
        assert_eq!(t.run(me, "SELECT 16"), "-ERR DB index is out of range\r\n");
        assert_eq!(t.run(me, "SELECT -1"), "-ERR DB index is out of range\r\n");
    }

    #[test]
    fn auth_without_and_with_requirepass() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert!(t.run(me, "AUTH pw").starts_with("-ERR AUTH <password> called without any password configured"));
        assert_eq!(t.run(me, "AUTH default anything"), "+OK\r\n");
        assert_eq!(t.run(me, "AUTH bob pw"), format!("-{}\r\n", super::WRONGPASS));
        assert_eq!(t.run(me, "AUTH a b c"), "-ERR syntax error\r\n");

        let mut t = TestServer::with_config(Config { port: 0, requirepass: Some(b"pw".to_vec()), ..Config::default() });
        let me = t.connect();
        assert_eq!(t.run(me, "PING"), "-NOAUTH Authentication required.\r\n");
        assert!(t.run(me, "HELLO 3").starts_with("-NOAUTH HELLO must be called with the client already authenticated"));
        assert_eq!(t.run(me, "AUTH wrong"), format!("-{}\r\n", super::WRONGPASS));
        assert!(t.run(me, "HELLO 3 AUTH default pw").starts_with("%7\r\n"));
        assert_eq!(t.run(me, "PING"), "+PONG\r\n");
        let other = t.connect();
        assert_eq!(t.run(other, "AUTH pw"), "+OK\r\n");
    }

    #[test]
    fn passwords_match_exactly() {
        let expected = Some(&b"secret"[..]);
        assert!(password_matches(expected, b"secret"));
        assert!(!password_matches(expected, b"secreT"));
        assert!(!password_matches(expected, b"secret!"));
        assert!(!password_matches(expected, b""));
        assert!(password_matches(None, b"anything"));
    }
}
