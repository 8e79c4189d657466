//! The append only file in Redis 7.0's multi-part layout: `appenddirname` holds a manifest, one base file
//! (the dataset when the log started or was last rewritten, as commands: the RDB preamble waits for the RDB
//! encoder) and the incr files that follow it, to which the propagated stream (`state::propagation`) is
//! appended.
//!
//! The event loop owns the `Aof`. In `before_sleep`, before any reply is written, `flush` writes the stream
//! gathered during the loop iteration for all clients at once, then per `appendfsync`: `always` fsyncs right
//! there (group commit: one fsync per iteration, and no reply to a write leaves before it), `everysec` hands
//! an fsync to the helper thread when the last one is a second old and done, `no` leaves it to the OS. A
//! failed write is retried next iteration and turns writes away with -MISCONF meanwhile (under `always`
//! the server exits, as Redis does, since an acknowledged write could otherwise be lost).
//!
//! A rewrite (BGREWRITEAOF, auto rewrite) opens a new incr file for the writes from then on and forks a child
//! that writes the dataset to a temp file; when the child ends well that file becomes the base, the manifest
//! is switched by an atomic rename and the old files are deleted. CONFIG SET appendonly yes is a rewrite too
//! (Redis's AOF_WAIT_REWRITE): the writes go to `temp-<appendfilename>.incr` meanwhile, the manifest on disk
//! stays what it was, and only the child's success makes the base and that file the AOF. At startup with no
//! AOF yet, the base is written in the loop before any client is served, as Redis does.

pub mod manifest;
pub mod replay;
pub mod rewrite;
mod rewrite_stream;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::rdb::snapshot::SaveOptions;
use crate::state::State;
use crate::util::strerror::strerror;
use manifest::{AofFile, Kind, Manifest};

/// How long `everysec` lets data sit unsynced at most.
const EVERYSEC: Duration = Duration::from_secs(1);
/// How long a failed first rewrite (of CONFIG SET appendonly yes) waits before the next try, so that a full
/// disk does not fork a child every loop iteration.
const REWRITE_RETRY_DELAY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Aof {
    dir: PathBuf,
    appendfilename: String,
    manifest: Manifest,
    incr: File,
    /// `incr`'s length, kept so that a write needs no fstat to know where a failed one must be cut back to.
    incr_len: u64,
    /// Turned on at runtime and waiting for its first rewrite: `incr` is the temp incr file, and `manifest`
    /// the one on disk (if any), which the rewrite's success replaces.
    waiting: bool,
    /// When a waiting AOF's rewrite last failed: the next waits `REWRITE_RETRY_DELAY`.
    last_failed: Option<Instant>,
    fsyncer: Fsyncer,
    last_fsync: Instant,
    /// Bytes written since the last fsync, to tell whether `everysec` has work.
    unsynced: bool,
}

/// The everysec helper thread: fsyncs the files sent to it, one at a time, and reports the last error.
#[derive(Debug)]
struct Fsyncer {
    queue: mpsc::Sender<File>,
    busy: Arc<AtomicBool>,
    /// errno of the last failed fsync, 0 when the last one succeeded.
    errno: Arc<AtomicI32>,
}

impl Fsyncer {
    fn start() -> io::Result<Fsyncer> {
        let (queue, jobs) = mpsc::channel::<File>();
        let busy = Arc::new(AtomicBool::new(false));
        let errno = Arc::new(AtomicI32::new(0));
        let (thread_busy, thread_errno) = (busy.clone(), errno.clone());
        std::thread::Builder::new().name("aof-fsync".into()).spawn(move || {
            for file in jobs {
                let code = file.sync_data().err().map_or(0, |e| e.raw_os_error().unwrap_or(libc::EIO));
                thread_errno.store(code, Ordering::Release);
                thread_busy.store(false, Ordering::Release);
            }
        })?;
        Ok(Fsyncer { queue, busy, errno })
    }
}

