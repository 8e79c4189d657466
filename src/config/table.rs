//! The directive table: every config name we know, with its alias, default, bounds, mutability, and the
//! functions that store a parsed value into [`Config`] and read it back. The config file, the command
//! line, CONFIG GET, CONFIG SET and `Config::default()` all go through this one table, as Redis's
//! `static_configs[]` does, so no directive is parsed or rendered in two places.
//!
//! API (crate-internal): [`TABLE`], [`lookup`], [`entries`], [`apply`], [`split_value`], [`render`].
//!
//! Invariants: names and aliases are lowercase and unique; every `Int` field's Rust type holds all of
//! `min..=max`; every default parses (both checked by tests).

use std::path::Path;

use super::syntax::{
    keyspace_events_flags, keyspace_events_string, memory_to_u64, string_to_i64, strtoll_exact, yes_no,
};
use super::{Allow, Config, LogLevel};

/// Who may change a directive while the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Mutable,
    /// Only in the config file or on the command line.
    Immutable,
    /// CONFIG SET only when `enable-protected-configs` allows it (paths the server writes to).
    Protected,
}

#[derive(Debug)]
pub(super) struct Directive {
    pub name: &'static str,
    /// Redis's older name (`hash-max-ziplist-entries`), a second entry with the same value.
    pub alias: Option<&'static str>,
    pub change: Change,
    /// The startup value as CONFIG SET would take it; `None` only for `dir`, which starts as the working
    /// directory.
    pub default: Option<&'static str>,
    pub kind: Kind,
}

/// Stores a list directive's arguments; the flag is `repeated` (see [`Kind::List`]).
pub(super) type ListSetter = fn(&mut Config, &[&[u8]], bool) -> Result<(), String>;

/// How a directive's arguments are parsed and stored. `get` and `set` are the only code that touches the
/// directive's field.
#[derive(Debug)]
pub(super) enum Kind {
    /// `yes` or `no`, any case.
    Bool { get: fn(&Config) -> bool, set: fn(&mut Config, bool) },
    /// An integer in `min..=max`; `memory` reads units (`1kb`) instead of a sign, like Redis's
    /// MEMORY_CONFIG.
    Int { min: i128, max: i128, memory: bool, get: fn(&Config) -> i128, set: fn(&mut Config, i128) },
    /// One of `names`, any case; `get` and `set` use the index into `names`.
    Enum { names: &'static [&'static str], get: fn(&Config) -> usize, set: fn(&mut Config, usize) },
    /// One argument that `set` validates and stores itself.
    Text { get: fn(&Config) -> String, set: fn(&mut Config, &[u8]) -> Result<(), String> },
    /// Any number of arguments (CONFIG SET splits its value at each space). `set` gets `repeated` true
    /// for a later line of the same directive in one load, which `save` appends instead of replacing.
    List { get: fn(&Config) -> String, set: ListSetter },
}

const INT_MAX: i128 = i32::MAX as i128;
const INT_MIN: i128 = i32::MIN as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const MB: i128 = 1024 * 1024;
/// Redis's CONFIG_BINDADDR_MAX.
const BIND_ADDRESSES_MAX: usize = 16;
/// Redis's CONFIG_MIN_HZ and CONFIG_MAX_HZ: hz is accepted in 0..=INT_MAX but used within these.
const HZ_MIN: i128 = 1;
const HZ_MAX: i128 = 500;

pub(super) const APPENDFSYNC_NAMES: &[&str] = &["everysec", "always", "no"];
pub(super) const MAXMEMORY_POLICY_NAMES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// Narrows a value already checked against the directive's bounds; a failure means the table's bounds
/// and the field's type disagree, which the round-trip test catches.
fn narrow<T: TryFrom<i128>>(v: i128) -> T {
    T::try_from(v).unwrap_or_else(|_| panic!("config value {v} outside its field's type: table bug"))
}

macro_rules! flag {
    ($field:ident) => {
        Kind::Bool { get: |c| c.$field, set: |c, v| c.$field = v }
    };
}

macro_rules! int {
    ($field:ident, $min:expr, $max:expr) => {
        Kind::Int { min: $min, max: $max, memory: false, get: |c| c.$field as i128, set: |c, v| c.$field = narrow(v) }
    };
}

macro_rules! bytes {
    ($field:ident, $min:expr, $max:expr) => {
        Kind::Int { min: $min, max: $max, memory: true, get: |c| c.$field as i128, set: |c, v| c.$field = narrow(v) }
    };
}

