//! Differential tests: the same random command streams go to ferrokv and to a real redis-server, and every
//! reply must be byte-for-byte identical. This is the executable form of ferrokv's compatibility promise.
//!
//! A seeded generator builds each stream from [`TEMPLATES`], one row per command: a fn that draws argv from
//! a small key space (so commands collide, overwrite and meet wrong types) and from lists of odd values
//! (empty, binary, big and malformed numbers, floats, huge counts), in valid and invalid shapes (wrong
//! arity, bad and conflicting options, out-of-range numbers, mixed-case names). Replies that legitimately
//! differ between two correct servers are handled in one place, [`nondeterminism`].
//!
//! Environment:
//! - `DIFFTEST_SEED=7` or `DIFFTEST_SEED=7,9`: run these seeds instead of [`SEEDS_DEFAULT`].
//! - `DIFFTEST_COMMANDS=N`: commands per seed (default [`COMMANDS_PER_SEED_DEFAULT`]).
//! - `DIFFTEST_ONLY=set,get,...`: draw only these commands (for a partly implemented server); by default
//!   every command in [`DEFAULT_COMMANDS`].
//! - `DIFFTEST_AGAINST_REDIS=1`: compare redis-server against a second redis-server, which checks the
//!   harness itself: any mismatch then is a normaliser bug.
//!
//! Every stream runs on its own fresh pair of servers, so streams cannot leak state into each other and a
//! crash fails only its own stream (with the subject's exit status and log tail). The first mismatch of a
//! stream ends that stream (the keyspaces have diverged); all streams still run, and the test fails with
//! one report per failing stream, each naming the seed, index, command, both replies, the commands just
//! before it, and the line that reproduces it.

#[path = "../common/mod.rs"]
mod common;

// Each command family keeps its templates in its own file, so the families grow without touching this one.
mod bitmap_templates;
mod geo_templates;
mod hash_templates;
mod hll_templates;
mod list_templates;
mod observe_templates;
mod persist_templates;
mod pubsub_templates;
mod scripting_templates;
mod set_templates;
mod sort_templates;
mod stream_templates;
mod tracking_templates;
mod tx_templates;
mod zset_templates;

use common::{RespConn, Rng, TestServer, escape, escape_argv, require_redis};
use std::collections::VecDeque;

/// The commands drawn by default, by template name, besides every template of the family files (see
/// [`default_names`]). Trim it to what ferrokv implements while it grows.
const DEFAULT_COMMANDS: &[&str] = &[
    // Strings.
    "append",
    "decr",
    "decrby",
    "get",
    "getdel",
    "getex",
    "getrange",
    "getset",
    "incr",
    "incrby",
    "incrbyfloat",
    "lcs",
    "mget",
    "mset",
    "msetnx",
    "psetex",
    "set",
    "setex",
    "setnx",
    "setrange",
    "strlen",
    "substr",
    // Keyspace.
    "copy",
    "del",
    "exists",
    "expire",
    "expireat",
    "expiretime",
    "keys",
    "move",
    "persist",
    "pexpire",
    "pexpireat",
    "pexpiretime",
    "pttl",
    "rename",
    "renamenx",
    "touch",
    "ttl",
    "type",
    "unlink",
    "object",
    // Server and connection.
    "dbsize",
    "select",
    "swapdb",
    "flushdb",
    "echo",
    "ping",
    "unknown",
    // Other types (lpush, sadd, hset, zadd), so that string commands meet WRONGTYPE and TYPE/OBJECT see every
    // kind of value, join this list as their issue lands; their templates are ready below.
];

const SEEDS_DEFAULT: &[u64] = &[1, 2, 3, 4, 5, 6, 7, 8];
const COMMANDS_PER_SEED_DEFAULT: usize = 3000;
/// How many earlier commands a mismatch report shows.
const REPORT_CONTEXT_LEN: usize = 8;
/// How many of the subject's last log lines a report shows when the subject died.
const LOG_TAIL_LEN: usize = 20;

/// One command generator: `weight` is its relative frequency in a stream.
struct Template {
    name: &'static str,
    weight: usize,
    build: fn(&mut Gen) -> Argv,
}

const fn t(name: &'static str, weight: usize, build: fn(&mut Gen) -> Argv) -> Template {
    Template { name, weight, build }
}

