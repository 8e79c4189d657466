//! The propagated command stream: what the AOF records (and a replica will receive): every write command
//! that changed the dataset, as Redis's `call()` and `propagatePendingCommands` produce it.
//!
//! By default a command that made `State::dirty` grow is propagated as its argv, so a new write command needs
//! nothing here. A command whose argv would not replay to the same dataset (relative expiries, random pops,
//! float increments) replaces it through `Ctx::propagate_as` (Redis's rewriteClientCommandVector) or emits
//! other commands through `Ctx::also_propagate` and `Ctx::prevent_propagation` (alsoPropagate,
//! preventCommandPropagation). Keys deleted by expiry are propagated as DEL (UNLINK under
//! `lazyfree-lazy-expire`) at the place the deletion happened.
//!
//! The commands of one execution unit (a command, EXEC with its queue, one served waiter) are collected in
//! `ops` and encoded when the unit ends, wrapped in MULTI/EXEC when there is more than one, each preceded by
//! SELECT when its database differs from the stream's. Nothing is collected while `enabled` is false (no AOF
//! and no replica), so a server without persistence pays one test per write command.
//!
//! Two consumers read the encoded units, each with its own buffer and its own selected database (Redis's
//! `aof_selected_db` and `slaveseldb`): `stream` for the AOF, `replica_stream` for the replicas
//! (`state::replication` hands it to them), so either can start afresh without disturbing the other.

use bytes::Bytes;

/// One propagated command: its database, its arguments (a range of `Propagation::args`), and whether the AOF
/// records it too (PUBLISH goes to the replicas only, Redis's PROPAGATE_REPL).
#[derive(Debug, Clone, Copy)]
struct Op {
    db: usize,
    start: usize,
    end: usize,
    to_aof: bool,
}

#[derive(Debug, Default)]
pub struct Propagation {
    /// Whether anything consumes the stream (the AOF is on, or a replica is attached).
    pub enabled: bool,
    /// The AOF is on: units are encoded into `stream`.
    pub to_aof: bool,
    /// Replicas are attached: units are encoded into `replica_stream`.
    pub to_replicas: bool,
    /// The current unit's commands, in order. Their arguments sit back to back in `args`, whose capacity is
    /// kept, so propagating costs no allocation per command in steady state.
    ops: Vec<Op>,
    args: Vec<Bytes>,
    /// What the running command propagates instead of its argv (`Ctx::propagate_as`), and whether it
    /// propagates nothing of its own (`Ctx::prevent_propagation`).
    replacement: Vec<Bytes>,
    replaced: bool,
    prevented: bool,
    /// The running command goes to the replicas even though it changed nothing (Redis's
    /// forceCommandPropagation with PROPAGATE_REPL: PUBLISH, so a replica's subscribers hear it).
    forced_to_replicas: bool,
    /// The encoded stream not yet taken by the AOF (Redis's `aof_buf`).
    pub stream: Vec<u8>,
    /// The database the stream's commands apply to (the last SELECT written), `None` when the next command
    /// must SELECT (a new incr file starts that way).
    pub stream_db: Option<usize>,
    /// The encoded stream not yet handed to the replicas (Redis's replication buffer, before it reaches them).
    pub replica_stream: Vec<u8>,
    /// `stream_db` for `replica_stream`: `None` when a replica attached and the next command must SELECT.
    pub replica_db: Option<usize>,
}

/// The shared names of the commands the stream writes itself.
pub const MULTI: &[u8] = b"MULTI";
pub const EXEC: &[u8] = b"EXEC";
pub const SELECT: &[u8] = b"SELECT";

impl Propagation {
    /// Called before each command runs: it has not rewritten or prevented anything yet.
    pub fn begin_command(&mut self) {
        self.replaced = false;
        self.prevented = false;
        self.forced_to_replicas = false;
    }

    /// Adds a command to the current unit (Redis's alsoPropagate).
    pub fn push(&mut self, db: usize, argv: impl IntoIterator<Item = Bytes>) {
        let start = self.args.len();
        self.args.extend(argv);
        self.ops.push(Op { db, start, end: self.args.len(), to_aof: true });
    }

    /// The running command propagates `argv` instead of its own.
    pub fn replace(&mut self, argv: impl IntoIterator<Item = Bytes>) {
        self.replacement.clear();
        self.replacement.extend(argv);
        self.replaced = true;
    }

    pub fn prevent(&mut self) {
        self.prevented = true;
    }

    /// The running command is propagated to the replicas (not the AOF) whether or not it changed anything.
    pub fn force_to_replicas(&mut self) {
        self.forced_to_replicas = true;
    }

