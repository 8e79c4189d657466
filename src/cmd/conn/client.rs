//! CLIENT subcommands: ID GETNAME SETNAME INFO LIST KILL REPLY NO-EVICT HELP (Redis 7.0's `clientCommand`;
//! the client-side caching ones are in `client_tracking`, PAUSE and UNPAUSE in `pause`).
//!
//! CLIENT INFO and CLIENT LIST print Redis 7.0's line per connection, field for field (`id addr laddr fd name
//! age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem events
//! cmd user redir resp`), sorted by id as Redis's client list is. Memory fields are our own buffers' sizes, the
//! output ones in Redis's terms (see `OutputFields`).
//!
//! During its own command the caller's reply is moved out of its `Session` (see `Ctx`), so its line is built
//! from `ctx.argv` and the handler's `reply` instead. Connection facts (addresses, fd, query buffer) come from
//! the session's `Link`, which the event loop keeps current; a session without a connection prints Redis's
//! values for a fake client (no address, fd -1).
//!
//! A connection is a pubsub client while it has a subscription and a normal one otherwise; replication does
//! not exist yet, so TYPE master and replica match nothing (they are still parsed and checked as Redis does).

use bytes::Bytes;
use std::fmt::Write as _;

use super::super::args::{self, Args, Keyword};
use super::super::errors::{self, CmdResult};
use super::super::{Ctx, Handlers};
use crate::resp::reply::Reply;
use crate::state::State;
use crate::state::output_limits::STATIC_REPLY_BYTES;
use crate::state::session::{ClientId, Link, ReplyMode, Session};

/// The CLIENT subcommands' handlers, bound to their entries in src/cmd/meta.
pub(super) const HANDLERS: Handlers = &[
    ("client|getname", client_getname),
    ("client|help", client_help),
    ("client|id", client_id),
    ("client|info", client_info),
    ("client|kill", client_kill),
    ("client|list", client_list),
    ("client|no-evict", client_no_evict),
    ("client|reply", client_reply),
    ("client|setname", client_setname),
    ("client|unblock", client_unblock),
];

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's block as if it timed out, or with an error. As in
/// Redis, the reason is checked before the id, and more arguments are the subcommand syntax error.
fn client_unblock(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.sub_args();
    if args.remaining() > 2 {
        return Err(errors::subcommand_syntax(&ctx.argv[0], &ctx.argv[1]));
    }
    let id = args.next_bytes()?;
    let error = match args.next_option() {
        None => None,
        Some(reason) if reason.is("timeout") => None,
        Some(reason) if reason.is("error") => Some("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    let id = args::int(id)?;
    let target = u64::try_from(id).ok().and_then(|id| session_of(ctx.state, id));
    let unblocked = target.is_some_and(|target| crate::cmd::blocking::unblock(ctx.state, target, error));
    reply.int(i64::from(unblocked));
    Ok(())
}

/// CLIENT HELP, Redis 7.0's text (it lists subcommands we do not have yet, as Redis's does).
const HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

/// Redis's client types (`getClientTypeByName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Pubsub,
    Master,
}

impl ClientType {
    /// The type a TYPE argument names (`strcasecmp`, so the name ends at a NUL).
    fn parse(name: Keyword<'_>) -> Result<ClientType, errors::CmdError> {
        let names = [
            ("normal", ClientType::Normal),
            ("slave", ClientType::Replica),
            ("replica", ClientType::Replica),
            ("pubsub", ClientType::Pubsub),
            ("master", ClientType::Master),
        ];
        name.pick(&names).ok_or_else(|| [&b"ERR Unknown client type '"[..], name.as_bytes(), b"'"].concat().into())
    }

    /// The type of a connection (Redis's getClientType): pubsub while it has a subscription, else normal
    /// (replication does not exist yet).
    fn of(client: &Session) -> ClientType {
        if client.is_subscribed() { ClientType::Pubsub } else { ClientType::Normal }
    }
}

fn client_id(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(ctx.session().id as i64);
    Ok(())
}

fn client_getname(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    match &ctx.session().name {
        Some(name) => reply.bulk(name),
        None => reply.null(),
    }
    Ok(())
}

fn client_setname(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    set_name(ctx, ctx.sub_args().next_bytes()?)?;
    reply.ok();
    Ok(())
}

/// Names the caller's connection (an empty name removes it). Redis refuses names with characters outside
/// `!`..=`~`, since CLIENT LIST separates fields with spaces and lines with newlines.
pub(super) fn set_name(ctx: &mut Ctx<'_>, name: &Bytes) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err("ERR Client names cannot contain spaces, newlines or special characters.".into());
    }
    ctx.session().name = if name.is_empty() { None } else { Some(name.clone()) };
    Ok(())
}

