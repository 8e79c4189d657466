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
//! even after an `include` (Redis forgets it is loading a file after an include); `http-*` (ours) are
//! extra directives.

mod load;
mod special;
mod syntax;
mod table;
mod unsupported;

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Parser;

pub use syntax::{memory_to_u64, notify};

/// Bits of `shutdown-on-sigint` / `shutdown-on-sigterm`, as Redis's SHUTDOWN_* flags.
pub mod shutdown {
    pub const SAVE: u8 = 1;
    pub const NOSAVE: u8 = 2;
    pub const NOW: u8 = 4;
    pub const FORCE: u8 = 8;
}

use crate::util::glob::glob_match;
use table::{Change, TABLE};

/// The Redis release whose behaviour we reproduce; also shown in INFO and fatal config errors.
pub const REDIS_VERSION: &str = "7.0.15";

/// Log verbosity, lowest first, as Redis's `loglevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    Debug,
    Verbose,
    #[default]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allow {
    #[default]
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

/// One client class's output buffer limits (`client-output-buffer-limit <class> <hard> <soft> <seconds>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputBufferLimit {
    /// Disconnect at once above this many bytes; 0 = no limit.
    pub hard_bytes: u64,
    /// Disconnect when above this many bytes for `soft_seconds`; 0 = no limit.
    pub soft_bytes: u64,
    pub soft_seconds: u32,
}

/// The output buffer limits of the three client classes Redis configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputBufferLimits {
    pub normal: OutputBufferLimit,
    /// Redis's `slave` class (also spelled `replica`).
    pub replica: OutputBufferLimit,
    pub pubsub: OutputBufferLimit,
}