    /// Called after a command ran: if it changed the dataset, adds its argv (or its replacement) to the unit,
    /// unless it prevented that (EXEC never propagates itself: its commands did). A command forced to the
    /// replicas that changed nothing goes to them alone.
    pub fn end_command(&mut self, db: usize, argv: &[Bytes], changed: bool, is_exec: bool) {
        if is_exec || self.prevented {
            return;
        }
        if !changed {
            if self.forced_to_replicas {
                let start = self.args.len();
                self.args.extend(argv.iter().cloned());
                self.ops.push(Op { db, start, end: self.args.len(), to_aof: false });
            }
            return;
        }
        if self.replaced {
            let start = self.args.len();
            self.args.append(&mut self.replacement);
            self.ops.push(Op { db, start, end: self.args.len(), to_aof: true });
        } else {
            self.push(db, argv.iter().cloned());
        }
    }

    /// Ends the execution unit: encodes its commands into `stream`, in MULTI/EXEC when there are several
    /// (a unit of one command is atomic already).
    pub fn end_unit(&mut self) {
        if self.ops.is_empty() {
            return;
        }
        // As propagatePendingCommands: MULTI and EXEC go to both consumers, counted over every op.
        let wrap = self.ops.len() > 1;
        if wrap {
            self.write(self.ops[0].db, &[Bytes::from_static(MULTI)], true);
        }
        let ops = std::mem::take(&mut self.ops);
        let args = std::mem::take(&mut self.args);
        for op in &ops {
            self.write(op.db, &args[op.start..op.end], op.to_aof);
        }
        if wrap {
            self.write(ops[ops.len() - 1].db, &[Bytes::from_static(EXEC)], true);
        }
        self.ops = ops;
        self.args = args;
        self.ops.clear();
        self.args.clear();
    }

    /// Drops the current unit unpropagated (the stream was turned off mid-unit).
    pub fn discard_unit(&mut self) {
        self.ops.clear();
        self.args.clear();
    }

    /// Encodes one command into each consumer's stream (the AOF's only if `to_aof`).
    fn write(&mut self, db: usize, argv: &[Bytes], to_aof: bool) {
        if self.to_aof && to_aof {
            write_selected(&mut self.stream, &mut self.stream_db, db, argv);
        }
        if self.to_replicas {
            write_selected(&mut self.replica_stream, &mut self.replica_db, db, argv);
        }
    }
}

/// Encodes one command into `out`, SELECTing its database first if the stream's `selected` one differs.
fn write_selected(out: &mut Vec<u8>, selected: &mut Option<usize>, db: usize, argv: &[Bytes]) {
    if *selected != Some(db) {
        let mut digits = itoa::Buffer::new();
        encode_command(out, &[SELECT, digits.format(db).as_bytes()]);
        *selected = Some(db);
    }
    encode_command(out, argv);
}

/// A constant argument of a rewritten command (`SET`, `PXAT`, ...).
pub fn arg(name: &'static [u8]) -> Bytes {
    Bytes::from_static(name)
}

/// An integer argument of a rewritten command (a deadline, a count).
pub fn int(n: i64) -> Bytes {
    Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes())
}

/// The command a deletion by expiry propagates as: UNLINK under `lazyfree-lazy-expire`, else DEL.
pub fn deletion(lazy_expire: bool) -> &'static [u8] {
    if lazy_expire { b"UNLINK" } else { b"DEL" }
}

/// Propagates the keys expiry deleted since the last call, each as DEL (UNLINK under `lazyfree-lazy-expire`),
/// in the current unit: Redis propagates a lazy expiry where it happens, before the command that looked the
/// key up.
pub fn push_expired(state: &mut super::State) {
    drain_expired(state, false);
}

/// After a command ran: the expiries it caused, then the command itself if it changed the dataset.
pub fn end_command(state: &mut super::State, db: usize, argv: &[Bytes], changed: bool, is_exec: bool) {
    push_expired(state);
    state.propagation.end_command(db, argv, changed, is_exec);
}

/// After an active expiry slice: each deleted key is a unit of its own, as Redis's activeExpireCycle
/// propagates them.
pub fn propagate_active_expiry(state: &mut super::State) {
    propagate_expired_apart(state);
}

/// The keys expiry deleted so far, each as a unit of its own: active expiry, and the stale keys SCAN and
/// RANDOMKEY met, which Redis 7.0.15 does not wrap in MULTI/EXEC either (their CMD_TOUCHES_ARBITRARY_KEYS).
/// Inside EXEC or a script that exception does not hold: the DELs stay in the surrounding unit, which
/// `end_command` adds them to, so the transaction is not cut in two.
pub fn propagate_expired_apart(state: &mut super::State) {
    if state.propagation.enabled && !state.in_exec && !state.in_script {
        drain_expired(state, true);
    }
}