fn client_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    crate::cmd::admin::reply_help(reply, "CLIENT", HELP);
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP. The server drops the replies (see `Server::execute`); OFF and SKIP themselves
/// send nothing, and SKIP while OFF changes nothing, as in Redis.
fn client_reply(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mode = ctx.sub_args().next_keyword()?;
    let client = ctx.session();
    if mode.is("on") {
        client.reply_mode = ReplyMode::On;
        reply.ok();
    } else if mode.is("off") {
        client.reply_mode = ReplyMode::Off;
    } else if mode.is("skip") {
        if client.reply_mode != ReplyMode::Off {
            client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(errors::SYNTAX.into());
    }
    Ok(())
}

fn client_no_evict(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let no_evict = ctx.sub_args().next_keyword()?.pick(&[("on", true), ("off", false)]).ok_or(errors::SYNTAX)?;
    ctx.session().no_evict = no_evict;
    reply.ok();
    Ok(())
}

fn client_info(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut text = String::new();
    info_line(&mut text, ctx.state, ctx.me, Some(Caller { argv: ctx.argv, reply }), ctx.now_ms);
    reply.verbatim("txt", text.as_bytes());
    Ok(())
}

/// CLIENT LIST [TYPE type | ID id [id ...]]. With ids, Redis prints the clients in the order (and as often as)
/// the ids are given.
fn client_list(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let mut args = ctx.sub_args();
    let filter = args.next_option();
    let ids: Vec<ClientId> = match filter {
        None => sorted_ids(ctx.state),
        Some(filter) if filter.is("type") && args.remaining() == 1 => {
            let wanted = ClientType::parse(args.next_keyword()?)?;
            let sessions = &ctx.state.sessions;
            sorted_ids(ctx.state).into_iter().filter(|&id| ClientType::of(&sessions[id]) == wanted).collect()
        }
        Some(filter) if filter.is("id") && args.remaining() > 0 => {
            let mut ids = Vec::with_capacity(args.remaining());
            while args.remaining() > 0 {
                let id = args.next_int_or("ERR Invalid client ID")?;
                ids.extend(u64::try_from(id).ok().and_then(|id| session_of(ctx.state, id)));
            }
            ids
        }
        Some(_) => return Err(errors::SYNTAX.into()),
    };
    let mut text = String::new();
    for id in ids {
        let caller = (id == ctx.me).then_some(Caller { argv, reply: &*reply });
        info_line(&mut text, ctx.state, id, caller, ctx.now_ms);
    }
    reply.verbatim("txt", text.as_bytes());
    Ok(())
}

/// The filters of CLIENT KILL's option form; `None` matches any value.
#[derive(Debug, Default)]
struct KillFilter {
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    client_type: Option<ClientType>,
    id: Option<u64>,
    skip_me: bool,
}

/// CLIENT KILL ip:port, or CLIENT KILL <option> <value> [...]. The old form may kill the caller and answers
/// OK or "No such client"; the option form skips the caller unless SKIPME no, and answers the count.
fn client_kill(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.sub_args();
    let old_form = args.remaining() == 1;
    let filter = if old_form {
        KillFilter { addr: Some(args.next_bytes()?.clone()), ..KillFilter::default() }
    } else {
        parse_kill_filter(args)?
    };
    let mut killed = 0;
    let mut kill_me = false;
    for id in sorted_ids(ctx.state) {
        let client = &ctx.state.sessions[id];
        let (addr, laddr) = client.link.as_ref().map_or(("", ""), |link| (link.addr.as_str(), link.laddr.as_str()));
        let matches = filter.addr.as_ref().is_none_or(|a| same_address(a, addr))
            && filter.laddr.as_ref().is_none_or(|a| same_address(a, laddr))
            && filter.client_type.is_none_or(|t| ClientType::of(client) == t)
            && filter.id.is_none_or(|id| id == client.id)
            && !(id == ctx.me && filter.skip_me);
        if !matches {
            continue;
        }
        killed += 1;
        if id == ctx.me {
            kill_me = true;
        } else {
            ctx.state.close_asap(id);
        }
    }
    match (old_form, killed) {
        (true, 0) => return Err("ERR No such client".into()),
        (true, _) => reply.ok(),
        (false, n) => reply.int(n),
    }
    // The caller goes only after its reply is written.
    ctx.session().close_after_reply |= kill_me;
    Ok(())
}

/// Parses the rest of `args` as CLIENT KILL's option/value pairs, with Redis's checks and error texts.
fn parse_kill_filter(mut args: Args<'_>) -> Result<KillFilter, errors::CmdError> {
    let mut filter = KillFilter { skip_me: true, ..KillFilter::default() };
    while let Some(option) = args.next_option() {
        if args.remaining() == 0 {
            return Err(errors::SYNTAX.into());
        }
        if option.is("id") {
            let id = args.next_int_in_or(1, i64::MAX, "ERR client-id should be greater than 0")?;
            filter.id = Some(id as u64);
        } else if option.is("type") {
            filter.client_type = Some(ClientType::parse(args.next_keyword()?)?);
        } else if option.is("addr") {
            filter.addr = Some(args.next_bytes()?.clone());
        } else if option.is("laddr") {
            filter.laddr = Some(args.next_bytes()?.clone());
        } else if option.is("user") {
            // `default` is the only user, and every connection is authenticated as it.
            let user = args.next_bytes()?;
            if user.as_ref() != b"default" {
                return Err([&b"ERR No such user '"[..], Keyword::of(user).as_bytes(), b"'"].concat().into());
            }
        } else if option.is("skipme") {
            filter.skip_me = args.next_keyword()?.pick(&[("yes", true), ("no", false)]).ok_or(errors::SYNTAX)?;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(filter)
}

/// Whether an ADDR/LADDR argument names `addr` (`ip:port`, `[ip6]:port`), compared as C's `strcmp` would.
fn same_address(arg: &[u8], addr: &str) -> bool {
    errors::c_str(arg, usize::MAX) == addr.as_bytes()
}

/// Every session, in CLIENT ID (connection) order.
fn sorted_ids(state: &State) -> Vec<ClientId> {
    let mut ids: Vec<(u64, ClientId)> = state.sessions.iter().map(|(id, c)| (c.id, id)).collect();
    ids.sort_unstable();
    ids.into_iter().map(|(_, id)| id).collect()
}

/// The session with CLIENT ID `id`.
pub(super) fn session_of(state: &State, id: u64) -> Option<ClientId> {
    state.sessions.iter().find(|(_, c)| c.id == id).map(|(found, _)| found)
}

/// The calling session's command and its reply, which is moved out of its `Session` while the command runs.
#[derive(Debug, Clone, Copy)]
struct Caller<'a> {
    argv: &'a [Bytes],
    reply: &'a Reply,
}

/// Redis's `catClientInfoString`: session `id`'s CLIENT LIST line without its newline, for the log lines
/// that name a client (output and query buffer limits).
pub fn info_string(state: &State, id: ClientId) -> String {
    let mut line = String::new();
    info_line(&mut line, state, id, None, crate::clock::unix_ms());
    line.truncate(line.trim_end().len());
    line
}

/// What a client costs: CLIENT LIST's `tot-mem` between commands (buffers and the session), which
/// `maxmemory-clients` limits.
pub fn memory_usage(client: &Session) -> usize {
    let buffers = client.link.as_ref().map_or(0, |link| link.qbuf + link.qbuf_free);
    let parked = client.parked.as_ref().map_or(0, |parked| parked.argv.iter().map(Bytes::len).sum());
    buffers + client.reply.buf.capacity() + parked + size_of::<Session>()
}

/// Appends Redis 7.0's CLIENT LIST line for session `id`, newline included.
fn info_line(out: &mut String, state: &State, id: ClientId, caller: Option<Caller<'_>>, now_ms: i64) {
    let client = &state.sessions[id];
    let parked_argv = client.parked.as_ref().map_or(&[][..], |parked| parked.argv.as_slice());
    let (argv, reply) = match caller {
        Some(c) => (c.argv, c.reply),
        None => (parked_argv, &client.reply),
    };
    let fake = Link { fd: -1, ..Link::default() };
    let link = client.link.as_ref().unwrap_or(&fake);
    let argv_mem: usize = argv.iter().map(Bytes::len).sum();
    let multi_mem = client.multi.as_deref().map_or(0, multi_memory);
    let output = OutputFields::of(reply.buf.len().saturating_sub(link.sent));
    let tot_mem =
        link.qbuf + link.qbuf_free + reply.buf.capacity() + argv_mem + multi_mem + std::mem::size_of::<Session>();
    let name = client.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    let cmd = client.last_command.map_or("NULL", |id| crate::cmd::table().names[id].as_str());
    let subscriptions = client.subscriptions.as_deref();
    let _ = writeln!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} \
         qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events={} \
         cmd={} user=default redir={} resp={}",
        client.id,
        link.addr,
        link.laddr,
        link.fd,
        name,
        (now_ms - client.created_ms).max(0) / 1000,
        (now_ms - client.last_interaction_ms).max(0) / 1000,
        flags(client),
        client.db,
        subscriptions.map_or(0, |s| s.channels.len()),
        subscriptions.map_or(0, |s| s.patterns.len()),
        subscriptions.map_or(0, |s| s.shard_channels.len()),
        client.multi.as_ref().map_or(-1, |multi| multi.commands.len() as i64),
        link.qbuf,
        link.qbuf_free,
        argv_mem,
        multi_mem,
        reply.buf.capacity(),
        reply.buf.capacity(),
        output.obl,
        output.oll,
        output.omem,
        tot_mem,
        if link.write_waiting { "rw" } else { "r" },
        cmd,
        super::client_tracking::redirect_of(client.tracking.as_deref()),
        if reply.resp3 { 3 } else { 2 },
    );
}