const TEMPLATES: &[Template] = &[
    t("append", 6, |g| cmd("APPEND").arg(g.key()).arg(g.value())),
    t("decr", 4, |g| cmd("DECR").arg(g.key())),
    t("decrby", 4, |g| cmd("DECRBY").arg(g.key()).arg(g.int())),
    t("get", 12, |g| cmd("GET").arg(g.key())),
    t("getdel", 3, |g| cmd("GETDEL").arg(g.key())),
    t("getex", 5, |g| cmd("GETEX").arg(g.key()).args(g.expiry_options(&["PERSIST"], true))),
    t("getrange", 4, |g| cmd("GETRANGE").arg(g.key()).arg(g.index()).arg(g.index())),
    t("getset", 3, |g| cmd("GETSET").arg(g.key()).arg(g.value())),
    t("incr", 6, |g| cmd("INCR").arg(g.key())),
    t("incrby", 5, |g| cmd("INCRBY").arg(g.key()).arg(g.int())),
    t("incrbyfloat", 5, |g| cmd("INCRBYFLOAT").arg(g.key()).arg(g.float())),
    t("lcs", 3, gen_lcs),
    t("mget", 4, |g| cmd("MGET").args(g.keys(1, 5))),
    t("mset", 4, |g| cmd("MSET").args(g.pairs())),
    t("msetnx", 3, |g| cmd("MSETNX").args(g.pairs())),
    t("psetex", 3, |g| cmd("PSETEX").arg(g.key()).arg(g.ttl_ms()).arg(g.value())),
    t("set", 14, gen_set),
    t("setex", 3, |g| cmd("SETEX").arg(g.key()).arg(g.ttl_secs()).arg(g.value())),
    t("setnx", 3, |g| cmd("SETNX").arg(g.key()).arg(g.value())),
    t("setrange", 4, |g| cmd("SETRANGE").arg(g.key()).arg(g.offset()).arg(g.value())),
    t("strlen", 4, |g| cmd("STRLEN").arg(g.key())),
    t("substr", 2, |g| cmd("SUBSTR").arg(g.key()).arg(g.index()).arg(g.index())),
    t("copy", 3, gen_copy),
    t("del", 4, |g| cmd("DEL").args(g.keys(1, 4))),
    t("exists", 4, |g| cmd("EXISTS").args(g.keys(1, 4))),
    t("expire", 4, |g| cmd("EXPIRE").arg(g.key()).arg(g.ttl_secs()).args(g.expire_flags())),
    t("expireat", 3, |g| cmd("EXPIREAT").arg(g.key()).arg(g.unix_secs(true)).args(g.expire_flags())),
    t("expiretime", 3, |g| cmd("EXPIRETIME").arg(g.key())),
    t("keys", 3, |g| cmd("KEYS").arg(g.pattern())),
    t("move", 2, |g| cmd("MOVE").arg(g.key()).arg(g.db())),
    t("persist", 3, |g| cmd("PERSIST").arg(g.key())),
    t("pexpire", 3, |g| cmd("PEXPIRE").arg(g.key()).arg(g.ttl_ms()).args(g.expire_flags())),
    t("pexpireat", 3, |g| cmd("PEXPIREAT").arg(g.key()).arg(g.unix_ms(true)).args(g.expire_flags())),
    t("pexpiretime", 2, |g| cmd("PEXPIRETIME").arg(g.key())),
    t("pttl", 3, |g| cmd("PTTL").arg(g.key())),
    t("rename", 3, |g| cmd("RENAME").arg(g.key()).arg(g.key())),
    t("renamenx", 2, |g| cmd("RENAMENX").arg(g.key()).arg(g.key())),
    t("touch", 2, |g| cmd("TOUCH").args(g.keys(1, 4))),
    t("ttl", 4, |g| cmd("TTL").arg(g.key())),
    t("type", 4, |g| cmd("TYPE").arg(g.key())),
    t("unlink", 2, |g| cmd("UNLINK").args(g.keys(1, 4))),
    t("object", 4, gen_object),
    t("dbsize", 2, |_| cmd("DBSIZE")),
    t("select", 2, |g| cmd("SELECT").arg(g.db())),
    t("swapdb", 1, |g| cmd("SWAPDB").arg(g.db()).arg(g.db())),
    t("flushdb", 1, |g| cmd("FLUSHDB").args(g.maybe_word(&["ASYNC", "SYNC", "LAZY"]))),
    t("echo", 2, |g| cmd("ECHO").arg(g.value())),
    t("ping", 2, |g| cmd("PING").args(g.rng.chance(0.5).then(|| g.value()))),
    t("unknown", 2, gen_unknown),
];

fn gen_set(g: &mut Gen) -> Argv {
    let mut argv = cmd("SET").arg(g.key()).arg(g.value());
    for _ in 0..g.rng.below(3) {
        argv = match g.rng.below(4) {
            0 => argv.arg(g.pick_word(&["NX", "XX"])),
            1 => argv.arg(g.word("GET")),
            2 => argv.args(g.expiry_options(&["KEEPTTL"], false)),
            _ => argv.arg(g.pick_word(&["KEEPTTL", "EX", "FOO", "PXX"])),
        };
    }
    argv
}

fn gen_lcs(g: &mut Gen) -> Argv {
    let mut argv = cmd("LCS").arg(g.key()).arg(g.key());
    for _ in 0..g.rng.below(4) {
        argv = match g.rng.below(5) {
            0 => argv.arg(g.word("LEN")),
            1 => argv.arg(g.word("IDX")),
            2 => argv.arg(g.word("WITHMATCHLEN")),
            3 => argv.arg(g.word("MINMATCHLEN")).arg(g.count()),
            _ => argv.arg(g.word("BOGUS")),
        };
    }
    argv
}

fn gen_copy(g: &mut Gen) -> Argv {
    let mut argv = cmd("COPY").arg(g.key()).arg(g.key());
    if g.rng.chance(0.4) {
        argv = argv.arg(g.word("DB")).arg(g.db());
    }
    if g.rng.chance(0.4) {
        argv = argv.arg(g.word("REPLACE"));
    }
    argv
}

fn gen_object(g: &mut Gen) -> Argv {
    let subcommand = g.pick_name(&["ENCODING", "ENCODING", "REFCOUNT", "IDLETIME", "FREQ", "HELP", "NOPE"]);
    let argv = cmd("OBJECT").arg(&subcommand);
    if subcommand.eq_ignore_ascii_case(b"HELP") { argv } else { argv.arg(g.key()) }
}

fn gen_unknown(g: &mut Gen) -> Argv {
    let name: Vec<u8> = match g.rng.below(4) {
        0 => b"GETT".to_vec(),
        1 => b"foo".to_vec(),
        2 => b"x y\r\nz".to_vec(),
        _ => {
            let len = g.rng.below(6);
            g.rng.bytes(len)
        }
    };
    Argv(vec![name]).args(g.values(0, 3))
}

/// An argv under construction.
#[derive(Debug)]
struct Argv(Vec<Vec<u8>>);

fn cmd(name: &str) -> Argv {
    Argv(vec![name.as_bytes().to_vec()])
}

impl Argv {
    fn arg(mut self, arg: impl AsRef<[u8]>) -> Argv {
        self.0.push(arg.as_ref().to_vec());
        self
    }

    fn args<A: AsRef<[u8]>>(mut self, args: impl IntoIterator<Item = A>) -> Argv {
        self.0.extend(args.into_iter().map(|arg| arg.as_ref().to_vec()));
        self
    }
}

