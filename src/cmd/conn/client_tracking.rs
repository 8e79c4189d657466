//! CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (Redis 7.0's `clientCommand` branches for
//! client-side caching), with Redis's option parsing, checks in its order and error texts. The tables they
//! change are `state::tracking_table`; the invalidations are `cmd::tracking`.

use bytes::Bytes;

use super::super::args::{self, Keyword};
use super::super::errors::{self, CmdResult};
use super::super::{Ctx, Handlers};
use crate::resp::reply::Reply;
use crate::state::session::ClientId;
use crate::state::tracking_table::{ClientTracking, prefixes_overlap};

pub(super) const HANDLERS: Handlers = &[
    ("client|caching", client_caching),
    ("client|getredir", client_getredir),
    ("client|tracking", client_tracking),
    ("client|trackinginfo", client_trackinginfo),
];

const OVERLAP_TAIL: &str = ". Prefixes for a single client must not overlap.";

/// What CLIENT TRACKING's options asked for.
#[derive(Debug, Default)]
struct Options<'a> {
    redirect: Option<(u64, ClientId)>,
    bcast: bool,
    optin: bool,
    optout: bool,
    noloop: bool,
    prefixes: Vec<&'a Bytes>,
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP].
fn client_tracking(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if ctx.session().is_http() {
        // Invalidations arrive between requests, and an HTTP connection's output holds only responses.
        return Err("ERR client tracking is not supported over HTTP: each request is a connection of its own".into());
    }
    let options = parse_options(ctx)?;
    let mode = Keyword::of(&ctx.argv[2]);
    if mode.is("off") {
        ctx.state.disable_tracking(ctx.me);
    } else if mode.is("on") {
        check_options(ctx, &options)?;
        // Redis checks the prefixes against each other after the first with a bug it keeps: an overlap found
        // for a later prefix is reported and tracking is enabled anyway, followed by +OK.
        if let Some(err) = check_prefixes(ctx, &options)? {
            reply.error(err);
        }
        enable(ctx, &options);
    } else {
        return Err(errors::SYNTAX.into());
    }
    reply.ok();
    Ok(())
}

