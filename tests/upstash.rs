//! The real `@upstash/redis` npm client against the command API (`/_redis`): set, get, TTL, counters, JSON
//! values, MGET, a pipeline and an error, with the client's defaults (base64 responses, auto-pipelining)
//! and with plain responses. Runs where `node` and `npm` are installed and the npm registry answers; skips with
//! the reason otherwise (`common::skip`), except under `CI=true`, where either is a failure (`.ci/run` installs
//! node). The package is installed once
//! into cargo's per-target temp dir and reused by later runs.

mod common;

use common::TestServer;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

/// A directory holding `node_modules/@upstash/redis` and the check script, or `None` to skip.
fn prepared_dir() -> Option<PathBuf> {
    let dir = common::scratch::npm_package_dir("upstash-client", "@upstash/redis@1", "@upstash/redis")?;
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/upstash/check.mjs"), dir.join("check.mjs")).unwrap();
    Some(dir)
}

#[test]
fn upstash_client_works_against_the_command_api() {
    let Some(dir) = prepared_dir() else { return };
    let server = TestServer::ferrokv_with_http(&["--requirepass", "token-1"]);
    let url = format!("http://127.0.0.1:{}/_redis", server.http_port);
    let output = Command::new("node").args(["check.mjs", &url, "token-1"]).current_dir(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "node failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let results: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(results["set"], "OK");
    assert_eq!(results["get"], "hello");
    assert_eq!(results["ttl"], 100);
    assert_eq!(results["incr"], json!([1, 11]));
    assert_eq!(results["object"], json!({"theme": "dark", "sizes": [1, 2]}));
    assert_eq!(results["mget"], json!(["hello", null]));
    assert_eq!(results["pipeline"], json!(["OK", "v", 12, 1]));
    let error = results["error"].as_str().unwrap();
    assert!(error.contains("ERR value is not an integer or out of range"), "{error}");
    assert_eq!(results["plain"], "hello");
}