impl Aof {
    /// Opens the AOF at startup: loads it if the manifest exists, else creates an empty base, an incr file and
    /// the manifest. `Err` is the line to log before exiting.
    pub fn open_at_startup(state: &mut State) -> Result<Aof, String> {
        let dir = PathBuf::from(&state.config.appenddirname);
        let appendfilename = state.config.appendfilename.clone();
        let manifest_path = dir.join(manifest::manifest_name(&appendfilename));
        let manifest = match fs::read(&manifest_path) {
            Ok(text) => Some(Manifest::parse(&text)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("Can't open the AOF manifest file: {}", strerror(&e))),
        };
        match manifest {
            Some(mut manifest) => {
                replay::load(state, &dir, &manifest)?;
                if manifest.incrs.is_empty() {
                    // A base alone (a rewrite while the AOF was off): the writes from now on need an incr file.
                    let seq = manifest.next_incr_seq();
                    manifest.incrs.push(AofFile {
                        name: manifest::incr_name(&appendfilename, seq),
                        seq,
                        kind: Kind::Incr,
                    });
                    persist_manifest(&dir, &appendfilename, &manifest)?;
                }
                let mut aof = Aof::with_manifest(dir, appendfilename, manifest)?;
                aof.enable(state);
                Ok(aof)
            }
            None => Aof::create(state, dir, appendfilename),
        }
    }

    /// Starts the AOF on a running server (CONFIG SET appendonly yes, Redis's startAppendOnly): the writes from
    /// now on go to a temp incr file and a rewrite starts (or waits for another child to end), whose success
    /// makes the AOF (`background_rewrite_done`).
    pub fn start(state: &mut State) -> Result<Aof, String> {
        let dir = PathBuf::from(&state.config.appenddirname);
        let appendfilename = state.config.appendfilename.clone();
        create_dir(&dir)?;
        let manifest_path = dir.join(manifest::manifest_name(&appendfilename));
        let manifest = fs::read(&manifest_path).ok().and_then(|text| Manifest::parse(&text).ok()).unwrap_or_default();
        let temp = temp_incr_name(&appendfilename);
        let incr = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(dir.join(&temp))
            .map_err(|e| format!("Can't open the append-only file {temp}: {}", strerror(&e)))?;
        crate::log!(Notice, "Creating AOF incr file {temp} on background rewrite");
        let mut aof = Aof {
            dir,
            appendfilename,
            manifest,
            incr,
            incr_len: 0,
            waiting: true,
            last_failed: None,
            fsyncer: Fsyncer::start().map_err(|e| format!("Can't start the AOF fsync thread: {e}"))?,
            last_fsync: Instant::now(),
            unsynced: false,
        };
        aof.enable(state);
        state.aof.initial_rewrite = true;
        if !aof.start_background_rewrite(state) {
            crate::log!(
                Notice,
                "AOF was enabled but there is already another background operation. An AOF background was scheduled \
                 to start when possible."
            );
            state.aof.rewrite_scheduled = true;
        }
        Ok(aof)
    }

    /// BGREWRITEAOF while the AOF is off: Redis still writes the dataset as a new base of `appenddirname`
    /// (which DEBUG LOADAOF then loads); here in the loop, with a manifest naming the base alone.
    pub fn rewrite_while_off(state: &mut State) -> Result<(), String> {
        let dir = PathBuf::from(&state.config.appenddirname);
        let appendfilename = state.config.appendfilename.clone();
        create_dir(&dir)?;
        let old = fs::read(dir.join(manifest::manifest_name(&appendfilename)))
            .ok()
            .and_then(|text| Manifest::parse(&text).ok())
            .unwrap_or_default();
        let seq = old.next_base_seq();
        let base = AofFile { name: base_name_for(state, &appendfilename, seq), seq, kind: Kind::Base };
        write_base(&dir, state, &base.name)?;
        let manifest = Manifest { base: Some(base), history: Vec::new(), incrs: Vec::new() };
        persist_manifest(&dir, &appendfilename, &manifest)?;
        delete_superseded(&dir, &manifest, &appendfilename);
        state.aof.rewrites += 1;
        state.aof.last_rewrite_ok = true;
        crate::log!(Notice, "Background AOF rewrite finished successfully");
        Ok(())
    }