const KEYS_PLAIN: &[&str] = &["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"];
const KEYS_ODD: &[&[u8]] = &[b"", b"\x00bin\xff", b"k0 ", b"K0", b"{k1}", b"*", b"k?", b"\xe2\x82\xac"];
const WORDS: &[&str] = &["v", "hello", "world", "a b", "", "k1", "\"quoted\"", "tab\there", "line\r\nbreak"];
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "10",
    "42",
    "-100",
    "1000",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "-9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "99999999999999999999",
    "007",
    "+1",
    " 1",
    "1 ",
    "0x10",
    "1e3",
    "3.0",
    "",
    "abc",
    "-0",
    "--1",
];
const FLOATS: &[&str] = &[
    "0.1",
    "-0.5",
    "3.14159",
    "1e10",
    "-1e-5",
    "1.5e308",
    "-1.5e308",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "0",
    "5",
    "-0.0",
    "1.",
    ".5",
    "17e-1",
    "1e+2",
    "1.5abc",
    " 1.5",
    "0x1p3",
    "",
    "1e400",
    "2.5e-310",
    "123456789.123456789",
];
const PATTERNS: &[&str] = &[
    "*", "k*", "k?", "k[0-4]", "k[^0-4]", "k[!0-4]", "*1", "?", "k\\*", "\\*", "[k]*", "k[", "k[4-0]", "*k*k*", "",
    "{k1}", "K*", "k[a-]", "k[]]", "*\\",
];

/// The generator: an [`Rng`] plus the vocabulary every template draws from.
struct Gen {
    rng: Rng,
}

impl Gen {
    /// A key: mostly one of ten plain keys so commands collide; sometimes an odd one.
    fn key(&mut self) -> Vec<u8> {
        if self.rng.chance(0.9) {
            self.rng.pick(KEYS_PLAIN).as_bytes().to_vec()
        } else {
            self.rng.pick(KEYS_ODD).to_vec()
        }
    }

    fn keys(&mut self, count_min: usize, count_max: usize) -> Vec<Vec<u8>> {
        let count = count_min + self.rng.below(count_max - count_min + 1);
        (0..count).map(|_| self.key()).collect()
    }

    fn value(&mut self) -> Vec<u8> {
        match self.rng.below(20) {
            0..=7 => self.rng.pick(WORDS).as_bytes().to_vec(),
            8..=13 => self.rng.pick(INTS).as_bytes().to_vec(),
            14..=15 => self.rng.pick(FLOATS).as_bytes().to_vec(),
            16..=17 => {
                let len = self.rng.below(12);
                self.rng.bytes(len)
            }
            // Past 44 bytes Redis switches from embstr to raw, which OBJECT ENCODING shows.
            18 => vec![b'x'; 40 + self.rng.below(10)],
            _ => vec![b'y'; self.rng.below(300)],
        }
    }

    fn values(&mut self, count_min: usize, count_max: usize) -> Vec<Vec<u8>> {
        let count = count_min + self.rng.below(count_max - count_min + 1);
        (0..count).map(|_| self.value()).collect()
    }

    /// Key/value pairs for MSET, occasionally missing the last value.
    fn pairs(&mut self) -> Vec<Vec<u8>> {
        let mut args: Vec<Vec<u8>> = (0..1 + self.rng.below(4)).flat_map(|_| [self.key(), self.value()]).collect();
        if self.rng.chance(0.05) {
            args.pop();
        }
        args
    }

    fn int(&mut self) -> String {
        if self.rng.chance(0.6) { self.rng.range(-20, 20).to_string() } else { self.rng.pick(INTS).to_string() }
    }

    fn float(&mut self) -> String {
        match self.rng.below(3) {
            0 => format!("{}.{}", self.rng.range(-100, 100), self.rng.below(100)),
            1 => self.rng.range(-5, 5).to_string(),
            _ => self.rng.pick(FLOATS).to_string(),
        }
    }

    /// A string index as GETRANGE takes: small, negative, or at the edges of i64.
    fn index(&mut self) -> String {
        match self.rng.below(10) {
            0..=7 => self.rng.range(-12, 12).to_string(),
            _ => self.rng.pick(&["9223372036854775807", "-9223372036854775808", "100000", "x", "1.5"]).to_string(),
        }
    }

    /// A SETRANGE offset. Offsets near the 512 MiB limit are only ones that fail: an accepted one would make
    /// both servers allocate half a gigabyte.
    fn offset(&mut self) -> String {
        match self.rng.below(10) {
            0..=7 => self.rng.below(50).to_string(),
            8 => self.rng.pick(&["1000", "-1", "536870912", "1099511627776", "abc"]).to_string(),
            _ => self.rng.pick(&["9223372036854775807", "-9223372036854775808", ""]).to_string(),
        }
    }

    /// A count such as LCS MINMATCHLEN takes.
    fn count(&mut self) -> String {
        match self.rng.below(4) {
            0..=2 => self.rng.below(6).to_string(),
            _ => self.rng.pick(&["-1", "9223372036854775807", "abc", "0"]).to_string(),
        }
    }

    /// Relative seconds. Accepted values are at least 100 s, so no key expires while a stream runs, and
    /// drawn from a wide range, so two EXPIREs of one key rarely share a value (equal values make GT/LT
    /// depend on whether both ran in the same millisecond). Zero and negative values delete at once.
    fn ttl_secs(&mut self) -> String {
        match self.rng.below(10) {
            0..=6 => self.rng.range(100, 99_999).to_string(),
            7 => self.rng.pick(&["0", "-1", "-100"]).to_string(),
            _ => self
                .rng
                .pick(&["9223372036854775807", "9223372036854775", "-9223372036854775808", "abc", "1.5", ""])
                .to_string(),
        }
    }

    fn ttl_ms(&mut self) -> String {
        match self.rng.below(10) {
            0..=6 => self.rng.range(100_000, 99_999_999).to_string(),
            7 => self.rng.pick(&["0", "-1", "-100"]).to_string(),
            _ => self.rng.pick(&["9223372036854775807", "-9223372036854775808", "abc", "1.5", ""]).to_string(),
        }
    }

    /// Absolute unix seconds: fixed instants far in the past or future, never near "now"; the past ones
    /// only when `include_past` (see [`nondeterminism`] for why SET must not get them).
    fn unix_secs(&mut self, include_past: bool) -> String {
        self.absolute_time(include_past, &["1", "1000000000"], &["3000000000", "4102444800"])
    }

    fn unix_ms(&mut self, include_past: bool) -> String {
        self.absolute_time(include_past, &["1", "1000000000000"], &["3000000000000", "4102444800123"])
    }

