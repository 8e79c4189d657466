//! Snapshots on disk, as Redis's rdb.c drives them: SAVE (in the loop), BGSAVE (in a fork child), `save`
//! points checked from the cron, the load at startup, DEBUG RELOAD and the save at shutdown.
//!
//! A file is always written to `temp-<pid>.rdb` in `dir`, fsynced, then renamed over `dir/dbfilename`, so a
//! crash leaves the old file or the new one, never half of one. A load reads the whole file and swaps the
//! databases in only if every byte checked out.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::child::{Child, ChildKind, Done};
use crate::config::Config;
use crate::db::Db;
use crate::rdb::snapshot::{self, LoadOptions, SaveOptions};
use crate::rdb::{Limits, Options};
use crate::state::{State, replication};
use crate::types::{hash_object, set_object, zset_object};

/// After a failed BGSAVE, save points wait this long before trying again (CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_MS: i64 = 5000;

/// `dir/dbfilename`.
pub fn rdb_path(config: &Config) -> PathBuf {
    Path::new(&config.dir).join(&config.dbfilename)
}

/// The encoding thresholds loaded collections follow.
pub fn load_limits(config: &Config) -> Limits {
    Limits {
        hash: hash_object::Limits {
            entries_max: config.hash_max_listpack_entries,
            value_max: config.hash_max_listpack_value,
        },
        set: set_object::Limits { intset_entries: config.set_max_intset_entries, ..set_object::Limits::default() },
        list_fill: config.list_max_listpack_size,
        zset: zset_object::Limits {
            entries_max: config.zset_max_listpack_entries,
            value_max: config.zset_max_listpack_value,
        },
        stream: crate::types::stream_object::NodeLimits {
            max_entries: usize::try_from(config.stream_node_max_entries).unwrap_or(usize::MAX),
            max_bytes: config.stream_node_max_bytes,
        },
        deep_sanitize: config.sanitize_dump_payload == "yes",
    }
}

/// How files are written under the current config.
pub fn save_options(state: &State, aof_base: bool) -> SaveOptions {
    let config = &state.config;
    SaveOptions {
        encode: Options { compress: config.rdbcompression },
        checksum: config.rdbchecksum,
        aof_base,
        now_s: crate::clock::unix_ms() / 1000,
        used_mem: crate::util::alloc::used_memory() as u64,
        key_save_delay_us: config.rdb_key_save_delay_us,
        functions: state.scripting.libraries().iter().map(|l| l.code.clone()).collect(),
        access: snapshot::AccessRecord::of(state.eviction_policy()),
    }
}

