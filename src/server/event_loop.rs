//! The loop: `before_sleep` → poll (timeout = next timer) → readiness events → pending reads → timers.
//!
//! Timers are few and fixed, so they are fields rather than a heap: the cron (at `hz`: client timeouts, HTTP
//! idle and slow-request timeouts,
//! statistics samples, accept retries, active expiry) and extra expiry slices when the last slice ran out of
//! time. Each pass is bounded (expiry slices by `EXPIRE_SLICE_US_MAX`), so no timer stalls the loop.

use mio::Events;
use std::io;
use std::time::{Duration, Instant};

use super::{CHILD, Loop, SIGNALS, Shutdown};
use crate::clock;
use crate::db::expire::SliceEnd;
use crate::limits::{EVENTS_PER_POLL_MAX, EXPIRE_SLICE_US_MAX};
use crate::state::session::ClientId;

impl Loop<'_> {
    /// Serves until a shutdown is requested, then logs Redis's shutdown lines and returns.
    pub(super) fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(EVENTS_PER_POLL_MAX);
        loop {
            self.before_sleep();
            self.register_child();
            self.register_rdb_pipe();
            if self.state.shutdown.is_some() && self.finish_shutdown() {
                return Ok(());
            }
            self.io.turn += 1;
            let timeout = self.poll_timeout();
            if let Err(e) = self.io.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for event in events.iter() {
                self.handle_event(event);
            }
            self.process_pending_reads();
            self.run_timers();
        }
    }

    /// Acts on one readiness event: signals, the fork child's report (left to the cron while a script is busy,
    /// as Redis checks its children only in its cron), the diskless snapshot pipe, a listener, a client.
    pub(super) fn handle_event(&mut self, event: &mio::event::Event) {
        let token = event.token();
        if token == SIGNALS {
            self.signals_ready();
        } else if token == CHILD {
            if self.state.busy.is_none() {
                self.child_ready();
            }
        } else if token == super::RDB_PIPE {
            self.forward_rdb_pipe();
        } else if let Some(index) = self.listeners().index_of(token) {
            self.accept_ready(index);
        } else {
            let readable = event.is_readable() || event.is_read_closed();
            self.client_ready(ClientId(token.0), readable, event.is_writable());
        }
    }

    /// Zero when clients wait to be read again, else the time to the next timer.
    fn poll_timeout(&self) -> Duration {
        let pipe_resumes = self.state.replication.diskless.as_ref().is_some_and(|d| d.resume);
        if !self.io.pending_reads.is_empty() || pipe_resumes || self.state.eviction.continues {
            return Duration::ZERO;
        }
        let next = match self.io.next_expire_slice {
            Some(slice) => slice.min(self.io.next_cron),
            None => self.io.next_cron,
        };
        let timeout = next.saturating_duration_since(Instant::now());
        let deadline = match (self.state.blocking.next_deadline(), self.state.pausing.pause) {
            (Some(at), Some(pause)) => Some(at.min(pause.end_ms)),
            (at, pause) => at.or(pause.map(|pause| pause.end_ms)),
        };
        match deadline {
            // Block deadlines and a pause's end are wall-clock ms; wake on the millisecond so a timeout is answered on time.
            Some(at) => timeout.min(Duration::from_millis((at + 1 - clock::unix_ms()).max(0) as u64)),
            None => timeout,
        }
    }

    fn signals_ready(&mut self) {
        for signal in self.io.signals.pending() {
            let name = if signal == signal_hook::consts::SIGINT { "SIGINT" } else { "SIGTERM" };
            if self.state.shutdown.is_some() && signal == signal_hook::consts::SIGINT {
                crate::log!(Warning, "You insist... exiting now.");
                std::process::exit(1);
            }
            crate::log!(Warning, "Received {} scheduling shutdown...", name);
            self.state.shutdown = Some(Shutdown::Requested);
        }
    }

    /// Registers a child forked since the last poll, so its report wakes the loop.
    pub(super) fn register_child(&mut self) {
        if let Some(child) = self.state.persistence.child.as_mut().filter(|c| !c.registered) {
            child.registered = true;
            if let Err(e) = self.io.poll.registry().register(child.pipe_mut(), CHILD, mio::Interest::READABLE) {
                crate::log!(Warning, "Registering the child's pipe: {}", e);
            }
        }
    }

    /// The child's pipe is readable: read its report; once it has exited, act on how it ended.
    fn child_ready(&mut self) {
        let done = self.state.persistence.child.as_mut().and_then(crate::child::Child::read_report);
        if let Some(done) = done {
            self.child_finished(done);
        }
    }

    /// Redis's checkChildrenDone: the cron's check for a child whose exit the pipe did not report.
    fn reap_child(&mut self) {
        let done = self.state.persistence.child.as_mut().and_then(crate::child::Child::try_reap);
        if let Some(done) = done {
            self.child_finished(done);
        }
    }

    fn child_finished(&mut self, done: crate::child::Done) {
        if let Some(mut child) = self.state.persistence.child.take() {
            let _ = self.io.poll.registry().deregister(child.pipe_mut());
        }
        match done.kind {
            crate::child::ChildKind::Rdb => crate::persist::bgsave_done(self.state, &done),
            crate::child::ChildKind::Aof => self.aof_child_done(&done),
        }
    }

    fn run_timers(&mut self) {
        if self.state.pausing.pause.is_some_and(|pause| pause.end_ms <= clock::unix_ms()) {
            crate::cmd::conn::pause::unpause(self.state);
            self.handle_unblocked();
        }
        if self.state.blocking.next_deadline().is_some() {
            self.state.begin_batch();
            crate::cmd::blocking::expire_deadlines(self.state);
            self.handle_unblocked();
        }
        let now = Instant::now();
        if now >= self.io.next_cron && !self.state.cron_paused {
            self.cron();
            let hz = u64::from(self.state.config.hz.clamp(1, 500));
            self.io.next_cron = now + Duration::from_millis(1000 / hz);
            if self.io.next_expire_slice.is_none() {
                self.expire_slice();
            }
        }
        if self.io.next_expire_slice.is_some_and(|at| now >= at) {
            self.expire_slice();
        }
        if self.state.eviction.continues {
            // An eviction pass ran out of time with memory still over the limit: one more bounded pass per
            // turn of the loop, between clients' commands (Redis's evictionTimeProc).
            crate::cmd::evict::continue_evictions(self.state);
        }
    }

    /// Redis's serverCron, minus what later issues add: idle-client timeouts, statistics, accept retries.
    fn cron(&mut self) {
        self.reap_child();
        crate::persist::cron(self.state);
        let now_ms = clock::unix_ms();
        self.replication_cron(now_ms);
        let stats = &mut self.state.stats;
        stats.ops_samples.sample(now_ms, stats.total_commands);
        crate::util::alloc::peak_memory();
        if self.io.accept_retry {
            self.io.accept_retry = false;
            for index in 0..self.listeners().len() {
                self.accept_ready(index);
            }
        }
        let timeout_ms = self.state.config.timeout_s.saturating_mul(1000) as i64;
        if timeout_ms > 0 {
            let idle: Vec<ClientId> = self
                .state
                .sessions
                .iter()
                // As Redis's clientsCronHandleTimeout: a blocked client is not idle, its block has its own timeout;
                // a subscriber, a MONITOR or a replica waits for what others do.
                .filter(|(_, c)| c.link.is_some() && c.parked.is_none() && c.postponed.is_none())
                .filter(|(_, c)| !c.is_subscribed() && !c.monitor && !c.is_replica())
                .filter(|(_, c)| now_ms - c.last_interaction_ms > timeout_ms)
                .map(|(id, _)| id)
                .collect();
            for id in idle {
                crate::log!(Verbose, "Closing idle client");
                self.state.close_asap(id);
            }
        }
        self.http_cron(now_ms);
        // MIGRATE's connections unused for MIGRATE_SOCKET_CACHE_TTL_S (Redis checks once a second; a check per
        // cron pass closes them at the same second's boundary).
        if !self.state.migrate_sockets.is_empty() {
            self.state.migrate_sockets.close_idle(now_ms / 1000);
        }
        // As serverCron: the tracking table is brought back within tracking-table-max-keys between commands too.
        if self.state.tracking.is_active() {
            crate::cmd::tracking::limit_table(self.state);
        }
        // A client whose input is paused behind its replies runs no command, so the check after each command
        // never comes: the soft limit's seconds are judged here too.
        let backlogged: Vec<ClientId> = self
            .state
            .sessions
            .iter()
            .filter(|(_, s)| s.output_limited_bytes() > 0 && !s.close_asap)
            .map(|(id, _)| id)
            .collect();
        for id in backlogged {
            self.output_over_limit(id, now_ms);
        }
    }

    /// Closes HTTP connections past `http-idle-timeout` and sends event streams' heartbeats (see `http::cron`).
    fn http_cron(&mut self, now_ms: i64) {
        let readers = self.io.connections.iter_mut().enumerate().filter_map(|(index, conn)| match conn {
            Some(super::Connection { protocol: super::Protocol::Http(reader), .. }) => {
                Some((ClientId(index), &mut **reader))
            }
            _ => None,
        });
        let to_write = crate::http::cron(self.state, readers, now_ms);
        for id in to_write {
            self.queue_write(id);
        }
    }

    /// One bounded slice of active expiry; schedules the next one soon if it ran out of time, leaving the loop
    /// three times the slice's length for clients (about 25% of the CPU, as Redis's slow cycle allows).
    fn expire_slice(&mut self) {
        self.io.next_expire_slice = None;
        // A pause forbids the deletions (and their propagated DELs); the keys wait for its end (Redis 7.0).
        if !self.state.active_expire_enabled || self.state.pausing.pause.is_some() {
            return;
        }
        let started = Instant::now();
        let budget = Duration::from_micros(EXPIRE_SLICE_US_MAX);
        let state = &mut *self.state;
        let end = self
            .io
            .expire_cycle
            .run_slice(&mut state.keyspace, &mut state.rng, clock::unix_ms(), budget, || started.elapsed());
        crate::cmd::notify::drain_key_logs(state);
        crate::state::propagation::propagate_active_expiry(state);
        state.record_latency("expire-cycle", started.elapsed().as_micros() as u64);
        if end == SliceEnd::OutOfTime {
            self.io.next_expire_slice = Some(Instant::now() + 3 * started.elapsed());
        }
    }

    /// Redis's prepareForShutdown and finishShutdown: kill a BGSAVE child, save if asked or if save points
    /// exist, then the last replies and the exit lines. A failed save cancels the shutdown unless FORCE
    /// (false: the loop goes on).
    /// The SHUTDOWN command has done its part already (its save, so it could answer a failure).
    pub(super) fn finish_shutdown(&mut self) -> bool {
        let (save, force) = match self.state.shutdown {
            Some(Shutdown::Command { save, force }) => (save, force),
            _ => {
                crate::log!(Warning, "User requested shutdown...");
                (None, false)
            }
        };
        if self.state.persistence.rdb_child_running() {
            crate::log!(Warning, "There is a child saving an .rdb. Killing it!");
            crate::persist::kill_rdb_child(self.state);
        }
        let mut refused = crate::persist::initial_aof_blocks_shutdown(self.state, force);
        if !refused && save.unwrap_or(!self.state.config.save.is_empty()) {
            crate::log!(Notice, "Saving the final RDB snapshot before exiting.");
            refused = crate::persist::save(self.state).is_err() && !force;
            if refused {
                crate::log!(Warning, "Error trying to save the DB, can't exit.");
            }
        }
        if refused {
            crate::log!(
                Warning,
                "SIGTERM received but errors trying to shut down the server, check the logs for more information"
            );
            self.state.shutdown = None;
            return false;
        }
        self.close_aof();
        for id in self.state.sessions.ids() {
            self.write_client(id);
        }
        crate::log!(Warning, "Redis is now ready to exit, bye bye...");
        true
    }
}