macro_rules! choice {
    ($field:ident, $names:expr) => {
        Kind::Enum {
            names: $names,
            get: |c| $names.iter().position(|n| *n == c.$field).unwrap_or(0),
            set: |c, i| c.$field = $names[i].to_owned(),
        }
    };
}

macro_rules! allow {
    ($field:ident) => {
        Kind::Enum { names: Allow::NAMES, get: |c| c.$field as usize, set: |c, i| c.$field = Allow::ALL[i] }
    };
}

macro_rules! text {
    ($field:ident) => {
        Kind::Text {
            get: |c| c.$field.clone(),
            set: |c, v| {
                c.$field = lossy(v);
                Ok(())
            },
        }
    };
}

const fn directive(name: &'static str, change: Change, default: &'static str, kind: Kind) -> Directive {
    Directive { name, alias: None, change, default: Some(default), kind }
}

const fn aliased(name: &'static str, alias: &'static str, default: &'static str, kind: Kind) -> Directive {
    Directive { name, alias: Some(alias), change: Change::Mutable, default: Some(default), kind }
}

use Change::{Immutable, Mutable, Protected};

/// Every directive, in the order CONFIG GET lists pattern matches. Bounds, defaults and mutability are
/// Redis 7.0's (config.c), except `bind` (loopback only by default) and our own `http-*` entries.
pub(super) static TABLE: &[Directive] = &[
    directive("port", Mutable, "6379", int!(port, 0, 65535)),
    // Redis listens on "* -::*" by default; we stay on loopback until told otherwise.
    directive("bind", Mutable, "127.0.0.1", Kind::List { get: |c| c.bind.join(" "), set: set_bind }),
    directive("databases", Immutable, "16", int!(databases, 1, INT_MAX)),
    directive(
        "hz",
        Mutable,
        "10",
        Kind::Int {
            min: 0,
            max: INT_MAX,
            memory: false,
            get: |c| i128::from(c.hz),
            // Redis takes any hz as a hint and clamps it (updateHZ); CONFIG GET then shows the clamped value.
            set: |c, v| c.hz = narrow(v.clamp(HZ_MIN, HZ_MAX)),
        },
    ),
    directive(
        "loglevel",
        Mutable,
        "notice",
        Kind::Enum { names: LogLevel::NAMES, get: |c| c.loglevel as usize, set: |c, i| c.loglevel = LogLevel::ALL[i] },
    ),
    directive("logfile", Immutable, "", text!(logfile)),
    directive("maxclients", Mutable, "10000", int!(maxclients, 1, UINT_MAX)),
    directive("timeout", Mutable, "0", int!(timeout_s, 0, INT_MAX)),
    directive("tcp-keepalive", Mutable, "300", int!(tcp_keepalive_s, 0, INT_MAX)),
    directive("proto-max-bulk-len", Mutable, "512mb", bytes!(proto_max_bulk_len, MB, LONG_MAX)),
    directive("client-query-buffer-limit", Mutable, "1gb", bytes!(client_query_buffer_limit, MB, LONG_MAX)),
    directive("save", Mutable, "3600 1 300 100 60 10000", Kind::List { get: render_save, set: set_save }),
    directive("appendonly", Mutable, "no", flag!(appendonly)),
    directive("appendfsync", Mutable, "everysec", choice!(appendfsync, APPENDFSYNC_NAMES)),
    Directive {
        name: "dir",
        alias: None,
        change: Protected,
        default: None,
        kind: Kind::Text { get: |c| c.dir.clone(), set: set_dir },
    },
    directive(
        "dbfilename",
        Protected,
        "dump.rdb",
        Kind::Text {
            get: |c| c.dbfilename.clone(),
            set: |c, v| {
                check_base_name(v, "dbfilename can't be a path, just a filename")?;
                c.dbfilename = lossy(v);
                Ok(())
            },
        },
    ),
    directive("maxmemory", Mutable, "0", bytes!(maxmemory, 0, ULLONG_MAX)),
    directive("maxmemory-policy", Mutable, "noeviction", choice!(maxmemory_policy, MAXMEMORY_POLICY_NAMES)),
    directive(
        "requirepass",
        Mutable,
        "",
        Kind::Text {
            get: |c| c.requirepass.as_deref().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default(),
            set: |c, v| {
                // An empty password means none, as Redis's EMPTY_STRING_IS_NULL.
                c.requirepass = (!v.is_empty()).then(|| v.to_vec());
                Ok(())
            },
        },
    ),
    directive("daemonize", Immutable, "no", flag!(daemonize)),
    directive("protected-mode", Mutable, "yes", flag!(protected_mode)),
    directive("pidfile", Immutable, "", text!(pidfile)),
    directive(
        "appendfilename",
        Immutable,
        "appendonly.aof",
        Kind::Text {
            get: |c| c.appendfilename.clone(),
            set: |c, v| {
                if v.is_empty() {
                    return Err("appendfilename can't be empty".into());
                }
                check_base_name(v, "appendfilename can't be a path, just a filename")?;
                c.appendfilename = lossy(v);
                Ok(())
            },
        },
    ),
    aliased("list-max-listpack-size", "list-max-ziplist-size", "-2", int!(list_max_listpack_size, INT_MIN, INT_MAX)),
    aliased(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        "512",
        int!(hash_max_listpack_entries, 0, LONG_MAX),
    ),
    aliased("hash-max-listpack-value", "hash-max-ziplist-value", "64", bytes!(hash_max_listpack_value, 0, LONG_MAX)),
    directive("set-max-intset-entries", Mutable, "512", int!(set_max_intset_entries, 0, LONG_MAX)),
    // The two set-max-listpack-* directives arrived in Redis 7.2; we take them with 7.2's defaults.
    directive("set-max-listpack-entries", Mutable, "128", int!(set_max_listpack_entries, 0, LONG_MAX)),
    directive("set-max-listpack-value", Mutable, "64", bytes!(set_max_listpack_value, 0, LONG_MAX)),
    aliased(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        "128",
        int!(zset_max_listpack_entries, 0, LONG_MAX),
    ),
    aliased("zset-max-listpack-value", "zset-max-ziplist-value", "64", bytes!(zset_max_listpack_value, 0, LONG_MAX)),
    directive("slowlog-log-slower-than", Mutable, "10000", int!(slowlog_log_slower_than_us, -1, LONG_MAX)),
    directive("slowlog-max-len", Mutable, "128", int!(slowlog_max_len, 0, LONG_MAX)),
    directive(
        "notify-keyspace-events",
        Mutable,
        "",
        Kind::Text {
            get: |c| keyspace_events_string(c.notify_keyspace_events),
            set: |c, v| {
                c.notify_keyspace_events = keyspace_events_flags(v)
                    .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?;
                Ok(())
            },
        },
    ),
    directive("lazyfree-lazy-user-flush", Mutable, "no", flag!(lazyfree_lazy_user_flush)),
    directive("enable-protected-configs", Immutable, "no", allow!(enable_protected_configs)),
    directive("enable-debug-command", Immutable, "no", allow!(enable_debug_command)),
    // Ours: the HTTP gateway's port (0 = off), its request body cap, and how long an HTTP connection may take to
    // send a request or sit idle between requests (0 = forever).
    directive("http-port", Immutable, "7379", int!(http_port, 0, 65535)),
    directive("http-max-body", Mutable, "16mb", bytes!(http_max_body, 1, LONG_MAX)),
    directive("http-idle-timeout", Mutable, "30", int!(http_idle_timeout_s, 0, INT_MAX)),
];