    fn absolute_time(&mut self, include_past: bool, past: &[&str], future: &[&str]) -> String {
        let invalid = ["0", "-1", "9223372036854775807", "x"];
        match self.rng.below(3) {
            0 if include_past => self.rng.pick(past).to_string(),
            0 | 1 => self.rng.pick(future).to_string(),
            _ => self.rng.pick(&invalid).to_string(),
        }
    }

    /// GETEX/SET expiry options: usually one, sometimes two (a syntax error); an empty drawn value is
    /// usually left out, which makes a missing-value error.
    fn expiry_options(&mut self, flags: &[&str], include_past: bool) -> Vec<Vec<u8>> {
        let mut args = Vec::new();
        let options_len = [0, 1, 1, 1, 2][self.rng.below(5)];
        for _ in 0..options_len {
            let (name, value) = match self.rng.below(5) {
                0 => ("EX", self.ttl_secs()),
                1 => ("PX", self.ttl_ms()),
                2 => ("EXAT", self.unix_secs(include_past)),
                3 => ("PXAT", self.unix_ms(include_past)),
                _ => (*self.rng.pick(flags), String::new()),
            };
            args.push(self.word(name));
            if !value.is_empty() || self.rng.chance(0.05) {
                args.push(value.into_bytes());
            }
        }
        args
    }

    /// EXPIRE's NX/XX/GT/LT: usually none, sometimes one, rarely two (an error) or a bad one.
    fn expire_flags(&mut self) -> Vec<Vec<u8>> {
        let flags_len = [0, 0, 1, 1, 1, 2][self.rng.below(6)];
        (0..flags_len).map(|_| self.pick_word(&["NX", "XX", "GT", "LT", "GT", "LT", "NOPE"])).collect()
    }

    fn db(&mut self) -> String {
        match self.rng.below(10) {
            0..=7 => self.rng.below(3).to_string(),
            _ => self.rng.pick(&["15", "16", "-1", "abc", "1.5", "9999999999999", ""]).to_string(),
        }
    }

    fn pattern(&mut self) -> String {
        self.rng.pick(PATTERNS).to_string()
    }

    /// One of `words`, in random case, or nothing.
    fn maybe_word(&mut self, words: &[&str]) -> Option<Vec<u8>> {
        self.rng.chance(0.5).then(|| self.pick_word(words))
    }

    /// One of `words`, in random case.
    fn pick_word(&mut self, words: &[&str]) -> Vec<u8> {
        let word = *self.rng.pick(words);
        self.word(word)
    }

    /// One of `names` (a command or subcommand name), in random case but never with a NUL: Redis finds names
    /// in a dict hashed over the full length with a per-process random seed and then compares them with
    /// `strcasecmp`, so `OBJECT FREQ\0junk` is FREQ only when the two hashes happen to share a bucket.
    fn pick_name(&mut self, names: &[&str]) -> Vec<u8> {
        let name = *self.rng.pick(names);
        self.case_variant(name)
    }

    /// A keyword as written, in lower case, or in mixed case: Redis matches keywords case-insensitively.
    /// Sometimes it carries a NUL byte and junk after it: Redis compares option keywords with `strcasecmp`,
    /// which stops at the NUL, so `SET k v NX\0junk` is `SET k v NX`. Not for names: see [`Gen::pick_name`].
    fn word(&mut self, word: &str) -> Vec<u8> {
        let mut word = self.case_variant(word);
        if self.rng.chance(0.05) {
            word.extend_from_slice(self.rng.pick(&["\0", "\0junk", "\0\0"]).as_bytes());
        }
        word
    }

    /// A name as written, in lower case, or in mixed case.
    fn case_variant(&mut self, word: &str) -> Vec<u8> {
        match self.rng.below(10) {
            0..=5 => word.as_bytes().to_vec(),
            6..=7 => word.to_ascii_lowercase().into_bytes(),
            _ => word.bytes().map(|byte| if self.rng.chance(0.5) { byte.to_ascii_lowercase() } else { byte }).collect(),
        }
    }

    /// Shape noise applied to every command: a dropped or extra argument (arity and syntax errors) and a
    /// lower- or mixed-case command name.
    fn mutate(&mut self, mut argv: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        match self.rng.below(100) {
            0..=2 if argv.len() > 1 => drop(argv.pop()),
            // Not for BLPOP/BRPOP/BZPOPMIN/BZPOPMAX: an argument appended there becomes the timeout, and a 0
            // blocks for ever.
            3..=5 if !matches!(argv[0].as_slice(), b"BLPOP" | b"BRPOP" | b"BZPOPMIN" | b"BZPOPMAX") => {
                argv.push(self.value())
            }
            6 => argv.truncate(1),
            _ => {}
        }
        if let Ok(name) = std::str::from_utf8(&argv[0]) {
            argv[0] = self.case_variant(name);
        }
        argv
    }
}

/// Replies that legitimately differ between two correct servers, and how each is compared. The generator
/// never emits commands whose replies are not comparable at all: TIME, INFO, CLIENT ID/LIST, RANDOMKEY,
/// SCAN (cursor order), DEBUG, and relative expiries short enough to elapse during a stream. Nor does it
/// give SET an EXAT/PXAT in the past: Redis 7.0 then stores a key that is already expired, which DBSIZE
/// counts until lazy access or the (randomly sampling) active expire cycle removes it. GETEX and EXPIREAT
/// with past times delete the key at once, so they do get past times.
mod nondeterminism {
    use crate::common::split_aggregate;

    /// Follows MULTI ... EXEC in a stream (by Redis's replies), so that EXEC's array is compared element by
    /// element with each queued command's own rule.
    #[derive(Debug, Default)]
    pub struct Transaction {
        queued: Option<Vec<Compare>>,
    }

    impl Transaction {
        /// The rule for `argv`, whose reply from Redis was `redis_reply`; updates the transaction state.
        pub fn rule(&mut self, argv: &[Vec<u8>], redis_reply: &[u8]) -> Compare {
            let name = argv[0].to_ascii_lowercase();
            match (&mut self.queued, name.as_slice()) {
                (None, b"multi") if redis_reply == b"+OK\r\n" => self.queued = Some(Vec::new()),
                (Some(queued), _) if redis_reply == b"+QUEUED\r\n" => queued.push(rule(argv)),
                (Some(_), b"exec") => return Compare::Each(self.queued.take().unwrap_or_default()),
                (Some(_), b"discard") => self.queued = None,
                _ => {}
            }
            rule(argv)
        }
    }