fn drain_expired(state: &mut super::State, unit_each: bool) {
    let verb = deletion(state.config.lazyfree_lazy_expire);
    let propagation = &mut state.propagation;
    for (index, db) in state.keyspace.dbs.iter_mut().enumerate() {
        for key in db.expired_to_propagate.drain(..) {
            propagation.push(index, [Bytes::from_static(verb), Bytes::from(key)]);
            if unit_each {
                propagation.end_unit();
            }
        }
    }
}

/// Appends `argv` as a RESP array of bulk strings, the form of AOF files and of the replication stream.
pub fn encode_command(out: &mut Vec<u8>, argv: &[impl AsRef<[u8]>]) {
    encode_header(out, argv.len());
    for arg in argv {
        encode_bulk(out, arg.as_ref());
    }
}

/// The `*<n>` header of a command of `n` arguments.
pub fn encode_header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// One argument of a command.
pub fn encode_bulk(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(arg.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(arg);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &str) -> Vec<Bytes> {
        words.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    /// The AOF stream written so far, taken, with CRLFs as spaces.
    fn stream_of(p: &mut Propagation) -> String {
        taken_text(&mut p.stream)
    }

    fn taken_text(stream: &mut Vec<u8>) -> String {
        String::from_utf8(std::mem::take(stream)).unwrap().replace("\r\n", " ")
    }

    #[test]
    fn one_command_is_selected_and_not_wrapped() {
        let mut p = Propagation { enabled: true, to_aof: true, ..Propagation::default() };
        p.begin_command();
        p.end_command(0, &argv("set a 1"), true, false);
        p.end_unit();
        assert_eq!(stream_of(&mut p), "*2 $6 SELECT $1 0 *3 $3 set $1 a $1 1 ");
        p.begin_command();
        p.end_command(0, &argv("get a"), false, false);
        p.end_unit();
        assert_eq!(stream_of(&mut p), "");
    }

    #[test]
    fn several_commands_are_wrapped_and_select_follows_the_db() {
        let mut p = Propagation { enabled: true, to_aof: true, stream_db: Some(0), ..Propagation::default() };
        p.begin_command();
        p.end_command(0, &argv("set a 1"), true, false);
        p.begin_command();
        p.replace(argv("DEL b"));
        p.end_command(1, &argv("getdel b"), true, false);
        p.begin_command();
        p.end_command(1, &argv("exec"), true, true);
        p.end_unit();
        assert_eq!(stream_of(&mut p), "*1 $5 MULTI *3 $3 set $1 a $1 1 *2 $6 SELECT $1 1 *2 $3 DEL $1 b *1 $4 EXEC ");
    }

    #[test]
    fn a_command_forced_to_the_replicas_skips_the_aof_but_counts_for_the_wrap() {
        let mut p = Propagation { enabled: true, to_aof: true, to_replicas: true, ..Propagation::default() };
        p.begin_command();
        p.force_to_replicas();
        p.end_command(0, &argv("publish c m"), false, false);
        p.end_unit();
        assert_eq!(stream_of(&mut p), "");
        let replicas = taken_text(&mut p.replica_stream);
        assert_eq!(replicas, "*2 $6 SELECT $1 0 *3 $7 publish $1 c $1 m ");
        p.begin_command();
        p.force_to_replicas();
        p.end_command(0, &argv("publish c m"), false, false);
        p.begin_command();
        p.end_command(0, &argv("set a 1"), true, false);
        p.end_unit();
        assert_eq!(stream_of(&mut p), "*2 $6 SELECT $1 0 *1 $5 MULTI *3 $3 set $1 a $1 1 *1 $4 EXEC ");
        // A later command that is not forced is not sent on to the replicas unless it changed something.
        p.begin_command();
        p.end_command(0, &argv("get a"), false, false);
        p.end_unit();
        assert!(stream_of(&mut p).is_empty());
    }

    #[test]
    fn a_prevented_command_leaves_only_what_it_pushed() {
        let mut p = Propagation { enabled: true, to_aof: true, stream_db: Some(0), ..Propagation::default() };
        p.begin_command();
        p.push(0, argv("SREM s x"));
        p.prevent();
        p.end_command(0, &argv("spop s"), true, false);
        p.end_unit();
        assert_eq!(stream_of(&mut p), "*3 $4 SREM $1 s $1 x ");
    }
}
