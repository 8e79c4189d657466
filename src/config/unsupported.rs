//! Directives ferrokv accepts (so a real redis.conf loads) but whose feature it does not have yet. A
//! setting that asks for such a feature must not pass silently: the server logs each one as a WARNING at
//! startup and when CONFIG SET turns it on, naming what is not acted on.
//!
//! Adding a feature means deleting its line here (and the README's entry).

use super::{Config, table};

/// One directive whose current value asks for something ferrokv does not do.
struct Unsupported {
    directive: &'static str,
    /// Whether the current value asks for the missing feature.
    active: fn(&Config) -> bool,
    /// What is not done, as a sentence.
    consequence: &'static str,
}

const fn unsupported(directive: &'static str, active: fn(&Config) -> bool, consequence: &'static str) -> Unsupported {
    Unsupported { directive, active, consequence }
}

/// Every such directive, in table order.
const UNSUPPORTED: &[Unsupported] = &[
    unsupported("tls-port", |c| c.tls_port != 0, "ferrokv has no TLS"),
    unsupported("supervised", |c| c.supervised != "no", "ferrokv does not notify upstart or systemd"),
    unsupported("syslog-enabled", |c| c.syslog_enabled, "nothing is sent to syslog"),
    unsupported(
        "replicaof",
        |c| c.replicaof.is_some(),
        "ferrokv cannot replicate from a master yet (it serves replicas): this server stays a master",
    ),
    unsupported("aclfile", |c| !c.aclfile.is_empty(), "ferrokv has no ACL users yet: the file is not read"),
    unsupported("io-threads", |c| c.io_threads > 1, "ferrokv serves every client from one thread"),
    unsupported("oom-score-adj", |c| c.oom_score_adj != "no", "the process's oom_score_adj is not changed"),
    unsupported(
        "no-appendfsync-on-rewrite",
        |c| c.no_appendfsync_on_rewrite,
        "the AOF is fsynced during rewrites as at any other time",
    ),
    unsupported(
        "aof-timestamp-enabled",
        |c| c.aof_timestamp_enabled,
        "no timestamp annotations are written to the AOF",
    ),
    unsupported(
        "cluster-enabled",
        |c| c.cluster_enabled,
        "ferrokv has no cluster mode yet: this server runs standalone",
    ),
    unsupported("list-compress-depth", |c| c.list_compress_depth > 0, "list nodes are not compressed"),
];

impl Config {
    /// A WARNING line for each directive whose value asks for a feature ferrokv lacks.
    pub fn not_acted_on(&self) -> Vec<String> {
        UNSUPPORTED.iter().filter(|u| (u.active)(self)).map(|u| self.warning(u)).collect()
    }

    /// [`Config::not_acted_on`] for the directives `names` (any case, aliases too) only: what CONFIG SET
    /// of them logs.
    pub fn not_acted_on_among(&self, names: &[&[u8]]) -> Vec<String> {
        let named =
            |u: &&Unsupported| names.iter().any(|n| table::lookup(n).is_some_and(|(_, d)| d.name == u.directive));
        UNSUPPORTED.iter().filter(named).filter(|u| (u.active)(self)).map(|u| self.warning(u)).collect()
    }

    fn warning(&self, u: &Unsupported) -> String {
        let value = self.get(&[u.directive.as_bytes()]).pop().map(|(_, v)| v).unwrap_or_default();
        format!("WARNING: '{} {value}' is accepted but not acted on: {}.", u.directive, u.consequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_warn_about_nothing() {
        assert_eq!(Config::default().not_acted_on(), Vec::<String>::new());
    }

    #[test]
    fn each_missing_feature_is_named() {
        let mut config = Config::default();
        let pairs: &[(&[u8], &[u8])] =
            &[(b"save", b""), (b"oom-score-adj", b"yes"), (b"slave-read-only", b"no"), (b"list-compress-depth", b"1")];
        config.set(pairs).unwrap();
        let warnings = config.not_acted_on();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("WARNING: 'oom-score-adj yes' is accepted but not acted on: "), "{warnings:?}");
        assert!(
            warnings[1].starts_with("WARNING: 'list-compress-depth 1' is accepted but not acted on: "),
            "{warnings:?}"
        );
        let names: Vec<&[u8]> = pairs.iter().map(|(n, _)| *n).collect();
        assert_eq!(config.not_acted_on_among(&names[..1]), Vec::<String>::new());
        assert_eq!(config.not_acted_on_among(&[b"LIST-COMPRESS-DEPTH"]), warnings[1..]);
    }
}