/// The directive named `name` (or its alias), any case, with the entry name it was found under.
pub(super) fn lookup(name: &[u8]) -> Option<(&'static str, &'static Directive)> {
    entries().find(|(entry, _)| entry.as_bytes().eq_ignore_ascii_case(name))
}

/// Every entry name (names, then each alias right after its directive) with its directive.
pub(super) fn entries() -> impl Iterator<Item = (&'static str, &'static Directive)> {
    TABLE.iter().flat_map(|d| std::iter::once((d.name, d)).chain(d.alias.map(|a| (a, d))))
}

/// Parses `args` (the words after the directive's name) and stores them into `config`. Returns Redis's
/// error text for a bad value; single-value kinds must get exactly one argument (callers check arity).
pub(super) fn apply(config: &mut Config, d: &Directive, args: &[&[u8]], repeated: bool) -> Result<(), String> {
    let single = || match args {
        [value] => Ok(*value),
        _ => Err("wrong number of arguments".to_string()),
    };
    match d.kind {
        Kind::Bool { set, .. } => {
            let value = yes_no(single()?).ok_or("argument must be 'yes' or 'no'")?;
            set(config, value);
        }
        Kind::Int { min, max, memory, set, .. } => set(config, parse_int(single()?, min, max, memory)?),
        Kind::Enum { names, set, .. } => {
            let value = single()?;
            let index = names.iter().position(|n| n.as_bytes().eq_ignore_ascii_case(value));
            set(
                config,
                index.ok_or_else(|| format!("argument(s) must be one of the following: {}", names.join(", ")))?,
            );
        }
        Kind::Text { set, .. } => set(config, single()?)?,
        Kind::List { set, .. } => set(config, args, repeated)?,
    }
    Ok(())
}

