//! COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | GETKEYSANDFLAGS | HELP], answered from the command table.
//!
//! Everything reported is data from src/cmd/meta (see `cmd::meta`), as Redis 7.0 reports it; this module only
//! lays it out as Redis's `addReplyCommandInfo` and `addReplyCommandDocs` do.
//!
//! COMMAND INFO entries have Redis 7.0's ten elements: name, arity, flags, first key, last key, step, ACL
//! categories, tips, key specs, subcommands. Flags, categories, tips and key specs are sets in RESP3, as in
//! Redis; an empty subcommand list is an empty set, a non-empty one an array.
//!
//! COMMAND DOCS gives summary, since, group, then complexity, doc_flags, deprecated_since, replaced_by,
//! history, arguments and subcommands when the command has them. redis-cli's interactive mode reads this reply
//! for its hints and asserts on its shape: every entry is a map keyed by bulk strings, with `container|sub`
//! keys for subcommands.
//!
//! GETKEYS applies the key specs as Redis's `getKeysUsingKeySpecs`. A spec flagged `variable_flags` (SET's)
//! makes Redis use the command's own key function for the flags instead; `variable_key_flags` is SET's. A spec
//! that does not fit the arguments, or an `incomplete` one that matched (MIGRATE's KEYS), hands the question to
//! the command's own key function, as getKeysFromCommandWithSpecs does (`command_keys`).

use bytes::Bytes;

use super::super::args::Keyword;
use super::super::errors::{self, CmdResult};
use super::super::{Arg, BeginSearch, Ctx, FindKeys, Handlers, KeySpec, Resolved, Table, flag};
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;

/// The COMMAND subcommands' handlers, bound to their entries in src/cmd/meta.
pub(super) const HANDLERS: Handlers = &[
    ("command|count", command_count),
    ("command|docs", command_docs),
    ("command|getkeys", command_getkeys),
    ("command|getkeysandflags", command_getkeysandflags),
    ("command|help", command_help),
    ("command|info", command_info),
    ("command|list", command_list),
];

const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

/// COMMAND without a subcommand: every top-level command's INFO entry.
pub(super) fn command(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let table = crate::cmd::table();
    reply.array(table.top.len());
    for cmd in table.commands() {
        reply_info(reply, table, cmd);
    }
    Ok(())
}

fn command_count(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply.int(crate::cmd::table().top.len() as i64);
    Ok(())
}

fn command_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::reply_help(reply, "COMMAND", HELP);
    Ok(())
}