    fn create(state: &mut State, dir: PathBuf, appendfilename: String) -> Result<Aof, String> {
        create_dir(&dir)?;
        let manifest = new_generation(&dir, &appendfilename, &Manifest::default(), state)?;
        let base = manifest.base.as_ref().map_or("", |b| &b.name);
        crate::log!(Notice, "Creating AOF base file {base} on server start");
        let mut aof = Aof::with_manifest(dir, appendfilename, manifest)?;
        aof.enable(state);
        Ok(aof)
    }

    /// The AOF of an existing manifest, appending to its last incr file (there is one).
    fn with_manifest(dir: PathBuf, appendfilename: String, manifest: Manifest) -> Result<Aof, String> {
        let last = manifest.incrs.last().ok_or_else(|| "The AOF manifest names no incr file".to_string())?;
        let incr = open_incr(&dir.join(&last.name))?;
        let incr_len = incr.metadata().map_err(|e| strerror(&e))?.len();
        Ok(Aof {
            dir,
            appendfilename,
            manifest,
            incr,
            incr_len,
            waiting: false,
            last_failed: None,
            fsyncer: Fsyncer::start().map_err(|e| format!("Can't start the AOF fsync thread: {e}"))?,
            last_fsync: Instant::now(),
            unsynced: false,
        })
    }

    fn enable(&mut self, state: &mut State) {
        state.set_propagating(true);
        state.propagation.stream_db = None;
        state.aof.enabled = true;
        state.aof.reload = Some(reload);
        self.update_sizes(state);
    }

    /// Stops the AOF (CONFIG SET appendonly no): what is gathered is written and synced first.
    pub fn stop(mut self, state: &mut State) {
        if let Some(child) = state.persistence.child.take_if(|c| c.kind == crate::child::ChildKind::Aof) {
            crate::log!(Notice, "Killing running AOF rewrite child: {}", child.pid);
            let pid = child.pid;
            child.kill();
            let _ = fs::remove_file(rewrite_temp_path(pid));
        }
        self.flush(state, true);
        state.set_propagating(false);
        state.aof.enabled = false;
        state.aof.initial_rewrite = false;
        state.aof.write_error = None;
    }

    /// Writes the stream gathered this iteration and fsyncs per `appendfsync` (see the module header). With
    /// `force`, fsyncs whatever the policy (shutdown, CONFIG SET appendonly no).
    pub fn flush(&mut self, state: &mut State, force: bool) {
        self.check_background_fsync(state);
        if self.waiting && !rewriting(state) {
            // No rewrite child yet: the one that forks will hold these writes in its base.
            state.propagation.stream.clear();
            return;
        }
        if !state.propagation.stream.is_empty()
            && let Err(e) = self.write_stream(state)
        {
            self.write_failed(state, &e);
            return;
        }
        if !self.unsynced {
            return;
        }
        let policy = state.config.appendfsync.as_str();
        if force || policy == "always" {
            let started = Instant::now();
            let synced = self.incr.sync_data();
            if policy == "always" {
                state.record_latency("aof-fsync-always", started.elapsed().as_micros() as u64);
            }
            match synced {
                Ok(()) => self.synced(),
                Err(e) if !force => {
                    crate::log!(
                        Warning,
                        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                        strerror(&e)
                    );
                    std::process::exit(1);
                }
                Err(e) => self.write_failed(state, &e),
            }
        } else if policy == "everysec" && self.last_fsync.elapsed() >= EVERYSEC {
            self.fsync_in_background(state);
        }
    }

