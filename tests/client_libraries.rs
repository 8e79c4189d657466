//! Real client libraries' Lua scripts, unchanged, through their own packages against ferrokv: redis-py's
//! `Lock` (acquire, extend, extend with replace_ttl, reacquire, release, a foreign token refused by the
//! release and extend scripts, the context manager) and BullMQ's job queue (a Queue adds a job, a Worker
//! processes it, QueueEvents reports it done; job counts; a delayed job). BullMQ's scripts use cmsgpack,
//! redis-py's use PEXPIRE/PTTL and GET comparisons, so both exercise the engine as those users do.
//!
//! The packages are installed once into cargo's temp dir (pip into a virtualenv, npm into a scratch dir);
//! when python3, node or a registry is missing the tests skip, and under CI=true they fail instead.

mod common;

use common::TestServer;
use std::path::Path;
use std::process::Command;

fn run(program: &Path, script: &str, dir: Option<&Path>, port: u16) -> String {
    let mut command = Command::new(program);
    command.arg(script).arg(port.to_string());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.output().expect("run the client");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{script} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout.trim().to_string()
}

#[test]
fn redis_py_lock_acquires_extends_reacquires_and_releases() {
    let Some(python) = common::scratch::pip_package_venv("redis-py-venv", "redis>=5,<7", "redis") else { return };
    let server = TestServer::ferrokv(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/redis_py_lock.py");
    let got = run(&python, script, None, server.port);
    // Every check as redis-server 7.0 gives it.
    assert_eq!(
        got,
        r#"{"acquired": true, "ctx_after": 0, "ctx_locked": true, "exists_after_release": 0, "extended": true, "extended_replace": true, "other_acquired": false, "other_after": true, "other_extend": "not owned", "other_release": "not owned", "owned": true, "reacquired": true, "ttl_before": true, "ttl_extended": true, "ttl_reacquired": true, "ttl_replaced": true}"#
    );
}

#[test]
fn bullmq_worker_completes_a_job() {
    let Some(dir) = common::scratch::npm_package_dir("bullmq-client", "bullmq@5", "bullmq") else { return };
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/bullmq_job.mjs"), dir.join("job.mjs")).unwrap();
    let server = TestServer::ferrokv(&[]);
    let got = run(Path::new("node"), "job.mjs", Some(&dir), server.port);
    assert_eq!(
        got,
        r#"{"result":{"doubled":42},"state":"completed","counts":{"completed":1,"waiting":0,"active":0,"failed":0,"paused":0},"delayedState":"delayed"}"#
    );
}