/// Declares [`Config`] and `Config::zeroed`, every field at its type's `Default`, so that the list of fields
/// is written once.
macro_rules! config_struct {
    ($(#[$outer:meta])* pub struct Config { $($(#[$doc:meta])* pub $field:ident: $type:ty,)* }) => {
        $(#[$outer])*
        pub struct Config { $($(#[$doc])* pub $field: $type,)* }

        impl Config {
            fn zeroed() -> Self {
                Config { $($field: Default::default(),)* }
            }
        }
    };
}

config_struct! {
/// Every setting the server reads. Defaults are Redis 7.0's unless noted. Fields are grouped as redis.conf
/// groups its directives; a directive whose feature ferrokv lacks is still kept here, so that CONFIG GET
/// reports it and the server can warn that it is not acted on (see `Config::not_acted_on`).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    // Network.
    /// TCP port; 0 = do not listen on TCP.
    pub port: u16,
    /// Addresses to listen on. Redis's default is `* -::*`; ours is loopback only.
    pub bind: Vec<String>,
    /// Source address for outgoing connections (replication); empty = any.
    pub bind_source_addr: String,
    pub protected_mode: bool,
    /// listen(2) backlog of the TCP listeners.
    pub tcp_backlog: u32,
    /// Unix socket path to listen on; empty = none.
    pub unixsocket: String,
    /// Permissions of the Unix socket file (octal in the config); 0 = leave umask's.
    pub unixsocketperm: u32,
    /// Idle client timeout in seconds; 0 = never.
    pub timeout_s: u64,
    /// TCP keepalive interval in seconds; 0 = off.
    pub tcp_keepalive_s: u64,
    /// SO_MARK of the listening sockets; 0 = none.
    pub socket_mark_id: u32,

    // TLS (accepted; ferrokv has no TLS).
    pub tls_port: u16,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    pub tls_key_file_pass: String,
    pub tls_client_cert_file: String,
    pub tls_client_key_file: String,
    pub tls_client_key_file_pass: String,
    pub tls_dh_params_file: String,
    pub tls_ca_cert_file: String,
    pub tls_ca_cert_dir: String,
    /// `no`, `yes` or `optional`.
    pub tls_auth_clients: String,
    pub tls_replication: bool,
    pub tls_cluster: bool,
    pub tls_protocols: String,
    pub tls_ciphers: String,
    pub tls_ciphersuites: String,
    pub tls_prefer_server_ciphers: bool,
    pub tls_session_caching: bool,
    pub tls_session_cache_size: u32,
    pub tls_session_cache_timeout_s: u32,

    // General.
    /// Fork into the background at startup, as Redis's daemonize().
    pub daemonize: bool,
    /// `upstart`, `systemd`, `auto` or `no`.
    pub supervised: String,
    /// PID file path; empty = none (Redis then writes /var/run/redis.pid only when daemonized).
    pub pidfile: String,
    pub loglevel: LogLevel,
    /// Log file path; empty = stdout.
    pub logfile: String,
    pub syslog_enabled: bool,
    pub syslog_ident: String,
    /// `user` or `local0` .. `local7`.
    pub syslog_facility: String,
    pub crash_log_enabled: bool,
    pub crash_memcheck_enabled: bool,
    /// Number of logical databases, at least 1.
    pub databases: usize,
    pub always_show_logo: bool,
    pub set_proc_title: bool,
    pub proc_title_template: String,
    /// Absolute path of the config file given on the command line, for INFO's `config_file`.
    pub config_file: Option<PathBuf>,

    // Snapshotting.
    /// Snapshot points as (seconds, changes); empty = no automatic snapshots.
    pub save: Vec<(u64, u64)>,
    pub stop_writes_on_bgsave_error: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// `no`, `yes` or `clients`.
    pub sanitize_dump_payload: String,
    /// RDB file name (never a path).
    pub dbfilename: String,
    pub rdb_del_sync_files: bool,
    /// Working directory for RDB/AOF files, absolute.
    pub dir: String,
    pub rdb_save_incremental_fsync: bool,
    /// Hidden (tests): microseconds to sleep per key while saving.
    pub rdb_key_save_delay_us: i32,
    /// Hidden (tests): microseconds to sleep per key while loading.
    pub key_load_delay_us: i32,
    /// Hidden: bytes loaded between event-loop turns while loading.
    pub loading_process_events_interval_bytes: u32,

    // Replication.
    /// The master to replicate from, as (host, port); `None` = this is a master.
    pub replicaof: Option<(String, u16)>,
    pub masterauth: String,
    pub masteruser: String,
    pub replica_serve_stale_data: bool,
    pub replica_read_only: bool,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay_s: u32,
    pub repl_diskless_sync_max_replicas: u32,
    /// `disabled`, `on-empty-db` or `swapdb`.
    pub repl_diskless_load: String,
    pub repl_ping_replica_period_s: u32,
    pub repl_timeout_s: u32,
    pub repl_disable_tcp_nodelay: bool,
    /// Bytes.
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl_s: u64,
    pub replica_priority: u32,
    pub replica_announced: bool,
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag_s: u32,
    pub replica_announce_ip: String,
    pub replica_announce_port: u16,
    pub replica_ignore_maxmemory: bool,
    pub replica_lazy_flush: bool,
    pub replica_ignore_disk_write_errors: bool,
    /// `ignore`, `panic` or `panic-on-replicas`.
    pub propagation_error_behavior: String,

    // Keys tracking.
    pub tracking_table_max_keys: usize,

    // Security.
    /// Password of the default user; `None` = no AUTH needed.
    pub requirepass: Option<Vec<u8>>,
    pub acllog_max_len: usize,
    pub aclfile: String,
    /// `allchannels` or `resetchannels`.
    pub acl_pubsub_default: String,
    /// Who may CONFIG SET protected directives (`dir`, `dbfilename`).
    pub enable_protected_configs: Allow,
    /// Who may run DEBUG.
    pub enable_debug_command: Allow,
    /// Who may run MODULE.
    pub enable_module_command: Allow,

    // Clients and memory.
    pub maxclients: usize,
    /// Memory limit in bytes; 0 = none.
    pub maxmemory: u64,
    /// One of Redis's eviction policy names (`noeviction`, `allkeys-lru`, ...).
    pub maxmemory_policy: String,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    /// Memory all clients together may use: bytes, or when negative that many percent of `maxmemory`;
    /// 0 = no limit.
    pub maxmemory_clients: i64,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    /// Worker threads for I/O, the main thread included; 1 = none.
    pub io_threads: u32,
    pub io_threads_do_reads: bool,
    /// `no`, `yes`, `relative` (the same as `yes`) or `absolute`.
    pub oom_score_adj: String,
    /// oom_score_adj of the master, of replicas and of background children.
    pub oom_score_adj_values: [i32; 3],
    pub disable_thp: bool,
    pub client_output_buffer_limit: OutputBufferLimits,
    /// Largest query buffer per client, in bytes.
    pub client_query_buffer_limit: u64,
    /// Largest bulk string a client may send, in bytes.
    pub proto_max_bulk_len: u64,

    // Append only mode.
    pub appendonly: bool,
    /// AOF base name (never a path).
    pub appendfilename: String,
    /// Directory of the AOF files inside `dir` (never a path).
    pub appenddirname: String,
    /// `always`, `everysec` or `no`.
    pub appendfsync: String,
    pub no_appendfsync_on_rewrite: bool,
    pub auto_aof_rewrite_percentage: u32,
    /// Bytes.
    pub auto_aof_rewrite_min_size: u64,
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    pub aof_timestamp_enabled: bool,
    pub aof_rewrite_incremental_fsync: bool,
    pub aof_disable_auto_gc: bool,

    // Shutdown.
    /// Seconds to wait for replicas before shutting down.
    pub shutdown_timeout_s: u32,
    /// What SIGINT does: bits of [`shutdown`]; 0 = Redis's default (save if save points are set).
    pub shutdown_on_sigint: u8,
    /// What SIGTERM does, as `shutdown_on_sigint`.
    pub shutdown_on_sigterm: u8,

    // Scripting and functions.
    /// Milliseconds a script or function may run before others get BUSY (`lua-time-limit`).
    pub busy_reply_threshold_ms: u64,

    // Cluster.
    pub cluster_enabled: bool,
    pub cluster_config_file: String,
    pub cluster_node_timeout_ms: u64,
    pub cluster_port: u16,
    pub cluster_replica_validity_factor: u32,
    pub cluster_migration_barrier: u32,
    pub cluster_allow_replica_migration: bool,
    pub cluster_require_full_coverage: bool,
    pub cluster_replica_no_failover: bool,
    pub cluster_allow_reads_when_down: bool,
    pub cluster_allow_pubsubshard_when_down: bool,
    /// Bytes; 0 = no limit.
    pub cluster_link_sendbuf_limit: u64,
    pub cluster_announce_hostname: String,
    /// `ip`, `hostname` or `unknown-endpoint`.
    pub cluster_preferred_endpoint_type: String,
    pub cluster_announce_ip: String,
    pub cluster_announce_port: u16,
    pub cluster_announce_tls_port: u16,
    pub cluster_announce_bus_port: u16,

    // Slow log, latency monitor and latency tracking.
    /// Commands slower than this many microseconds are logged; -1 = never, 0 = all.
    pub slowlog_log_slower_than_us: i64,
    pub slowlog_max_len: usize,
    /// Milliseconds; 0 = the latency monitor is off.
    pub latency_monitor_threshold_ms: u64,
    pub latency_tracking: bool,
    /// Percentiles INFO latencystats reports.
    pub latency_tracking_info_percentiles: Vec<f64>,

    // Event notification.
    /// Bits from [`notify`].
    pub notify_keyspace_events: u32,

    // Advanced: encodings.
    pub hash_max_listpack_entries: usize,
    /// Bytes.
    pub hash_max_listpack_value: usize,
    /// Positive: entries per list node; negative -1..-5: node size 4kb..64kb.
    pub list_max_listpack_size: i64,
    /// Uncompressed nodes at each end of a list; 0 = no compression.
    pub list_compress_depth: u32,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    /// Bytes.
    pub zset_max_listpack_value: usize,
    /// Bytes.
    pub hll_sparse_max_bytes: usize,
    /// Bytes; 0 = no limit.
    pub stream_node_max_bytes: usize,
    /// 0 = no limit.
    pub stream_node_max_entries: u64,

    // Advanced: background work.
    pub activerehashing: bool,
    /// Server cron frequency, already clamped to 1..=500 as Redis does.
    pub hz: u32,
    pub dynamic_hz: bool,
    pub active_expire_effort: u32,
    pub lfu_log_factor: u32,
    /// Minutes.
    pub lfu_decay_time_min: u32,
    pub jemalloc_bg_thread: bool,
    /// Bytes.
    pub active_defrag_ignore_bytes: u64,
    /// Percent.
    pub active_defrag_threshold_lower: u32,
    /// Percent.
    pub active_defrag_threshold_upper: u32,
    /// Percent of CPU.
    pub active_defrag_cycle_min: u32,
    /// Percent of CPU.
    pub active_defrag_cycle_max: u32,
    pub active_defrag_max_scan_fields: u64,
    pub server_cpulist: String,
    pub bio_cpulist: String,
    pub aof_rewrite_cpulist: String,
    pub bgsave_cpulist: String,
    /// Warnings Redis should not log at startup (`ARM64-COW-BUG`).
    pub ignore_warnings: String,
    /// Hidden: the software watchdog's period in milliseconds; 0 = off.
    pub watchdog_period_ms: u32,
    /// Hidden: exit() instead of abort() on a panic.
    pub use_exit_on_panic: bool,

    // Ours.
    /// The HTTP gateway's port; 0 = off.
    pub http_port: u16,
    /// Largest HTTP request body, in bytes.
    pub http_max_body: u64,
    /// Seconds an HTTP connection may take to send one request, or stay idle between requests; 0 = no
    /// limit.
    pub http_idle_timeout_s: u64,
    /// Web origins (`scheme://host[:port]`) whose pages may call the gateway (CORS); none by default.
    pub http_allow_origins: Vec<String>,
    /// Host names the gateway answers to besides `localhost` and the address a request came in on.
    pub http_allow_hosts: Vec<String>,
}
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
        config.check_cluster_replica()?;
        Ok(CliOutcome::Run(config))
    }

    /// CONFIG GET: each (name, value) whose name matches one of `patterns` (glob, any case), in table
    /// order per pattern, each name once. A pattern without `*?[` is looked up directly and answered with
    /// the caller's spelling (`CONFIG GET PORT` replies `PORT`), as Redis does; only such a lookup finds a
    /// hidden directive (`rdb-key-save-delay`).
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
            for (name, d) in table::entries().filter(|(_, d)| !d.hidden) {
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
        let dir = std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
        Config { dir, ..Config::zeroed() }
    }

    /// loadServerConfigFromString's sanity check after the last line: a cluster node takes no `replicaof`.
    fn check_cluster_replica(&self) -> Result<(), String> {
        if self.cluster_enabled && self.replicaof.is_some() {
            return Err(load::fatal(None, "replicaof directive not allowed in cluster mode"));
        }
        Ok(())
    }

    /// Redis opens the log file once after loading, so a bad path fails at startup, not at the first line.
    fn check_logfile(&self) -> Result<(), String> {
        if self.logfile.is_empty() {
            return Ok(());
        }
        let path = Path::new(&self.dir).join(&self.logfile);
        match std::fs::OpenOptions::new().append(true).create(true).open(path) {
            Ok(_) => Ok(()),
            Err(e) => {
                Err(load::fatal(None, &format!("Can't open the log file: {}", crate::util::strerror::strerror(&e))))
            }
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