    fn write_stream(&mut self, state: &mut State) -> io::Result<()> {
        let started = Instant::now();
        let written = self.incr.write_all(&state.propagation.stream);
        self.note_write_latency(state, started.elapsed().as_micros() as u64);
        if let Err(e) = written {
            // Cut a partial write off, so the file never ends in half a command that a retry would follow.
            let _ = self.incr.set_len(self.incr_len);
            return Err(e);
        }
        self.incr_len += state.propagation.stream.len() as u64;
        state.aof.current_size += state.propagation.stream.len() as u64;
        state.propagation.stream.clear();
        self.unsynced = true;
        if state.aof.write_error.take().is_some() {
            crate::log!(Warning, "AOF write error looks solved, Redis can write again.");
        }
        Ok(())
    }

    /// The `aof-write` latency event, and the one of its three kinds that names what the write may have
    /// waited for: a background fsync, a child's disk traffic, or neither (as flushAppendOnlyFile splits it).
    fn note_write_latency(&self, state: &mut State, duration_us: u64) {
        let kind = if self.fsyncer.busy.load(Ordering::Acquire) {
            "aof-write-pending-fsync"
        } else if state.persistence.child.is_some() {
            "aof-write-active-child"
        } else {
            "aof-write-alone"
        };
        state.record_latency(kind, duration_us);
        state.record_latency("aof-write", duration_us);
    }

    fn write_failed(&mut self, state: &mut State, e: &io::Error) {
        if state.config.appendfsync == "always" {
            crate::log!(
                Warning,
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting... ({})",
                strerror(e)
            );
            std::process::exit(1);
        }
        if state.aof.write_error.is_none() {
            crate::log!(Warning, "Error writing to the AOF file: {}", strerror(e));
        }
        state.aof.write_error = Some(strerror(e));
    }

    fn synced(&mut self) {
        self.last_fsync = Instant::now();
        self.unsynced = false;
    }

    fn fsync_in_background(&mut self, state: &mut State) {
        if self.fsyncer.busy.load(Ordering::Acquire) {
            state.aof.delayed_fsyncs += 1;
            return;
        }
        let Ok(file) = self.incr.try_clone() else { return };
        self.fsyncer.busy.store(true, Ordering::Release);
        if self.fsyncer.queue.send(file).is_ok() {
            state.aof.fsync_in_progress = true;
            self.synced();
        }
    }

    /// Takes the helper thread's result: a failed fsync refuses writes as a failed write does.
    fn check_background_fsync(&mut self, state: &mut State) {
        if !state.aof.fsync_in_progress || self.fsyncer.busy.load(Ordering::Acquire) {
            return;
        }
        state.aof.fsync_in_progress = false;
        match self.fsyncer.errno.load(Ordering::Acquire) {
            0 => {
                if state.aof.write_error.take().is_some() {
                    crate::log!(Warning, "AOF write error looks solved, Redis can write again.");
                }
            }
            code => self.write_failed(state, &io::Error::from_raw_os_error(code)),
        }
    }

    /// Starts BGREWRITEAOF (Redis's rewriteAppendOnlyFileBackground): what is gathered is written, a new incr
    /// file is opened and added to the manifest at once, so the writes from now on go there, and a forked
    /// child writes the dataset as it is at the fork to a temp file. `background_rewrite_done` makes that the
    /// new base. False when a child (a BGSAVE) runs already: the rewrite stays scheduled.
    pub fn start_background_rewrite(&mut self, state: &mut State) -> bool {
        let retry_wait = self.last_failed.is_some_and(|at| at.elapsed() < REWRITE_RETRY_DELAY);
        if state.persistence.child.is_some() || retry_wait {
            return false;
        }
        if !self.waiting && !self.open_next_incr(state) {
            return true;
        }
        let options = crate::persist::save_options(state, true);
        let (dbs, now_ms, preamble) = (&state.keyspace.dbs, state.now_ms, state.config.aof_use_rdb_preamble);
        let forked = crate::child::Child::fork(crate::child::ChildKind::Aof, || {
            let temp = rewrite_temp_path(std::process::id() as libc::pid_t);
            write_base_file(dbs, now_ms, &temp, &options, preamble).map_err(|e| strerror(&e))
        });
        match forked {
            Ok(child) => {
                crate::log!(Notice, "Background append only file rewriting started by pid {}", child.pid);
                crate::persist::note_fork(state, child.fork_us);
                state.persistence.child = Some(child);
            }
            Err(e) => {
                crate::log!(Warning, "Can't rewrite append only file in background: fork: {}", strerror(&e));
                state.aof.last_rewrite_ok = false;
            }
        }
        true
    }

