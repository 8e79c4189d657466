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

use super::special::{self, LATENCY_PERCENTILES_DEFAULT, OUTPUT_BUFFER_LIMITS_DEFAULT};
use super::syntax::{
    keyspace_events_flags, keyspace_events_string, memory_to_u64, string_to_i64, strtoll_octal_exact, yes_no,
};
use super::{Allow, Config, LogLevel};
use crate::util::strerror::strerror;

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
    /// Left out of CONFIG GET pattern matches (Redis's HIDDEN_CONFIG: test hooks); an exact name still
    /// finds it.
    pub hidden: bool,
}

impl Directive {
    /// The same directive also answering to Redis's older `alias`.
    const fn with_alias(self, alias: &'static str) -> Self {
        Directive { alias: Some(alias), ..self }
    }

    const fn hidden(self) -> Self {
        Directive { hidden: true, ..self }
    }
}

/// How an integer directive's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// Strict decimal (string2ll).
    Count,
    /// Digits with an optional unit (`1kb`), as MEMORY_CONFIG.
    Memory,
    /// A memory value, or `N%` stored as `-N` (MEMORY_CONFIG | PERCENT_CONFIG).
    MemoryOrPercent,
    /// Octal, as OCTAL_CONFIG (`unixsocketperm 700`).
    Octal,
}

/// Stores a list directive's arguments; the flag is `repeated` (see [`Kind::List`]).
pub(super) type ListSetter = fn(&mut Config, &[&[u8]], bool) -> Result<(), String>;

