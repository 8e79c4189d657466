//! Forked children: BGSAVE's snapshot writer (and, later, BGREWRITEAOF's), as Redis's childinfo.c and
//! server.c's fork helpers do it.
//!
//! # API
//! - `Child::fork(kind, job)` forks. The child runs `job` (which sees the parent's memory as it was at the
//!   fork, copy-on-write), writes one report line to a socket pair and leaves with `_exit`; the parent gets a
//!   `Child` at once and never waits for it.
//! - The event loop registers `Child::pipe_mut()` with its poll (READABLE) and calls `Child::read_report` when
//!   it is readable; once the child closed its end, that reaps it with a non-blocking `waitpid`.
//!   `Child::try_reap` is the cron's fallback for a child that closed the pipe before it exited.
//!   Either returns `Some(Done)` exactly once.
//! - `Child::kill` ends a child we no longer want (FLUSHALL, SHUTDOWN): SIGUSR1, then a blocking reap, which
//!   is short because the child dies at once.
//!
//! # Invariants
//! - At most one child runs at a time (`State::child` holds it), as Redis allows one fork child.
//! - The child only runs `job` and `_exit`s: no destructor, no atexit handler, no flush of the parent's
//!   buffers runs in it, and it touches no socket but its end of the pair.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::time::{Duration, Instant};

/// What a child is for; INFO and the commands that refuse to start a second child read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// BGSAVE, a `save` point, or a replica's full sync.
    Rdb,
    /// BGREWRITEAOF.
    Aof,
}

/// How a child ended, as the parent learnt it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub kind: ChildKind,
    pub pid: libc::pid_t,
    /// The job reported success and the process exited with status 0.
    pub ok: bool,
    /// The child was ended by a signal (SIGUSR1 is ours: `Child::kill`).
    pub signal: Option<i32>,
    /// Private dirty bytes of the child at the end of its job: the memory copy-on-write cost (Redis's
    /// `rdb_last_cow_size`), read from /proc/self/smaps_rollup; 0 where that file is missing.
    pub cow_bytes: u64,
    /// The job's error text, when it failed.
    pub error: Option<String>,
    pub duration: Duration,
}

/// A running fork child, owned by the parent.
#[derive(Debug)]
pub struct Child {
    pub pid: libc::pid_t,
    pub kind: ChildKind,
    pub started: Instant,
    /// How long fork(2) took in the parent (INFO `latest_fork_usec`, the `fork` latency event).
    pub fork_us: u64,
    /// The parent's end of the report pipe.
    pipe: mio::net::UnixStream,
    /// Report bytes read so far (one short line).
    report: Vec<u8>,
    /// The child closed its end of the pipe (it has written its report or died).
    pipe_closed: bool,
    /// Whether the event loop registered `pipe` with its poll yet.
    pub registered: bool,
}

/// Longest report accepted from a child; the rest is ignored (an error text is one line).
const REPORT_BYTES_MAX: usize = 4096;