    /// How two replies to one command are compared.
    #[derive(Debug, PartialEq, Eq)]
    pub enum Compare {
        /// EXEC's array: each element by the rule of the command it answers.
        Each(Vec<Compare>),
        Exact,
        /// An array whose order is the hash table's: compared as a sorted list of elements.
        Unordered,
        /// A non-negative integer that depends on the clock (remaining or absolute expiry, idle time):
        /// equal within this tolerance; negative codes (-1 no expiry, -2 no key) must match exactly.
        NearInteger(i64),
        /// An array of field/value pairs in hash order (HGETALL): compared as a sorted list of pairs.
        UnorderedPairs,
        /// SSCAN from cursor 0: when both servers finish in one call (cursor 0) the members compared in any
        /// order; a partial step only by its header, since each server's cursor walks its own table.
        ScanMembers,
        /// A random pick (HRANDFIELD): errors and nulls exactly, an aggregate by its header (its length), any
        /// other reply by its type byte.
        SameShape,
        /// A DUMP payload: exact, except a set or hash in a hashtable (RDB types 2 and 4), whose members
        /// come in each server's own table order: same type byte and same length.
        Dump,
        /// A collection scan from cursor 0 (HSCAN): errors exactly; when both replies' cursors are 0 (the
        /// whole collection in one call) the pairs compared unordered; otherwise only the shape, since each
        /// server's cursors are its own.
        Scan,
        /// SORT: exact, except that with BY (whose ties, and constant patterns, keep a set's or sorted set's
        /// hash order) the elements compare unordered, and that Redis's numeric check reads a stale `errno`
        /// (an earlier failed strtod anywhere in the server leaves ERANGE), so its conversion error may
        /// stand against a sorted answer. With BY and LIMIT the window over hash-ordered ties differs, so only
        /// the shape is compared.
        Sort {
            by: bool,
            limit: bool,
        },
    }

    pub fn rule(argv: &[Vec<u8>]) -> Compare {
        let name = argv[0].to_ascii_lowercase();
        let subcommand = argv.get(1).map(|arg| arg.to_ascii_lowercase());
        match (name.as_slice(), subcommand.as_deref()) {
            (b"keys" | b"hkeys" | b"hvals", _) => Compare::Unordered,
            (b"hgetall", _) => Compare::UnorderedPairs,
            (b"hrandfield", _) => Compare::SameShape,
            // Sets reply in hash order (an intset's sorted order survives a sort). SPOP is drawn only with counts of
            // 0, above any set's size, or invalid (see `mutation_safe`), so its reply is the whole set.
            (b"smembers" | b"sinter" | b"sunion" | b"sdiff" | b"spop", _) => Compare::Unordered,
            (b"srandmember", _) => Compare::SameShape,
            (b"sscan", _) if argv.get(2).is_some_and(|cursor| cursor == b"0") => Compare::ScanMembers,
            (b"sscan", _) => Compare::SameShape,
            // Only a scan from the start covers the same ground in both servers; a later cursor means
            // something different to each.
            (b"hscan", _) if argv.get(2).is_some_and(|cursor| cursor == b"0") => Compare::Scan,
            (b"hscan", _) => Compare::SameShape,
            (b"dump", _) => Compare::Dump,
            // A count above the set's size (the generator's 1000 is above any set it builds) is the whole
            // set, highest score first in both: compared exactly. Smaller counts draw at random.
            (b"zrandmember", _) if argv.get(2).is_some_and(|count| count == b"1000") => Compare::Exact,
            (b"zrandmember", _) => Compare::SameShape,
            (b"sort" | b"sort_ro", _) => {
                // Keywords end at a NUL, as Redis's strcasecmp reads them.
                let has = |word: &[u8]| {
                    argv.iter().any(|arg| arg.split(|&c| c == 0).next().is_some_and(|a| a.eq_ignore_ascii_case(word)))
                };
                Compare::Sort { by: has(b"by"), limit: has(b"limit") }
            }
            (b"zscan", _) if argv.get(2).is_some_and(|cursor| cursor == b"0") => Compare::Scan,
            (b"zscan", _) => Compare::SameShape,
            (b"ttl" | b"expiretime", _) => Compare::NearInteger(2),
            (b"pttl" | b"pexpiretime", _) => Compare::NearInteger(2000),
            (b"object", Some(b"idletime")) => Compare::NearInteger(2),
            _ => Compare::Exact,
        }
    }