/// How a directive's arguments are parsed and stored. `get` and `set` are the only code that touches the
/// directive's field.
#[derive(Debug)]
pub(super) enum Kind {
    /// `yes` or `no`, any case; `set` may still refuse a value (`activedefrag yes`).
    Bool { get: fn(&Config) -> bool, set: fn(&mut Config, bool) -> Result<(), String> },
    /// An integer in `min..=max`, written as `unit` says.
    Int { min: i128, max: i128, unit: Unit, get: fn(&Config) -> i128, set: fn(&mut Config, i128) },
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
const LLONG_MAX: i128 = i64::MAX as i128;
const MB: i128 = 1024 * 1024;
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
const SUPERVISED_NAMES: &[&str] = &["upstart", "systemd", "auto", "no"];
const SYSLOG_FACILITY_NAMES: &[&str] =
    &["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];
const REPL_DISKLESS_LOAD_NAMES: &[&str] = &["disabled", "on-empty-db", "swapdb"];
/// `yes` and `relative` are one value in Redis, shown as `yes`.
const OOM_SCORE_ADJ_NAMES: &[&str] = &["no", "yes", "relative", "absolute"];
const ACL_PUBSUB_DEFAULT_NAMES: &[&str] = &["allchannels", "resetchannels"];
const SANITIZE_DUMP_PAYLOAD_NAMES: &[&str] = &["no", "yes", "clients"];
const ENDPOINT_TYPE_NAMES: &[&str] = &["ip", "hostname", "unknown-endpoint"];
const PROPAGATION_ERROR_NAMES: &[&str] = &["ignore", "panic", "panic-on-replicas"];
const TLS_AUTH_CLIENTS_NAMES: &[&str] = &["no", "yes", "optional"];
/// What Redis built without its own jemalloc (Debian's 7.0.15 package) answers to `activedefrag yes`;
/// ferrokv has no defragmenter either.
const ACTIVE_DEFRAG_ERROR: &str = "Active defragmentation cannot be enabled: it requires a Redis server compiled \
                                   with a modified Jemalloc like the one shipped by default with the Redis source \
                                   distribution";

/// Narrows a value already checked against the directive's bounds; a failure means the table's bounds
/// and the field's type disagree, which the round-trip test catches.
fn narrow<T: TryFrom<i128>>(v: i128) -> T {
    T::try_from(v).unwrap_or_else(|_| panic!("config value {v} outside its field's type: table bug"))
}

macro_rules! flag {
    ($field:ident) => {
        Kind::Bool {
            get: |c| c.$field,
            set: |c, v| {
                c.$field = v;
                Ok(())
            },
        }
    };
}

macro_rules! int {
    ($field:ident, $min:expr, $max:expr) => {
        int!($field, $min, $max, Unit::Count)
    };
    ($field:ident, $min:expr, $max:expr, $unit:expr) => {
        Kind::Int { min: $min, max: $max, unit: $unit, get: |c| c.$field as i128, set: |c, v| c.$field = narrow(v) }
    };
}

macro_rules! bytes {
    ($field:ident, $min:expr, $max:expr) => {
        int!($field, $min, $max, Unit::Memory)
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

/// A string directive; with a check, the value is refused with the check's error.
macro_rules! text {
    ($field:ident) => {
        text!($field, |_, _| Ok(()))
    };
    ($field:ident, $check:expr) => {
        Kind::Text {
            get: |c| c.$field.clone(),
            set: |c, v| {
                let check: fn(&Config, &[u8]) -> Result<(), String> = $check;
                check(c, v)?;
                c.$field = lossy(v);
                Ok(())
            },
        }
    };
}

/// The `shutdown-on-*` flag words.
macro_rules! shutdown_flags {
    ($field:ident) => {
        Kind::List {
            get: |c| special::render_shutdown_flags(c.$field),
            set: |c, args, _| special::parse_shutdown_flags(args).map(|flags| c.$field = flags),
        }
    };
}

const fn directive(name: &'static str, change: Change, default: &'static str, kind: Kind) -> Directive {
    Directive { name, alias: None, change, default: Some(default), kind, hidden: false }
}

use Change::{Immutable, Mutable, Protected};

/// Every directive of Redis 7.0.15's config table (as Debian builds it, so with TLS), in the order CONFIG GET
/// lists pattern matches. Bounds, defaults, aliases and mutability are Redis's (config.c), except `bind`
/// (loopback only by default) and our own `http-*` entries.
pub(super) static TABLE: &[Directive] = &[
    // Network.
    directive("port", Mutable, "6379", int!(port, 0, 65535)),
    // Redis listens on "* -::*" by default; we stay on loopback until told otherwise.
    directive("bind", Mutable, "127.0.0.1", Kind::List { get: |c| c.bind.join(" "), set: special::set_bind }),
    directive("bind-source-addr", Mutable, "", text!(bind_source_addr)),
    directive("protected-mode", Mutable, "yes", flag!(protected_mode)),
    directive("tcp-backlog", Immutable, "511", int!(tcp_backlog, 0, INT_MAX)),
    directive("unixsocket", Immutable, "", text!(unixsocket)),
    directive("unixsocketperm", Immutable, "0", int!(unixsocketperm, 0, 0o777, Unit::Octal)),
    directive("timeout", Mutable, "0", int!(timeout_s, 0, INT_MAX)),
    directive("tcp-keepalive", Mutable, "300", int!(tcp_keepalive_s, 0, INT_MAX)),
    directive("socket-mark-id", Immutable, "0", int!(socket_mark_id, 0, UINT_MAX)),
    // TLS.
    directive("tls-port", Mutable, "0", int!(tls_port, 0, 65535)),
    directive("tls-cert-file", Mutable, "", text!(tls_cert_file)),
    directive("tls-key-file", Mutable, "", text!(tls_key_file)),
    directive("tls-key-file-pass", Mutable, "", text!(tls_key_file_pass)),
    directive("tls-client-cert-file", Mutable, "", text!(tls_client_cert_file)),
    directive("tls-client-key-file", Mutable, "", text!(tls_client_key_file)),
    directive("tls-client-key-file-pass", Mutable, "", text!(tls_client_key_file_pass)),
    directive("tls-dh-params-file", Mutable, "", text!(tls_dh_params_file)),
    directive("tls-ca-cert-file", Mutable, "", text!(tls_ca_cert_file)),
    directive("tls-ca-cert-dir", Mutable, "", text!(tls_ca_cert_dir)),
    directive("tls-auth-clients", Mutable, "yes", choice!(tls_auth_clients, TLS_AUTH_CLIENTS_NAMES)),
    directive("tls-replication", Mutable, "no", flag!(tls_replication)),
    directive("tls-cluster", Mutable, "no", flag!(tls_cluster)),
    directive("tls-protocols", Mutable, "", text!(tls_protocols)),
    directive("tls-ciphers", Mutable, "", text!(tls_ciphers)),
    directive("tls-ciphersuites", Mutable, "", text!(tls_ciphersuites)),
    directive("tls-prefer-server-ciphers", Mutable, "no", flag!(tls_prefer_server_ciphers)),
    directive("tls-session-caching", Mutable, "yes", flag!(tls_session_caching)),
    directive("tls-session-cache-size", Mutable, "20480", int!(tls_session_cache_size, 0, INT_MAX)),
    directive("tls-session-cache-timeout", Mutable, "300", int!(tls_session_cache_timeout_s, 0, INT_MAX)),
    // General.
    directive("daemonize", Immutable, "no", flag!(daemonize)),
    directive("supervised", Immutable, "no", choice!(supervised, SUPERVISED_NAMES)),
    directive("pidfile", Immutable, "", text!(pidfile)),
    directive(
        "loglevel",
        Mutable,
        "notice",
        Kind::Enum { names: LogLevel::NAMES, get: |c| c.loglevel as usize, set: |c, i| c.loglevel = LogLevel::ALL[i] },
    ),
    directive("logfile", Immutable, "", text!(logfile)),
    directive("syslog-enabled", Immutable, "no", flag!(syslog_enabled)),
    directive("syslog-ident", Immutable, "redis", text!(syslog_ident)),
    directive("syslog-facility", Immutable, "local0", choice!(syslog_facility, SYSLOG_FACILITY_NAMES)),
    directive("crash-log-enabled", Mutable, "yes", flag!(crash_log_enabled)),
    directive("crash-memcheck-enabled", Mutable, "yes", flag!(crash_memcheck_enabled)),
    directive("databases", Immutable, "16", int!(databases, 1, INT_MAX)),
    directive("always-show-logo", Immutable, "no", flag!(always_show_logo)),
    directive("set-proc-title", Immutable, "yes", flag!(set_proc_title)),
    directive(
        "proc-title-template",
        Mutable,
        "{title} {listen-addr} {server-mode}",
        text!(proc_title_template, special::check_proc_title_template),
    ),
    // Snapshotting.
    directive(
        "save",
        Mutable,
        "3600 1 300 100 60 10000",
        Kind::List { get: special::render_save, set: special::set_save },
    ),
    directive("stop-writes-on-bgsave-error", Mutable, "yes", flag!(stop_writes_on_bgsave_error)),
    directive("rdbcompression", Mutable, "yes", flag!(rdbcompression)),
    directive("rdbchecksum", Immutable, "yes", flag!(rdbchecksum)),
    directive("sanitize-dump-payload", Mutable, "no", choice!(sanitize_dump_payload, SANITIZE_DUMP_PAYLOAD_NAMES)),
    directive(
        "dbfilename",
        Protected,
        "dump.rdb",
        text!(dbfilename, |_, v| check_base_name(v, "dbfilename can't be a path, just a filename")),
    ),
    directive("rdb-del-sync-files", Mutable, "no", flag!(rdb_del_sync_files)),
    Directive {
        name: "dir",
        alias: None,
        change: Protected,
        default: None,
        kind: Kind::Text { get: |c| c.dir.clone(), set: set_dir },
        hidden: false,
    },
    directive("rdb-save-incremental-fsync", Mutable, "yes", flag!(rdb_save_incremental_fsync)),
    directive("rdb-key-save-delay", Mutable, "0", int!(rdb_key_save_delay_us, INT_MIN, INT_MAX)).hidden(),
    directive("key-load-delay", Mutable, "0", int!(key_load_delay_us, INT_MIN, INT_MAX)).hidden(),
    directive(
        "loading-process-events-interval-bytes",
        Mutable,
        "2097152",
        int!(loading_process_events_interval_bytes, 1024, INT_MAX),
    )
    .hidden(),
    // Replication.
    directive(
        "replicaof",
        Immutable,
        "no one",
        Kind::List { get: special::render_replicaof, set: special::set_replicaof },
    )
    .with_alias("slaveof"),
    directive("masterauth", Mutable, "", text!(masterauth)),
    directive("masteruser", Mutable, "", text!(masteruser)),
    directive("replica-serve-stale-data", Mutable, "yes", flag!(replica_serve_stale_data))
        .with_alias("slave-serve-stale-data"),
    directive("replica-read-only", Mutable, "yes", flag!(replica_read_only)).with_alias("slave-read-only"),
    directive("repl-diskless-sync", Mutable, "yes", flag!(repl_diskless_sync)),
    directive("repl-diskless-sync-delay", Mutable, "5", int!(repl_diskless_sync_delay_s, 0, INT_MAX)),
    directive("repl-diskless-sync-max-replicas", Mutable, "0", int!(repl_diskless_sync_max_replicas, 0, INT_MAX)),
    directive("repl-diskless-load", Mutable, "disabled", choice!(repl_diskless_load, REPL_DISKLESS_LOAD_NAMES)),
    directive("repl-ping-replica-period", Mutable, "10", int!(repl_ping_replica_period_s, 1, INT_MAX))
        .with_alias("repl-ping-slave-period"),
    directive("repl-timeout", Mutable, "60", int!(repl_timeout_s, 1, INT_MAX)),
    directive("repl-disable-tcp-nodelay", Mutable, "no", flag!(repl_disable_tcp_nodelay)),
    directive("repl-backlog-size", Mutable, "1mb", bytes!(repl_backlog_size, 1, LLONG_MAX)),
    directive("repl-backlog-ttl", Mutable, "3600", int!(repl_backlog_ttl_s, 0, LONG_MAX)),
    directive("replica-priority", Mutable, "100", int!(replica_priority, 0, INT_MAX)).with_alias("slave-priority"),
    directive("replica-announced", Mutable, "yes", flag!(replica_announced)),
    directive("min-replicas-to-write", Mutable, "0", int!(min_replicas_to_write, 0, INT_MAX))
        .with_alias("min-slaves-to-write"),
    directive("min-replicas-max-lag", Mutable, "10", int!(min_replicas_max_lag_s, 0, INT_MAX))
        .with_alias("min-slaves-max-lag"),
    directive("replica-announce-ip", Mutable, "", text!(replica_announce_ip)).with_alias("slave-announce-ip"),
    directive("replica-announce-port", Mutable, "0", int!(replica_announce_port, 0, 65535))
        .with_alias("slave-announce-port"),
    directive("replica-ignore-maxmemory", Mutable, "yes", flag!(replica_ignore_maxmemory))
        .with_alias("slave-ignore-maxmemory"),
    directive("replica-lazy-flush", Mutable, "no", flag!(replica_lazy_flush)).with_alias("slave-lazy-flush"),
    directive("replica-ignore-disk-write-errors", Mutable, "no", flag!(replica_ignore_disk_write_errors)),
    directive(
        "propagation-error-behavior",
        Mutable,
        "ignore",
        choice!(propagation_error_behavior, PROPAGATION_ERROR_NAMES),
    ),
    // Keys tracking.
    directive("tracking-table-max-keys", Mutable, "1000000", int!(tracking_table_max_keys, 0, LONG_MAX)),
    // Security.
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
    directive("acllog-max-len", Mutable, "128", int!(acllog_max_len, 0, LONG_MAX)),
    directive("aclfile", Immutable, "", text!(aclfile)),
    directive("acl-pubsub-default", Mutable, "resetchannels", choice!(acl_pubsub_default, ACL_PUBSUB_DEFAULT_NAMES)),
    directive("enable-protected-configs", Immutable, "no", allow!(enable_protected_configs)),
    directive("enable-debug-command", Immutable, "no", allow!(enable_debug_command)),
    directive("enable-module-command", Immutable, "no", allow!(enable_module_command)),
    // Clients and memory management.
    directive("maxclients", Mutable, "10000", int!(maxclients, 1, UINT_MAX)),
    directive("maxmemory", Mutable, "0", bytes!(maxmemory, 0, ULLONG_MAX)),
    directive("maxmemory-policy", Mutable, "noeviction", choice!(maxmemory_policy, MAXMEMORY_POLICY_NAMES)),
    directive("maxmemory-samples", Mutable, "5", int!(maxmemory_samples, 1, INT_MAX)),
    directive("maxmemory-eviction-tenacity", Mutable, "10", int!(maxmemory_eviction_tenacity, 0, 100)),
    directive("maxmemory-clients", Mutable, "0", int!(maxmemory_clients, -100, LLONG_MAX, Unit::MemoryOrPercent)),
    directive("lazyfree-lazy-eviction", Mutable, "no", flag!(lazyfree_lazy_eviction)),
    directive("lazyfree-lazy-expire", Mutable, "no", flag!(lazyfree_lazy_expire)),
    directive("lazyfree-lazy-server-del", Mutable, "no", flag!(lazyfree_lazy_server_del)),
    directive("lazyfree-lazy-user-del", Mutable, "no", flag!(lazyfree_lazy_user_del)),
    directive("lazyfree-lazy-user-flush", Mutable, "no", flag!(lazyfree_lazy_user_flush)),
    directive("io-threads", Immutable, "1", int!(io_threads, 1, 128)),
    directive("io-threads-do-reads", Immutable, "no", flag!(io_threads_do_reads)),
    directive(
        "oom-score-adj",
        Mutable,
        "no",
        Kind::Enum {
            names: OOM_SCORE_ADJ_NAMES,
            get: |c| OOM_SCORE_ADJ_NAMES.iter().position(|n| *n == c.oom_score_adj).unwrap_or(0),
            // `relative` is stored (and shown) as `yes`, its other name.
            set: |c, i| c.oom_score_adj = OOM_SCORE_ADJ_NAMES[if i == 2 { 1 } else { i }].to_owned(),
        },
    ),
    directive(
        "oom-score-adj-values",
        Mutable,
        "0 200 800",
        Kind::List { get: special::render_oom_score_adj_values, set: special::set_oom_score_adj_values },
    ),
    directive("disable-thp", Immutable, "yes", flag!(disable_thp)),
    directive(
        "client-output-buffer-limit",
        Mutable,
        OUTPUT_BUFFER_LIMITS_DEFAULT,
        Kind::List { get: special::render_output_buffer_limits, set: special::set_output_buffer_limits },
    ),
    directive("client-query-buffer-limit", Mutable, "1gb", bytes!(client_query_buffer_limit, MB, LONG_MAX)),
    directive("proto-max-bulk-len", Mutable, "512mb", bytes!(proto_max_bulk_len, MB, LONG_MAX)),
    // Append only mode.
    directive("appendonly", Mutable, "no", flag!(appendonly)),
    directive(
        "appendfilename",
        Immutable,
        "appendonly.aof",
        text!(appendfilename, |_, v| check_file_name(v, "appendfilename", "filename")),
    ),
    directive(
        "appenddirname",
        Immutable,
        "appendonlydir",
        text!(appenddirname, |_, v| check_file_name(v, "appenddirname", "dirname")),
    ),
    directive("appendfsync", Mutable, "everysec", choice!(appendfsync, APPENDFSYNC_NAMES)),
    directive("no-appendfsync-on-rewrite", Mutable, "no", flag!(no_appendfsync_on_rewrite)),
    directive("auto-aof-rewrite-percentage", Mutable, "100", int!(auto_aof_rewrite_percentage, 0, INT_MAX)),
    directive("auto-aof-rewrite-min-size", Mutable, "64mb", bytes!(auto_aof_rewrite_min_size, 0, LLONG_MAX)),
    directive("aof-load-truncated", Mutable, "yes", flag!(aof_load_truncated)),
    directive("aof-use-rdb-preamble", Mutable, "yes", flag!(aof_use_rdb_preamble)),
    directive("aof-timestamp-enabled", Mutable, "no", flag!(aof_timestamp_enabled)),
    directive("aof-rewrite-incremental-fsync", Mutable, "yes", flag!(aof_rewrite_incremental_fsync)),
    directive("aof-disable-auto-gc", Mutable, "no", flag!(aof_disable_auto_gc)),
    // Shutdown.
    directive("shutdown-timeout", Mutable, "10", int!(shutdown_timeout_s, 0, INT_MAX)),
    directive("shutdown-on-sigint", Mutable, "default", shutdown_flags!(shutdown_on_sigint)),
    directive("shutdown-on-sigterm", Mutable, "default", shutdown_flags!(shutdown_on_sigterm)),
    // Lua scripting and functions.
    directive("busy-reply-threshold", Mutable, "5000", int!(busy_reply_threshold_ms, 0, LONG_MAX))
        .with_alias("lua-time-limit"),
    // Cluster.
    directive("cluster-enabled", Immutable, "no", flag!(cluster_enabled)),
    directive("cluster-config-file", Immutable, "nodes.conf", text!(cluster_config_file)),
    directive("cluster-node-timeout", Mutable, "15000", int!(cluster_node_timeout_ms, 0, LLONG_MAX)),
    directive("cluster-port", Immutable, "0", int!(cluster_port, 0, 65535)),
    directive("cluster-replica-validity-factor", Mutable, "10", int!(cluster_replica_validity_factor, 0, INT_MAX))
        .with_alias("cluster-slave-validity-factor"),
    directive("cluster-migration-barrier", Mutable, "1", int!(cluster_migration_barrier, 0, INT_MAX)),
    directive("cluster-allow-replica-migration", Mutable, "yes", flag!(cluster_allow_replica_migration)),
    directive("cluster-require-full-coverage", Mutable, "yes", flag!(cluster_require_full_coverage)),
    directive("cluster-replica-no-failover", Mutable, "no", flag!(cluster_replica_no_failover))
        .with_alias("cluster-slave-no-failover"),
    directive("cluster-allow-reads-when-down", Mutable, "no", flag!(cluster_allow_reads_when_down)),
    directive("cluster-allow-pubsubshard-when-down", Mutable, "yes", flag!(cluster_allow_pubsubshard_when_down)),
    directive("cluster-link-sendbuf-limit", Mutable, "0", bytes!(cluster_link_sendbuf_limit, 0, ULLONG_MAX)),
    directive(
        "cluster-announce-hostname",
        Mutable,
        "",
        text!(cluster_announce_hostname, |_, v| special::check_hostname(v)),
    ),
    directive(
        "cluster-preferred-endpoint-type",
        Mutable,
        "ip",
        choice!(cluster_preferred_endpoint_type, ENDPOINT_TYPE_NAMES),
    ),
    directive("cluster-announce-ip", Mutable, "", text!(cluster_announce_ip)),
    directive("cluster-announce-port", Mutable, "0", int!(cluster_announce_port, 0, 65535)),
    directive("cluster-announce-tls-port", Mutable, "0", int!(cluster_announce_tls_port, 0, 65535)),
    directive("cluster-announce-bus-port", Mutable, "0", int!(cluster_announce_bus_port, 0, 65535)),
    // Slow log, latency monitor, latency tracking.
    directive("slowlog-log-slower-than", Mutable, "10000", int!(slowlog_log_slower_than_us, -1, LLONG_MAX)),
    directive("slowlog-max-len", Mutable, "128", int!(slowlog_max_len, 0, LONG_MAX)),
    directive("latency-monitor-threshold", Mutable, "0", int!(latency_monitor_threshold_ms, 0, LLONG_MAX)),
    directive("latency-tracking", Mutable, "yes", flag!(latency_tracking)),
    directive(
        "latency-tracking-info-percentiles",
        Mutable,
        LATENCY_PERCENTILES_DEFAULT,
        Kind::List { get: special::render_percentiles, set: special::set_percentiles },
    ),
    // Event notification.
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
    // Advanced config.
    directive("hash-max-listpack-entries", Mutable, "512", int!(hash_max_listpack_entries, 0, LONG_MAX))
        .with_alias("hash-max-ziplist-entries"),
    directive("hash-max-listpack-value", Mutable, "64", bytes!(hash_max_listpack_value, 0, LONG_MAX))
        .with_alias("hash-max-ziplist-value"),
    directive("list-max-listpack-size", Mutable, "-2", int!(list_max_listpack_size, INT_MIN, INT_MAX))
        .with_alias("list-max-ziplist-size"),
    directive("list-compress-depth", Mutable, "0", int!(list_compress_depth, 0, INT_MAX)),
    directive("set-max-intset-entries", Mutable, "512", int!(set_max_intset_entries, 0, LONG_MAX)),
    directive("zset-max-listpack-entries", Mutable, "128", int!(zset_max_listpack_entries, 0, LONG_MAX))
        .with_alias("zset-max-ziplist-entries"),
    directive("zset-max-listpack-value", Mutable, "64", bytes!(zset_max_listpack_value, 0, LONG_MAX))
        .with_alias("zset-max-ziplist-value"),
    directive("hll-sparse-max-bytes", Mutable, "3000", bytes!(hll_sparse_max_bytes, 0, LONG_MAX)),
    directive("stream-node-max-bytes", Mutable, "4096", bytes!(stream_node_max_bytes, 0, LONG_MAX)),
    directive("stream-node-max-entries", Mutable, "100", int!(stream_node_max_entries, 0, LLONG_MAX)),
    directive("activerehashing", Mutable, "yes", flag!(activerehashing)),
    directive(
        "hz",
        Mutable,
        "10",
        Kind::Int {
            min: 0,
            max: INT_MAX,
            unit: Unit::Count,
            get: |c| i128::from(c.hz),
            // Redis takes any hz as a hint and clamps it (updateHZ); CONFIG GET then shows the clamped value.
            set: |c, v| c.hz = narrow(v.clamp(HZ_MIN, HZ_MAX)),
        },
    ),
    directive("dynamic-hz", Mutable, "yes", flag!(dynamic_hz)),
    directive("active-expire-effort", Mutable, "1", int!(active_expire_effort, 1, 10)),
    directive("lfu-log-factor", Mutable, "10", int!(lfu_log_factor, 0, INT_MAX)),
    directive("lfu-decay-time", Mutable, "1", int!(lfu_decay_time_min, 0, INT_MAX)),
    directive("jemalloc-bg-thread", Mutable, "yes", flag!(jemalloc_bg_thread)),
    directive(
        "activedefrag",
        Mutable,
        "no",
        Kind::Bool { get: |_| false, set: |_, on| if on { Err(ACTIVE_DEFRAG_ERROR.into()) } else { Ok(()) } },
    ),
    directive("active-defrag-ignore-bytes", Mutable, "100mb", bytes!(active_defrag_ignore_bytes, 1, LLONG_MAX)),
    directive("active-defrag-threshold-lower", Mutable, "10", int!(active_defrag_threshold_lower, 0, 1000)),
    directive("active-defrag-threshold-upper", Mutable, "100", int!(active_defrag_threshold_upper, 0, 1000)),
    directive("active-defrag-cycle-min", Mutable, "1", int!(active_defrag_cycle_min, 1, 99)),
    directive("active-defrag-cycle-max", Mutable, "25", int!(active_defrag_cycle_max, 1, 99)),
    directive("active-defrag-max-scan-fields", Mutable, "1000", int!(active_defrag_max_scan_fields, 1, LONG_MAX)),
    directive("server_cpulist", Immutable, "", text!(server_cpulist)),
    directive("bio_cpulist", Immutable, "", text!(bio_cpulist)),
    directive("aof_rewrite_cpulist", Immutable, "", text!(aof_rewrite_cpulist)),
    directive("bgsave_cpulist", Immutable, "", text!(bgsave_cpulist)),
    directive("ignore-warnings", Mutable, "", text!(ignore_warnings)),
    directive("watchdog-period", Mutable, "0", int!(watchdog_period_ms, 0, INT_MAX)).hidden(),
    directive("use-exit-on-panic", Mutable, "no", flag!(use_exit_on_panic)).hidden(),
    // Ours: the HTTP gateway's port (0 = off), its request body cap, and how long an HTTP connection may take to
    // send a request or sit idle between requests (0 = forever).
    directive("http-port", Mutable, "7379", int!(http_port, 0, 65535)),
    directive("http-max-body", Mutable, "16mb", bytes!(http_max_body, 1, LONG_MAX)),
    directive("http-idle-timeout", Mutable, "30", int!(http_idle_timeout_s, 0, INT_MAX)),
    // Ours: the web origins allowed to call the gateway from a browser, and the Host names it answers to
    // (see http/guard.rs); both empty, so no web page can use it and DNS rebinding finds nothing.
    directive(
        "http-allow-origins",
        Mutable,
        "",
        Kind::List { get: |c| c.http_allow_origins.join(" "), set: special::set_http_allow_origins },
    ),
    directive(
        "http-allow-hosts",
        Mutable,
        "",
        Kind::List { get: |c| c.http_allow_hosts.join(" "), set: special::set_http_allow_hosts },
    ),
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
        Kind::Bool { set, .. } => set(config, yes_no(single()?).ok_or("argument must be 'yes' or 'no'")?)?,
        Kind::Int { min, max, unit, set, .. } => set(config, parse_int(single()?, min, max, unit)?),
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
        Kind::Int { unit, get, .. } => render_int(get(config), unit),
        Kind::Enum { names, get, .. } => names[get(config)].to_string(),
        Kind::Text { get, .. } | Kind::List { get, .. } => get(config),
    }
}

/// numericParseString + numericBoundaryCheck. The value is kept as i128 so that u64 memory sizes and
/// negative integers compare against the bounds without C's casts (the error texts come out the same).
fn parse_int(v: &[u8], min: i128, max: i128, unit: Unit) -> Result<i128, String> {
    let value = match unit {
        Unit::Count => string_to_i64(v).map(i128::from).ok_or("argument couldn't be parsed into an integer")?,
        Unit::Memory => memory_to_u64(v).map(i128::from).ok_or("argument must be a memory value")?,
        Unit::MemoryOrPercent => memory_or_percent(v).ok_or("argument must be a memory or percent value")?,
        Unit::Octal => {
            strtoll_octal_exact(v).map(i128::from).ok_or("argument couldn't be parsed as an octal number")?
        }
    };
    if unit == Unit::MemoryOrPercent && value < 0 {
        // A percentage is stored negated and checked against the lower bound only.
        return if value < min {
            Err(format!("percentage argument must be less or equal to {}", -min))
        } else {
            Ok(value)
        };
    }
    if value < min || value > max {
        return Err(match unit {
            Unit::Octal => format!("argument must be between {min:o} and {max:o} inclusive"),
            _ => format!("argument must be between {min} and {max} inclusive"),
        });
    }
    Ok(value)
}

/// A memory value, read into a signed 64-bit field as C does (so a huge one wraps negative and then reads
/// as a percentage), or `N%` as `-N`.
fn memory_or_percent(v: &[u8]) -> Option<i128> {
    if let Some(bytes) = memory_to_u64(v) {
        return Some(i128::from(bytes as i64));
    }
    let digits = v.strip_suffix(b"%").filter(|d| !d.is_empty())?;
    string_to_i64(digits).filter(|&p| p >= 0).map(|p| -i128::from(p))
}

/// numericConfigGet: decimal, octal, or `N%` for a stored percentage.
fn render_int(value: i128, unit: Unit) -> String {
    match unit {
        Unit::Octal => format!("{value:o}"),
        Unit::MemoryOrPercent if value < 0 => format!("{}%", -value),
        _ => value.to_string(),
    }
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// Redis's pathIsBaseName: no `/` and no `\`.
fn check_base_name(v: &[u8], error: &str) -> Result<(), String> {
    if v.iter().any(|&b| b == b'/' || b == b'\\') { Err(error.to_string()) } else { Ok(()) }
}

/// isValidAOFfilename / isValidAOFdirname: not empty, and a base name.
fn check_file_name(v: &[u8], directive: &str, what: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err(format!("{directive} can't be empty"));
    }
    check_base_name(v, &format!("{directive} can't be a path, just a {what}"))
}

/// `dir path`: Redis chdir()s at once; we resolve the path against the current `dir` the same way and
/// keep it absolute (what CONFIG GET shows, from getcwd), leaving the chdir to the server.
fn set_dir(c: &mut Config, v: &[u8]) -> Result<(), String> {
    if v.is_empty() {
        return Err(strerror(&std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    let resolved = std::fs::canonicalize(Path::new(&c.dir).join(lossy(v))).map_err(|e| strerror(&e))?;
    if !resolved.is_dir() {
        return Err("Not a directory".into());
    }
    c.dir = resolved.to_string_lossy().into_owned();
    Ok(())
}
