//! The server's configuration: redis-server's command line and config file at startup, then CONFIG GET
//! and CONFIG SET while running, with Redis 7.0's names, defaults, value syntax and error texts.
//!
//! API:
//! - [`Config::from_cli`] parses argv (without argv\[0\]) the way redis-server does:
//!   `[/path/redis.conf] [--name value ...] [-]`, `-v`/`--version`, `-h`/`--help`. It returns
//!   [`CliOutcome::Run`] with the config, [`CliOutcome::PrintAndExit`] with text for stdout (exit 0), or
//!   `Err` with the whole fatal message for stderr (exit 1), leading blank line included, as Redis prints it.
//! - [`Config::get`] answers CONFIG GET (several glob patterns, no duplicates), rendering each value as
//!   Redis does; [`Config::set`] / [`Config::set_as`] apply CONFIG SET pairs all or nothing.
//! - The public fields are the parsed values, in the units their names say.
//!
//! Design: one table of directives (`table.rs`: name, alias, default, bounds, mutability, parse and render
//! functions) serves the config file, argv, CONFIG GET, CONFIG SET and [`Config::default`]. argv is turned
//! into config lines appended after the file (`load.rs`), so both share one line parser and flags override
//! the file.
//!
//! Differences from Redis, on purpose: `bind` defaults to `127.0.0.1` (Redis: `* -::*`); `dir` is not
//! chdir()ed into here but kept as an absolute path, and the server should chdir there before opening
//! files; CONFIG SET only updates this struct, so applying a new `port`, `bind` or `maxclients` (and
//! reporting failure) is the server's job; within one load every `save` line after the first appends,
//! even after an `include` (Redis forgets it is loading a file after an include); `set-max-listpack-*`
//! (Redis 7.2) and `http-*` (ours) are extra directives.

mod load;
mod syntax;
mod table;

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Parser;

pub use syntax::{memory_to_u64, notify};

use crate::util::glob::glob_match;
use table::{Change, TABLE};

/// The Redis release whose behaviour we reproduce; also shown in INFO and fatal config errors.
pub const REDIS_VERSION: &str = "7.0.15";

/// Log verbosity, lowest first, as Redis's `loglevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl LogLevel {
    /// In the same order as [`LogLevel::NAMES`].
    pub const ALL: [LogLevel; 4] = [LogLevel::Debug, LogLevel::Verbose, LogLevel::Notice, LogLevel::Warning];
    pub const NAMES: &'static [&'static str] = &["debug", "verbose", "notice", "warning"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// Redis's protected-action setting (`enable-protected-configs`, `enable-debug-command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    No,
    Yes,
    /// Only for clients connected over loopback or a Unix socket.
    Local,
}

impl Allow {
    /// In the same order as [`Allow::NAMES`].
    pub const ALL: [Allow; 3] = [Allow::No, Allow::Yes, Allow::Local];
    pub const NAMES: &'static [&'static str] = &["no", "yes", "local"];

    /// Whether a client (local or not) may perform the protected action.
    pub fn allows(self, local_client: bool) -> bool {
        self == Allow::Yes || (self == Allow::Local && local_client)
    }
}