    /// Writes what is gathered, then opens the next incr file and adds it to the manifest, so the writes from
    /// now on go there; false (logged) if that failed.
    fn open_next_incr(&mut self, state: &mut State) -> bool {
        self.flush(state, true);
        let seq = self.manifest.next_incr_seq();
        let incr = AofFile { name: manifest::incr_name(&self.appendfilename, seq), seq, kind: Kind::Incr };
        let opened = open_incr(&self.dir.join(&incr.name)).and_then(|file| {
            self.manifest.incrs.push(incr);
            persist_manifest(&self.dir, &self.appendfilename, &self.manifest).inspect_err(|_| {
                self.manifest.incrs.pop();
            })?;
            Ok(file)
        });
        match opened {
            Ok(file) => {
                self.incr = file;
                self.incr_len = 0;
                self.unsynced = false;
                state.propagation.stream_db = None;
                true
            }
            Err(line) => {
                crate::log!(Warning, "{line}");
                state.aof.last_rewrite_ok = false;
                false
            }
        }
    }

    /// The parent's side of a rewrite child's end (Redis's backgroundRewriteDoneHandler): the temp file
    /// becomes the new base, the old base and the incr files before the one opened at the fork become
    /// history, the manifest is persisted, and the history files are deleted.
    pub fn background_rewrite_done(&mut self, state: &mut State, done: &crate::child::Done) {
        let temp = rewrite_temp_path(done.pid);
        state.aof.last_rewrite_time_sec = done.duration.as_secs() as i64;
        state.aof.last_cow_bytes = done.cow_bytes;
        let switched =
            if done.ok { self.switch_base(state, &temp) } else { Err(done.error.clone().unwrap_or_default()) };
        match switched {
            Ok(()) => {
                state.aof.rewrites += 1;
                state.aof.last_rewrite_ok = true;
                crate::log!(Notice, "Background AOF rewrite finished successfully");
            }
            Err(e) => {
                let _ = fs::remove_file(&temp);
                state.aof.last_rewrite_ok = false;
                crate::log!(Warning, "Background AOF rewrite failed: {e}");
                if self.waiting {
                    // The AOF is not on until a rewrite succeeds: try again, after a pause (`rewrite_due`).
                    state.aof.rewrite_scheduled = true;
                    self.last_failed = Some(Instant::now());
                }
            }
        }
        self.update_sizes(state);
    }

    /// The rewrite's file becomes the base; the incr file the writes went to during the rewrite (the one it
    /// opened, or the temp one of a start) stays, the older files become history and are deleted.
    fn switch_base(&mut self, state: &mut State, temp: &Path) -> Result<(), String> {
        let seq = self.manifest.next_base_seq();
        let base = AofFile { name: base_name_for(state, &self.appendfilename, seq), seq, kind: Kind::Base };
        self.rename_logged(state, temp, &base.name, "base")?;
        let current = if self.waiting {
            let seq = self.manifest.next_incr_seq();
            let incr = AofFile { name: manifest::incr_name(&self.appendfilename, seq), seq, kind: Kind::Incr };
            let temp_incr = self.dir.join(temp_incr_name(&self.appendfilename));
            self.rename_logged(state, &temp_incr, &incr.name, "incr")?;
            incr
        } else {
            self.manifest.incrs.pop().ok_or("the AOF manifest names no incr file")?
        };
        let old = std::mem::replace(
            &mut self.manifest,
            Manifest { base: Some(base), history: Vec::new(), incrs: vec![current] },
        );
        self.manifest.history = old
            .base
            .into_iter()
            .chain(old.history)
            .chain(old.incrs)
            .map(|f| AofFile { kind: Kind::History, ..f })
            .collect();
        persist_manifest(&self.dir, &self.appendfilename, &self.manifest)?;
        for file in std::mem::take(&mut self.manifest.history) {
            crate::log!(Notice, "Removing the history file {} in the background", file.name);
            let _ = fs::remove_file(self.dir.join(&file.name));
        }
        persist_manifest(&self.dir, &self.appendfilename, &self.manifest)?;
        self.waiting = false;
        state.aof.initial_rewrite = false;
        Ok(())
    }