    /// True when the two replies are equivalent under `compare`.
    pub fn replies_match(compare: &Compare, subject: &[u8], redis: &[u8]) -> bool {
        match compare {
            Compare::Each(_) if subject == redis => true,
            Compare::Each(rules) => match (split_aggregate(subject), split_aggregate(redis)) {
                (Some((subject_header, subject_items)), Some((redis_header, redis_items))) => {
                    subject_header == redis_header
                        && rules.len() == redis_items.len()
                        && rules
                            .iter()
                            .zip(subject_items.iter().zip(&redis_items))
                            .all(|(rule, (a, b))| replies_match(rule, a, b))
                }
                _ => subject == redis,
            },
            Compare::Exact => subject == redis,
            Compare::Unordered => sorted(subject) == sorted(redis),
            Compare::NearInteger(tolerance) => match (integer(subject), integer(redis)) {
                (Some(a), Some(b)) if a >= 0 && b >= 0 => a.abs_diff(b) <= tolerance.unsigned_abs(),
                _ => subject == redis,
            },
            Compare::UnorderedPairs => sorted_pairs(subject) == sorted_pairs(redis),
            Compare::ScanMembers => match (split_aggregate(subject), split_aggregate(redis)) {
                (Some((our_header, ours)), Some((their_header, theirs))) if ours.len() == 2 && theirs.len() == 2 => {
                    let complete = ours[0] == b"$1\r\n0\r\n" && theirs[0] == ours[0];
                    our_header == their_header && (!complete || sorted(ours[1]) == sorted(theirs[1]))
                }
                _ => subject == redis,
            },
            Compare::SameShape => same_shape(subject, redis),
            Compare::Dump => {
                let table = |reply: &[u8]| {
                    let body = reply.iter().position(|&b| b == b'\n').map(|at| &reply[at + 1..]);
                    body.is_some_and(|body| matches!(body.first(), Some(2 | 4)))
                };
                subject == redis
                    || (table(subject) && table(redis) && subject.len() == redis.len() && subject[..5] == redis[..5])
            }
            Compare::Sort { by, limit } => {
                subject == redis
                    || redis == b"-ERR One or more scores can't be converted into double\r\n"
                    || (*by && !*limit && sorted(subject) == sorted(redis))
                    || (*by && *limit && same_shape(subject, redis))
                    // ALPHA compares C strings, so members that differ only after a NUL tie, in hash order.
                    || (subject.contains(&0) && sorted(subject) == sorted(redis))
            }
            Compare::Scan => match (split_aggregate(subject), split_aggregate(redis)) {
                (Some((_, ours)), Some((_, theirs))) if ours.len() == 2 && theirs.len() == 2 => {
                    let done = |reply: &[&[u8]]| reply[0] == b"$1\r\n0\r\n";
                    !(done(&ours) && done(&theirs)) || sorted_pairs(ours[1]) == sorted_pairs(theirs[1])
                }
                _ => subject == redis,
            },
        }
    }

    fn sorted_pairs(reply: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
        let (header, children) = split_aggregate(reply)?;
        let mut pairs: Vec<Vec<u8>> = children.chunks(2).map(|pair| pair.concat()).collect();
        pairs.sort();
        Some((header.to_vec(), pairs))
    }

    fn same_shape(subject: &[u8], redis: &[u8]) -> bool {
        let is_null = |reply: &[u8]| matches!(reply, b"$-1\r\n" | b"*-1\r\n" | b"_\r\n");
        let header = |reply: &[u8]| split_aggregate(reply).map(|(header, _)| header.to_vec());
        if subject.starts_with(b"-") || redis.starts_with(b"-") || is_null(subject) || is_null(redis) {
            return subject == redis;
        }
        match (header(subject), header(redis)) {
            (None, None) => subject.first() == redis.first(),
            (ours, theirs) => ours == theirs,
        }
    }

    /// Whether a template's commands may get shape noise. SPOP's may not: dropping its count leaves `SPOP key`,
    /// which pops a random member and leaves the two keyspaces different for the rest of the stream. Nor may
    /// the (un)subscribe commands': each extra channel is one more reply frame for one request (and more
    /// subscriptions make an unsubscribe-all answer in hash order), nor SLOWLOG's and LATENCY's, which could
    /// become the forms that print timings, nor CLIENT TRACKING's, which could become one that turns it on.
    pub fn mutation_safe(template: &str) -> bool {
        template != "spop"
            && !super::pubsub_templates::ONE_FRAME_PER_ARGUMENT.contains(&template)
            && !super::observe_templates::NOT_MUTATED.contains(&template)
            && !super::tracking_templates::NOT_MUTATED.contains(&template)
    }

    /// HELLO's reply carries the connection's client id, which depends on how many clients came before.
    pub fn hello_masked(reply: &[u8]) -> Vec<u8> {
        let Some((header, mut children)) = split_aggregate(reply) else {
            return reply.to_vec();
        };
        for pair in children.chunks_mut(2) {
            if let [key, value] = pair
                && key.ends_with(b"\r\nid\r\n")
            {
                *value = &b":<id>\r\n"[..];
            }
        }
        [header].into_iter().chain(children).flatten().copied().collect()
    }

    fn sorted(reply: &[u8]) -> Vec<Vec<u8>> {
        match split_aggregate(reply) {
            Some((header, children)) => {
                let mut elements: Vec<Vec<u8>> = children.iter().map(|child| child.to_vec()).collect();
                elements.sort();
                elements.insert(0, header.to_vec());
                elements
            }
            None => vec![reply.to_vec()],
        }
    }

    fn integer(reply: &[u8]) -> Option<i64> {
        std::str::from_utf8(reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?).ok()?.parse().ok()
    }
}

/// Which protocol a pass speaks: RESP3 streams start with `HELLO 3` on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Resp2,
    Resp3,
}

/// The run's parameters, read once from the environment.
struct Plan {
    seeds: Vec<u64>,
    commands_per_seed: usize,
    templates: Vec<&'static Template>,
}

impl Plan {
    fn from_env() -> Plan {
        let seeds = match std::env::var("DIFFTEST_SEED") {
            Ok(list) => list.split(',').map(|seed| seed.trim().parse().expect("DIFFTEST_SEED: integers")).collect(),
            Err(_) => SEEDS_DEFAULT.to_vec(),
        };
        let commands_per_seed = std::env::var("DIFFTEST_COMMANDS")
            .map(|count| count.trim().parse().expect("DIFFTEST_COMMANDS: an integer"))
            .unwrap_or(COMMANDS_PER_SEED_DEFAULT);
        let only = std::env::var("DIFFTEST_ONLY").ok();
        let names: Vec<String> = match &only {
            Some(list) => {
                list.split(',').map(|name| name.trim().to_ascii_lowercase()).filter(|name| !name.is_empty()).collect()
            }
            None => default_names(),
        };
        Plan { seeds, commands_per_seed, templates: templates_named(&names) }
    }
}

/// The family files' templates.
const FAMILY_TEMPLATES: &[&[Template]] = &[
    bitmap_templates::TEMPLATES,
    hash_templates::TEMPLATES,
    hll_templates::TEMPLATES,
    list_templates::TEMPLATES,
    observe_templates::TEMPLATES,
    persist_templates::TEMPLATES,
    pubsub_templates::TEMPLATES,
    scripting_templates::TEMPLATES,
    scripting_templates::FUNCTION_TEMPLATES,
    set_templates::TEMPLATES,
    tx_templates::TEMPLATES,
    zset_templates::TEMPLATES,
    geo_templates::TEMPLATES,
    sort_templates::TEMPLATES,
    stream_templates::TEMPLATES,
    tracking_templates::TEMPLATES,
];

