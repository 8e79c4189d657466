//! Commands: the table that describes them, and one module per family (Redis's `t_<type>.c`).
//!
//! The table is data, as Redis's `commands/*.json` are: name, arity (Redis's sign rule: negative means "at
//! least", and the name counts), flags, key positions, ACL categories and docs. The dispatcher checks
//! existence and arity from it before any handler runs, and COMMAND answers from it, so the two cannot
//! disagree. Each family module exports `COMMANDS: &[CommandSpec]`; `Table::new` gathers them.
//!
//! Redis 7 metadata that only COMMAND reports (tips, key specs) is data here too: `.tips(...)` and
//! `.key_specs(&[KeySpec::range(...)])` copy `commands/<name>.json`.
//!
//! Handlers have the type `fn(&mut Ctx, &mut Reply) -> CmdResult`: they read their arguments with the
//! `args::Args` cursor (`ctx.args()`), use the keyspace through `ctx`, write their reply into `reply`, and return `Err` for an error reply. The reply is a separate
//! argument so a handler can hold a value borrowed from the keyspace while writing it out.

pub mod args;
pub mod blocking;
pub mod ctx;
pub mod dispatch;
pub mod errors;

pub mod admin;
pub mod conn;
pub mod hash;
pub mod keys;
pub mod list;
pub mod set;
pub mod string;
pub mod tx;

pub use ctx::Ctx;
pub use errors::{CmdError, CmdResult};

use crate::resp::reply::Reply;
use hashbrown::HashMap;

pub type Handler = fn(&mut Ctx<'_>, &mut Reply) -> CmdResult;

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
}

/// One command (or subcommand) as data.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lowercase name; for a subcommand, the part after the container (`get` for CONFIG GET).
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// Key positions: first, last (negative counts from the end), step; 0,0,0 when there are no keys.
    pub keys: (i32, i32, i32),
    /// ACL categories without the `@` (`"read string fast"`).
    pub acl: &'static str,
    /// Docs for COMMAND DOCS: group, since, summary, complexity.
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// Redis's command tips, space-separated (`"nondeterministic_output request_policy:all_shards"`).
    pub tips: &'static str,
    /// Redis 7 key specs (COMMAND INFO, COMMAND GETKEYS). Empty for a command with keys means COMMAND INFO
    /// derives one range spec from `keys`.
    pub key_specs: &'static [KeySpec],
    pub run: Handler,
    pub subcommands: &'static [CommandSpec],
}

/// Where a key spec starts looking for keys (Redis's `begin_search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// Just after `keyword`, searched from argument `startfrom` (negative: from the end, backwards).
    Keyword { keyword: &'static str, startfrom: i32 },
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
}

/// One Redis 7 key specification, as `commands/*.json` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Flags as COMMAND INFO prints them, space-separated (`"RW access update"`).
    pub flags: &'static str,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
    /// Redis's free-text note; empty for none.
    pub notes: &'static str,
}

impl KeySpec {
    /// Keys from argument `index` to `lastkey` (relative), every `keystep`: the common shape.
    pub const fn range(flags: &'static str, index: i32, lastkey: i32, keystep: i32) -> KeySpec {
        KeySpec {
            flags,
            begin_search: BeginSearch::Index(index),
            find_keys: FindKeys::Range { lastkey, keystep, limit: 0 },
            notes: "",
        }
    }

    /// A key count at `index + keynumidx`, then the keys from `index + firstkey`, every `keystep`.
    pub const fn keynum(flags: &'static str, index: i32, keynumidx: i32, firstkey: i32, keystep: i32) -> KeySpec {
        KeySpec {
            flags,
            begin_search: BeginSearch::Index(index),
            find_keys: FindKeys::Keynum { keynumidx, firstkey, keystep },
            notes: "",
        }
    }

    pub const fn begin(mut self, begin_search: BeginSearch) -> KeySpec {
        self.begin_search = begin_search;
        self
    }

    pub const fn find(mut self, find_keys: FindKeys) -> KeySpec {
        self.find_keys = find_keys;
        self
    }

    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = notes;
        self
    }
}

