//! Commands: the table that describes them, and one module per family (Redis's `t_<type>.c`).
//!
//! The table is data, as Redis's `commands/*.json` are: `src/cmd/meta/<family>.json` holds each command's
//! name, arity, flags, key range and key specs, ACL categories, tips and every field COMMAND DOCS prints, as
//! Redis 7.0 reports them (`scripts/command-meta` writes the entries from a real redis-server). build.rs turns
//! the JSON into `static` `CommandSpec`s (see `meta`); `Table::new` indexes them by name. The dispatcher checks
//! existence and arity from the table before any handler runs, and COMMAND answers from it, so the two cannot
//! disagree.
//!
//! Handlers stay in Rust: each family module exports `HANDLERS: &[Handlers]`, full command name to function
//! (`("get", get)`, `("config|get", config_get)`). A data entry without a handler does not compile; a
//! handler without a data entry fails a test below. Adding a command is: its entry (`scripts/command-meta
//! src/cmd/meta/<family>.json <name>`), its handler in HANDLERS, a test.
//!
//! Handlers have the type `fn(&mut Ctx, &mut Reply) -> CmdResult`: they read their arguments with the
//! `args::Args` cursor (`ctx.args()`), use the keyspace through `ctx`, write their reply into `reply`, and return `Err` for an error reply. The reply is a separate
//! argument so a handler can hold a value borrowed from the keyspace while writing it out.

pub mod args;
pub mod blocking;
pub mod call;
pub mod ctx;
pub mod errors;
pub mod evict;

pub mod admin;
pub mod bitmap;
pub mod conn;
pub mod eval;
pub mod functions;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod keys;
pub mod latency;
pub mod list;
pub mod meta;
pub mod migrate;
pub mod monitor;
pub mod notify;
pub mod pubsub;
pub mod replica_sync;
pub mod save;
pub mod set;
pub mod slowlog_command;
pub mod sort;
pub mod stream;
pub mod string;
pub mod tracking;
pub mod tx;
pub mod zset;

pub use call::{Outcome, call, call_pumped};
pub use ctx::Ctx;
pub use errors::{CmdError, CmdResult};
pub use meta::{Arg, BeginSearch, CommandSpec, Docs, FindKeys, Handlers, KeySpec, flag};

use crate::resp::reply::Reply;

pub type Handler = fn(&mut Ctx<'_>, &mut Reply) -> CmdResult;

/// A resolved command: its spec, its full name (`config|get`) and its index in the statistics arrays.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    pub spec: &'static CommandSpec,
    pub id: usize,
}

/// Every command by lowercase name, plus subcommands by `container|sub`.
#[derive(Debug)]
pub struct Table {
    by_name: NameIndex,
    /// Full names by id (`get`, `config|get`), for statistics.
    pub names: Vec<String>,
    /// Top-level commands in table order, for COMMAND.
    pub top: Vec<&'static CommandSpec>,
}

/// Longest command name we look up; longer names cannot exist, so they are unknown without a lookup.
const NAME_LEN_MAX: usize = 32;

impl Table {
    pub fn new() -> Table {
        let mut table = Table { by_name: NameIndex::default(), names: Vec::new(), top: Vec::new() };
        for family in meta::FAMILIES {
            for spec in *family {
                table.add(spec);
            }
        }
        table
    }

    fn add(&mut self, spec: &'static CommandSpec) {
        debug_assert!(spec.name.len() <= NAME_LEN_MAX && spec.name == spec.name.to_ascii_lowercase());
        let id = self.names.len();
        self.names.push(spec.name.to_string());
        let added = self.by_name.insert(Resolved { spec, id });
        assert!(added, "command {} registered twice", spec.name);
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
        self.by_name.get(name)
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

/// The command table, built once on first use and shared by everything that looks commands up.
pub fn table() -> &'static Table {
    static TABLE: std::sync::LazyLock<Table> = std::sync::LazyLock::new(Table::new);
    &TABLE
}

impl Default for Table {
    fn default() -> Table {
        Table::new()
    }
}

/// Top-level commands by name, ignoring ASCII case, without copying or lowercasing the name: the lookup
/// every command makes. An open-addressed table at most a quarter full (most names are found at their first
/// slot), probed linearly, hashed with
/// FNV-1a over the bytes with the ASCII case bit set (so `GET` and `get` hash alike; the hit is confirmed
/// with `eq_ignore_ascii_case`). Measured: a third of the instructions of a lowercased copy hashed into a
/// `HashMap`.
#[derive(Debug, Default)]
struct NameIndex {
    /// `None` for an empty slot; the length is a power of two.
    slots: Vec<Option<Resolved>>,
    len: usize,
}

impl NameIndex {
    fn hash(name: &[u8]) -> usize {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in name {
            hash = (hash ^ u64::from(byte | 0x20)).wrapping_mul(0x0100_0000_01b3);
        }
        // FNV's low bits mix poorly for short names: fold the high half in before masking.
        (hash ^ (hash >> 32)) as usize
    }