/// CLIENT LIST's output fields for `pending` unsent reply bytes, in Redis's terms over our one buffer: the
/// first 16 KiB are what Redis's static reply buffer would hold (`obl`), the rest is its reply list (`omem`
/// bytes, the ones `client-output-buffer-limit` counts, in `oll` nodes of 16 KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OutputFields {
    obl: usize,
    oll: usize,
    omem: usize,
}

impl OutputFields {
    fn of(pending: usize) -> OutputFields {
        let obl = pending.min(STATIC_REPLY_BYTES);
        let omem = pending - obl;
        OutputFields { obl, oll: omem.div_ceil(STATIC_REPLY_BYTES), omem }
    }
}

/// The memory a queued transaction holds (`multi-mem`): its arguments' bytes and their vectors.
fn multi_memory(multi: &crate::state::session::Multi) -> usize {
    let argv = |argv: &Vec<Bytes>| argv.iter().map(|arg| arg.len() + std::mem::size_of::<Bytes>()).sum::<usize>();
    multi.commands.iter().map(|command| argv(command) + std::mem::size_of::<Vec<Bytes>>()).sum()
}

/// CLIENT LIST's `flags=` letters in Redis's order, `N` when none applies.
fn flags(client: &Session) -> String {
    let mut flags = String::new();
    let tracking = client.tracking.as_deref();
    let letters = [
        (client.is_replica(), 'S'),
        (client.monitor, 'O'),
        (client.is_subscribed(), 'P'),
        (client.multi.is_some(), 'x'),
        (client.parked.is_some(), 'b'),
        (tracking.is_some(), 't'),
        (tracking.is_some_and(|t| t.broken_redirect), 'R'),
        (tracking.is_some_and(|t| t.bcast), 'B'),
        (client.dirty_cas, 'd'),
        (client.close_after_reply, 'c'),
        (client.close_asap, 'A'),
        (client.link.as_ref().is_some_and(|link| link.unix), 'U'),
        (client.no_evict, 'e'),
    ];
    for (set, letter) in letters {
        if set {
            flags.push(letter);
        }
    }
    if flags.is_empty() {
        flags.push('N');
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;

    /// The fields of a CLIENT LIST line that do not depend on sockets, time or buffer sizes.
    fn stable_fields(line: &str) -> String {
        let volatile =
            ["id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free", "argv-mem", "rbs", "rbp", "tot-mem"];
        line.split(' ').filter(|f| !volatile.contains(&f.split('=').next().unwrap())).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn names_ids_and_list_lines() {
        let mut t = TestServer::new();
        let me = t.connect();
        let other = t.connect();
        assert_eq!(t.run(me, "CLIENT GETNAME"), "$-1\r\n");
        assert_eq!(t.run(me, "CLIENT SETNAME alpha"), "+OK\r\n");
        assert_eq!(t.run(me, "CLIENT GETNAME"), "$5\r\nalpha\r\n");
        assert_eq!(
            t.run(me, "CLIENT SETNAME é"),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
        assert_eq!(t.run(other, "CLIENT ID"), format!(":{}\r\n", t.state.sessions[other].id));
        let list = t.run(me, "CLIENT LIST");
        let lines: Vec<&str> = list.split("\r\n").nth(1).unwrap().split('\n').filter(|l| !l.is_empty()).collect();
        assert_eq!(
            stable_fields(lines[0]),
            "name=alpha flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 multi-mem=0 obl=0 oll=0 omem=0 events=r \
             cmd=client|list user=default redir=-1 resp=2"
        );
        assert!(lines[1].contains(" name= ") && lines[1].ends_with("cmd=client|id user=default redir=-1 resp=2"));
        assert!(t.run(me, "CLIENT INFO").contains("argv-mem=10 "));
        assert_eq!(t.run(me, "CLIENT LIST TYPE pubsub"), "$0\r\n\r\n");
        assert_eq!(t.run(me, "CLIENT LIST TYPE x"), "-ERR Unknown client type 'x'\r\n");
        assert_eq!(t.run(me, "CLIENT LIST ID 1 x"), "-ERR Invalid client ID\r\n");
        let id = t.state.sessions[other].id;
        assert_eq!(t.run(me, &format!("CLIENT LIST ID {id} {id}")).matches("cmd=client|id").count(), 2);
        assert_eq!(t.run(me, "NOSUCH"), "-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
        assert!(t.run(me, "CLIENT INFO").contains("cmd=client|info"));
    }

    #[test]
    fn kill_others_and_oneself() {
        let mut t = TestServer::new();
        let me = t.connect();
        let other = t.connect();
        let other_id = t.state.sessions[other].id;
        assert_eq!(t.run(me, &format!("CLIENT KILL ID {other_id}")), ":1\r\n");
        assert!(t.state.sessions[other].close_asap);
        assert_eq!(t.run(me, "CLIENT KILL TYPE normal"), ":1\r\n");
        assert!(!t.state.sessions[me].close_after_reply);
        assert_eq!(t.run(me, "CLIENT KILL 1.2.3.4:5"), "-ERR No such client\r\n");
        let addr = t.state.sessions[me].link.as_ref().map(|link| link.addr.clone()).unwrap();
        assert_eq!(t.run(me, &format!("CLIENT KILL {addr}")), "+OK\r\n");
        assert!(t.state.sessions[me].close_after_reply);
    }

    #[test]
    fn reply_and_no_evict_modes() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "CLIENT REPLY SKIP"), "");
        assert_eq!(t.state.sessions[me].reply_mode, ReplyMode::SkipNext);
        assert_eq!(t.run(me, "CLIENT REPLY OFF"), "");
        assert_eq!(t.run(me, "CLIENT REPLY SKIP"), "");
        assert_eq!(t.state.sessions[me].reply_mode, ReplyMode::Off);
        assert_eq!(t.run(me, "CLIENT REPLY ON"), "+OK\r\n");
        assert_eq!(t.run(me, "CLIENT REPLY maybe"), "-ERR syntax error\r\n");
        assert_eq!(t.run(me, "CLIENT NO-EVICT on"), "+OK\r\n");
        assert!(t.run(me, "CLIENT INFO").contains(" flags=e "));
        assert_eq!(t.run(me, "CLIENT NO-EVICT maybe"), "-ERR syntax error\r\n");
        assert_eq!(t.run(me, "CLIENT NO-EVICT off\0x"), "+OK\r\n");
        assert_eq!(t.run(me, "CLIENT REPLY On\0"), "+OK\r\n");
        // Checked as Redis checks them: the reason before the id, the argument count before both.
        let reason = "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n";
        assert_eq!(t.run(me, "CLIENT UNBLOCK x foo"), reason);
        assert_eq!(t.run(me, "CLIENT UNBLOCK x timeout"), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(t.run(me, "CLIENT UNBLOCK 1 ERROR\0x"), ":0\r\n");
        let count = "-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.\r\n";
        assert_eq!(t.run(me, "CLIENT UNBLOCK 1 timeout x"), count);
        assert_eq!(t.run(me, "CLIENT SETINFO lib-name x"), "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n");
        assert!(t.run(me, "CLIENT HELP").starts_with("*48\r\n+CLIENT <subcommand>"));
    }

    fn kill_filter(words: &str) -> Result<KillFilter, errors::CmdError> {
        parse_kill_filter(Args::new(&args::test_argv(words), 0))
    }

    #[test]
    fn kill_filters_parse_like_redis() {
        let f = kill_filter("ID 7 type NORMAL SkipMe no").unwrap();
        assert_eq!((f.id, f.client_type, f.skip_me), (Some(7), Some(ClientType::Normal), false));
        assert!(kill_filter("addr 1.2.3.4:5").unwrap().skip_me);
        // Option names and values compared with strcasecmp end at a NUL, as in Redis.
        let f = kill_filter(r"SKIPME\0 yes\0 ID\0 9 type\0x normal\0x").unwrap();
        assert_eq!((f.id, f.client_type, f.skip_me), (Some(9), Some(ClientType::Normal), true));
        let err = |list: &[&str]| kill_filter(&list.join(" ")).unwrap_err().text();
        assert_eq!(err(&["id", "0"]), "ERR client-id should be greater than 0");
        assert_eq!(err(&["id", "x"]), "ERR client-id should be greater than 0");
        assert_eq!(err(&["type", "foo"]), "ERR Unknown client type 'foo'");
        assert_eq!(err(&["user", "bob"]), "ERR No such user 'bob'");
        assert_eq!(err(&["user", r"default\0x"]), "ERR No such user 'default'");
        assert_eq!(err(&["skipme", "maybe"]), "ERR syntax error");
        assert_eq!(err(&["maxage", "5"]), "ERR syntax error");
        assert_eq!(err(&["id", "1", "type"]), "ERR syntax error");
    }

    #[test]
    fn output_fields_put_the_first_16_kib_in_the_static_buffer() {
        assert_eq!(OutputFields::of(100), OutputFields { obl: 100, oll: 0, omem: 0 });
        assert_eq!(OutputFields::of(STATIC_REPLY_BYTES), OutputFields { obl: STATIC_REPLY_BYTES, oll: 0, omem: 0 });
        let beyond = 2 * STATIC_REPLY_BYTES + 1;
        assert_eq!(
            OutputFields::of(STATIC_REPLY_BYTES + beyond),
            OutputFields { obl: STATIC_REPLY_BYTES, oll: 3, omem: beyond }
        );
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "MULTI");
        t.run(me, "SET k v");
        let per_arg = std::mem::size_of::<Bytes>();
        let want = format!(" multi-mem={} ", 5 + 3 * per_arg + std::mem::size_of::<Vec<Bytes>>());
        assert!(info_string(&t.state, me).contains(&want));
    }

    #[test]
    fn client_types_by_name() {
        let parse = |name: &[u8]| ClientType::parse(Keyword::of(name));
        assert_eq!(parse(b"Slave").unwrap(), ClientType::Replica);
        assert_eq!(parse(b"replica\0x").unwrap(), ClientType::Replica);
        assert_eq!(parse(b"PUBSUB").unwrap(), ClientType::Pubsub);
        assert_eq!(parse(b"master").unwrap(), ClientType::Master);
        assert_eq!(parse(b"norm\0al").unwrap_err().text(), "ERR Unknown client type 'norm'");
    }
}