/// The family files' templates, then this file's.
fn all_templates() -> impl Iterator<Item = &'static Template> {
    FAMILY_TEMPLATES.iter().copied().chain([TEMPLATES]).flatten()
}

/// [`DEFAULT_COMMANDS`] plus every family template: a family's commands join the default run as it lands.
fn default_names() -> Vec<String> {
    let family = FAMILY_TEMPLATES.iter().copied().flatten();
    DEFAULT_COMMANDS.iter().copied().chain(family.map(|template| template.name)).map(str::to_string).collect()
}

fn templates_named(names: &[String]) -> Vec<&'static Template> {
    let templates: Vec<&'static Template> = names
        .iter()
        .map(|name| {
            all_templates().find(|template| template.name == name).unwrap_or_else(|| {
                let known: Vec<&str> = all_templates().map(|template| template.name).collect();
                panic!("no difftest template named {name:?}; known: {}", known.join(","))
            })
        })
        .collect();
    assert!(!templates.is_empty(), "no commands selected");
    templates
}

/// The command stream of one seed: deterministic for a given seed and template list.
fn stream(seed: u64, len: usize, templates: &[&'static Template]) -> Vec<Vec<Vec<u8>>> {
    let mut generator = Gen { rng: Rng::new(seed) };
    let weight_total: usize = templates.iter().map(|template| template.weight).sum();
    (0..len)
        .map(|_| {
            let mut ticket = generator.rng.below(weight_total);
            let template = templates
                .iter()
                .find(|template| {
                    let hit = ticket < template.weight;
                    ticket = ticket.saturating_sub(template.weight);
                    hit
                })
                .expect("ticket below the weight total");
            let argv = (template.build)(&mut generator).0;
            if nondeterminism::mutation_safe(template.name) { generator.mutate(argv) } else { argv }
        })
        .collect()
}

/// Runs every seed's stream on both servers and panics with all mismatch reports.
fn run_pass(protocol: Protocol) {
    let plan = Plan::from_env();
    let mut reports = Vec::new();
    let mut subject_name = "";
    for &seed in &plan.seeds {
        // A fresh pair per stream: no state leaks between streams, and a subject that crashes fails only
        // the stream that crashed it.
        let Some(redis) = require_redis() else { return };
        let mut subject = TestServer::subject(&[]);
        subject_name = subject.name();
        let commands = stream(seed, plan.commands_per_seed, &plan.templates);
        match run_stream(protocol, seed, &commands, &subject, &redis) {
            Ok(()) => {}
            Err(report) => reports.push(report + &exit_report(&mut subject)),
        }
    }
    let streams_len = plan.seeds.len();
    let matched_len = streams_len - reports.len();
    let commands_len = plan.commands_per_seed;
    println!(
        "difftest {protocol:?}: {matched_len} of {streams_len} streams of {commands_len} commands matched ({subject_name} vs redis)"
    );
    assert!(
        reports.is_empty(),
        "{} of {} streams diverged:\n\n{}",
        reports.len(),
        plan.seeds.len(),
        reports.join("\n\n")
    );
}

/// When the subject died during a stream, its exit status and last log lines (a panic message lands there).
fn exit_report(subject: &mut TestServer) -> String {
    let Some(status) = subject.exit_status() else { return String::new() };
    let log = subject.log();
    let mut tail: Vec<&str> = log.lines().rev().take(LOG_TAIL_LEN).collect();
    tail.reverse();
    format!("\n  {} exited ({status}); last log lines:\n    {}", subject.name(), tail.join("\n    "))
}

/// One stream on fresh connections; `Err` holds the report of its first mismatch.
fn run_stream(
    protocol: Protocol,
    seed: u64,
    commands: &[Vec<Vec<u8>>],
    subject: &TestServer,
    redis: &TestServer,
) -> Result<(), String> {
    let mut conns = open_stream(protocol, subject, redis).map_err(|err| format!("seed={seed}: {err}"))?;
    let mut recent: VecDeque<String> = VecDeque::new();
    let mut transaction = nondeterminism::Transaction::default();
    for (index, argv) in commands.iter().enumerate() {
        let replies = both(&mut conns, argv);
        let compare = transaction.rule(argv, replies[1].as_deref().unwrap_or_default());
        if let Err(detail) = check(&replies, &compare) {
            let header = format!(
                "mismatch ({protocol:?}, subject {}) seed={seed} command #{index} of {}",
                subject.name(),
                commands.len()
            );
            let context: Vec<&str> = recent.iter().map(String::as_str).collect();
            return Err(format!(
                "{header}\n  command: {}\n{detail}\n  before it:\n    {}\n  reproduce: {}",
                escape_argv(argv),
                context.join("\n    "),
                reproduce_line(protocol, seed, index + 1),
            ));
        }
        if recent.len() == REPORT_CONTEXT_LEN {
            recent.pop_front();
        }
        let reply = escape(replies[1].as_deref().unwrap_or_default());
        recent.push_back(truncated(format!("#{index} {} -> {reply}", escape_argv(argv))));
    }
    Ok(())
}

/// New connections to both servers, switched to `protocol` (and the HELLO replies compared).
fn open_stream(protocol: Protocol, subject: &TestServer, redis: &TestServer) -> Result<[RespConn; 2], String> {
    let connect = |server: &TestServer| {
        RespConn::try_connect(server.port).map_err(|err| format!("cannot connect to {}: {err}", server.name()))
    };
    let mut conns = [connect(subject)?, connect(redis)?];
    if protocol == Protocol::Resp3 {
        let replies = both(&mut conns, &[b"HELLO".to_vec(), b"3".to_vec()]);
        let masked = replies.map(|reply| reply.map(|reply| nondeterminism::hello_masked(&reply)));
        check(&masked, &nondeterminism::Compare::Exact).map_err(|detail| format!("HELLO 3 differs:\n{detail}"))?;
    }
    Ok(conns)
}

/// The command line that replays a stream up to and including its failing command.
fn reproduce_line(protocol: Protocol, seed: u64, commands_len: usize) -> String {
    let only = std::env::var("DIFFTEST_ONLY").map(|only| format!("DIFFTEST_ONLY={only} ")).unwrap_or_default();
    let test = match protocol {
        Protocol::Resp2 => "resp2_streams_match_redis",
        Protocol::Resp3 => "resp3_streams_match_redis",
    };
    format!("{only}DIFFTEST_SEED={seed} DIFFTEST_COMMANDS={commands_len} cargo test --test difftest {test}")
}

/// Context lines stay readable when a command carries a long value.
fn truncated(mut line: String) -> String {
    const LINE_LEN_MAX: usize = 200;
    if line.len() > LINE_LEN_MAX {
        let cut = (0..=LINE_LEN_MAX).rev().find(|&cut| line.is_char_boundary(cut)).unwrap_or(0);
        line.truncate(cut);
        line.push_str(" ...");
    }
    line
}

/// Sends `argv` to both servers, subject first, and returns both results.
fn both(conns: &mut [RespConn; 2], argv: &[Vec<u8>]) -> [Result<Vec<u8>, String>; 2] {
    [0, 1].map(|side| conns[side].try_cmd(argv).map_err(|err| err.to_string()))
}

fn check(replies: &[Result<Vec<u8>, String>; 2], compare: &nondeterminism::Compare) -> Result<(), String> {
    match replies {
        [Ok(subject), Ok(redis)] if nondeterminism::replies_match(compare, subject, redis) => Ok(()),
        [subject, redis] => {
            let show = |reply: &Result<Vec<u8>, String>| match reply {
                Ok(bytes) => escape(bytes),
                Err(err) => format!("<no reply: {err}>"),
            };
            Err(format!("  subject: {}\n  redis:   {}", show(subject), show(redis)))
        }
    }
}

#[test]
fn resp2_streams_match_redis() {
    run_pass(Protocol::Resp2);
}

#[test]
fn resp3_streams_match_redis() {
    run_pass(Protocol::Resp3);
}

/// Checks of the harness itself: the reply framer, the generator and the normalisers.
mod harness {
    use super::*;
    use crate::common::{reply_len, split_aggregate};
    use nondeterminism::{Compare, replies_match};

    #[test]
    fn framer_finds_exactly_one_reply_at_every_split() {
        let replies: &[&[u8]] = &[
            b"+OK\r\n",
            b"$-1\r\n",
            b"$5\r\nab\r\nc\r\n",
            b"*-1\r\n",
            b"*0\r\n",
            b"*2\r\n$1\r\na\r\n*1\r\n:5\r\n",
            b"%1\r\n+a\r\n~2\r\n,1.5\r\n_\r\n",
            b"|1\r\n+ttl\r\n:3\r\n#t\r\n",
            b">2\r\n=7\r\ntxt:abc\r\n(12345678901234567890\r\n",
            b"!5\r\nERR x\r\n",
        ];
        for reply in replies {
            let mut stream = reply.to_vec();
            stream.extend_from_slice(b"+NEXT\r\n");
            assert_eq!(reply_len(&stream), Ok(Some(reply.len())), "{}", escape(reply));
            for cut in 0..reply.len() {
                assert_eq!(reply_len(&reply[..cut]), Ok(None), "{} cut at {cut}", escape(reply));
            }
        }
    }

    #[test]
    fn framer_rejects_garbage_and_deep_nesting() {
        assert!(reply_len(b"?\r\n").is_err());
        assert!(reply_len(b"$3\r\nabcde\r\n").is_err());
        assert!(reply_len(b"$-2\r\n").is_err());
        assert!(reply_len(b"$999999999999\r\n").is_err());
        assert!(reply_len(&b"*1\r\n".repeat(100)).is_err());
    }

    #[test]
    fn split_aggregate_returns_children() {
        let (header, children) = split_aggregate(b"*2\r\n$1\r\nb\r\n*1\r\n:1\r\n").expect("an array");
        assert_eq!(header, b"*2\r\n");
        assert_eq!(children, vec![&b"$1\r\nb\r\n"[..], b"*1\r\n:1\r\n"]);
        assert!(split_aggregate(b"$1\r\nb\r\n").is_none());
        assert!(split_aggregate(b"*2\r\n:1\r\n").is_none());
    }

    #[test]
    fn rng_is_reproducible_and_in_range() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        let mut rng = Rng::new(7);
        assert!((0..1000).all(|_| rng.below(3) < 3 && (-2..=2).contains(&rng.range(-2, 2))));
    }

    #[test]
    fn streams_are_deterministic_and_cover_every_template() {
        let templates = templates_named(&DEFAULT_COMMANDS.iter().map(|name| name.to_string()).collect::<Vec<_>>());
        let commands = stream(3, 3000, &templates);
        assert_eq!(commands, stream(3, 3000, &templates));
        for template in &templates {
            let name = template.name.as_bytes();
            let seen = template.name == "unknown" || commands.iter().any(|argv| argv[0].eq_ignore_ascii_case(name));
            assert!(seen, "{} never generated", template.name);
        }
    }

    #[test]
    fn normalisers_accept_only_legitimate_differences() {
        let keys = nondeterminism::rule(&[b"keys".to_vec(), b"*".to_vec()]);
        assert_eq!(keys, Compare::Unordered);
        assert!(replies_match(&keys, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"));
        assert!(!replies_match(&keys, b"*2\r\n$1\r\na\r\n$1\r\na\r\n", b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"));
        let ttl = nondeterminism::rule(&[b"TtL".to_vec(), b"k".to_vec()]);
        assert!(replies_match(&ttl, b":100\r\n", b":99\r\n"));
        assert!(!replies_match(&ttl, b":100\r\n", b":90\r\n"));
        assert!(!replies_match(&ttl, b":-1\r\n", b":-2\r\n"));
        assert!(!replies_match(&ttl, b":1\r\n", b":-1\r\n"));
        let hello = b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$2\r\nid\r\n:17\r\n";
        assert_eq!(nondeterminism::hello_masked(hello), b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$2\r\nid\r\n:<id>\r\n");
    }
}