impl CommandSpec {
    /// A command with the given shape and no docs yet; fill the rest with the builder methods.
    pub const fn new(name: &'static str, arity: i32, flags: u32, run: Handler) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            keys: (0, 0, 0),
            acl: "",
            group: "generic",
            since: "1.0.0",
            summary: "",
            complexity: "",
            tips: "",
            key_specs: &[],
            run,
            subcommands: &[],
        }
    }

    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> CommandSpec {
        self.keys = (first, last, step);
        self
    }

    pub const fn acl(mut self, categories: &'static str) -> CommandSpec {
        self.acl = categories;
        self
    }

    pub const fn docs(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> CommandSpec {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self.complexity = complexity;
        self
    }

    pub const fn tips(mut self, tips: &'static str) -> CommandSpec {
        self.tips = tips;
        self
    }

    pub const fn key_specs(mut self, specs: &'static [KeySpec]) -> CommandSpec {
        self.key_specs = specs;
        self
    }

    pub const fn subcommands(mut self, subs: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subs;
        self
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 { argc == arity } else { argc >= -arity }
    }
}

/// A resolved command: its spec, its full name (`config|get`) and its index in the statistics arrays.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    pub spec: &'static CommandSpec,
    pub id: usize,
}

/// Every command by lowercase name, plus subcommands by `container|sub`.
#[derive(Debug)]
pub struct Table {
    by_name: HashMap<&'static [u8], Resolved>,
    /// Full names by id (`get`, `config|get`), for statistics.
    pub names: Vec<String>,
    /// Top-level commands in table order, for COMMAND.
    pub top: Vec<&'static CommandSpec>,
}

/// Longest command name we look up; longer names cannot exist, so they are unknown without a lookup.
const NAME_LEN_MAX: usize = 32;

impl Table {
    pub fn new() -> Table {
        let mut table = Table { by_name: HashMap::new(), names: Vec::new(), top: Vec::new() };
        for family in [
            conn::COMMANDS,
            keys::COMMANDS,
            admin::COMMANDS,
            string::COMMANDS,
            list::COMMANDS,
            hash::COMMANDS,
            set::COMMANDS,
            tx::COMMANDS,
        ] {
            for spec in family {
                table.add(spec);
            }
        }
        table
    }

    fn add(&mut self, spec: &'static CommandSpec) {
        debug_assert!(spec.name.len() <= NAME_LEN_MAX && spec.name == spec.name.to_ascii_lowercase());
        let id = self.names.len();
        self.names.push(spec.name.to_string());
        let previous = self.by_name.insert(spec.name.as_bytes(), Resolved { spec, id });
        assert!(previous.is_none(), "command {} registered twice", spec.name);
        self.top.push(spec);
        for sub in spec.subcommands {
            self.names.push(format!("{}|{}", spec.name, sub.name));
        }
    }

    /// Finds a top-level command by name, ignoring ASCII case, without allocating.
    pub fn lookup(&self, name: &[u8]) -> Option<Resolved> {
        if name.len() > NAME_LEN_MAX {
            return None;
        }
        let mut lower = [0u8; NAME_LEN_MAX];
        let lower = &mut lower[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).copied()
    }

    /// Finds subcommand `sub` of a container, ignoring case.
    pub fn lookup_sub(&self, container: Resolved, sub: &[u8]) -> Option<Resolved> {
        let index = container.spec.subcommands.iter().position(|s| s.name.as_bytes().eq_ignore_ascii_case(sub))?;
        Some(Self::sub_at(container, index))
    }

    /// Every top-level command, in table order.
    pub fn commands(&self) -> impl Iterator<Item = Resolved> + '_ {
        self.top.iter().filter_map(|spec| self.lookup(spec.name.as_bytes()))
    }

    /// The subcommands of a container, in table order.
    pub fn subcommands(container: Resolved) -> impl Iterator<Item = Resolved> {
        (0..container.spec.subcommands.len()).map(move |index| Self::sub_at(container, index))
    }

    /// A container's subcommand ids follow its own id, in declaration order (see `add`).
    fn sub_at(container: Resolved, index: usize) -> Resolved {
        Resolved { spec: &container.spec.subcommands[index], id: container.id + 1 + index }
    }
}

impl Default for Table {
    fn default() -> Table {
        Table::new()
    }
}
