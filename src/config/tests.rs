//! Tests for the config module. Expected texts and values were taken from redis-server 7.0.15.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::load::options_from_args;
use super::table::{self, Kind, TABLE, Unit};
use super::*;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ferrokv-config-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(std::fs::canonicalize(path).unwrap())
    }

    /// Writes `text` to `name` inside the directory and returns the file's path as a string.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn path(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the command line with `stdin` as standard input and expects a config or a fatal message.
fn cli_with_stdin(args: &[&str], stdin: &str) -> Result<Config, String> {
    let stdin = stdin.as_bytes().to_vec();
    match Config::from_cli_with(args.iter().map(|a| a.to_string()), move || Ok(stdin))? {
        CliOutcome::Run(config) => Ok(config),
        CliOutcome::PrintAndExit(text) => panic!("unexpected print-and-exit: {text}"),
    }
}

fn cli(args: &[&str]) -> Result<Config, String> {
    cli_with_stdin(args, "")
}

fn fatal_at(line: usize, text: &str, error: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n\
         Reading the configuration file, at line {line}\n>>> '{text}'\n{error}"
    )
}

/// CONFIG GET of one exact name.
fn get(config: &Config, name: &str) -> String {
    let found = config.get(&[name.as_bytes()]);
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found[0].1.clone()
}

fn set(config: &mut Config, pairs: &[(&str, &str)]) -> Result<(), String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
    config.set(&pairs)
}

const POLICY_ERROR: &str = "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, \
                            volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction";