    fn get(&self, name: &[u8]) -> Option<Resolved> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut slot = Self::hash(name) & mask;
        loop {
            let found = self.slots[slot]?;
            if found.spec.name.as_bytes().eq_ignore_ascii_case(name) {
                return Some(found);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Adds `cmd` under its (lowercase) name; false if the name is taken.
    fn insert(&mut self, cmd: Resolved) -> bool {
        if self.get(cmd.spec.name.as_bytes()).is_some() {
            return false;
        }
        if (self.len + 1) * 4 > self.slots.len() {
            let grown = vec![None; (self.slots.len() * 2).max(64)];
            let old = std::mem::replace(&mut self.slots, grown);
            for entry in old.into_iter().flatten() {
                self.place(entry);
            }
        }
        self.place(cmd);
        self.len += 1;
        true
    }

    fn place(&mut self, cmd: Resolved) {
        let mask = self.slots.len() - 1;
        let mut slot = Self::hash(cmd.spec.name.as_bytes()) & mask;
        while self.slots[slot].is_some() {
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = Some(cmd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every family's handler lists, as the generated table binds them.
    const FAMILY_HANDLERS: [&[Handlers]; 23] = [
        admin::HANDLERS,
        bitmap::HANDLERS,
        conn::HANDLERS,
        eval::HANDLERS,
        functions::HANDLERS,
        geo::HANDLERS,
        hash::HANDLERS,
        hyperloglog::HANDLERS,
        keys::HANDLERS,
        latency::HANDLERS,
        list::HANDLERS,
        migrate::HANDLERS,
        monitor::HANDLERS,
        pubsub::HANDLERS,
        replica_sync::HANDLERS,
        save::HANDLERS,
        set::HANDLERS,
        slowlog_command::HANDLERS,
        sort::HANDLERS,
        stream::HANDLERS,
        string::HANDLERS,
        tx::HANDLERS,
        zset::HANDLERS,
    ];

    #[test]
    fn every_handler_has_a_data_entry() {
        let table = Table::new();
        let families = FAMILY_HANDLERS.iter().flat_map(|lists| lists.iter());
        for (name, _) in families.flat_map(|handlers| handlers.iter()) {
            assert!(table.names.iter().any(|known| known == name), "handler {name} has no entry in src/cmd/meta");
        }
    }

    #[test]
    fn every_family_file_has_a_handler_list() {
        assert_eq!(meta::FAMILIES.len(), FAMILY_HANDLERS.len(), "a src/cmd/meta file per family module");
    }

    #[test]
    fn lookup_ignores_case_and_finds_subcommands() {
        let table = Table::new();
        let config = table.lookup(b"CoNfIg").expect("config");
        assert_eq!(table.names[config.id], "config");
        let get = table.lookup_sub(config, b"GET").expect("config get");
        assert_eq!((table.names[get.id].as_str(), get.spec.name), ("config|get", "get"));
        assert!(table.lookup(b"nosuch").is_none() && table.lookup(&[b'a'; 40]).is_none());
        assert!(table.lookup_sub(config, b"nosuch").is_none());
    }

    #[test]
    fn every_command_is_found_in_any_case_and_nothing_else_is() {
        let table = Table::new();
        for spec in &table.top {
            let name = spec.name.as_bytes();
            for spelling in [name.to_vec(), name.to_ascii_uppercase()] {
                assert_eq!(table.lookup(&spelling).map(|found| found.spec.name), Some(spec.name));
            }
            // Same hash (the case bit is ignored) but not the same name: `\r` for `-`, `@` for `` ` ``.
            let mut near = name.to_vec();
            near.push(b'\r');
            assert!(table.lookup(&near).is_none());
            let prefix = &name[..name.len() - 1];
            let prefix_is_a_command = table.top.iter().any(|other| other.name.as_bytes() == prefix);
            assert_eq!(table.lookup(prefix).is_some(), prefix_is_a_command);
        }
        assert!(table.lookup(b"").is_none() && table.lookup(b"g\x05t").is_none());
    }
}