    /// Renames a rewrite's temp file to `name` (the `aof-rename` latency event), logging it as Redis does.
    fn rename_logged(&self, state: &mut State, temp: &Path, name: &str, kind: &str) -> Result<(), String> {
        let started = Instant::now();
        let renamed = fs::rename(temp, self.dir.join(name));
        state.record_latency("aof-rename", started.elapsed().as_micros() as u64);
        let temp_name = temp.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match renamed {
            Ok(()) => {
                crate::log!(Notice, "Successfully renamed the temporary AOF {kind} file {temp_name} into {name}");
                Ok(())
            }
            Err(e) => Err(format!(
                "Error trying to rename the temporary AOF {kind} file {temp_name} into {name}: {}",
                strerror(&e)
            )),
        }
    }

    fn update_sizes(&self, state: &mut State) {
        let started = Instant::now();
        let size = |f: &AofFile| fs::metadata(self.dir.join(&f.name)).map_or(0, |m| m.len());
        state.aof.base_size = self.manifest.base.as_ref().map_or(0, size);
        state.aof.current_size = state.aof.base_size + self.manifest.incrs.iter().map(size).sum::<u64>();
        state.record_latency("aof-fstat", started.elapsed().as_micros() as u64);
    }

    /// Whether the log has grown enough past its base for `auto-aof-rewrite-percentage`/`-min-size`.
    pub fn wants_auto_rewrite(state: &State) -> bool {
        let (percentage, min_size) = (state.config.auto_aof_rewrite_percentage, state.config.auto_aof_rewrite_min_size);
        let (base, current) = (state.aof.base_size.max(1), state.aof.current_size);
        percentage > 0 && current > min_size && (current - base.min(current)) * 100 / base >= u64::from(percentage)
    }
}

/// Writes the dataset as the base after `old`'s, creates the incr file after `old`'s, and persists the
/// manifest naming just those two; the stream starts over with a SELECT.
fn new_generation(dir: &Path, appendfilename: &str, old: &Manifest, state: &mut State) -> Result<Manifest, String> {
    let (base_seq, incr_seq) = (old.next_base_seq(), old.next_incr_seq());
    let base = AofFile { name: base_name_for(state, appendfilename, base_seq), seq: base_seq, kind: Kind::Base };
    let incr = AofFile { name: manifest::incr_name(appendfilename, incr_seq), seq: incr_seq, kind: Kind::Incr };
    write_base(dir, state, &base.name)?;
    open_incr(&dir.join(&incr.name))?;
    let manifest = Manifest { base: Some(base), history: Vec::new(), incrs: vec![incr] };
    persist_manifest(dir, appendfilename, &manifest)?;
    state.propagation.stream_db = None;
    Ok(manifest)
}

/// The file a rewrite child writes the base to, in the working directory (`dir`) as Redis's is, named by the
/// child's pid; the parent renames it into `appenddirname`.
fn rewrite_temp_path(child_pid: libc::pid_t) -> PathBuf {
    PathBuf::from(format!("temp-rewriteaof-bg-{child_pid}.aof"))
}

/// The incr file a runtime start writes to until its first rewrite ends (Redis's temp-appendonly.aof.incr).
fn temp_incr_name(appendfilename: &str) -> String {
    format!("temp-{appendfilename}.incr")
}