impl Child {
    /// Forks a child that runs `job` and exits. `job` returns the error text on failure.
    ///
    /// The child must only do `job`'s file work: other threads (lazy free, fsync) do not exist in it, so it
    /// must not wait for them; the glibc allocator resets its locks at fork, so allocating is safe there.
    pub fn fork(kind: ChildKind, job: impl FnOnce() -> Result<(), String>) -> io::Result<Child> {
        let (parent_end, child_end) = StdUnixStream::pair()?;
        parent_end.set_nonblocking(true)?;
        let started = Instant::now();
        // SAFETY: fork(2) has no memory-safety precondition of its own; the hazard of forking a multi-threaded
        // process is a lock held by another thread at the fork, which the child would never see released. The
        // child below only runs `job` (file writes and allocations; glibc's malloc re-initialises its arenas'
        // locks in the child, and nothing else the job uses takes a process-wide lock) and then `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            drop(parent_end);
            run_child(job, child_end);
        }
        drop(child_end);
        Ok(Child {
            pid,
            kind,
            started,
            fork_us: started.elapsed().as_micros() as u64,
            pipe: mio::net::UnixStream::from_std(parent_end),
            report: Vec::new(),
            pipe_closed: false,
            registered: false,
        })
    }

    /// The pipe to register with the poll (READABLE).
    pub fn pipe_mut(&mut self) -> &mut mio::net::UnixStream {
        &mut self.pipe
    }

    /// Reads what the child wrote; once its end closed, reaps it if it has exited.
    pub fn read_report(&mut self) -> Option<Done> {
        let mut buf = [0u8; 512];
        loop {
            match self.pipe.read(&mut buf) {
                Ok(0) => {
                    self.pipe_closed = true;
                    break;
                }
                Ok(n) => {
                    let room = REPORT_BYTES_MAX.saturating_sub(self.report.len());
                    self.report.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.pipe_closed = true;
                    break;
                }
            }
        }
        if self.pipe_closed { self.try_reap() } else { None }
    }

    /// Reaps the child if it has exited (non-blocking); the cron calls it too.
    pub fn try_reap(&mut self) -> Option<Done> {
        let mut status = 0;
        // SAFETY: waitpid on our own child's pid with a valid pointer to a local int.
        let reaped = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
        if reaped == 0 {
            return None;
        }
        if !self.pipe_closed {
            // Whatever the child wrote before it exited is still in the pipe.
            self.pipe_closed = true;
            let _ = self.read_report();
        }
        Some(self.done(if reaped < 0 { None } else { Some(status) }))
    }

    /// Ends the child (SIGUSR1, as Redis's killRDBChild) and reaps it; returns how it ended.
    pub fn kill(mut self) -> Done {
        let mut status = 0;
        // SAFETY: signalling and waiting for our own child's pid, with a valid pointer to a local int.
        let reaped = unsafe {
            libc::kill(self.pid, libc::SIGUSR1);
            libc::waitpid(self.pid, &mut status, 0)
        };
        self.pipe_closed = true;
        self.done(if reaped < 0 { None } else { Some(status) })
    }

    /// The outcome from the wait status (`None`: the child could not be waited for) and the report line.
    fn done(&self, status: Option<i32>) -> Done {
        let report = String::from_utf8_lossy(&self.report);
        let mut words = report.trim_end().splitn(3, ' ');
        let reported_ok = words.next() == Some("ok");
        let cow_bytes = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        let error = words.next().map(str::to_owned);
        let signal = status.filter(|&s| libc::WIFSIGNALED(s)).map(|s| libc::WTERMSIG(s));
        let exited_ok = status.is_some_and(|s| libc::WIFEXITED(s) && libc::WEXITSTATUS(s) == 0);
        Done {
            kind: self.kind,
            pid: self.pid,
            ok: reported_ok && exited_ok,
            signal,
            cow_bytes,
            error: error.or_else(|| (!reported_ok).then(|| "child exited without a report".to_owned())),
            duration: self.started.elapsed(),
        }
    }
}

/// The child's whole life: run the job, report `ok <cow>` or `err <cow> <text>`, `_exit`.
fn run_child(job: impl FnOnce() -> Result<(), String>, mut pipe: StdUnixStream) -> ! {
    let result = job();
    let cow = private_dirty_bytes();
    let line = match &result {
        Ok(()) => format!("ok {cow}\n"),
        Err(text) => format!("err {cow} {}\n", text.replace('\n', " ")),
    };
    let _ = pipe.write_all(line.as_bytes());
    // SAFETY: _exit ends the process without running destructors or atexit handlers, which must not run in a
    // fork child (they belong to the parent's state).
    unsafe { libc::_exit(if result.is_ok() { 0 } else { 1 }) }
}

/// The process's Private_Dirty total in bytes (copy-on-write pages written since the fork, in a child).
fn private_dirty_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else { return 0 };
    text.lines()
        .filter_map(|line| line.strip_prefix("Private_Dirty:"))
        .filter_map(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (bounded) for the child's report the way the loop would, polling the pipe.
    fn wait(mut child: Child) -> Done {
        for _ in 0..500 {
            if let Some(done) = child.read_report() {
                return done;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("child did not finish");
    }

    #[test]
    fn reports_success_failure_and_kill() {
        let ok = wait(Child::fork(ChildKind::Rdb, || Ok(())).unwrap());
        assert!(ok.ok && ok.error.is_none() && ok.signal.is_none(), "{ok:?}");
        let failed = wait(Child::fork(ChildKind::Aof, || Err("disk\nfull".into())).unwrap());
        assert_eq!((failed.ok, failed.kind, failed.error.as_deref()), (false, ChildKind::Aof, Some("disk full")));
        let slow = Child::fork(ChildKind::Rdb, || {
            std::thread::sleep(Duration::from_secs(10));
            Ok(())
        })
        .unwrap();
        let killed = slow.kill();
        assert_eq!((killed.ok, killed.signal), (false, Some(libc::SIGUSR1)));
    }
}