/// Writes `dbs` to `temp-<pid>.rdb` beside `path`, fsyncs and renames it over `path` (Redis's rdbSave).
pub fn write_file(dbs: &[Db], path: &Path, opts: &SaveOptions) -> io::Result<()> {
    let tmp = temp_path(path, std::process::id());
    let result = (|| {
        let file = File::create(&tmp)?;
        let (mut file, _) = snapshot::write(file, dbs, opts)?;
        file.flush()?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            // The rename is durable only once the directory is.
            File::open(dir).and_then(|d| d.sync_all()).ok();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The temp file a save by process `pid` writes.
fn temp_path(path: &Path, pid: u32) -> PathBuf {
    path.with_file_name(format!("temp-{pid}.rdb"))
}

/// SAVE, and the saves of SHUTDOWN and DEBUG RELOAD: writes the file in the loop.
pub fn save(state: &mut State) -> Result<(), String> {
    let opts = save_options(state, false);
    let path = rdb_path(&state.config);
    match write_file(&state.keyspace.dbs, &path, &opts) {
        Ok(()) => {
            crate::log!(Notice, "DB saved on disk");
            saved(state, state.dirty, true);
            Ok(())
        }
        Err(e) => {
            crate::log!(Warning, "Failed saving the DB: {}", e);
            state.persistence.last_bgsave_ok = false;
            Err(e.to_string())
        }
    }
}

/// Records a successful save that covered the first `dirty_covered` changes.
fn saved(state: &mut State, dirty_covered: u64, ok: bool) {
    let p = &mut state.persistence;
    p.last_bgsave_ok = ok;
    if ok {
        state.dirty = state.dirty.saturating_sub(dirty_covered);
        p.last_save_s = crate::clock::unix_ms() / 1000;
        p.saves += 1;
    }
}

/// Why BGSAVE could not start.
#[derive(Debug, PartialEq, Eq)]
pub enum BgsaveRefusal {
    /// A BGSAVE child runs already.
    InProgress,
    /// Another kind of child runs.
    OtherChild,
    /// fork failed.
    Fork(String),
}

/// Starts a BGSAVE child (Redis's rdbSaveBackground).
pub fn bgsave(state: &mut State) -> Result<(), BgsaveRefusal> {
    match &state.persistence.child {
        Some(child) if child.kind == ChildKind::Rdb => return Err(BgsaveRefusal::InProgress),
        Some(_) => return Err(BgsaveRefusal::OtherChild),
        None => {}
    }
    let opts = save_options(state, false);
    let path = rdb_path(&state.config);
    state.persistence.last_bgsave_try_ms = crate::clock::unix_ms();
    let dbs = &state.keyspace.dbs;
    let forked = Child::fork(ChildKind::Rdb, || {
        write_file(dbs, &path, &opts).map_err(|e| e.to_string())?;
        crate::log::log_as('C', crate::log::Level::Notice, format_args!("DB saved on disk"));
        Ok(())
    });
    match forked {
        Ok(child) => {
            note_fork(state, child.fork_us);
            let p = &mut state.persistence;
            p.dirty_at_fork = state.dirty;
            p.bgsave_scheduled = false;
            crate::log!(Notice, "Background saving started by pid {}", child.pid);
            p.child = Some(child);
            // Replicas waiting for a snapshot take this one: it is the dataset as of now.
            replication::bgsave_forked(state);
            Ok(())
        }
        Err(e) => {
            state.persistence.last_bgsave_ok = false;
            crate::log!(Warning, "Can't save in background: fork: {}", e);
            Err(BgsaveRefusal::Fork(e.to_string()))
        }
    }
}

/// Records what a fork cost: INFO `total_forks` and `latest_fork_usec`, and the `fork` latency event.
pub fn note_fork(state: &mut State, fork_us: u64) {
    state.persistence.forks += 1;
    state.persistence.latest_fork_us = fork_us;
    let used = crate::util::alloc::used_memory() as f64;
    state.persistence.fork_rate_gb_s = used * 1e6 / fork_us.max(1) as f64 / f64::from(1u32 << 30);
    state.record_latency("fork", fork_us);
}

/// The parent's side of a BGSAVE child's end (Redis's backgroundSaveDoneHandler).
pub fn bgsave_done(state: &mut State, done: &Done) {
    if state.replication.diskless_child {
        return replication::diskless_child_ended(state, done.ok);
    }
    replication::bgsave_ended(state, done.ok, &rdb_path(&state.config));
    let p = &mut state.persistence;
    p.last_bgsave_time_s = done.duration.as_secs() as i64;
    p.last_cow_bytes = done.cow_bytes;
    if done.ok {
        crate::log!(Notice, "Background saving terminated with success");
        let covered = p.dirty_at_fork;
        saved(state, covered, true);
        return;
    }
    match done.signal {
        Some(signal) => {
            crate::log!(Warning, "Background saving terminated by signal {}", signal);
            // SIGUSR1 is ours (a kill on purpose): not an error, as Redis counts it.
            if signal != libc::SIGUSR1 {
                p.last_bgsave_ok = false;
            }
        }
        None => {
            crate::log!(Warning, "Background saving error: {}", done.error.as_deref().unwrap_or("unknown"));
            p.last_bgsave_ok = false;
        }
    }
}

/// Forks the snapshot for the replicas waiting for one: to their sockets through a pipe when
/// `repl-diskless-sync` is on and every one of them reads the EOF-marked form, else to the file (Redis's
/// startBgsaveForReplication). A failed fork closes them. Another child running, it waits for the cron.
pub fn start_sync(state: &mut State) {
    if state.persistence.child.is_some() {
        crate::log!(
            Notice,
            "No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed"
        );
        return;
    }
    let to_sockets = state.config.repl_diskless_sync && replication::waiting_all_read_eof(state);
    let target = if to_sockets { "replicas sockets" } else { "disk" };
    crate::log!(Notice, "Starting BGSAVE for SYNC with target: {}", target);
    let forked = if to_sockets { bgsave_to_pipe(state) } else { bgsave(state).map_err(|e| format!("{e:?}")) };
    if let Err(e) = forked {
        crate::log!(Warning, "BGSAVE for replication failed: {}", e);
        replication::close_waiting(state);
    }
}

/// Forks a child that writes the snapshot into a pipe the parent forwards to the replicas (Redis's
/// rdbSaveToSlavesSockets). It is no save: LASTSAVE and the changes count stay as they were.
fn bgsave_to_pipe(state: &mut State) -> Result<(), String> {
    let (reader, writer) = std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
    reader.set_nonblocking(true).map_err(|e| e.to_string())?;
    let opts = save_options(state, false);
    let dbs = &state.keyspace.dbs;
    let forked = Child::fork(ChildKind::Rdb, move || {
        let (mut out, _) = snapshot::write(writer, dbs, &opts).map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())
    });
    let child = forked.map_err(|e| format!("fork: {e}"))?;
    note_fork(state, child.fork_us);
    crate::log!(Notice, "Background RDB transfer started by pid {}", child.pid);
    state.persistence.child = Some(child);
    replication::diskless_forked(state, mio::net::UnixStream::from_std(reader));
    Ok(())
}

/// Whether a shutdown must wait for the AOF's first rewrite (CONFIG SET appendonly yes) still being written:
/// until it ends no file holds the dataset's log, so Redis refuses to exit then, or with FORCE says so and exits.
pub fn initial_aof_blocks_shutdown(state: &State, force: bool) -> bool {
    if !(state.aof.initial_rewrite && crate::aof::rewriting(state)) {
        return false;
    }
    if force {
        crate::log!(Warning, "Writing initial AOF. Exit anyway.");
        return false;
    }
    crate::log!(Warning, "Writing initial AOF, can't exit.");
    true
}

/// Kills a running BGSAVE child and removes its temp file (FLUSHALL, SHUTDOWN, DEBUG RELOAD).
pub fn kill_rdb_child(state: &mut State) {
    if !state.persistence.rdb_child_running() {
        return;
    }
    let Some(child) = state.persistence.child.take() else { return };
    let pid = child.pid as u32;
    let done = child.kill();
    let started = Instant::now();
    let _ = std::fs::remove_file(temp_path(&rdb_path(&state.config), pid));
    state.record_latency("rdb-unlink-temp-file", started.elapsed().as_micros() as u64);
    bgsave_done(state, &done);
}

/// The cron's part (serverCron): a scheduled BGSAVE once no child runs, else a `save` point that is due.
pub fn cron(state: &mut State) {
    if state.persistence.child.is_some() {
        return;
    }
    let now_ms = crate::clock::unix_ms();
    if replication::fork_due(state, now_ms) {
        start_sync(state);
        return;
    }
    let p = &state.persistence;
    let retry_ok = p.last_bgsave_ok || now_ms - p.last_bgsave_try_ms > BGSAVE_RETRY_DELAY_MS;
    if p.bgsave_scheduled && retry_ok {
        let _ = bgsave(state);
        return;
    }
    let since_s = now_ms / 1000 - p.last_save_s;
    let due = state
        .config
        .save
        .iter()
        .find(|&&(seconds, changes)| state.dirty >= changes && since_s >= seconds as i64 && retry_ok);
    if let Some(&(seconds, _)) = due {
        crate::log!(Notice, "{} changes in {} seconds. Saving...", state.dirty, seconds);
        let _ = bgsave(state);
    }
}

/// Loads `dir/dbfilename` at startup, logging as Redis does. A missing file is an empty dataset; a bad one
/// returns false with the log line already written (the caller exits, as Redis does).
pub fn load_at_startup(state: &mut State) -> bool {
    let path = rdb_path(&state.config);
    let started = Instant::now();
    match load_file(state, &path, LoadMode::Replace) {
        Ok(Ok(())) => {
            crate::log!(Notice, "DB loaded from disk: {:.3} seconds", started.elapsed().as_secs_f64());
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => {
            crate::log!(Warning, "Fatal error loading the DB: {}. Exiting.", e);
            false
        }
        Ok(Err(e)) => {
            crate::log!(Warning, "Fatal error loading the DB: {}. Exiting.", e);
            false
        }
    }
}

/// How a load meets the keys already there (DEBUG RELOAD's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// The file becomes the dataset (startup, DEBUG RELOAD).
    Replace,
    /// Keys are added; one that exists already fails the load before anything changed (NOFLUSH).
    Add,
    /// Keys are added, replacing those that exist (MERGE).
    Merge,
}

/// Loads the function libraries a file holds as Redis's rdbFunctionLoad: a full load replaces the libraries,
/// NOFLUSH fails on a library that exists, MERGE replaces it; a library that does not load fails the load.
fn load_functions(state: &mut State, codes: &[Vec<u8>], mode: LoadMode) -> Result<(), String> {
    if mode == LoadMode::Replace {
        state.scripting.flush_functions();
    }
    for code in codes {
        let code = bytes::Bytes::copy_from_slice(code);
        state
            .scripting
            .load_library(&code, mode == LoadMode::Merge)
            .map_err(|e| format!("Failed loading library: {e}"))?;
    }
    Ok(())
}

/// Loads the RDB file at `path` and, only if it is sound, applies it to the databases as `mode` says. The
/// outer error is the file's opening; the inner one what was wrong with it, as a log line.
pub fn load_file(state: &mut State, path: &Path, mode: LoadMode) -> io::Result<Result<(), String>> {
    let loaded = snapshot::load_file(path, &load_options(state))?;
    Ok(loaded.map_err(corrupt).and_then(|loaded| apply_loaded(state, loaded, mode)))
}

fn corrupt(e: crate::rdb::decode::Error) -> String {
    format!("RDB file is corrupt or truncated: {e}")
}

fn load_options(state: &State) -> LoadOptions {
    LoadOptions {
        limits: load_limits(&state.config),
        databases: state.config.databases,
        now_ms: crate::clock::unix_ms(),
        policy: state.db_policy(),
    }
}

/// Logs what a sound file held and makes it the dataset (or adds it, per `mode`).
fn apply_loaded(state: &mut State, loaded: snapshot::Loaded, mode: LoadMode) -> Result<(), String> {
    if let Some(version) = loaded.aux_field(b"redis-ver") {
        crate::log!(Notice, "Loading RDB produced by version {}", String::from_utf8_lossy(version));
    }
    if let Some(ctime) = loaded.aux_field(b"ctime").and_then(crate::util::num::parse_i64) {
        crate::log!(Notice, "RDB age {} seconds", crate::clock::unix_ms() / 1000 - ctime);
    }
    if let Some(mem) = loaded.aux_field(b"used-mem").and_then(crate::util::num::parse_i64) {
        crate::log!(Notice, "RDB memory usage when created {:.2} Mb", mem as f64 / (1024.0 * 1024.0));
    }
    crate::log!(Notice, "Done loading RDB, keys loaded: {}, keys expired: {}.", loaded.keys, loaded.expired_skipped);
    load_functions(state, &loaded.functions, mode)?;
    state.persistence.last_load_keys = loaded.keys;
    state.persistence.last_load_expired = loaded.expired_skipped;
    if mode == LoadMode::Add {
        let now_ms = crate::clock::unix_ms();
        for (db, fresh) in state.keyspace.dbs.iter_mut().zip(&loaded.dbs) {
            if let Some(entry) = fresh.entries().find(|e| db.contains(e.key(), now_ms)) {
                return Err(format!("RDB has duplicated key '{}'", String::from_utf8_lossy(entry.key())));
            }
        }
    }
    for (db, fresh) in state.keyspace.dbs.iter_mut().zip(loaded.dbs) {
        if mode == LoadMode::Replace {
            let expired_count = db.expired_count;
            *db = fresh;
            db.expired_count = expired_count;
            continue;
        }
        for entry in fresh.into_entries() {
            db.remove(&entry.key, crate::clock::unix_ms());
            db.insert_absent(&entry.key, entry.value, entry.deadline, Some(entry.access));
        }
    }
    state.configure_keyspace();
    state.eviction.pool.clear();
    Ok(())
}