/// Reads the options after ON/OFF, as Redis does before looking at ON/OFF itself.
fn parse_options<'a>(ctx: &Ctx<'a>) -> Result<Options<'a>, errors::CmdError> {
    let argv = ctx.argv;
    let mut options = Options::default();
    let mut j = 3;
    while j < argv.len() {
        let word = Keyword::of(&argv[j]);
        let more = j + 1 < argv.len();
        if word.is("redirect") && more {
            j += 1;
            if options.redirect.is_some() {
                return Err("ERR A client can only redirect to a single other client".into());
            }
            let id = args::int(&argv[j])?;
            let found = u64::try_from(id).ok().and_then(|id| Some((id, super::client::session_of(ctx.state, id)?)));
            options.redirect = Some(found.ok_or("ERR The client ID you want redirect to does not exist")?);
        } else if word.is("bcast") {
            options.bcast = true;
        } else if word.is("optin") {
            options.optin = true;
        } else if word.is("optout") {
            options.optout = true;
        } else if word.is("noloop") {
            options.noloop = true;
        } else if word.is("prefix") && more {
            j += 1;
            options.prefixes.push(&argv[j]);
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok(options)
}

/// ON's compatibility checks, among the options and with the client's current mode, in Redis's order.
fn check_options(ctx: &mut Ctx<'_>, options: &Options<'_>) -> CmdResult {
    if !options.bcast && !options.prefixes.is_empty() {
        return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    let current = ctx.session().tracking.as_deref().map(|t| (t.bcast, t.optin, t.optout));
    if current.is_some_and(|(bcast, _, _)| bcast != options.bcast) {
        return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then \
                    re-enabling it with a different mode."
            .into());
    }
    if options.bcast && (options.optin || options.optout) {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if options.optin && options.optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if current.is_some_and(|(_, optin, optout)| (options.optin && optout) || (options.optout && optin)) {
        return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then \
                    re-enabling it with a different mode."
            .into());
    }
    Ok(())
}

/// Redis's checkPrefixCollisionsOrReply: each new prefix against the client's prefixes (an overlap refuses
/// the command), then against the later new ones. An overlap among the new ones refuses the command when
/// found for the first prefix; found for a later one, it is the error returned here while tracking goes on.
fn check_prefixes(ctx: &mut Ctx<'_>, options: &Options<'_>) -> Result<Option<Vec<u8>>, errors::CmdError> {
    if !options.bcast {
        return Ok(None);
    }
    let existing = ctx.session().tracking.as_deref().map(|t| &t.prefixes);
    let quote = |text: &[u8]| errors::c_str(text, usize::MAX).to_vec();
    for (i, prefix) in options.prefixes.iter().enumerate() {
        if let Some(old) = existing.into_iter().flatten().find(|old| prefixes_overlap(old, prefix)) {
            let message = [b"ERR Prefix '", &quote(prefix)[..], b"' overlaps with an existing prefix '", &quote(old)];
            return Err([&message.concat()[..], b"'", OVERLAP_TAIL.as_bytes()].concat().into());
        }
        if let Some(other) = options.prefixes[i + 1..].iter().find(|other| prefixes_overlap(prefix, other)) {
            let message =
                [b"ERR Prefix '", &quote(prefix)[..], b"' overlaps with another provided prefix '", &quote(other)];
            let message = [&message.concat()[..], b"'", OVERLAP_TAIL.as_bytes()].concat();
            return if i == 0 { Err(message.into()) } else { Ok(Some(message)) };
        }
    }
    Ok(None)
}

/// Redis's enableTracking: the options replace the previous ones, BCAST prefixes are added to the client's.
fn enable(ctx: &mut Ctx<'_>, options: &Options<'_>) {
    let me = ctx.me;
    let state = &mut *ctx.state;
    if state.sessions[me].tracking.is_none() {
        state.sessions[me].tracking = Some(Box::default());
        state.tracking.clients += 1;
        if state.tracking.clients == 1 {
            // Expiry now logs the keys it deletes, so their readers hear of it.
            state.sync_key_logs();
        }
    }
    let tracking: &mut ClientTracking = state.sessions[me].tracking.as_deref_mut().expect("just enabled");
    (tracking.redirect, tracking.redirect_slot) = options.redirect.map_or((0, None), |(id, slot)| (id, Some(slot)));
    (tracking.bcast, tracking.optin, tracking.optout) = (options.bcast, options.optin, options.optout);
    (tracking.noloop, tracking.broken_redirect) = (options.noloop, false);
    if options.bcast {
        let empty = Bytes::new();
        let prefixes = if options.prefixes.is_empty() { vec![&empty] } else { options.prefixes.clone() };
        for prefix in prefixes {
            let prefix = Bytes::copy_from_slice(prefix);
            if state.tracking.add_prefix(&prefix, me) {
                tracking.prefixes.insert(prefix);
            }
        }
    }
}

/// CLIENT CACHING YES|NO: whether the next command's keys are tracked, under OPTIN or OPTOUT.
fn client_caching(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let argv = ctx.argv;
    let Some(tracking) = ctx.session().tracking.as_deref_mut() else {
        return Err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT \
                    mode enabled"
            .into());
    };
    let mode = Keyword::of(&argv[2]);
    if mode.is("yes") {
        if !tracking.optin {
            return Err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.".into());
        }
    } else if mode.is("no") {
        if !tracking.optout {
            return Err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.".into());
        }
    } else {
        return Err(errors::SYNTAX.into());
    }
    tracking.caching = true;
    reply.ok();
    Ok(())
}

/// CLIENT GETREDIR: the redirect client's ID, 0 for none, -1 while tracking is off.
fn client_getredir(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(redirect_of(ctx.session().tracking.as_deref()));
    Ok(())
}

/// CLIENT LIST's `redir=` and GETREDIR's answer.
pub(super) fn redirect_of(tracking: Option<&ClientTracking>) -> i64 {
    tracking.map_or(-1, |t| t.redirect as i64)
}

