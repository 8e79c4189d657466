//! The Lua libraries Redis bundles (`cjson`, `cmsgpack`, `struct`), differentially: every script of
//! `tests/data/lua_library_scripts.txt` (scripts separated by `====` lines) runs as EVAL on ferrokv and on a
//! real redis-server, in order on one connection each (so the cjson settings scripts change carry over
//! alike), and every reply must be byte for byte the same: encodings, decoded values, and error texts with
//! their positions. Scripts that SET keys run in both servers' database 0 alike.

mod common;

use common::{TestServer, escape, require_redis};

const SCRIPTS: &str = include_str!("data/lua_library_scripts.txt");

#[test]
fn library_scripts_reply_as_redis_does() {
    let Some(redis) = require_redis() else { return };
    let subject = TestServer::subject(&[]);
    let (mut ours, mut theirs) = (subject.conn(), redis.conn());
    let scripts: Vec<&str> =
        SCRIPTS.split("\n====\n").map(|s| s.trim_matches('\n')).filter(|s| !s.is_empty()).collect();
    assert!(scripts.len() > 250, "the corpus has {} scripts", scripts.len());
    let mut mismatches = Vec::new();
    for script in &scripts {
        let argv = ["EVAL", script, "0"];
        let (got, want) = (ours.cmd(&argv), theirs.cmd(&argv));
        if got != want {
            mismatches.push(format!("{script}\n  ferrokv: {}\n  redis:   {}", escape(&got), escape(&want)));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} scripts differ:\n{}",
        mismatches.len(),
        scripts.len(),
        mismatches.join("\n")
    );
}

/// The libraries' global tables are protected like Redis's other globals, and their functions can be
/// neither replaced nor removed, from EVAL or from a function library.
#[test]
fn library_tables_are_read_only() {
    let Some(redis) = require_redis() else { return };
    let subject = TestServer::subject(&[]);
    let (mut ours, mut theirs) = (subject.conn(), redis.conn());
    for script in
        ["cjson.encode = nil", "cmsgpack.x = 1", "struct = {}", "rawset(cjson, 'x', 1)", "setmetatable(struct, {})"]
    {
        let argv = ["EVAL", script, "0"];
        let got = ours.cmd(&argv);
        assert_eq!(escape(&got), escape(&theirs.cmd(&argv)), "{script}");
        assert!(got.starts_with(b"-"), "{script} was allowed");
    }
    let library = "#!lua name=libs\nredis.register_function('j', function(keys, args) return cjson.encode(cmsgpack.unpack(cmsgpack.pack({struct.unpack('>I2', args[1])}))) end)";
    for conn in [&mut ours, &mut theirs] {
        assert_eq!(conn.cmd(&["FUNCTION", "LOAD", library]), b"$4\r\nlibs\r\n");
    }
    let argv = ["FCALL", "j", "0", "\x01\x02"];
    assert_eq!(escape(&ours.cmd(&argv)), escape(&theirs.cmd(&argv)));
    assert_eq!(ours.cmd(&argv), b"$7\r\n[258,3]\r\n");
}