fn set_error(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

#[test]
fn defaults_render_like_redis() {
    let config = Config::default();
    // `CONFIG GET *` of redis-server 7.0.15 started with no arguments (`dir` left out: it is the cwd).
    let redis: Vec<(&str, &str)> = include_str!("redis_7_0_15_defaults.tsv")
        .lines()
        .map(|line| line.split_once('\t').unwrap_or((line, "")))
        .collect();
    let ours: Vec<(String, String)> = config.get(&[b"*"]).into_iter().map(|(n, v)| (n.into_owned(), v)).collect();
    for (name, value) in &redis {
        // The one default we change on purpose: loopback only.
        let value = if *name == "bind" { "127.0.0.1" } else { value };
        assert_eq!(get(&config, name), value, "{name}");
    }
    let extra: Vec<&str> = ours
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| *name != "dir" && !redis.iter().any(|(n, _)| n == name))
        .collect();
    assert_eq!(extra, ["http-port", "http-max-body", "http-idle-timeout", "http-allow-origins", "http-allow-hosts"]);
    for (name, value) in [
        ("http-port", "7379"),
        ("http-max-body", "16777216"),
        ("http-idle-timeout", "30"),
        ("http-allow-origins", ""),
        ("http-allow-hosts", ""),
    ] {
        assert_eq!(get(&config, name), value, "{name}");
    }
    assert_eq!(get(&config, "dir"), std::env::current_dir().unwrap().to_string_lossy());
    assert_eq!(config.save, vec![(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!((config.timeout_s, config.tcp_keepalive_s, config.requirepass.clone()), (0, 300, None));
    assert_eq!(config.config_file, None);
}

#[test]
fn table_names_are_unique_lowercase_and_defaults_present() {
    let names: Vec<&str> = table::entries().map(|(name, _)| name).collect();
    for name in &names {
        assert_eq!(name.to_ascii_lowercase(), *name);
        assert_eq!(names.iter().filter(|n| *n == name).count(), 1, "{name}");
    }
    assert!(TABLE.iter().all(|d| d.default.is_some() || d.name == "dir"));
    assert_eq!(LogLevel::ALL.map(LogLevel::name), ["debug", "verbose", "notice", "warning"]);
    assert_eq!(Allow::ALL.len(), Allow::NAMES.len());
}

#[test]
fn every_integer_field_holds_its_bounds() {
    // Setting each bound and reading it back proves the field's type holds the table's range.
    for d in TABLE {
        let Kind::Int { min, max, unit, .. } = d.kind else {
            continue;
        };
        // Each bound written the way the directive reads it, which is also how CONFIG GET shows it.
        let text = |v: i128| match unit {
            Unit::Octal => format!("{v:o}"),
            Unit::MemoryOrPercent if v < 0 => format!("{}%", -v),
            _ => v.to_string(),
        };
        for bound in [min, max] {
            let mut config = Config::default();
            table::apply(&mut config, d, &[text(bound).as_bytes()], false).unwrap();
            let expected = if d.name == "hz" { bound.clamp(1, 500) } else { bound };
            assert_eq!(table::render(&config, d), text(expected), "{}", d.name);
        }
    }
}

#[test]
fn no_arguments_gives_the_defaults() {
    assert_eq!(cli(&[]).unwrap(), Config::default());
}

#[test]
fn argv_options_become_config_lines() {
    let words = |args: &[&str]| options_from_args(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    let sources = words(&["redis.conf", "--port", "7777", "--save", "900", "1", "300", "10"]);
    assert_eq!(sources.config_file.as_deref(), Some("redis.conf"));
    assert!(!sources.stdin);
    assert_eq!(sources.options.as_deref(), Some("port \"7777\" \nsave \"900\" \"1\" \"300\" \"10\" "));
    // `--save` followed by another option, or last, means `save ""`.
    assert_eq!(words(&["--save", "--appendonly", "yes"]).options.as_deref(), Some("save \"\"\nappendonly \"yes\" "));
    assert_eq!(words(&["--hz", "5", "--save"]).options.as_deref(), Some("hz \"5\" \nsave \"\""));
    // A value may start with "--" when its option has none yet; a one-word "--name value" carries it.
    assert_eq!(words(&["--port", "--port", "1"]).options.as_deref(), Some("port \"--port\" \"1\" "));
    assert_eq!(words(&["--port 6380", "--hz", "3"]).options.as_deref(), Some("port 6380 \nhz \"3\" "));
    // Values are quoted the sdscatrepr way.
    assert_eq!(
        words(&["--requirepass", "a \"b\"\\\n\u{e9}"]).options.as_deref(),
        Some(r#"requirepass "a \"b\"\\\n\xc3\xa9" "#)
    );
    // A lone "-" first or last reads stdin; elsewhere it is a plain value.
    let sources = words(&["-", "--hz", "5"]);
    assert_eq!((sources.config_file, sources.stdin), (None, true));
    let sources = words(&["a.conf", "--hz", "5", "-"]);
    assert_eq!((sources.config_file.as_deref(), sources.stdin), (Some("a.conf"), true));
    assert_eq!(words(&["a.conf", "-", "--hz", "5"]).options.as_deref(), Some("\"-\" \nhz \"5\" "));
    assert_eq!(words(&[]), Default::default());
}

#[test]
fn file_then_flags_override() {
    let dir = TempDir::new();
    let conf = dir.file("redis.conf", "port 1000\nsave 60 5\nappendonly yes\nmaxmemory 10mb\n");
    let config = cli(&[&conf, "--port", "7777", "--save", "900", "1", "300", "10"]).unwrap();
    assert_eq!(config.port, 7777);
    // The argv `save` is a later line of the same load, so it appends to the file's.
    assert_eq!(config.save, vec![(60, 5), (900, 1), (300, 10)]);
    assert!(config.appendonly);
    assert_eq!(config.maxmemory, 10 * 1024 * 1024);
    assert_eq!(config.config_file, Some(PathBuf::from(&conf)));

    let config = cli(&[&conf, "--save", "", "--appendonly", "no"]).unwrap();
    assert_eq!((config.save.clone(), config.appendonly), (vec![], false));
    let config = cli(&["--save", "", "--appendonly", "yes"]).unwrap();
    assert_eq!((config.save.clone(), config.appendonly), (vec![], true));
    let config = cli(&["--save", "--hz", "5"]).unwrap();
    assert_eq!((config.save.clone(), config.hz), (vec![], 5));
    assert_eq!(cli(&["--save", "5", "5", "6", "6"]).unwrap().save, vec![(5, 5), (6, 6)]);
    assert_eq!(cli(&["--save", "5", "5", "--save", "6", "6"]).unwrap().save, vec![(5, 5), (6, 6)]);
}

#[test]
fn relative_config_file_is_reported_absolute() {
    // The relative name is resolved against the process's working directory, like getAbsolutePath.
    let dir = TempDir::new();
    let conf = dir.file("rel.conf", "hz 20\n");
    let cwd = std::env::current_dir().unwrap();
    let relative = pathdiff(&PathBuf::from(&conf), &cwd);
    let config = cli(&[&relative]).unwrap();
    assert_eq!(config.hz, 20);
    assert!(config.config_file.unwrap().is_absolute());
}

/// `target` relative to `base` (both absolute), using `..` as needed.
fn pathdiff(target: &std::path::Path, base: &std::path::Path) -> String {
    let common = target.components().zip(base.components()).take_while(|(a, b)| a == b).count();
    let ups = base.components().count() - common;
    let mut out = PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    out.extend(target.components().skip(common));
    out.to_string_lossy().into_owned()
}

#[test]
fn file_syntax_comments_quotes_and_case() {
    let dir = TempDir::new();
    let text = "# a comment\n\n   \t\r\n  PORT 1234  \r\nrequirepass \"a b\\x21\"\nlogfile ''\n\
                MaxMemory 1kb\nmaxmemory 2KB\n\
                appendonly YES\nloglevel WARNING\nmaxmemory-policy ALLKEYS-LRU\nbind 127.0.0.1 ::1\n";
    let conf = dir.file("a.conf", text);
    let config = cli(&[&conf]).unwrap();
    assert_eq!(config.port, 1234);
    assert_eq!(config.requirepass.as_deref(), Some(&b"a b!"[..]));
    assert_eq!(config.maxmemory, 2048);
    assert!(config.appendonly);
    assert_eq!(config.loglevel, LogLevel::Warning);
    assert_eq!(config.maxmemory_policy, "allkeys-lru");
    assert_eq!(config.bind, vec!["127.0.0.1", "::1"]);
    assert_eq!(get(&config, "bind"), "127.0.0.1 ::1");
}

#[test]
fn memory_units_and_integers() {
    let cases = [
        ("1", 1),
        ("1b", 1),
        ("1k", 1000),
        ("1kb", 1024),
        ("1K", 1000),
        ("1KB", 1024),
        ("2m", 2_000_000),
        ("2mb", 2 << 20),
        ("3g", 3_000_000_000),
        ("3Gb", 3 << 30),
    ];
    for (text, bytes) in cases {
        assert_eq!(cli(&["--maxmemory", text]).unwrap().maxmemory, bytes, "{text}");
    }
    let config =
        cli(&["--hash-max-ziplist-value", "1k", "--list-max-ziplist-size", "-5", "--slowlog-log-slower-than", "-1"])
            .unwrap();
    assert_eq!((config.hash_max_listpack_value, config.list_max_listpack_size), (1000, -5));
    assert_eq!(config.slowlog_log_slower_than_us, -1);
    assert_eq!(get(&config, "hash-max-listpack-value"), "1000");
    // hz is clamped into 1..=500 after parsing, as Redis does.
    assert_eq!(cli(&["--hz", "0"]).unwrap().hz, 1);
    assert_eq!(cli(&["--hz", "100000"]).unwrap().hz, 500);
}

#[test]
fn bad_values_are_fatal_with_redis_wording() {
    let cases = [
        (&["--hz", "abc"][..], "hz \"abc\"", "argument couldn't be parsed into an integer"),
        (&["--hz", "1 2"], "hz \"1 2\"", "argument couldn't be parsed into an integer"),
        (&["--hz", "-1"], "hz \"-1\"", "argument must be between 0 and 2147483647 inclusive"),
        (&["--port", "70000"], "port \"70000\"", "argument must be between 0 and 65535 inclusive"),
        (&["--appendonly", "maybe"], "appendonly \"maybe\"", "argument must be 'yes' or 'no'"),
        (&["--maxmemory", "1x"], "maxmemory \"1x\"", "argument must be a memory value"),
        (&["--databases", "0"], "databases \"0\"", "argument must be between 1 and 2147483647 inclusive"),
        (
            &["--proto-max-bulk-len", "100"],
            "proto-max-bulk-len \"100\"",
            "argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        (
            &["--loglevel", "loud"],
            "loglevel \"loud\"",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        (
            &["--appendfsync", "x"],
            "appendfsync \"x\"",
            "argument(s) must be one of the following: everysec, always, no",
        ),
        (&["--save", "10"], "save \"10\"", "Invalid save parameters"),
        (&["--save", "0", "1"], "save \"0\" \"1\"", "Invalid save parameters"),
        (&["--dbfilename", "a/b"], "dbfilename \"a/b\"", "dbfilename can't be a path, just a filename"),
        (&["--appendfilename", ""], "appendfilename \"\"", "appendfilename can't be empty"),
        (
            &["--notify-keyspace-events", "Q"],
            "notify-keyspace-events \"Q\"",
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
        ),
        (&["--hz", "1", "2"], "hz \"1\" \"2\"", "wrong number of arguments"),
        (&["--port"], "port", "wrong number of arguments"),
        (&["--foo", "bar"], "foo \"bar\"", "Bad directive or wrong number of arguments"),
        (&["-x"], "\"-x\"", "Bad directive or wrong number of arguments"),
        (&["-vh"], "\"-vh\"", "Bad directive or wrong number of arguments"),
        (&["--version=1"], "version=1", "Bad directive or wrong number of arguments"),
        (&["--", "5"], "\"5\"", "Bad directive or wrong number of arguments"),
        (&["--dir", "/nonexistent-ferrokv-dir"], "dir \"/nonexistent-ferrokv-dir\"", "No such file or directory"),
        (&["--dir", "/dev/null"], "dir \"/dev/null\"", "Not a directory"),
        (
            &["--bind", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17"],
            "bind \"1\" \"2\" \"3\" \"4\" \"5\" \"6\" \"7\" \"8\" \"9\" \
             \"10\" \"11\" \"12\" \"13\" \"14\" \"15\" \"16\" \"17\"",
            "Too many bind addresses specified.",
        ),
    ];
    for (args, line, error) in cases {
        assert_eq!(cli(args).unwrap_err(), fatal_at(2, line, error), "{args:?}");
    }
    // Option lines count from the top of the file.
    assert_eq!(
        cli(&["--hz", "5", "--foo", "bar", "baz"]).unwrap_err(),
        fatal_at(3, "foo \"bar\" \"baz\"", "Bad directive or wrong number of arguments")
    );
    assert_eq!(
        cli(&["--port", "1", "--version"]).unwrap_err(),
        fatal_at(3, "version", "Bad directive or wrong number of arguments")
    );
}

#[test]
fn fatal_errors_name_the_file_line() {
    let dir = TempDir::new();
    let conf = dir.file("a.conf", "port 7392\nfoo bar\n");
    assert_eq!(cli(&[&conf]).unwrap_err(), fatal_at(2, "foo bar", "Bad directive or wrong number of arguments"));
    let conf = dir.file("b.conf", "  # comment\n\n   \t\r\n\tloglevel foo  \n");
    let error = "argument(s) must be one of the following: debug, verbose, notice, warning";
    assert_eq!(cli(&[&conf]).unwrap_err(), fatal_at(4, "loglevel foo", error));
    let conf = dir.file("c.conf", "bind \"a\n");
    assert_eq!(cli(&[&conf]).unwrap_err(), fatal_at(1, "bind \"a", "Unbalanced quotes in configuration line"));
    // The options start on the line after the file's last line: one more when the file ends in "\n".
    let conf = dir.file("d.conf", "hz 5\n");
    assert_eq!(
        cli(&[&conf, "--foo", "bar"]).unwrap_err(),
        fatal_at(3, "foo \"bar\"", "Bad directive or wrong number of arguments")
    );
    let conf = dir.file("e.conf", "hz 5");
    assert_eq!(
        cli(&[&conf, "--foo", "bar"]).unwrap_err(),
        fatal_at(2, "foo \"bar\"", "Bad directive or wrong number of arguments")
    );
}

#[test]
fn unreadable_files_are_reported_like_redis() {
    let dir = TempDir::new();
    let missing = format!("{}/missing.conf", dir.path());
    let expected = format!("Fatal error, can't open config file '{missing}': No such file or directory");
    assert_eq!(cli(&[&missing]).unwrap_err(), expected);
    let including = dir.file("inc.conf", &format!("include {missing}\n"));
    assert_eq!(cli(&[&including]).unwrap_err(), expected);
}

#[test]
fn logfile_that_cannot_be_opened_is_fatal_without_a_line() {
    let expected =
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory";
    assert_eq!(cli(&["--logfile", "/nonexistent-ferrokv-dir/x.log"]).unwrap_err(), expected);
    let dir = TempDir::new();
    let config = cli(&["--dir", &dir.path(), "--logfile", "server.log"]).unwrap();
    assert_eq!(config.logfile, "server.log");
    assert!(dir.0.join("server.log").exists(), "the log file is created in `dir`");
}

#[test]
fn stdin_is_read_for_a_lone_dash() {
    let config = cli_with_stdin(&["-"], "hz 42\nport 1\n").unwrap();
    assert_eq!((config.hz, config.port), (42, 1));
    let config = cli_with_stdin(&["-", "--port", "2"], "port 1\n").unwrap();
    assert_eq!(config.port, 2);
    // Stdin comes after the file; the options after both.
    let dir = TempDir::new();
    let conf = dir.file("a.conf", "port 1\nhz 3\n");
    let config = cli_with_stdin(&[&conf, "-"], "port 2\n").unwrap();
    assert_eq!((config.port, config.hz), (2, 3));
    assert_eq!(
        cli_with_stdin(&["-", "--foo", "bar"], "hz 5\n").unwrap_err(),
        fatal_at(3, "foo \"bar\"", "Bad directive or wrong number of arguments")
    );
}

#[test]
fn include_loads_in_place_relative_to_dir_and_by_wildcard() {
    let dir = TempDir::new();
    dir.file("base.conf", "port 1111\nhz 11\n");
    let main = dir.file("main.conf", &format!("hz 5\ninclude {}/base.conf\nport 2222\n", dir.path()));
    let config = cli(&[&main]).unwrap();
    assert_eq!((config.port, config.hz), (2222, 11));
    // A relative include is taken from `dir`, where Redis would have chdir()ed.
    let main = dir.file("rel.conf", &format!("dir {}\ninclude base.conf\n", dir.path()));
    assert_eq!(cli(&[&main]).unwrap().port, 1111);
    // A wildcard includes every match in name order; no match is fine.
    std::fs::create_dir(dir.0.join("conf.d")).unwrap();
    dir.file("conf.d/b.conf", "hz 44\n");
    dir.file("conf.d/a.conf", "hz 33\nport 3333\n");
    dir.file("conf.d/.hidden.conf", "hz 99\n");
    let main = dir.file("wild.conf", &format!("include {}/conf.d/*.conf\n", dir.path()));
    let config = cli(&[&main]).unwrap();
    assert_eq!((config.port, config.hz), (3333, 44));
    let main = dir.file("none.conf", &format!("include {}/nothing.d/*.conf\nhz 12\n", dir.path()));
    assert_eq!(cli(&[&main]).unwrap().hz, 12);
    // An error inside an included file is reported with that file's line.
    dir.file("bad.conf", "\nhz abc\n");
    let main = dir.file("outer.conf", &format!("port 1\ninclude {}/bad.conf\n", dir.path()));
    assert_eq!(cli(&[&main]).unwrap_err(), fatal_at(2, "hz abc", "argument couldn't be parsed into an integer"));
}

#[test]
fn include_loops_stop_at_the_depth_cap() {
    let dir = TempDir::new();
    let conf = dir.file("self.conf", "");
    dir.file("self.conf", &format!("include {conf}\n"));
    let line = format!("include {conf}");
    assert_eq!(cli(&[&conf]).unwrap_err(), fatal_at(1, &line, "include nested more than 16 levels deep"));
}

#[test]
fn save_lines_append_and_empty_resets() {
    let dir = TempDir::new();
    let load = |text: &str| cli(&[&dir.file("s.conf", text)]).unwrap().save;
    assert_eq!(load("save 100 1\nsave 200 2\n"), vec![(100, 1), (200, 2)]);
    assert_eq!(load("save 100 1\nsave \"\"\n"), vec![]);
    assert_eq!(load("save 100 1\nsave \"\"\nsave 200 2\n"), vec![(200, 2)]);
    assert_eq!(load("save\n"), vec![]);
    assert_eq!(load("hz 5\n"), vec![(3600, 1), (300, 100), (60, 10000)]);
    // strtoll syntax: signs, leading zeros and leading spaces pass; values saturate.
    assert_eq!(load("save +1 010\n"), vec![(1, 10)]);
    assert_eq!(load("save \" 5\" 99999999999\n"), vec![(5, i32::MAX as u64)]);
    assert_eq!(load("save 99999999999999999999 1\n"), vec![(i64::MAX as u64, 1)]);
    let conf = dir.file("s.conf", "save 10 -1\n");
    assert_eq!(cli(&[&conf]).unwrap_err(), fatal_at(1, "save 10 -1", "Invalid save parameters"));
}

#[test]
fn deprecated_directives_are_ignored() {
    let dir = TempDir::new();
    let conf =
        dir.file("d.conf", "list-max-ziplist-entries 512\nLIST-MAX-ZIPLIST-VALUE 64\nlua-replicate-commands yes\n");
    assert_eq!(cli(&[&conf]).unwrap().port, 6379);
    let conf = dir.file("d.conf", "list-max-ziplist-entries 1 2\n");
    assert_eq!(
        cli(&[&conf]).unwrap_err(),
        fatal_at(1, "list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments")
    );
}

#[test]
fn dir_is_resolved_and_absolute() {
    let dir = TempDir::new();
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    let config = cli(&["--dir", &dir.path(), "--dir", "sub"]).unwrap();
    assert_eq!(config.dir, format!("{}/sub", dir.path()));
    assert_eq!(get(&config, "dir"), config.dir);
    let config = cli(&["--dir", &format!("{}/sub/..", dir.path())]).unwrap();
    assert_eq!(config.dir, dir.path());
}

#[test]
fn version_and_help_print_and_exit() {
    let outcome = |args: &[&str]| Config::from_cli_with(args.iter().map(|a| a.to_string()), || Ok(Vec::new()));
    let version = format!(
        "Redis server v=7.0.15 sha=00000000:0 malloc=libc bits=64 build=0 ferrokv={}",
        env!("CARGO_PKG_VERSION")
    );
    for args in [&["-v"][..], &["--version"], &["-v", "--port", "1"]] {
        assert!(matches!(outcome(args), Ok(CliOutcome::PrintAndExit(text)) if text == version), "{args:?}");
    }
    for args in [&["-h"][..], &["--help"]] {
        let Ok(CliOutcome::PrintAndExit(text)) = outcome(args) else { panic!("{args:?}") };
        assert!(text.starts_with("Usage: ./redis-server [/path/to/redis.conf] [options] [-]\n"));
        assert!(text.contains("./redis-server -v or --version"));
    }
}

#[test]
fn config_get_matches_patterns_once_each() {
    let config = Config::default();
    let names = |patterns: &[&str]| -> Vec<String> {
        let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
        config.get(&patterns).into_iter().map(|(name, _)| name.into_owned()).collect()
    };
    // An exact name is echoed in the caller's spelling; later duplicates (any case) are dropped.
    assert_eq!(names(&["PORT"]), ["PORT"]);
    assert_eq!(
        names(&["port", "PORT", "p*"]),
        [
            "port",
            "protected-mode",
            "pidfile",
            "proc-title-template",
            "propagation-error-behavior",
            "proto-max-bulk-len"
        ]
    );
    assert_eq!(names(&["bind", "BIND", "bi*"]), ["bind", "bind-source-addr", "bio_cpulist"]);
    assert_eq!(names(&["hash-max-ziplist-entries"]), ["hash-max-ziplist-entries"]);
    assert_eq!(names(&["nosuch", ""]), Vec::<String>::new());
    assert_eq!(names(&[]), Vec::<String>::new());
    assert_eq!(names(&["por[t]", "POR?"]), ["port"]);
    // Patterns match names and aliases, case-insensitively.
    let mut entries = names(&["*MAX-*-entries*"]);
    entries.sort();
    let expected = [
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        "set-max-intset-entries",
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
    ];
    assert_eq!(entries, expected);
    assert_eq!(names(&["*"]).len(), table::entries().filter(|(_, d)| !d.hidden).count());
    // Hidden directives answer only to their exact name.
    assert_eq!(names(&["rdb-key-save-delay"]), ["rdb-key-save-delay"]);
    assert_eq!(names(&["rdb-key-save-*"]), Vec::<String>::new());
    let found = config.get(&[b"save", b"appendonly", b"maxmemory", b"requirepass"]);
    let found: Vec<(&str, &str)> = found.iter().map(|(n, v)| (n.as_ref(), v.as_str())).collect();
    assert_eq!(
        found,
        [("save", "3600 1 300 100 60 10000"), ("appendonly", "no"), ("maxmemory", "0"), ("requirepass", "")]
    );
}

#[test]
fn config_set_changes_and_renders_like_redis() {
    let mut config = Config::default();
    let cases = [
        ("hz", "1000", "500"),
        ("hz", "0", "1"),
        ("maxmemory", "", "0"),
        ("maxmemory", "kb", "0"),
        ("maxmemory", "1KB", "1024"),
        ("maxmemory", "1g", "1000000000"),
        ("maxmemory", "0005", "5"),
        ("maxmemory", "99999999999999999999999", "18446744073709551615"),
        ("maxmemory", "18446744073709551615gb", "18446744072635809792"),
        ("proto-max-bulk-len", "2gb", "2147483648"),
        ("appendonly", "YES", "yes"),
        ("maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru"),
        ("appendfsync", "ALWAYS", "always"),
        ("save", "10 0", "10 0"),
        ("save", "1 2 3 4", "1 2 3 4"),
        ("save", "", ""),
        ("save", "10 99999999999", "10 2147483647"),
        ("save", "99999999999999999999 1", "9223372036854775807 1"),
        ("save", "+1 1", "1 1"),
        ("save", "010 1", "10 1"),
        ("notify-keyspace-events", "KEA", "AKE"),
        ("notify-keyspace-events", "", ""),
        ("bind", "127.0.0.1 ::1", "127.0.0.1 ::1"),
        ("bind", "", ""),
        ("requirepass", "a b", "a b"),
        ("list-max-ziplist-size", "-5", "-5"),
        ("slowlog-log-slower-than", "-1", "-1"),
        ("hash-max-listpack-value", "1k", "1000"),
        ("loglevel", "debug", "debug"),
    ];
    for (name, value, shown) in cases {
        set(&mut config, &[(name, value)]).unwrap_or_else(|e| panic!("{name} {value}: {e}"));
        assert_eq!(get(&config, name), shown, "{name} {value}");
    }
    assert_eq!(config.requirepass.as_deref(), Some(&b"a b"[..]));
    assert_eq!(config.loglevel, LogLevel::Debug);
    assert_eq!(config.list_max_listpack_size, -5);
    set(&mut config, &[("requirepass", "")]).unwrap();
    assert_eq!(config.requirepass, None);
}

#[test]
fn config_set_errors_are_redis_texts() {
    let mut config = Config::default();
    let before = config.clone();
    let cases = [
        (&[("foo", "bar")][..], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_string()),
        (&[("databases", "3")], set_error("databases", "can't set immutable config")),
        (&[("DataBases", "3")], set_error("DataBases", "can't set immutable config")),
        (&[("hz", "abc")], set_error("hz", "argument couldn't be parsed into an integer")),
        (&[("HZ", "abc")], set_error("hz", "argument couldn't be parsed into an integer")),
        (&[("hz", "-1")], set_error("hz", "argument must be between 0 and 2147483647 inclusive")),
        (&[("hz", "007")], set_error("hz", "argument couldn't be parsed into an integer")),
        (&[("hz", "+5")], set_error("hz", "argument couldn't be parsed into an integer")),
        (&[("hz", " 5")], set_error("hz", "argument couldn't be parsed into an integer")),
        (&[("port", "70000")], set_error("port", "argument must be between 0 and 65535 inclusive")),
        (&[("timeout", "2147483648")], set_error("timeout", "argument must be between 0 and 2147483647 inclusive")),
        (&[("maxmemory", "1x")], set_error("maxmemory", "argument must be a memory value")),
        (&[("maxmemory", "-1")], set_error("maxmemory", "argument must be a memory value")),
        (&[("maxmemory", " 5")], set_error("maxmemory", "argument must be a memory value")),
        (&[("maxmemory", "1.5mb")], set_error("maxmemory", "argument must be a memory value")),
        (
            &[("proto-max-bulk-len", "9223372036854775808")],
            set_error("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"),
        ),
        (&[("maxclients", "-1")], set_error("maxclients", "argument must be between 1 and 4294967295 inclusive")),
        (&[("maxclients", "0")], set_error("maxclients", "argument must be between 1 and 4294967295 inclusive")),
        (
            &[("slowlog-max-len", "-1")],
            set_error("slowlog-max-len", "argument must be between 0 and 9223372036854775807 inclusive"),
        ),
        (
            &[("HASH-MAX-ZIPLIST-ENTRIES", "-1")],
            set_error("hash-max-ziplist-entries", "argument must be between 0 and 9223372036854775807 inclusive"),
        ),
        (
            &[("slowlog-log-slower-than", "-2")],
            set_error("slowlog-log-slower-than", "argument must be between -1 and 9223372036854775807 inclusive"),
        ),
        (
            &[("list-max-listpack-size", "1k")],
            set_error("list-max-listpack-size", "argument couldn't be parsed into an integer"),
        ),
        (
            &[("hash-max-listpack-value", "abc")],
            set_error("hash-max-listpack-value", "argument must be a memory value"),
        ),
        (&[("appendonly", "maybe")], set_error("appendonly", "argument must be 'yes' or 'no'")),
        (
            &[("loglevel", "foo")],
            set_error("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ),
        (&[("maxmemory-policy", "foo")], set_error("maxmemory-policy", POLICY_ERROR)),
        (&[("save", "100 10 200")], set_error("save", "Invalid save parameters")),
        (&[("save", "0 10")], set_error("save", "Invalid save parameters")),
        (&[("save", "10 -1")], set_error("save", "Invalid save parameters")),
        (&[("save", "10  5")], set_error("save", "Invalid save parameters")),
        (&[("save", "10 5 ")], set_error("save", "Invalid save parameters")),
        (&[("save", "-0 1")], set_error("save", "Invalid save parameters")),
        (&[("save", " 1 1")], set_error("save", "Invalid save parameters")),
        (
            &[("notify-keyspace-events", "Q")],
            set_error("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ),
        (
            &[("bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17")],
            set_error("bind", "Too many bind addresses specified."),
        ),
        (&[("dir", "/tmp")], set_error("dir", "can't set protected config")),
        (&[("dbfilename", "x.rdb")], set_error("dbfilename", "can't set protected config")),
        (&[("appendfilename", "x")], set_error("appendfilename", "can't set immutable config")),
        (&[("pidfile", "x")], set_error("pidfile", "can't set immutable config")),
        (&[("logfile", "x")], set_error("logfile", "can't set immutable config")),
        (&[("daemonize", "no")], set_error("daemonize", "can't set immutable config")),
        (&[("hz", "5"), ("hz", "6")], set_error("hz", "duplicate parameter")),
        (&[("hz", "5"), ("HZ", "6")], set_error("HZ", "duplicate parameter")),
        (
            &[("Hash-Max-Ziplist-Entries", "5"), ("HASH-max-ziplist-entries", "6")],
            set_error("HASH-max-ziplist-entries", "duplicate parameter"),
        ),
        // The first problem in argument order wins, whatever its kind.
        (
            &[("hz", "5"), ("foo", "1"), ("databases", "2")],
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_string(),
        ),
        (&[("hz", "5"), ("databases", "2"), ("foo", "1")], set_error("databases", "can't set immutable config")),
        (&[("hz", "5"), ("databases", "2"), ("hz", "1")], set_error("databases", "can't set immutable config")),
        (&[("hz", "5"), ("port", "abc")], set_error("port", "argument couldn't be parsed into an integer")),
        (&[("maxmemory", "1MB"), ("maxmemory-policy", "foo")], set_error("maxmemory-policy", POLICY_ERROR)),
    ];
    for (pairs, error) in cases {
        assert_eq!(set(&mut config, pairs), Err(error), "{pairs:?}");
        // All or nothing: a failed CONFIG SET leaves every value as it was.
        assert_eq!(config, before, "{pairs:?}");
    }
}

#[test]
fn config_set_applies_several_pairs_together() {
    let mut config = Config::default();
    set(&mut config, &[("hz", "7"), ("maxmemory", "1mb"), ("save", "")]).unwrap();
    assert_eq!((config.hz, config.maxmemory, config.save.clone()), (7, 1 << 20, vec![]));
    // A name and its alias are different entries for Redis, so both apply, in order.
    set(&mut config, &[("hash-max-listpack-entries", "1"), ("hash-max-ziplist-entries", "2")]).unwrap();
    assert_eq!(config.hash_max_listpack_entries, 2);
    set(&mut config, &[]).unwrap();
}

#[test]
fn protected_configs_follow_enable_protected_configs() {
    let dir = TempDir::new();
    let mut config = cli(&["--enable-protected-configs", "yes"]).unwrap();
    set(&mut config, &[("dir", &dir.path()), ("dbfilename", "x.rdb")]).unwrap();
    assert_eq!((config.dir.clone(), config.dbfilename.clone()), (dir.path(), "x.rdb".to_string()));
    assert_eq!(
        set(&mut config, &[("dbfilename", "a/b")]),
        Err(set_error("dbfilename", "dbfilename can't be a path, just a filename"))
    );
    assert_eq!(
        set(&mut config, &[("dir", "/nonexistent-ferrokv-dir")]),
        Err(set_error("dir", "No such file or directory"))
    );

    let mut config = cli(&["--enable-protected-configs", "local"]).unwrap();
    assert_eq!(
        config.set_as(&[(b"dbfilename", b"y.rdb")], false),
        Err(set_error("dbfilename", "can't set protected config"))
    );
    config.set_as(&[(b"dbfilename", b"y.rdb")], true).unwrap();
    assert_eq!(config.dbfilename, "y.rdb");
    assert_eq!(get(&config, "enable-protected-configs"), "local");
}

#[test]
fn every_directive_of_debian_s_redis_conf_parses() {
    let text = include_str!("../../tests/data/debian-redis.conf");
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 71);
    for line in &lines {
        let mut config = Config::default();
        // `dir /var/lib/redis` need not exist here; every other line must load on its own.
        if !line.starts_with("dir ") {
            load::Loader::new(&mut config).load_text(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
    }
    let dir = TempDir::new();
    let whole = text.replace("dir /var/lib/redis", &format!("dir {}", dir.path()));
    let mut config = Config::default();
    load::Loader::new(&mut config).load_text(whole.as_bytes()).unwrap();
    assert_eq!(
        (config.tcp_backlog, config.daemonize, config.pidfile.as_str()),
        (511, true, "/run/redis/redis-server.pid")
    );
    assert_eq!(config.bind, ["127.0.0.1", "-::1"]);
    assert_eq!(config.client_output_buffer_limit.replica.hard_bytes, 256 << 20);
    assert_eq!(
        get(&config, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get(&config, "proc-title-template"), "{title} {listen-addr} {server-mode}");
}

#[test]
fn special_directives_parse_and_render_like_redis() {
    // (CONFIG SET value, CONFIG GET afterwards), observed on redis-server 7.0.15.
    let cases = [
        ("maxmemory-clients", "10%", "10%"),
        ("maxmemory-clients", "18446744073709551615", "1%"),
        (
            "client-output-buffer-limit",
            "replica 1kb 2mb 4294967297",
            "normal 0 0 0 slave 1024 2097152 1 pubsub 33554432 8388608 60",
        ),
        ("latency-tracking-info-percentiles", "50 99.99999999 1e1", "50 100 10"),
        ("latency-tracking-info-percentiles", "", ""),
        ("shutdown-on-sigint", "now force save", "save now force"),
        ("shutdown-on-sigint", "default now", "now"),
        ("oom-score-adj", "relative", "yes"),
        ("oom-score-adj-values", "0 100 900", "0 100 900"),
        ("proc-title-template", "x {port} {{ }", "x {port} {{ }"),
        ("lua-time-limit", "100", "100"),
    ];
    let mut config = Config::default();
    for (name, value, shown) in cases {
        set(&mut config, &[(name, value)]).unwrap_or_else(|e| panic!("{name} {value}: {e}"));
        assert_eq!(get(&config, name), shown, "{name} {value}");
    }
    assert_eq!(config.busy_reply_threshold_ms, 100);
    let errors = [
        ("maxmemory-clients", "101%", "percentage argument must be less or equal to 100"),
        ("maxmemory-clients", "-5", "argument must be a memory or percent value"),
        ("client-output-buffer-limit", "master 1 1 1", "Invalid client class specified in buffer limit configuration."),
        ("client-output-buffer-limit", "normal 1 1", "Wrong number of arguments in buffer limit configuration."),
        (
            "client-output-buffer-limit",
            "normal 0 0 -1",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "latency-tracking-info-percentiles",
            "101",
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
        ),
        ("latency-tracking-info-percentiles", "abc", "Invalid latency-tracking-info-percentiles parameters"),
        ("shutdown-on-sigint", "save nosave", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        ("shutdown-on-sigint", "", "argument(s) must be one of the following: default, save, nosave, now, force"),
        (
            "oom-score-adj-values",
            "0 200 3000",
            "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
        ),
        ("oom-score-adj-values", "0 200", "wrong number of arguments"),
        ("proc-title-template", "{title}", "template format is invalid or contains unknown variables"),
        ("proc-title-template", "{foo} x", "template format is invalid or contains unknown variables"),
        ("cluster-announce-hostname", "a_b", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        ("replicaof", "no one", "can't set immutable config"),
        ("unixsocketperm", "700", "can't set immutable config"),
    ];
    for (name, value, why) in errors {
        assert_eq!(set(&mut config, &[(name, value)]), Err(set_error(name, why)), "{name} {value}");
    }
}

#[test]
fn file_only_directives_parse_like_redis() {
    let loaded = |text: &str| cli_with_stdin(&["-"], text);
    let config = loaded("unixsocket /tmp/r.sock\nunixsocketperm 700\nslaveof 10.0.0.1 6380\n").unwrap();
    assert_eq!((config.unixsocket.as_str(), config.unixsocketperm), ("/tmp/r.sock", 0o700));
    assert_eq!(config.replicaof, Some(("10.0.0.1".to_string(), 6380)));
    assert_eq!(get(&config, "unixsocketperm"), "700");
    assert_eq!(get(&config, "replicaof"), "10.0.0.1 6380");
    assert_eq!(
        loaded("unixsocketperm 800\n").unwrap_err(),
        fatal_at(1, "unixsocketperm 800", "argument couldn't be parsed as an octal number")
    );
    assert_eq!(
        loaded("unixsocketperm 1000\n").unwrap_err(),
        fatal_at(1, "unixsocketperm 1000", "argument must be between 0 and 777 inclusive")
    );
    assert_eq!(
        loaded("replicaof host 70000\n").unwrap_err(),
        fatal_at(1, "replicaof host 70000", "Invalid master port")
    );
    assert_eq!(loaded("replicaof host\n").unwrap_err(), fatal_at(1, "replicaof host", "wrong number of arguments"));
    assert_eq!(loaded("activedefrag yes\n").unwrap_err().lines().last(), Some(ACTIVE_DEFRAG_LAST_WORDS));
    assert_eq!(
        loaded("cluster-enabled yes\nreplicaof h 1\n").unwrap_err(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nreplicaof directive not allowed in cluster mode"
    );
}

/// The end of Redis's refusal of `activedefrag yes` (a build without its own jemalloc).
const ACTIVE_DEFRAG_LAST_WORDS: &str = "Active defragmentation cannot be enabled: it requires a Redis server compiled \
                                        with a modified Jemalloc like the one shipped by default with the Redis source \
                                        distribution";