/// CLIENT TRACKINGINFO: a map of `flags` (a set), `redirect` and `prefixes`.
fn client_trackinginfo(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let tracking = ctx.state.sessions[ctx.me].tracking.as_deref();
    reply.map(3);
    reply.bulk(b"flags");
    let flags = tracking.map_or_else(|| vec!["off"], info_flags);
    reply.set(flags.len());
    for name in flags {
        reply.bulk(name.as_bytes());
    }
    reply.bulk(b"redirect");
    reply.int(redirect_of(tracking));
    reply.bulk(b"prefixes");
    let prefixes = tracking.map(|t| &t.prefixes);
    reply.array(prefixes.map_or(0, |p| p.len()));
    for prefix in prefixes.into_iter().flatten() {
        reply.bulk(prefix);
    }
    Ok(())
}

/// TRACKINGINFO's flags of a tracking client, in Redis's order.
fn info_flags(t: &ClientTracking) -> Vec<&'static str> {
    let flags = [
        (true, "on"),
        (t.bcast, "bcast"),
        (t.optin, "optin"),
        (t.optin && t.caching, "caching-yes"),
        (t.optout, "optout"),
        (t.optout && t.caching, "caching-no"),
        (t.noloop, "noloop"),
        (t.broken_redirect, "broken_redirect"),
    ];
    flags.into_iter().filter(|&(set, _)| set).map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    fn pending_of(t: &mut TestServer, id: crate::state::session::ClientId) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut t.state.sessions[id].reply.buf)).into_owned()
    }

    #[test]
    fn own_writes_are_invalidated_after_the_reply_and_others_at_once() {
        let mut t = TestServer::new();
        let (me, other) = (t.connect(), t.connect());
        t.run(me, "HELLO 3");
        assert_eq!(t.run(me, "CLIENT TRACKING on"), "+OK\r\n");
        t.run(me, "MGET a b");
        assert_eq!((t.state.tracking.total_keys(), t.state.tracking.total_items()), (2, 2));
        assert_eq!(t.run(me, "SET a 1"), "+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n");
        t.state.sessions[me].reply.buf.clear();
        t.run(other, "SET b 1");
        assert_eq!(pending_of(&mut t, me), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n");
        assert_eq!(t.state.tracking.total_keys(), 0);
        t.run(me, "GET a");
        assert_eq!(t.run(me, "FLUSHALL"), "+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n");
        assert!(t.run(me, "CLIENT INFO").contains(" flags=t "));
        t.run(me, "CLIENT TRACKING off");
        assert_eq!(t.state.tracking.clients, 0);
        assert_eq!(t.run(me, "CLIENT GETREDIR"), ":-1\r\n");
    }

    #[test]
    fn a_closed_session_leaves_no_prefix_and_no_count() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "CLIENT TRACKING on BCAST PREFIX a PREFIX b"), "+OK\r\n");
        assert!(t.run(me, "CLIENT INFO").contains(" flags=tB "));
        assert_eq!(t.state.tracking.prefixes.len(), 2);
        t.state.close_asap(me);
        assert_eq!((t.state.tracking.prefixes.len(), t.state.tracking.clients), (0, 0));
    }

    #[test]
    fn http_sessions_cannot_track_and_get_no_redirected_message() {
        let mut t = TestServer::new();
        let (me, gateway) = (t.connect(), t.connect());
        t.state.sessions[gateway].link.as_mut().unwrap().http = true;
        t.state.sessions[gateway].reply.resp3 = true;
        let refused = "-ERR client tracking is not supported over HTTP: each request is a connection of its own\r\n";
        assert_eq!(t.run(gateway, "CLIENT TRACKING on"), refused);
        let gateway_id = t.state.sessions[gateway].id;
        assert_eq!(t.run(me, &format!("CLIENT TRACKING on REDIRECT {gateway_id}")), "+OK\r\n");
        t.run(me, "GET k");
        t.state.sessions[gateway].reply.buf.clear();
        t.run(me, "SET k v");
        assert!(t.state.sessions[gateway].reply.buf.is_empty());
    }

    #[test]
    fn a_later_prefix_overlap_is_reported_and_tracking_still_enabled() {
        let mut t = TestServer::new();
        let me = t.connect();
        let overlap = "-ERR Prefix 'b' overlaps with another provided prefix 'bc'. Prefixes for a single client \
                       must not overlap.\r\n";
        assert_eq!(t.run(me, "CLIENT TRACKING on BCAST PREFIX a PREFIX b PREFIX bc"), format!("{overlap}+OK\r\n"));
        assert_eq!(t.state.tracking.prefixes.len(), 3);
    }
}
