//! Stream commands (Redis's t_stream.c): XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID here; XREAD and
//! XREADGROUP in `stream/read.rs`; XGROUP XACK XPENDING XCLAIM XAUTOCLAIM in `stream/groups.rs`; XINFO in
//! `stream/info.rs`; ID parsing in `stream/ids.rs`.
//!
//! Arguments are checked in Redis 7.0's order before anything changes. IDs that `*` or `ms-*` generated and
//! approximate trims propagate as what they did (the ID, `=` and the exact threshold), as Redis rewrites them,
//! so a replica or the AOF replays the same entries.

mod groups;
mod ids;
mod read;
mod xinfo;

use bytes::Bytes;

use super::args::Args;
use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::stream_object::{EntryRef, NodeLimits, Stream, StreamId, Trim};
use ids::{parse_range_end, parse_range_start, parse_strict};

const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
const LIMIT_WITHOUT_TRIM: &str = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
const LIMIT_WITHOUT_APPROX: &str = "ERR syntax error, LIMIT cannot be used without the special ~ option";
const XTRIM_WITHOUT_TRIM: &str = "ERR syntax error, XTRIM must be called with a trimming strategy";
const ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const ID_TOO_SMALL: &str = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const ID_EXHAUSTED: &str = "ERR The stream has exhausted the last possible ID, unable to add more items";
const TOO_LARGE: &str = "ERR Elements are too large to be stored";
const SETID_SMALLER: &str = "ERR The ID specified in XSETID is smaller than the target stream top item";
const SETID_ENTRIES_SMALLER: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
const SETID_ENTRIES_NEGATIVE: &str = "ERR entries_added must be positive";
const SETID_MAXDELETED: &str = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[
    &[
        ("xadd", xadd),
        ("xdel", xdel),
        ("xlen", xlen),
        ("xrange", xrange),
        ("xrevrange", xrevrange),
        ("xsetid", xsetid),
        ("xtrim", xtrim),
    ],
    read::HANDLERS,
    groups::HANDLERS,
    xinfo::HANDLERS,
];

/// Writes `id` as a bulk string.
fn reply_id(reply: &mut Reply, id: StreamId) {
    reply.bulk(id.format(&mut [0; 41]));
}

fn id_bytes(id: StreamId) -> Bytes {
    Bytes::copy_from_slice(id.format(&mut [0; 41]))
}

/// Writes one entry as Redis does: `[id, [field, value, ...]]`.
fn reply_entry(reply: &mut Reply, entry: &EntryRef<'_>) {
    reply.array(2);
    reply_id(reply, entry.id);
    reply.array(entry.pairs() * 2);
    for item in entry.items() {
        reply.bulk(&item);
    }
}

/// Writes `entries` as an array, its length patched in once they are counted.
fn reply_entries<'a>(reply: &mut Reply, entries: impl Iterator<Item = EntryRef<'a>>) {
    let start = reply.begin_array();
    let mut n = 0;
    for entry in entries {
        reply_entry(reply, &entry);
        n += 1;
    }
    reply.end_array(start, n);
}

fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    let config = &ctx.state.config;
    NodeLimits {
        max_entries: usize::try_from(config.stream_node_max_entries).unwrap_or(usize::MAX),
        max_bytes: config.stream_node_max_bytes,
    }
}

/// XADD's and XTRIM's trimming options, parsed.
struct TrimArgs {
    trim: Option<Trim>,
    approx: bool,
    limit: usize,
    /// The index in argv of the threshold, which an approximate trim rewrites for propagation.
    threshold_at: usize,
}

/// What XADD asked for besides trimming.
struct AddArgs {
    no_mkstream: bool,
    /// `None` for `*`; `Some((id, seq_given))` otherwise.
    id: Option<(StreamId, bool)>,
    /// Where the field/value pairs start.
    fields_at: usize,
}