/// The arguments CONFIG SET's `value` stands for: itself, or for a list directive its words split at
/// every single space (sdssplitlen), where an empty value means no words.
pub(super) fn split_value<'v>(d: &Directive, value: &'v [u8]) -> Vec<&'v [u8]> {
    match d.kind {
        Kind::List { .. } if value.is_empty() => Vec::new(),
        Kind::List { .. } => value.split(|&b| b == b' ').collect(),
        _ => vec![value],
    }
}

/// The value as CONFIG GET shows it.
pub(super) fn render(config: &Config, d: &Directive) -> String {
    match d.kind {
        Kind::Bool { get, .. } => (if get(config) { "yes" } else { "no" }).to_string(),
        Kind::Int { get, .. } => get(config).to_string(),
        Kind::Enum { names, get, .. } => names[get(config)].to_string(),
        Kind::Text { get, .. } | Kind::List { get, .. } => get(config),
    }
}

/// numericParseString + numericBoundaryCheck. The value is kept as i128 so that u64 memory sizes and
/// negative integers compare against the bounds without C's casts (the error texts come out the same).
fn parse_int(v: &[u8], min: i128, max: i128, memory: bool) -> Result<i128, String> {
    let value = if memory {
        memory_to_u64(v).map(i128::from).ok_or("argument must be a memory value")?
    } else {
        string_to_i64(v).map(i128::from).ok_or("argument couldn't be parsed into an integer")?
    };
    if value < min || value > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(value)
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// Redis's pathIsBaseName: no `/` and no `\`.
fn check_base_name(v: &[u8], error: &str) -> Result<(), String> {
    if v.iter().any(|&b| b == b'/' || b == b'\\') { Err(error.to_string()) } else { Ok(()) }
}

/// `bind addr...`: replaces the list; a single empty argument means no address.
fn set_bind(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    if args.len() > BIND_ADDRESSES_MAX {
        return Err("Too many bind addresses specified.".into());
    }
    let args = if args == [b""] { &[][..] } else { args };
    c.bind = args.iter().map(|a| lossy(a)).collect();
    Ok(())
}

/// `save <seconds> <changes> ...`, validated like setConfigSaveOption (strtoll syntax, seconds >= 1,
/// changes >= 0). CONFIG SET and the first `save` line of a load replace the list; later lines append;
/// `save ""` (or a bare `save`) empties it.
fn set_save(c: &mut Config, args: &[&[u8]], repeated: bool) -> Result<(), String> {
    let args = if args == [b""] { &[][..] } else { args };
    let invalid = || "Invalid save parameters".to_string();
    if args.len() % 2 != 0 {
        return Err(invalid());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks_exact(2) {
        let seconds = strtoll_exact(pair[0]).filter(|&s| s >= 1).ok_or_else(invalid)?;
        let changes = strtoll_exact(pair[1]).filter(|&n| n >= 0).ok_or_else(invalid)?;
        // Redis keeps `changes` in a C int; we saturate where it would truncate.
        points.push((seconds.unsigned_abs(), changes.min(i64::from(i32::MAX)).unsigned_abs()));
    }
    if !repeated || args.is_empty() {
        c.save.clear();
    }
    c.save.extend(points);
    Ok(())
}

fn render_save(c: &Config) -> String {
    c.save.iter().map(|(seconds, changes)| format!("{seconds} {changes}")).collect::<Vec<_>>().join(" ")
}

/// `dir path`: Redis chdir()s at once; we resolve the path against the current `dir` the same way and
/// keep it absolute (what CONFIG GET shows, from getcwd), leaving the chdir to the server.
fn set_dir(c: &mut Config, v: &[u8]) -> Result<(), String> {
    if v.is_empty() {
        return Err(os_error_text(&std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    let resolved = std::fs::canonicalize(Path::new(&c.dir).join(lossy(v))).map_err(|e| os_error_text(&e))?;
    if !resolved.is_dir() {
        return Err("Not a directory".into());
    }
    c.dir = resolved.to_string_lossy().into_owned();
    Ok(())
}

/// strerror() wording for an I/O error: Rust's text without its " (os error N)" suffix.
pub(super) fn os_error_text(e: &std::io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None if e.kind() == std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
        None => e.to_string(),
    };
    text.split(" (os error").next().unwrap_or_default().to_string()
}