/// Whether an AOF rewrite child runs.
pub fn rewriting(state: &State) -> bool {
    state.persistence.child.as_ref().is_some_and(|c| c.kind == crate::child::ChildKind::Aof)
}

fn create_dir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir)
        .map_err(|e| format!("Can't open or create append-only dir {}: {}", dir.display(), strerror(&e)))
}

fn write_base(dir: &Path, state: &State, name: &str) -> Result<(), String> {
    let options = crate::persist::save_options(state, true);
    write_base_file(&state.keyspace.dbs, state.now_ms, &dir.join(name), &options, state.config.aof_use_rdb_preamble)
        .map_err(|e| format!("Error writing the AOF base file {name}: {}", strerror(&e)))
}

/// Writes the dataset (with `options.functions`) to `path` and fsyncs it: an RDB snapshot with `preamble`,
/// else commands.
fn write_base_file(dbs: &[Db], now_ms: i64, path: &Path, options: &SaveOptions, preamble: bool) -> io::Result<()> {
    let out = io::BufWriter::new(File::create(path)?);
    let out = if preamble {
        crate::rdb::snapshot::write(out, dbs, options)?.0
    } else {
        let mut out = out;
        rewrite::write_functions(&options.functions, &mut out)?;
        rewrite::write_dataset(dbs, now_ms, &mut out)?;
        out
    };
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// The base file name a rewrite writes under the current config.
fn base_name_for(state: &State, appendfilename: &str, seq: u64) -> String {
    manifest::base_name(appendfilename, seq, state.config.aof_use_rdb_preamble)
}

/// Writes the manifest to a temp file, fsyncs it, renames it over the old one and fsyncs the directory, so a
/// crash leaves either manifest whole.
fn persist_manifest(dir: &Path, appendfilename: &str, manifest: &Manifest) -> Result<(), String> {
    let name = manifest::manifest_name(appendfilename);
    let temp = dir.join(format!("temp-{name}"));
    let result = File::create(&temp)
        .and_then(|mut f| {
            f.write_all(manifest.render().as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&temp, dir.join(&name)))
        .and_then(|()| File::open(dir)?.sync_all());
    result.map_err(|e| format!("Error writing the AOF manifest file {name}: {}", strerror(&e)))
}

/// Deletes the files of `dir` that belong to the AOF named `appendfilename` but not to `manifest` (what an
/// earlier manifest named), so a switch leaves no stale base or incr file behind.
fn delete_superseded(dir: &Path, manifest: &Manifest, appendfilename: &str) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let prefix = format!("{appendfilename}.");
    let kept: Vec<&str> = manifest.files_to_load().map(|f| f.name.as_str()).collect();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name.starts_with(&prefix) && (name.contains(".base.") || name.contains(".incr."));
        if ours && !kept.contains(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn open_incr(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("Can't open the append-only file {}: {}", path.display(), strerror(&e)))
}

/// DEBUG LOADAOF: writes out what is gathered, empties the dataset and replays the files on disk.
pub fn reload(state: &mut State) -> Result<(), String> {
    let dir = PathBuf::from(&state.config.appenddirname);
    let text = fs::read(dir.join(manifest::manifest_name(&state.config.appendfilename)))
        .map_err(|e| format!("Can't open the AOF manifest file: {}", strerror(&e)))?;
    let manifest = Manifest::parse(&text)?;
    if let Some(last) = manifest.incrs.last() {
        let mut file = open_incr(&dir.join(&last.name))?;
        file.write_all(&state.propagation.stream).and_then(|()| file.sync_data()).map_err(|e| strerror(&e))?;
        state.aof.current_size += state.propagation.stream.len() as u64;
        state.propagation.stream.clear();
    }
    for db in &mut state.keyspace.dbs {
        db.flush(false);
    }
    replay::load(state, &dir, &manifest)?;
    state.dirty = 0;
    crate::log!(Warning, "Append Only File loaded by DEBUG LOADAOF");
    Ok(())
}
