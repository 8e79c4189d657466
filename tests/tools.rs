//! Redis's own tools against ferrokv: `redis-benchmark` must run its standard tests without an error reply
//! (it exits on the first one), and `redis-cli` one-shot commands, `--scan` and `--bigkeys` must work.
//! The tools come with Debian's redis-tools; without them these tests skip, except under CI=true.

mod common;

use common::TestServer;
use std::process::{Command, Output};

/// Runs a tool, or returns None (after saying why) when it is not installed outside CI.
fn run_tool(program: &str, args: &[&str]) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(output) => Some(output),
        Err(e) => {
            common::skip(&format!("{program} is not available ({e}; apt-get install -y redis-tools)"));
            None
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn redis_benchmark_runs_the_core_tests_without_errors() {
    let server = TestServer::subject(&[]);
    let port = server.port.to_string();
    let args = ["-p", &port, "-t", "ping,set,get,incr,mset", "-n", "2000", "-c", "10", "-P", "4", "-q"];
    let Some(out) = run_tool("redis-benchmark", &args) else { return };
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "redis-benchmark failed: {stdout}{stderr}");
    assert!(!stdout.contains("Error") && !stderr.contains("Error"), "{stdout}{stderr}");
    assert!(!stderr.contains("Could not fetch server CONFIG"), "CONFIG GET save/appendonly must work: {stderr}");
    // With -q each finished test ends in a line `<NAME>: <n> requests per second` (progress lines use \r).
    let finished: Vec<&str> = stdout.split(['\r', '\n']).filter(|l| l.contains("requests per second")).collect();
    for test in ["PING_INLINE:", "PING_MBULK:", "SET:", "GET:", "INCR:", "MSET (10 keys):"] {
        assert!(finished.iter().any(|l| l.trim_start().starts_with(test)), "no result for {test}: {stdout}");
    }
}

#[test]
fn redis_cli_one_shot_scan_and_bigkeys() {
    let server = TestServer::subject(&[]);
    let port = server.port.to_string();
    let cli = |args: &[&str]| {
        let mut all = vec!["-p", port.as_str()];
        all.extend_from_slice(args);
        run_tool("redis-cli", &all)
    };
    let Some(out) = cli(&["set", "greeting", "hello world"]) else { return };
    assert_eq!(text(&out.stdout), "OK\n");
    assert_eq!(text(&cli(&["get", "greeting"]).unwrap().stdout), "hello world\n");
    assert_eq!(text(&cli(&["incrby", "n", "41"]).unwrap().stdout), "41\n");
    assert_eq!(text(&cli(&["--no-raw", "get", "missing"]).unwrap().stdout), "(nil)\n");
    let unknown = text(&cli(&["nosuchcommand", "x"]).unwrap().stdout);
    assert_eq!(unknown.trim_end(), "ERR unknown command 'nosuchcommand', with args beginning with: 'x'");
    for i in 0..50 {
        cli(&["set", &format!("user:{i}"), "v"]).unwrap();
    }
    let scanned = text(&cli(&["--scan", "--pattern", "user:*"]).unwrap().stdout);
    let mut keys: Vec<&str> = scanned.lines().collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 50, "{scanned}");
    let bigkeys = cli(&["--bigkeys"]).unwrap();
    let report = text(&bigkeys.stdout);
    assert!(bigkeys.status.success(), "{report}{}", text(&bigkeys.stderr));
    assert!(report.contains("Biggest string found '\"greeting\"' has 11 bytes"), "{report}");
    let hello = text(&cli(&["-3", "hello", "3"]).unwrap().stdout);
    assert!(hello.contains("proto") && hello.contains("3"), "{hello}");
}
