//! Command metadata as data: the types of the command table, and the table itself, generated at build time.
//!
//! The data is `src/cmd/meta/<family>.json`, one file per family module (`string.json` for `cmd::string`),
//! in the shape of Redis's `commands/*.json`: for each command its docs (summary, since, group, complexity,
//! doc_flags, deprecated_since, replaced_by, history, arguments), arity, flags, legacy key range
//! (`key_range`: first, last, step), ACL categories, tips, key specs and subcommands. Each value is what
//! Redis 7.0's COMMAND INFO and COMMAND DOCS report (so ACL categories include the ones Redis implies from the
//! flags, and `movablekeys` is a flag), and `scripts/command-meta` writes the entries from a running
//! redis-server, which is how they are obtained and kept honest.
//!
//! build.rs turns every file into a `static` slice of [`CommandSpec`] (`$OUT_DIR/command_meta.rs`, included
//! below). Handlers stay in Rust: each family module exports `HANDLERS: &[Handlers]`, name to function
//! (`"get"`, `"config|get"`), and each generated entry takes its `run` from there through [`bind`], a const
//! fn, so a data entry without a handler does not compile. A handler without a data entry fails the test
//! `every_handler_has_a_data_entry` in `cmd`.

use super::Handler;

include!(concat!(env!("OUT_DIR"), "/command_meta.rs"));

/// One module's handlers by full command name: `("get", get)`, `("config|get", config_get)`.
pub type Handlers = &'static [(&'static str, Handler)];

/// Command flags, as COMMAND INFO names them.
pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const ASKING: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const NO_AUTH: u32 = 1 << 13;
    pub const MAY_REPLICATE: u32 = 1 << 14;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 15;
    pub const NO_ASYNC_LOADING: u32 = 1 << 16;
    pub const NO_MULTI: u32 = 1 << 17;
    pub const MOVABLE_KEYS: u32 = 1 << 18;
    pub const ALLOW_BUSY: u32 = 1 << 19;
    /// Flags Redis keeps from COMMAND INFO on purpose (addReplyCommandFlags): they act, unseen.
    pub const HIDDEN: u32 = MAY_REPLICATE;

    /// Names in Redis's order (COMMAND INFO lists set flags in this order).
    pub const NAMES: [(u32, &str); 20] = [
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];

    /// The bits of flag names (`["readonly", "fast"]`); evaluated at compile time for the generated table, so
    /// an unknown name in the data is a build error.
    pub const fn parse(names: &[&str]) -> u32 {
        let mut bits = 0;
        let mut i = 0;
        while i < names.len() {
            let mut j = 0;
            while j < NAMES.len() && !super::str_eq(NAMES[j].1, names[i]) {
                j += 1;
            }
            if j == NAMES.len() {
                panic!("unknown command flag in src/cmd/meta");
            }
            bits |= NAMES[j].0;
            i += 1;
        }
        bits
    }
}

/// One command (or subcommand). The dispatcher reads only `name`, `arity`, `flags`, `run` and
/// `subcommands`; COMMAND reads the rest.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lowercase name; for a subcommand, the part after the container (`get` for CONFIG GET).
    pub name: &'static str,
    /// Redis's sign rule: negative means "at least", and the name counts.
    pub arity: i32,
    pub flags: u32,
    pub run: Handler,
    pub subcommands: &'static [CommandSpec],
    /// Legacy key positions: first, last (negative counts from the end), step; 0,0,0 when there are no keys.
    pub key_range: (i32, i32, i32),
    /// ACL categories without the `@`, in Redis's category order, implied ones included.
    pub acl_categories: &'static [&'static str],
    /// Redis's command tips (`nondeterministic_output`, `request_policy:all_shards`).
    pub tips: &'static [&'static str],
    /// Redis 7 key specs (COMMAND INFO, COMMAND GETKEYS).
    pub key_specs: &'static [KeySpec],
    pub docs: &'static Docs,
}

impl CommandSpec {
    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 { argc == arity } else { argc >= -arity }
    }
}

/// What COMMAND DOCS reports besides subcommands. `None` and empty slices are fields Redis leaves out.
#[derive(Debug)]
pub struct Docs {
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: Option<&'static str>,
    /// `deprecated`, `syscmd`.
    pub doc_flags: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    /// (version, description) pairs.
    pub history: &'static [(&'static str, &'static str)],
    pub arguments: &'static [Arg],
}

/// One argument in COMMAND DOCS, as Redis's `redisCommandArg`.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    /// Redis's `type`: `key`, `string`, `integer`, `double`, `pattern`, `unix-time`, `pure-token`, `oneof`,
    /// `block`.
    pub kind: &'static str,
    pub key_spec_index: Option<i32>,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    /// `optional`, `multiple`, `multiple_token`.
    pub flags: &'static [&'static str],
    /// The choices of a `oneof`, the parts of a `block`.
    pub arguments: &'static [Arg],
}

impl Arg {
    /// Redis sends `arguments` for a `oneof` or a `block`, even an empty one, and for nothing else.
    pub fn has_arguments(&self) -> bool {
        matches!(self.kind, "oneof" | "block")
    }
}

/// Where a key spec starts looking for keys (Redis's `begin_search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// Just after `keyword`, searched from argument `startfrom` (negative: from the end, backwards).
    Keyword { keyword: &'static str, startfrom: i32 },
    /// Nowhere fixed: the command finds these keys itself (SORT's BY/GET patterns and STORE).
    Unknown,
}

/// How a key spec finds its keys from where the search began (Redis's `find_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative to the start; negative counts from the end), every `keystep`. A `limit`
    /// above 1 (with `lastkey` -1) keeps only the first 1/`limit` of the remaining arguments.
    Range { lastkey: i32, keystep: i32, limit: i32 },
    /// The argument at `keynumidx` (relative to the start) holds the number of keys, which begin at `firstkey`
    /// (relative to the start), every `keystep`.
    Keynum { keynumidx: i32, firstkey: i32, keystep: i32 },
    /// Found by the command itself (with `BeginSearch::Unknown`).
    Unknown,
}

/// One Redis 7 key specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Redis's free-text note.
    pub notes: Option<&'static str>,
    /// Flags as COMMAND INFO prints them (`RW`, `access`, `update`).
    pub flags: &'static [&'static str],
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// The handler named `name` in a family's handler lists; evaluated at compile time for the generated table,
/// so a data entry with no handler is a build error.
pub const fn bind(lists: &[Handlers], name: &str) -> Handler {
    let mut i = 0;
    while i < lists.len() {
        let mut j = 0;
        while j < lists[i].len() {
            if str_eq(lists[i][j].0, name) {
                return lists[i][j].1;
            }
            j += 1;
        }
        i += 1;
    }
    panic!("a command in src/cmd/meta has no handler: add it to its family's HANDLERS")
}

/// String equality usable in a const fn.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