/// Every setting the server reads. Defaults are Redis 7.0's unless noted.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// TCP port; 0 = do not listen on TCP.
    pub port: u16,
    /// Addresses to listen on. Redis's default is `* -::*`; ours is loopback only.
    pub bind: Vec<String>,
    /// Number of logical databases, at least 1.
    pub databases: usize,
    /// Server cron frequency, already clamped to 1..=500 as Redis does.
    pub hz: u32,
    pub loglevel: LogLevel,
    /// Log file path; empty = stdout.
    pub logfile: String,
    pub maxclients: usize,
    /// Idle client timeout in seconds; 0 = never.
    pub timeout_s: u64,
    /// TCP keepalive interval in seconds; 0 = off.
    pub tcp_keepalive_s: u64,
    /// Largest bulk string a client may send, in bytes.
    pub proto_max_bulk_len: u64,
    /// Largest query buffer per client, in bytes.
    pub client_query_buffer_limit: u64,
    /// Snapshot points as (seconds, changes); empty = no automatic snapshots.
    pub save: Vec<(u64, u64)>,
    pub appendonly: bool,
    /// `always`, `everysec` or `no`.
    pub appendfsync: String,
    /// Working directory for RDB/AOF files, absolute.
    pub dir: String,
    /// RDB file name (never a path).
    pub dbfilename: String,
    /// Memory limit in bytes; 0 = none.
    pub maxmemory: u64,
    /// One of Redis's eviction policy names (`noeviction`, `allkeys-lru`, ...).
    pub maxmemory_policy: String,
    /// Password of the default user; `None` = no AUTH needed.
    pub requirepass: Option<Vec<u8>>,
    /// Absolute path of the config file given on the command line, for INFO's `config_file`.
    pub config_file: Option<PathBuf>,
    /// Accepted and reported; ferrokv does not fork into the background.
    pub daemonize: bool,
    pub protected_mode: bool,
    /// PID file path; empty = none.
    pub pidfile: String,
    /// AOF base name (never a path).
    pub appendfilename: String,
    /// Positive: entries per list node; negative -1..-5: node size 4kb..64kb.
    pub list_max_listpack_size: i64,
    pub hash_max_listpack_entries: usize,
    /// Bytes.
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    /// Bytes.
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    /// Bytes.
    pub zset_max_listpack_value: usize,
    /// Commands slower than this many microseconds are logged; -1 = never, 0 = all.
    pub slowlog_log_slower_than_us: i64,
    pub slowlog_max_len: usize,
    /// Bits from [`notify`].
    pub notify_keyspace_events: u32,
    pub lazyfree_lazy_user_flush: bool,
    /// Who may CONFIG SET protected directives (`dir`, `dbfilename`).
    pub enable_protected_configs: Allow,
    /// Who may run DEBUG.
    pub enable_debug_command: Allow,
    /// Ours: the HTTP gateway's port; 0 = off.
    pub http_port: u16,
    /// Ours: largest HTTP request body, in bytes.
    pub http_max_body: u64,
    /// Ours: seconds an HTTP connection may take to send one request, or stay idle between requests; 0 = no
    /// limit.
    pub http_idle_timeout_s: u64,
}

impl Default for Config {
    /// Redis's startup values, taken from the directive table.
    fn default() -> Self {
        let mut config = Config::blank();
        for d in TABLE {
            if let Some(value) = d.default {
                let args = table::split_value(d, value.as_bytes());
                if let Err(error) = table::apply(&mut config, d, &args, false) {
                    panic!("default of {} does not parse: {error}", d.name);
                }
            }
        }
        config
    }
}

/// What `redis-server` should do with its command line.
#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "built once at startup; boxing would only add noise")]
pub enum CliOutcome {
    Run(Config),
    /// Version or help text to print on stdout before exiting 0.
    PrintAndExit(String),
}

/// redis-server's flags. Redis honours `-v`/`--version`/`-h`/`--help` only as the first word, spelled
/// exactly; every other command line is collected verbatim for the config-line builder (see
/// [`Config::from_cli_with`] for how clap is kept from reading `-vh`, `--version=1` or `--` itself).
#[derive(Parser, Debug)]
#[command(disable_help_flag = true, disable_version_flag = true)]
struct Cli {
    #[arg(short = 'v', long = "version")]
    version: bool,
    #[arg(short = 'h', long = "help")]
    help: bool,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

impl Config {
    /// Parses redis-server's argv (without argv\[0\]): `[/path/redis.conf] [--name v1 v2 ...] [-]`.
    /// The file is read first, then stdin (for `-`), then the `--` options, so later settings win.
    pub fn from_cli(args: impl IntoIterator<Item = String>) -> Result<CliOutcome, String> {
        Self::from_cli_with(args, || {
            let mut text = Vec::new();
            std::io::stdin().read_to_end(&mut text).map(|_| text)
        })
    }