/// streamParseAddOrTrimArgsOrReply: the options of XADD (`xadd` true, which stops at the ID) or XTRIM.
fn parse_trim_args(ctx: &Ctx<'_>, xadd: bool) -> Result<(TrimArgs, AddArgs), CmdError> {
    let argv = ctx.argv;
    let mut trim = TrimArgs { trim: None, approx: false, limit: 0, threshold_at: 0 };
    let mut add = AddArgs { no_mkstream: false, id: None, fields_at: argv.len() };
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = super::args::Keyword::of(&argv[i]);
        if xadd && &argv[i][..] == b"*" {
            add.fields_at = i + 1;
            break;
        } else if (opt.is("maxlen") || opt.is("minid")) && more > 0 {
            let next = &argv[i + 1][..];
            if (next == b"~" || next == b"=") && more >= 2 {
                trim.approx = next == b"~";
                i += 1;
            }
            let threshold = &argv[i + 1];
            trim.trim = Some(if opt.is("maxlen") {
                let max = super::args::int(threshold)?;
                Trim::MaxLen(u64::try_from(max).map_err(|_| CmdError::from(MAXLEN_NEGATIVE))?)
            } else {
                Trim::MinId(parse_strict(threshold, 0)?.0)
            });
            i += 1;
            trim.threshold_at = i;
        } else if opt.is("limit") && more > 0 {
            let limit = super::args::int(&argv[i + 1])?;
            trim.limit = usize::try_from(limit).map_err(|_| CmdError::from(LIMIT_NEGATIVE))?;
            limit_given = true;
            i += 1;
        } else if xadd && opt.is("nomkstream") {
            add.no_mkstream = true;
        } else if xadd {
            add.id = Some(parse_strict(&argv[i], 0)?);
            add.fields_at = i + 1;
            break;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    // Redis tests the LIMIT value here (so LIMIT 0 passes) but whether LIMIT was given below.
    if trim.limit != 0 && trim.trim.is_none() {
        return Err(LIMIT_WITHOUT_TRIM.into());
    }
    if !xadd && trim.trim.is_none() {
        return Err(XTRIM_WITHOUT_TRIM.into());
    }
    // The AOF loader obeys whatever it replays, as Redis's mustObeyClient: no LIMIT applies.
    if ctx.state.keyspace.dbs[ctx.db_index].loading {
        trim.limit = 0;
    } else {
        if limit_given && !trim.approx {
            return Err(LIMIT_WITHOUT_APPROX.into());
        }
        if trim.approx && !limit_given {
            trim.limit = match usize::try_from(ctx.state.config.stream_node_max_entries.saturating_mul(100)) {
                Ok(0) | Err(_) => 10_000,
                Ok(n) => n,
            };
        }
    }
    Ok((trim, add))
}

/// The ID XADD gives the new entry (streamAppendItem's rules), or its error.
fn next_add_id(stream: &Stream, requested: Option<(StreamId, bool)>, now_ms: i64) -> Result<StreamId, CmdError> {
    let last = stream.last_id;
    if last == StreamId::MAX {
        return Err(ID_EXHAUSTED.into());
    }
    let id = match requested {
        None => {
            let ms = u64::try_from(now_ms).unwrap_or(0);
            if ms > last.ms { StreamId::new(ms, 0) } else { last.next().ok_or(ID_EXHAUSTED)? }
        }
        Some((id, true)) => id,
        Some((id, false)) if id.ms == last.ms => {
            StreamId::new(id.ms, last.seq.checked_add(1).ok_or(CmdError::from(TOO_LARGE))?)
        }
        Some((id, false)) => StreamId::new(id.ms, 0),
    };
    if id <= last {
        return Err(ID_TOO_SMALL.into());
    }
    Ok(id)
}

fn xadd(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let (trim, add) = parse_trim_args(ctx, true)?;
    let argv = ctx.argv;
    let fields = &argv[add.fields_at.min(argv.len())..];
    if fields.is_empty() || !fields.len().is_multiple_of(2) {
        return Err(errors::wrong_arity("xadd"));
    }
    if let Some((id, true)) = add.id
        && id == StreamId::MIN
    {
        return Err(ID_ZERO.into());
    }
    let key = &argv[1];
    let (now_ms, limits) = (ctx.now_ms, node_limits(ctx));
    if ctx.write_typed::<Stream>(key)?.is_none() {
        if add.no_mkstream {
            reply.null();
            return Ok(());
        }
        ctx.db().insert_new(key, Value::Stream(Box::default()));
    }
    let stream = ctx.write_typed::<Stream>(key)?.expect("checked or created above");
    let id = next_add_id(stream, add.id, now_ms)?;
    stream.append(id, fields, limits);
    reply_id(reply, id);
    let trimmed = trim.trim.is_some_and(|t| stream.trim(t, trim.approx, trim.limit) > 0);
    let rewrite = rewritten_trim(stream, &trim);
    ctx.key_changed(key);
    ctx.notify(notify::STREAM, "xadd", key);
    if trimmed {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    let id_at = add.fields_at - 1;
    if add.id.is_none_or(|(_, seq_given)| !seq_given) || rewrite.is_some() {
        ctx.propagate_as(|| {
            let mut out = argv.to_vec();
            out[id_at] = id_bytes(id);
            apply_trim_rewrite(&mut out, &trim, rewrite);
            out
        });
    }
    Ok(())
}

/// What an approximate trim propagates as: `=` and the exact threshold it reached (the length for MAXLEN,
/// the first ID for MINID, the largest ID when empty), as streamRewriteApproxSpecifier/TrimArgument do, so a
/// replay with other node sizes or no LIMIT keeps the same entries.
fn rewritten_trim(stream: &Stream, trim: &TrimArgs) -> Option<Bytes> {
    if !trim.approx {
        return None;
    }
    Some(match trim.trim? {
        Trim::MaxLen(_) => Bytes::from(stream.len().to_string()),
        Trim::MinId(_) if stream.is_empty() => id_bytes(StreamId::MAX),
        Trim::MinId(_) => id_bytes(stream.first_id()),
    })
}

fn apply_trim_rewrite(argv: &mut [Bytes], trim: &TrimArgs, rewrite: Option<Bytes>) {
    if let Some(threshold) = rewrite {
        argv[trim.threshold_at - 1] = Bytes::from_static(b"=");
        argv[trim.threshold_at] = threshold;
    }
}

fn xtrim(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let argv = ctx.argv;
    let (trim, _) = parse_trim_args(ctx, false)?;
    if ctx.write_typed::<Stream>(key)?.is_none() {
        reply.int(0);
        return Ok(());
    }
    let stream = ctx.write_typed::<Stream>(key)?.expect("checked above");
    let removed = trim.trim.map_or(0, |t| stream.trim(t, trim.approx, trim.limit));
    let rewrite = rewritten_trim(stream, &trim);
    reply.int(removed as i64);
    if removed > 0 {
        ctx.key_changed_by(key, removed);
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    if rewrite.is_some() {
        ctx.propagate_as(|| {
            let mut out = argv.to_vec();
            apply_trim_rewrite(&mut out, &trim, rewrite);
            out
        });
    }
    Ok(())
}

fn xlen(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let len = ctx.read_typed::<Stream>(key)?.map_or(0, Stream::len);
    reply.int(len as i64);
    Ok(())
}

fn xrange(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    range_generic(ctx, reply, true)
}

/// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n].
fn range_generic(ctx: &mut Ctx<'_>, reply: &mut Reply, rev: bool) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let (first, second) = (args.next_bytes()?, args.next_bytes()?);
    let (start_arg, end_arg) = if rev { (second, first) } else { (first, second) };
    let start = parse_range_start(start_arg)?;
    let end = parse_range_end(end_arg)?;
    let mut count = None;
    while args.remaining() > 0 {
        if args.remaining() >= 2 && args.eat("count") {
            count = Some(args.next_int()?.max(0) as usize);
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let Some(stream) = ctx.read_typed::<Stream>(key)? else {
        reply.array(0);
        return Ok(());
    };
    if count == Some(0) {
        reply.null_array();
        return Ok(());
    }
    let count = count.unwrap_or(usize::MAX);
    if start > end {
        reply.array(0);
    } else if rev {
        reply_entries(reply, stream.range_rev(start, end).take(count));
    } else {
        reply_entries(reply, stream.range(start, end).take(count));
    }
    Ok(())
}

fn xdel(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let ids = args.rest();
    // A missing key answers 0 before the IDs are parsed; every ID is checked before anything is deleted.
    if ctx.write_typed::<Stream>(key)?.is_none() {
        reply.int(0);
        return Ok(());
    }
    let parsed = ids.iter().map(|id| parse_strict(id, 0).map(|(id, _)| id)).collect::<Result<Vec<_>, _>>()?;
    let stream = ctx.write_typed::<Stream>(key)?.expect("checked above");
    let mut deleted = 0;
    for id in parsed {
        if stream.delete(id) {
            deleted += 1;
            stream.max_deleted_id = stream.max_deleted_id.max(id);
        }
    }
    reply.int(deleted);
    if deleted > 0 {
        ctx.key_changed_by(key, deleted as usize);
        ctx.notify(notify::STREAM, "xdel", key);
    }
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
fn xsetid(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let (id, _) = parse_strict(args.next_bytes()?, 0)?;
    let (mut entries_added, mut max_deleted) = (None, None);
    while args.remaining() > 0 {
        if args.remaining() >= 2 && args.eat("entriesadded") {
            let n = args.next_int()?;
            entries_added = Some(u64::try_from(n).map_err(|_| CmdError::from(SETID_ENTRIES_NEGATIVE))?);
        } else if args.remaining() >= 2 && args.eat("maxdeletedid") {
            let (deleted, _) = parse_strict(args.next_bytes()?, 0)?;
            if id < deleted {
                return Err(SETID_MAXDELETED.into());
            }
            max_deleted = Some(deleted);
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let stream = ctx.write_typed::<Stream>(key)?.ok_or(errors::NO_SUCH_KEY)?;
    if !stream.is_empty() {
        if id < stream.last_entry_id() {
            return Err(SETID_SMALLER.into());
        }
        if entries_added.is_some_and(|added| (stream.len() as u64) > added) {
            return Err(SETID_ENTRIES_SMALLER.into());
        }
    }
    stream.last_id = id;
    if let Some(added) = entries_added {
        stream.entries_added = added;
    }
    if let Some(deleted) = max_deleted {
        stream.max_deleted_id = deleted;
    }
    ctx.key_changed(key);
    ctx.notify(notify::STREAM, "xsetid", key);
    reply.ok();
    Ok(())
}

/// An error whose text quotes arguments as C's `%s` prints them (up to a NUL): `pieces` alternate literal
/// text and quoted arguments.
fn quoting_error(pieces: &[&[u8]]) -> CmdError {
    let mut msg = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        msg.extend_from_slice(if i % 2 == 1 { errors::c_str(piece, usize::MAX) } else { piece });
    }
    msg.into()
}

/// The keys after STREAMS and their IDs, split in halves (XREAD, XREADGROUP).
fn streams_and_ids<'a>(args: &mut Args<'a>) -> Result<(&'a [Bytes], &'a [Bytes]), CmdError> {
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(read::UNBALANCED.into());
    }
    Ok(rest.split_at(rest.len() / 2))
}

#[cfg(test)]
mod tests {
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn xadd_rules_and_ranges() {
        let mut t = TestServer::new();
        let c = t.connect();
        assert_eq!(t.run(c, "XADD s 1-1 a 1"), "$3\r\n1-1\r\n");
        assert_eq!(t.run(c, "XADD s 1-* b 2"), "$3\r\n1-2\r\n");
        assert!(t.run(c, "XADD s 1-1 a 1").contains("equal or smaller"));
        assert_eq!(t.run(c, "XRANGE s (1-1 +"), "*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
        assert_eq!(t.run(c, "XREVRANGE s + - COUNT 1"), "*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
        assert_eq!(t.run(c, "XDEL s 1-2 1-2"), ":1\r\n");
        assert_eq!(t.run(c, "XLEN s"), ":1\r\n");
        assert_eq!(t.run(c, "XTRIM s MAXLEN 0"), ":1\r\n");
        assert_eq!(t.run(c, "TYPE s"), "+stream\r\n");
    }
}