/// COMMAND INFO [name ...]: one entry per name (null for an unknown one), or every command.
fn command_info(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let names = ctx.sub_args().rest();
    if names.is_empty() {
        return command(ctx, reply);
    }
    let table = crate::cmd::table();
    reply.array(names.len());
    for name in names {
        match lookup_full(table, name) {
            Some(cmd) => reply_info(reply, table, cmd),
            None => reply.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]: a map of the known names to their docs, or of every command.
fn command_docs(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let names = ctx.sub_args().rest();
    let table = crate::cmd::table();
    let found: Vec<Resolved> = if names.is_empty() {
        table.commands().collect()
    } else {
        names.iter().filter_map(|name| lookup_full(table, name)).collect()
    };
    reply.map(found.len());
    for cmd in found {
        reply.bulk(table.names[cmd.id].as_bytes());
        reply_docs(reply, table, cmd);
    }
    Ok(())
}

/// What COMMAND LIST FILTERBY keeps.
enum ListFilter<'a> {
    All,
    /// No command comes from a module, so this keeps nothing.
    Module,
    /// A category name as Redis's ACLGetCommandCategoryFlagByName compares it (strcasecmp).
    AclCategory(Keyword<'a>),
    Pattern(&'a [u8]),
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: full names, subcommands included.
fn command_list(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.sub_args();
    let filter = match args.next_option() {
        None => ListFilter::All,
        Some(filterby) if filterby.is("filterby") && args.remaining() == 2 => {
            let kind = args.next_keyword()?;
            if kind.is("module") {
                ListFilter::Module
            } else if kind.is("aclcat") {
                ListFilter::AclCategory(args.next_keyword()?)
            } else if kind.is("pattern") {
                ListFilter::Pattern(args.next_bytes()?)
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        Some(_) => return Err(errors::SYNTAX.into()),
    };
    let table = crate::cmd::table();
    let keep = |cmd: Resolved| match filter {
        ListFilter::All => true,
        ListFilter::Module => false,
        ListFilter::AclCategory(wanted) => cmd.spec.acl_categories.iter().any(|category| wanted.is(category)),
        ListFilter::Pattern(pattern) => glob_match(pattern, table.names[cmd.id].as_bytes(), true),
    };
    let start = reply.begin_array();
    let mut count = 0;
    for cmd in table.commands().flat_map(|top| std::iter::once(top).chain(Table::subcommands(top))) {
        if keep(cmd) {
            reply.bulk(table.names[cmd.id].as_bytes());
            count += 1;
        }
    }
    reply.end_array(start, count);
    Ok(())
}

fn command_getkeys(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    getkeys(ctx, reply, false)
}

fn command_getkeysandflags(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    getkeys(ctx, reply, true)
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS <command> [arg ...], with Redis's checks and errors in its order.
fn getkeys(ctx: &mut Ctx<'_>, reply: &mut Reply, with_flags: bool) -> CmdResult {
    let table = crate::cmd::table();
    let target = ctx.sub_args().rest();
    let cmd = lookup_argv(table, target).ok_or("ERR Invalid command specified")?;
    let specs = cmd.spec.key_specs;
    if specs.is_empty() {
        return Err("ERR The command has no key arguments".into());
    }
    if !cmd.spec.arity_ok(target.len()) {
        return Err("ERR Invalid number of arguments specified for command".into());
    }
    let keys = command_keys(cmd, target);
    if keys.is_empty() && cmd.spec.flags & flag::NO_MANDATORY_KEYS == 0 {
        return Err("ERR Invalid arguments specified for command".into());
    }
    reply.array(keys.len());
    for (position, flags) in keys {
        if with_flags {
            reply.array(2);
            reply.bulk(&target[position]);
            reply_status_set(reply, flags);
        } else {
            reply.bulk(&target[position]);
        }
    }
    Ok(())
}

/// The positions in `argv` of the keys command `cmd` names (Redis's getKeysFromCommand), for client-side
/// caching to remember what a tracking client read.
pub(crate) fn key_positions(cmd: Resolved, argv: &[Bytes]) -> Vec<usize> {
    command_keys(cmd, argv).into_iter().map(|(position, _)| position).collect()
}

/// The keys of `argv` with their flags, as Redis's getKeysFromCommandWithSpecs finds them: from the key specs,
/// unless one did not fit the arguments or is flagged `incomplete` and matched, in which case the command's
/// own key function decides (SORT's sortGetKeys, whose STORE spec is `unknown`; MIGRATE's migrateGetKeys, once
/// its KEYS spec matched), or there are none.
fn command_keys(cmd: Resolved, argv: &[Bytes]) -> Vec<(usize, &'static [&'static str])> {
    let specs = cmd.spec.key_specs;
    if cmd.spec.name == "sort" {
        return sort_keys(specs, argv).into_iter().map(|(position, spec)| (position, spec.flags)).collect();
    }
    match keys_from_specs(specs, argv) {
        Some(keys) => {
            let variable = variable_key_flags(cmd, argv);
            keys.into_iter().map(|(position, spec)| (position, variable.unwrap_or(spec.flags))).collect()
        }
        None if cmd.spec.name == "migrate" => {
            let positions = crate::cmd::migrate::key_positions(argv);
            positions.into_iter().map(|position| (position, crate::cmd::migrate::KEY_FLAGS)).collect()
        }
        None => Vec::new(),
    }
}

/// The key flags a command's own key function reports where its spec says `variable_flags`. Only SET has
/// such a spec (Redis's `setGetKeys`): its key is read as well as written when a GET argument follows the
/// value. Arguments compare as C strings, as Redis's do, so `GET\0junk` counts.
fn variable_key_flags(cmd: Resolved, argv: &[Bytes]) -> Option<&'static [&'static str]> {
    if !cmd.spec.key_specs.iter().any(|spec| spec.flags.contains(&"variable_flags")) || cmd.spec.name != "set" {
        return None;
    }
    let get = argv.iter().skip(3).any(|arg| Keyword::of(arg).is("get"));
    Some(if get { &["RW", "access", "update"] } else { &["OW", "update"] })
}

/// SORT's keys as Redis's sortGetKeys finds them: the sorted key, and the last STORE's key (its specs mark
/// the STORE key `unknown`). Options are skipped with their argument counts (LIMIT 2, GET 1, BY 1), and any
/// other word is taken to have none.
fn sort_keys<'a>(specs: &'a [KeySpec], argv: &[Bytes]) -> Vec<(usize, &'a KeySpec)> {
    let mut keys = vec![(1, &specs[0])];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let word = Keyword::of(&argv[i]);
        if let Some(skip) = word.pick(&[("limit", 2), ("get", 1), ("by", 1)]) {
            i += skip;
        } else if word.is("store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store.map(|position| (position, specs.last().expect("SORT's STORE spec"))));
    keys
}

/// Finds a command by full name: `get`, or `config|get` for a subcommand, ignoring case.
fn lookup_full(table: &Table, name: &[u8]) -> Option<Resolved> {
    match name.iter().position(|&c| c == b'|') {
        None => table.lookup(name),
        Some(bar) => {
            let container = table.lookup(&name[..bar])?;
            table.lookup_sub(container, &name[bar + 1..])
        }
    }
}

/// Finds the command a full request would run, as `call` does (Redis's `lookupCommand`).
fn lookup_argv(table: &Table, argv: &[Bytes]) -> Option<Resolved> {
    let top = table.lookup(argv.first()?)?;
    match argv.get(1) {
        Some(sub) if !top.spec.subcommands.is_empty() => table.lookup_sub(top, sub),
        _ => Some(top),
    }
}

/// Key positions in `argv` (command name at 0) per Redis's `getKeysUsingKeySpecs`, each with its spec.
/// `None` when a spec does not fit the arguments (a key count out of range, for example) or an `incomplete`
/// one found its start.
fn keys_from_specs<'a>(specs: &'a [KeySpec], argv: &[Bytes]) -> Option<Vec<(usize, &'a KeySpec)>> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        let Some(first) = begin_search(spec.begin_search, argv) else { continue };
        let (first, last, step) = match spec.find_keys {
            FindKeys::Range { lastkey, keystep, limit } => {
                let last = if lastkey >= 0 {
                    first + i64::from(lastkey)
                } else if limit == 0 {
                    argc + i64::from(lastkey)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(lastkey))
                };
                (first, last, keystep)
            }
            // Only the command knows where such keys are; GETKEYS reports the keys of the other specs.
            FindKeys::Unknown => continue,
            FindKeys::Keynum { keynumidx, firstkey, keystep } => {
                let count = argv.get(usize::try_from(first + i64::from(keynumidx)).ok()?)?;
                let count = crate::util::num::parse_i64(count).filter(|&n| n >= 0)?;
                let first = first + i64::from(firstkey);
                (first, first.checked_add(count)? - 1, keystep)
            }
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let step = usize::try_from(step).ok().filter(|&s| s > 0)?;
        keys.extend((first as usize..=last as usize).step_by(step).map(|position| (position, spec)));
        // Redis's getKeysUsingKeySpecs gives up on a spec that matched but says it may not find every key.
        if spec.flags.contains(&"incomplete") {
            return None;
        }
    }
    Some(keys)
}

/// Where a spec's keys start, or `None` when its keyword is absent (that spec then has no keys).
fn begin_search(begin: BeginSearch, argv: &[Bytes]) -> Option<i64> {
    match begin {
        BeginSearch::Index(index) => Some(i64::from(index)),
        BeginSearch::Keyword { keyword, startfrom } => {
            let argc = argv.len() as i64;
            // Redis compares the keyword with strcasecmp.
            let found = |i: &i64| Keyword::of(&argv[*i as usize]).is(keyword);
            let position = if startfrom > 0 {
                (i64::from(startfrom)..argc - 1).find(found)
            } else {
                (2..=argc + i64::from(startfrom)).rev().find(found)
            };
            position.map(|i| i + 1)
        }
        BeginSearch::Unknown => None,
    }
}

/// One COMMAND INFO entry.
fn reply_info(reply: &mut Reply, table: &Table, cmd: Resolved) {
    let spec = cmd.spec;
    reply.array(10);
    reply.bulk(table.names[cmd.id].as_bytes());
    reply.int(i64::from(spec.arity));
    let shown = spec.flags & !flag::HIDDEN;
    let flags: Vec<&str> = flag::NAMES.iter().filter(|(bit, _)| shown & bit != 0).map(|(_, name)| *name).collect();
    reply_status_set(reply, &flags);
    let (first, last, step) = spec.key_range;
    for position in [first, last, step] {
        reply.int(i64::from(position));
    }
    let categories: Vec<String> = spec.acl_categories.iter().map(|c| format!("@{c}")).collect();
    reply_status_set(reply, &categories);
    reply_bulk_set(reply, spec.tips);
    reply.set(spec.key_specs.len());
    for key_spec in spec.key_specs {
        reply_key_spec(reply, key_spec);
    }
    if spec.subcommands.is_empty() {
        reply.set(0);
    } else {
        reply.array(spec.subcommands.len());
        for sub in Table::subcommands(cmd) {
            reply_info(reply, table, sub);
        }
    }
}

/// A key spec as a map: notes (if any), flags, begin_search, find_keys.
fn reply_key_spec(reply: &mut Reply, spec: &KeySpec) {
    reply.map(3 + usize::from(spec.notes.is_some()));
    if let Some(notes) = spec.notes {
        reply.bulk(b"notes");
        reply.bulk(notes.as_bytes());
    }
    reply.bulk(b"flags");
    reply_status_set(reply, spec.flags);
    reply.bulk(b"begin_search");
    match spec.begin_search {
        BeginSearch::Index(index) => reply_typed_spec(reply, "index", &[("index", Spec::Int(index))]),
        BeginSearch::Keyword { keyword, startfrom } => {
            reply_typed_spec(reply, "keyword", &[("keyword", Spec::Text(keyword)), ("startfrom", Spec::Int(startfrom))])
        }
        BeginSearch::Unknown => reply_typed_spec(reply, "unknown", &[]),
    }
    reply.bulk(b"find_keys");
    match spec.find_keys {
        FindKeys::Range { lastkey, keystep, limit } => reply_typed_spec(
            reply,
            "range",
            &[("lastkey", Spec::Int(lastkey)), ("keystep", Spec::Int(keystep)), ("limit", Spec::Int(limit))],
        ),
        FindKeys::Keynum { keynumidx, firstkey, keystep } => reply_typed_spec(
            reply,
            "keynum",
            &[("keynumidx", Spec::Int(keynumidx)), ("firstkey", Spec::Int(firstkey)), ("keystep", Spec::Int(keystep))],
        ),
        FindKeys::Unknown => reply_typed_spec(reply, "unknown", &[]),
    }
}

/// A value inside a key spec's `spec` map.
enum Spec {
    Int(i32),
    Text(&'static str),
}

/// `{type: <kind>, spec: {<fields>}}`.
fn reply_typed_spec(reply: &mut Reply, kind: &str, fields: &[(&str, Spec)]) {
    reply.map(2);
    reply.bulk(b"type");
    reply.bulk(kind.as_bytes());
    reply.bulk(b"spec");
    reply.map(fields.len());
    for (name, value) in fields {
        reply.bulk(name.as_bytes());
        match value {
            Spec::Int(n) => reply.int(i64::from(*n)),
            Spec::Text(text) => reply.bulk(text.as_bytes()),
        }
    }
}

/// A set of status replies: how Redis sends flags and categories.
fn reply_status_set(reply: &mut Reply, items: &[impl AsRef<str>]) {
    reply.set(items.len());
    for item in items {
        reply.simple(item.as_ref());
    }
}

/// A set of bulk strings: how Redis sends tips.
fn reply_bulk_set(reply: &mut Reply, items: &[&str]) {
    reply.set(items.len());
    for item in items {
        reply.bulk(item.as_bytes());
    }
}

/// One COMMAND DOCS entry: summary, since, group, then each optional field the command has, in Redis's order.
fn reply_docs(reply: &mut Reply, table: &Table, cmd: Resolved) {
    let docs = cmd.spec.docs;
    let optional = [
        ("complexity", docs.complexity),
        ("deprecated_since", docs.deprecated_since),
        ("replaced_by", docs.replaced_by),
    ];
    let has_subcommands = !cmd.spec.subcommands.is_empty();
    let fields = 3
        + optional.iter().filter(|(_, value)| value.is_some()).count()
        + usize::from(!docs.doc_flags.is_empty())
        + usize::from(!docs.history.is_empty())
        + usize::from(!docs.arguments.is_empty())
        + usize::from(has_subcommands);
    reply.map(fields);
    reply_bulk_field(reply, "summary", docs.summary);
    reply_bulk_field(reply, "since", docs.since);
    reply_bulk_field(reply, "group", docs.group);
    if let Some(complexity) = docs.complexity {
        reply_bulk_field(reply, "complexity", complexity);
    }
    if !docs.doc_flags.is_empty() {
        reply.bulk(b"doc_flags");
        reply_status_set(reply, docs.doc_flags);
    }
    for (name, value) in &optional[1..] {
        if let Some(value) = value {
            reply_bulk_field(reply, name, value);
        }
    }
    if !docs.history.is_empty() {
        reply.bulk(b"history");
        reply.set(docs.history.len());
        for (version, change) in docs.history {
            reply.array(2);
            reply.bulk(version.as_bytes());
            reply.bulk(change.as_bytes());
        }
    }
    if !docs.arguments.is_empty() {
        reply.bulk(b"arguments");
        reply_arguments(reply, docs.arguments);
    }
    if has_subcommands {
        reply.bulk(b"subcommands");
        reply.map(cmd.spec.subcommands.len());
        for sub in Table::subcommands(cmd) {
            reply.bulk(table.names[sub.id].as_bytes());
            reply_docs(reply, table, sub);
        }
    }
}

/// Arguments as Redis's `addReplyCommandArgList`: a map per argument, its fields in Redis's order.
fn reply_arguments(reply: &mut Reply, arguments: &[Arg]) {
    reply.array(arguments.len());
    for arg in arguments {
        let optional = [
            ("token", arg.token),
            ("summary", arg.summary),
            ("since", arg.since),
            ("deprecated_since", arg.deprecated_since),
        ];
        let fields = 2
            + usize::from(arg.key_spec_index.is_some())
            + optional.iter().filter(|(_, value)| value.is_some()).count()
            + usize::from(!arg.flags.is_empty())
            + usize::from(arg.has_arguments());
        reply.map(fields);
        reply_bulk_field(reply, "name", arg.name);
        reply_bulk_field(reply, "type", arg.kind);
        if let Some(index) = arg.key_spec_index {
            reply.bulk(b"key_spec_index");
            reply.int(i64::from(index));
        }
        for (name, value) in optional {
            if let Some(value) = value {
                reply_bulk_field(reply, name, value);
            }
        }
        if !arg.flags.is_empty() {
            reply.bulk(b"flags");
            reply_status_set(reply, arg.flags);
        }
        if arg.has_arguments() {
            reply.bulk(b"arguments");
            reply_arguments(reply, arg.arguments);
        }
    }
}

/// A map field whose value is a bulk string.
fn reply_bulk_field(reply: &mut Reply, name: &str, value: &str) {
    reply.bulk(name.as_bytes());
    reply.bulk(value.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::admin::testkit::TestServer;

    #[test]
    fn command_replies() {
        let mut t = TestServer::new();
        let me = t.connect();
        let count = crate::cmd::table().top.len();
        assert_eq!(t.run(me, "COMMAND COUNT"), format!(":{count}\r\n"));
        assert!(t.run(me, "COMMAND").starts_with(&format!("*{count}\r\n*10\r\n")));
        assert_eq!(
            t.run(me, "COMMAND INFO time nosuch"),
            "*2\r\n*10\r\n$4\r\ntime\r\n:1\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@fast\r\n\
             *1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n$-1\r\n"
        );
        let get = "*1\r\n$5\r\nflags\r\n";
        assert!(t.run(me, "COMMAND INFO get").contains(&get[4..]));
        assert_eq!(t.run(me, "COMMAND DOCS nosuch"), "*0\r\n");
        assert_eq!(
            t.run(me, "COMMAND DOCS config|help"),
            "*2\r\n$11\r\nconfig|help\r\n*8\r\n$7\r\nsummary\r\n$49\r\nShow helpful text about the different \
             subcommands\r\n$5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
        );
        assert!(t.run(me, "COMMAND DOCS client").contains("$11\r\nsubcommands\r\n*32\r\n$14\r\nclient|caching\r\n"));
        assert_eq!(t.run(me, "COMMAND GETKEYS set a b"), "*1\r\n$1\r\na\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYSANDFLAGS get a"), "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n");
        // SET's key spec has variable flags: its own key function decides (Redis's setGetKeys).
        assert_eq!(t.run(me, "COMMAND GETKEYSANDFLAGS set a b"), "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n");
        let read_too = "*1\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+update\r\n";
        assert_eq!(t.run(me, "COMMAND GETKEYSANDFLAGS set a b nx get"), read_too);
        assert_eq!(t.run(me, "COMMAND GETKEYSANDFLAGS set a get"), "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n");
        assert!(t.run(me, "COMMAND INFO del").contains("+RM\r\n+delete\r\n"));
        assert_eq!(t.run(me, "COMMAND GETKEYS nosuch a"), "-ERR Invalid command specified\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYS get a b"), "-ERR Invalid number of arguments specified for command\r\n");
        assert_eq!(t.run(me, "COMMAND GETKEYS client list"), "-ERR The command has no key arguments\r\n");
        assert_eq!(t.run(me, "COMMAND LIST FILTERBY MODULE x"), "*0\r\n");
        assert_eq!(t.run(me, "COMMAND LIST FILTERBY PATTERN"), "-ERR syntax error\r\n");
        let connection = t.run(me, "COMMAND LIST FILTERBY ACLCAT Connection");
        assert!(connection.contains("$5\r\nhello\r\n") && connection.contains("$11\r\nclient|kill\r\n"));
        assert!(!connection.contains("$4\r\ntime\r\n"));
        let all = t.run(me, "COMMAND LIST");
        assert!(all.contains("$6\r\nconfig\r\n$10\r\nconfig|get\r\n"));
        t.run(me, "HELLO 3");
        assert!(t.run(me, "COMMAND INFO config").starts_with(
            "*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*5\r\n"
        ));
        assert_eq!(t.run(me, "COMMAND DOCS nosuch"), "%0\r\n");
    }

    fn words(list: &str) -> Vec<Bytes> {
        list.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    fn keys(specs: &[KeySpec], argv: &str) -> Option<Vec<usize>> {
        keys_from_specs(specs, &words(argv)).map(|found| found.into_iter().map(|(p, _)| p).collect())
    }

    const fn range(index: i32, lastkey: i32, keystep: i32) -> KeySpec {
        let find_keys = FindKeys::Range { lastkey, keystep, limit: 0 };
        KeySpec { notes: None, flags: &[], begin_search: BeginSearch::Index(index), find_keys }
    }

    #[test]
    fn range_specs() {
        assert_eq!(keys(&[range(1, 0, 1)], "get a"), Some(vec![1]));
        assert_eq!(keys(&[range(1, -1, 2)], "mset a 1 b 2"), Some(vec![1, 3]));
        let blpop = [range(1, -2, 1)];
        assert_eq!(keys(&blpop, "blpop a b 0"), Some(vec![1, 2]));
        assert_eq!(keys(&blpop, "blpop 0"), None);
        // XREAD's STREAMS keys: the first half of what follows the keyword.
        let xread = [KeySpec {
            begin_search: BeginSearch::Keyword { keyword: "STREAMS", startfrom: 1 },
            find_keys: FindKeys::Range { lastkey: -1, keystep: 1, limit: 2 },
            ..range(0, 0, 0)
        }];
        assert_eq!(keys(&xread, "xread count 1 streams a b 0 0"), Some(vec![4, 5]));
        assert_eq!(keys(&xread, "xread count 1"), Some(vec![]));
    }

    #[test]
    fn keynum_specs() {
        let eval =
            [KeySpec { find_keys: FindKeys::Keynum { keynumidx: 0, firstkey: 1, keystep: 1 }, ..range(2, 0, 0) }];
        assert_eq!(keys(&eval, "eval s 2 a b c"), Some(vec![3, 4]));
        assert_eq!(keys(&eval, "eval s 0"), None);
        assert_eq!(keys(&eval, "eval s 5 a b c"), None);
        assert_eq!(keys(&eval, "eval s x a"), None);
        assert_eq!(keys(&eval, "eval s -1 a"), None);
    }
}