    /// [`Config::from_cli`] with stdin supplied by the caller (tests).
    fn from_cli_with(
        args: impl IntoIterator<Item = String>,
        read_stdin: impl FnOnce() -> std::io::Result<Vec<u8>>,
    ) -> Result<CliOutcome, String> {
        let words: Vec<String> = args.into_iter().collect();
        let flag = words.first().filter(|w| matches!(w.as_str(), "-v" | "--version" | "-h" | "--help"));
        // Redis stops at a leading flag and ignores the rest. Any other line goes to clap behind a "--", so
        // that every word, even "--" or "-vh", lands verbatim in `args` as Redis's argv loop would see it.
        let argv: Vec<&str> = match flag {
            Some(flag) => vec!["redis-server", flag],
            None => ["redis-server", "--"].into_iter().chain(words.iter().map(String::as_str)).collect(),
        };
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        if cli.version {
            return Ok(CliOutcome::PrintAndExit(version_text()));
        }
        if cli.help {
            return Ok(CliOutcome::PrintAndExit(USAGE.to_string()));
        }
        let sources = load::options_from_args(&cli.args);
        let mut config = Config::default();
        let mut text = Vec::new();
        if let Some(file) = &sources.config_file {
            let path = std::path::absolute(file).map_err(|e| load::unreadable(file, &e))?;
            text = std::fs::read(&path).map_err(|e| load::unreadable(&path.to_string_lossy(), &e))?;
            config.config_file = Some(path);
        }
        if sources.stdin {
            let stdin = read_stdin().map_err(|e| load::unreadable("-", &e))?;
            text.extend_from_slice(&stdin);
        }
        if let Some(options) = &sources.options {
            text.push(b'\n');
            text.extend_from_slice(options.as_bytes());
        }
        load::Loader::new(&mut config).load_text(&text)?;
        config.check_logfile()?;
        Ok(CliOutcome::Run(config))
    }

    /// CONFIG GET: each (name, value) whose name matches one of `patterns` (glob, any case), in table
    /// order per pattern, each name once. A pattern without `*?[` is looked up directly and answered with
    /// the caller's spelling (`CONFIG GET PORT` replies `PORT`), as Redis does.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(Cow<'static, str>, String)> {
        let mut found: Vec<(Cow<'static, str>, String)> = Vec::new();
        let listed = |found: &[(Cow<'static, str>, String)], name: &[u8]| {
            found.iter().any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        };
        for &pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                if let Some((_, d)) = table::lookup(pattern).filter(|_| !listed(&found, pattern)) {
                    found.push((String::from_utf8_lossy(pattern).into_owned().into(), table::render(self, d)));
                }
                continue;
            }
            for (name, d) in table::entries() {
                if !listed(&found, name.as_bytes()) && glob_match(pattern, name.as_bytes(), true) {
                    found.push((name.into(), table::render(self, d)));
                }
            }
        }
        found
    }

