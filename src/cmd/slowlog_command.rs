//! SLOWLOG GET LEN RESET HELP (Redis's `slowlog.c`), and `record`, which `cmd::call` runs for every command
//! that took at least `slowlog-log-slower-than` microseconds (a negative threshold turns the log off).
//!
//! Commands flagged `skip_slowlog` (EXEC: its commands are logged one by one instead) are never logged, and
//! passwords never reach the log: `redacted` names the arguments Redis replaces with `(redacted)` (AUTH's,
//! HELLO's AUTH pair, CONFIG SET of masterauth, masteruser and requirepass, MIGRATE's AUTH and AUTH2).

use bytes::Bytes;

use super::admin::reply_help;
use super::errors::CmdResult;
use super::{Ctx, Handlers, Resolved, flag};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::state::session::ClientId;
use crate::state::slowlog::Entry;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("slowlog", super::admin::container),
    ("slowlog|get", slowlog_get),
    ("slowlog|len", slowlog_len),
    ("slowlog|reset", slowlog_reset),
    ("slowlog|help", slowlog_help),
]];

/// Entries SLOWLOG GET returns without a count.
const GET_COUNT_DEFAULT: usize = 10;
/// The configs whose CONFIG SET value is redacted (Redis's SENSITIVE_CONFIG among those ferrokv has).
const SENSITIVE_CONFIGS: &[&str] = &["masterauth", "masteruser", "requirepass"];
const REDACTED: Bytes = Bytes::from_static(b"(redacted)");

/// Whether a command that ran `duration_us` is logged; inlined so the usual answer costs two comparisons.
#[inline]
pub fn wanted(state: &State, cmd: Resolved, duration_us: u64) -> bool {
    let threshold = state.config.slowlog_log_slower_than_us;
    threshold >= 0 && duration_us >= threshold as u64 && cmd.spec.flags & flag::SKIP_SLOWLOG == 0
}

/// Logs session `id`'s command `argv` (see `wanted`).
#[cold]
pub fn record(state: &mut State, id: ClientId, cmd: Resolved, argv: &[Bytes], duration_us: u64) {
    let session = &state.sessions[id];
    let entry = Entry {
        id: 0,
        time_s: state.now_ms / 1000,
        duration_us,
        argv: Vec::new(),
        peer: session.link.as_ref().map(|link| link.addr.clone()).unwrap_or_default(),
        name: session.name.clone().unwrap_or_default(),
    };
    let hidden = redacted(cmd, argv);
    let args = argv.iter().enumerate().map(|(index, arg)| if hidden(index) { REDACTED } else { arg.clone() });
    let len_max = state.config.slowlog_max_len;
    state.slowlog.push(entry, args, len_max);
}

/// Which arguments of `argv` Redis redacts for `cmd` (the slow log's and MONITOR's).
pub fn redacted<'a>(cmd: Resolved, argv: &'a [Bytes]) -> impl Fn(usize) -> bool + 'a {
    let name = &super::table().names[cmd.id];
    let kind = match name.as_str() {
        "auth" => 1,
        "hello" => 2,
        "config|set" => 3,
        "migrate" => 4,
        _ => 0,
    };
    // MIGRATE's passwords are where its own option parser finds them (and only up to where it stopped).
    let migrate = if kind == 4 { super::migrate::redacted_positions(argv) } else { Vec::new() };
    move |index| match kind {
        1 => index >= 1,
        // HELLO [protover [AUTH username password] ...]: the two words after AUTH.
        2 => index >= 2 && (1..=2).any(|back| index > back && argv[index - back].eq_ignore_ascii_case(b"auth")),
        // CONFIG SET name value ...: a sensitive name's value.
        3 => {
            index >= 3
                && index % 2 == 1
                && SENSITIVE_CONFIGS.iter().any(|config| argv[index - 1].eq_ignore_ascii_case(config.as_bytes()))
        }
        4 => migrate.contains(&index),
        _ => false,
    }
}

/// SLOWLOG GET [count]: the newest entries, each `[id, time, duration, argv, peer, name]`; -1 means all.
fn slowlog_get(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.sub_args();
    let count = match args.remaining() {
        0 => GET_COUNT_DEFAULT,
        _ => match args.next_int_in_or(-1, i64::MAX, "ERR count should be greater than or equal to -1")? {
            -1 => usize::MAX,
            count => count as usize,
        },
    };
    let entries = ctx.state.slowlog.newest(count);
    reply.array(entries.len());
    for entry in entries {
        reply.array(6);
        reply.int(entry.id as i64);
        reply.int(entry.time_s);
        reply.int(entry.duration_us as i64);
        reply.array(entry.argv.len());
        for arg in &entry.argv {
            reply.bulk(arg);
        }
        reply.bulk(entry.peer.as_bytes());
        reply.bulk(&entry.name);
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(ctx.state.slowlog.len() as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    ctx.state.slowlog.reset();
    reply.ok();
    Ok(())
}

fn slowlog_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply_help(
        reply,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn logs_slow_commands_with_passwords_redacted() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "CONFIG SET slowlog-log-slower-than 0");
        t.run(me, "SLOWLOG RESET");
        t.run(me, "HELLO 2 AUTH default secret");
        t.run(me, "CONFIG SET requirepass pw maxclients 100");
        let got = t.run(me, "SLOWLOG GET 2");
        assert!(
            got.contains("$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$10\r\n(redacted)\r\n$10\r\nmaxclients")
        );
        assert!(got.contains("$5\r\nHELLO\r\n$1\r\n2\r\n$4\r\nAUTH\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n"));
        assert_eq!(t.run(me, "SLOWLOG GET -2"), "-ERR count should be greater than or equal to -1\r\n");
        t.run(me, "CONFIG SET slowlog-log-slower-than -1");
        t.run(me, "SLOWLOG RESET");
        t.run(me, "PING");
        assert_eq!(t.run(me, "SLOWLOG LEN"), ":0\r\n");
    }
}