    /// CONFIG SET from a client that is not local; see [`Config::set_as`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        self.set_as(pairs, false)
    }

    /// CONFIG SET name value \[name value ...\]: all pairs or none. Errors are Redis's full texts
    /// without the leading `-`; the first problem in argument order is the one reported.
    /// `local_client` matters only when `enable-protected-configs` is `local`.
    pub fn set_as(&mut self, pairs: &[(&[u8], &[u8])], local_client: bool) -> Result<(), String> {
        let failed = |name: &[u8], why: &str| {
            let name = String::from_utf8_lossy(name);
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
        };
        let mut targets = Vec::with_capacity(pairs.len());
        for &(name, value) in pairs {
            let Some((entry, d)) = table::lookup(name) else {
                let name = String::from_utf8_lossy(name);
                return Err(format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'"));
            };
            match d.change {
                Change::Immutable => return Err(failed(name, "can't set immutable config")),
                Change::Protected if !self.enable_protected_configs.allows(local_client) => {
                    return Err(failed(name, "can't set protected config"));
                }
                _ => {}
            }
            // An alias is its own entry here, as in Redis: `hash-max-ziplist-entries` does not clash
            // with `hash-max-listpack-entries`.
            if targets.iter().any(|&(seen, _, _)| seen == entry) {
                return Err(failed(name, "duplicate parameter"));
            }
            targets.push((entry, d, value));
        }
        let mut next = self.clone();
        for (entry, d, value) in targets {
            // Redis names the entry here, not the caller's spelling.
            table::apply(&mut next, d, &table::split_value(d, value), false)
                .map_err(|why| failed(entry.as_bytes(), &why))?;
        }
        *self = next;
        Ok(())
    }

    /// Every field at its zero value, except `dir`, which starts as the working directory; `Default`
    /// then fills in the table's defaults.
    fn blank() -> Self {
        Config {
            port: 0,
            bind: Vec::new(),
            databases: 0,
            hz: 0,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            maxclients: 0,
            timeout_s: 0,
            tcp_keepalive_s: 0,
            proto_max_bulk_len: 0,
            client_query_buffer_limit: 0,
            save: Vec::new(),
            appendonly: false,
            appendfsync: String::new(),
            dir: std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default(),
            dbfilename: String::new(),
            maxmemory: 0,
            maxmemory_policy: String::new(),
            requirepass: None,
            config_file: None,
            daemonize: false,
            protected_mode: false,
            pidfile: String::new(),
            appendfilename: String::new(),
            list_max_listpack_size: 0,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            set_max_intset_entries: 0,
            set_max_listpack_entries: 0,
            set_max_listpack_value: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            slowlog_log_slower_than_us: 0,
            slowlog_max_len: 0,
            notify_keyspace_events: 0,
            lazyfree_lazy_user_flush: false,
            enable_protected_configs: Allow::No,
            enable_debug_command: Allow::No,
            http_port: 0,
            http_max_body: 0,
            http_idle_timeout_s: 0,
        }
    }

    /// Redis opens the log file once after loading, so a bad path fails at startup, not at the first line.
    fn check_logfile(&self) -> Result<(), String> {
        if self.logfile.is_empty() {
            return Ok(());
        }
        let path = Path::new(&self.dir).join(&self.logfile);
        match std::fs::OpenOptions::new().append(true).create(true).open(path) {
            Ok(_) => Ok(()),
            Err(e) => Err(load::fatal(None, &format!("Can't open the log file: {}", table::os_error_text(&e)))),
        }
    }
}

/// redis-server's `--version` line, with ferrokv's own version appended.
fn version_text() -> String {
    format!(
        "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=libc bits={} build=0 ferrokv={}",
        usize::BITS,
        env!("CARGO_PKG_VERSION")
    )
}

/// redis-server's usage text, less the modes ferrokv does not have (sentinel, memory test).
const USAGE: &str = "\
Usage: ./redis-server [/path/to/redis.conf] [options] [-]
       ./redis-server - (read config from stdin)
       ./redis-server -v or --version
       ./redis-server -h or --help

Examples:
       ./redis-server (run the server with default conf)
       echo 'maxmemory 128mb' | ./redis-server -
       ./redis-server /etc/redis/6379.conf
       ./redis-server --port 7777
       ./redis-server /etc/myredis.conf --loglevel verbose -
       ./redis-server /etc/myredis.conf --loglevel verbose

ferrokv also reads --http-port (default 7379, 0 = off), --http-max-body (default 16mb) and
--http-idle-timeout (seconds, default 30).
";

#[cfg(test)]
mod tests;
