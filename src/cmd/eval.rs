//! EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT (Redis's `eval.c`) over the engine in `crate::scripting`.
//!
//! A script's `redis.call` runs its command through `call::execute` as a session with no connection (Redis's
//! Lua client), created for the run in the caller's database and removed after it, so it never shows in
//! CLIENT LIST. The script's writes are propagated as the commands it ran (7.0's effects replication): EVAL
//! itself is not, and the commands collect in the caller's execution unit, which wraps them in MULTI/EXEC.

use bytes::Bytes;

use super::call::{Verdict, execute_found, lookup};
use super::{CmdResult, Ctx, Handlers, errors, flag};
use crate::resp::reply::Reply;
use crate::scripting::{Host, parse_sha};
use crate::state::State;
use crate::state::busy_script::{Busy, EventPump};
use crate::state::session::{ClientId, Session};

pub const HANDLERS: &[Handlers] = &[&[
    ("eval", eval),
    ("evalsha", evalsha),
    ("eval_ro", eval_ro),
    ("evalsha_ro", evalsha_ro),
    ("script", super::admin::container),
    ("script|load", script_load),
    ("script|exists", script_exists),
    ("script|flush", script_flush),
    ("script|kill", script_kill),
    ("script|help", script_help),
]];

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn eval(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    run_script(ctx, reply, false, false)
}

fn evalsha(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    run_script(ctx, reply, true, false)
}

fn eval_ro(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    run_script(ctx, reply, false, true)
}

fn evalsha_ro(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    run_script(ctx, reply, true, true)
}

/// The numkeys split of EVAL's arguments: KEYS, then ARGV.
pub(super) fn keys_and_args(argv: &[Bytes]) -> Result<(&[Bytes], &[Bytes]), super::CmdError> {
    let numkeys = crate::util::num::parse_i64(&argv[2]).ok_or(super::CmdError::from(errors::NOT_INTEGER))?;
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let rest = &argv[3..];
    if numkeys as u64 > rest.len() as u64 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    Ok(rest.split_at(numkeys as usize))
}

/// What a script declared in its shebang (`#!lua flags=no-writes,allow-oom`); all false without one (Redis's
/// compatibility mode, where EVAL's own flags apply).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ScriptFlags {
    pub declared: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
}

impl ScriptFlags {
    /// Whether the script counts as a `denyoom` command (scriptFlagsToCmdFlags): declared, and neither
    /// read-only nor allowed to run out of memory.
    pub fn denyoom(self) -> bool {
        self.declared && !self.no_writes && !self.allow_oom
    }
}

/// Whether `argv`, an EVAL-family or FCALL-family call, runs a script declared as able to grow memory (the
/// maxmemory check refuses it as a `denyoom` command).
pub(super) fn declared_denyoom(state: &State, cmd: super::Resolved, argv: &[Bytes]) -> bool {
    declared_flags(state, cmd, argv).is_some_and(ScriptFlags::denyoom)
}

/// Whether `argv` runs a script declared without `no-writes`, which processCommand counts as a write.
pub(super) fn declared_write(state: &State, cmd: super::Resolved, argv: &[Bytes]) -> bool {
    declared_flags(state, cmd, argv).is_some_and(|script| script.declared && !script.no_writes)
}

/// Whether `argv` writes or may replicate, as CLIENT PAUSE WRITE judges it: a script that declared flags
/// writes unless it declared `no-writes`, whatever its command's flags (scriptFlagsToCmdFlags); any other
/// command by its WRITE and MAY_REPLICATE flags.
pub(crate) fn may_replicate(state: &State, cmd: super::Resolved, argv: &[Bytes]) -> bool {
    match declared_flags(state, cmd, argv) {
        Some(script) if script.declared => !script.no_writes,
        _ => cmd.spec.flags & (flag::WRITE | flag::MAY_REPLICATE) != 0,
    }
}

/// The flags the script of `argv`, an EVAL-family or FCALL-family call resolved as `cmd`, declared; `None`
/// for other commands and for scripts not known (yet).
fn declared_flags(state: &State, cmd: super::Resolved, argv: &[Bytes]) -> Option<ScriptFlags> {
    let engine = &state.scripting;
    match cmd.spec.name {
        "eval" | "eval_ro" => argv.get(1).and_then(|body| shebang_flags(body).ok()),
        "evalsha" | "evalsha_ro" => argv
            .get(1)
            .and_then(|sha| parse_sha(sha))
            .and_then(|sha| engine.body(&sha))
            .and_then(|body| shebang_flags(body).ok()),
        "fcall" | "fcall_ro" => argv.get(1).and_then(|name| engine.function(name)).map(|f| ScriptFlags {
            declared: true,
            no_writes: f.no_writes(),
            allow_oom: f.flags.iter().any(|flag| flag == "allow-oom"),
        }),
        _ => None,
    }
}

/// The code to compile for an EVAL script, and its shebang flags. Redis compiles the body with the shebang
/// line blanked, so line numbers stay.
fn shebang(body: &Bytes) -> Result<(Bytes, ScriptFlags), super::CmdError> {
    let flags = shebang_flags(body)?;
    if !flags.declared {
        return Ok((body.clone(), flags));
    }
    let mut compiled = b"--".to_vec();
    compiled.extend_from_slice(&body[2..]);
    Ok((Bytes::from(compiled), flags))
}

/// The shebang flags of an EVAL script (all false without a shebang), or Redis's refusal of its shebang.
fn shebang_flags(body: &[u8]) -> Result<ScriptFlags, super::CmdError> {
    if !body.starts_with(b"#!") {
        return Ok(ScriptFlags::default());
    }
    let end = body.iter().position(|&c| c == b'\n').unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[2..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(format!("ERR Unexpected engine in script shebang: #!{engine}").into());
    }
    let mut flags = ScriptFlags { declared: true, ..ScriptFlags::default() };
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {part}").into());
        };
        for name in list.split(',').filter(|f| !f.is_empty()) {
            match name {
                "no-writes" => flags.no_writes = true,
                "allow-oom" => flags.allow_oom = true,
                "allow-stale" | "no-cluster" | "allow-cross-slot-keys" => {}
                other => return Err(format!("ERR Unexpected flag in script shebang: {other}").into()),
            }
        }
    }
    Ok(flags)
}

fn run_script(ctx: &mut Ctx<'_>, reply: &mut Reply, by_sha: bool, read_only: bool) -> CmdResult {
    let argv = ctx.argv;
    let (keys, args) = keys_and_args(argv)?;
    let engine = &mut ctx.state.scripting;
    let (sha, flags) = if by_sha {
        // One lookup and no copy of the body: this runs for every EVALSHA.
        let sha = parse_sha(&argv[1]).ok_or(super::CmdError::from(NOSCRIPT))?;
        let body = engine.body(&sha).ok_or(super::CmdError::from(NOSCRIPT))?;
        (sha, shebang_flags(body)?)
    } else {
        let (compiled, flags) = shebang(&argv[1])?;
        let sha = crate::scripting::sha1_hex(&argv[1]);
        if !engine.exists(&sha) {
            engine.load_as(sha, &compiled, argv[1].clone()).map_err(|e| super::CmdError::from(format!("ERR {e}")))?;
        }
        (sha, flags)
    };
    let mut engine = std::mem::take(&mut ctx.state.scripting);
    let mut host = ScriptClient::new(ctx, read_only || flags.no_writes, flags.allow_oom, None);
    engine.run(&sha, keys, args, &mut host, reply);
    host.finish();
    ctx.state.scripting = engine;
    // The commands the script ran were propagated; EVAL itself is not.
    ctx.prevent_propagation();
    Ok(())
}

/// The capacity of the script client's output buffer past which a run does not hand it back for the next.
const SCRIPT_OUT_KEPT_MAX: usize = 64 * 1024;

/// The script's client: a session without a connection, for the length of one script.
pub(super) struct ScriptClient<'s> {
    state: &'s mut State,
    client: ClientId,
    read_only: bool,
    /// Declared `allow-oom`: its commands are never refused for memory.
    allow_oom: bool,
    out: Reply,
    in_exec: bool,
    in_script: bool,
    /// The client whose command runs the script, and that command (EVAL, FCALL or EXEC's).
    caller: ClientId,
    caller_argv: &'s [Bytes],
    /// The loop, when the command came from a connection: served while the script is busy.
    pump: Option<&'s mut dyn EventPump>,
    /// A function's run: the library and function counts FUNCTION STATS shows meanwhile.
    function: Option<(usize, usize)>,
}

impl<'s> ScriptClient<'s> {
    /// The client for a script `ctx`'s command runs; `function` for FCALL (see the field).
    pub(super) fn new(
        ctx: &'s mut Ctx<'_>,
        read_only: bool,
        allow_oom: bool,
        function: Option<(usize, usize)>,
    ) -> ScriptClient<'s> {
        let state = &mut *ctx.state;
        let mut session = Session::new(0, None, state.now_ms, true);
        session.db = ctx.db_index;
        let client = state.sessions.insert(session);
        // Blocking commands answer at once inside a script, as inside EXEC.
        let in_exec = std::mem::replace(&mut state.in_exec, true);
        let in_script = std::mem::replace(&mut state.in_script, true);
        // The script's start is its command's: the end of the previous command of the batch
        // (`State::last_call_end`), microseconds earlier, saves a clock read per script.
        crate::scripting::begin_run(state.config.busy_reply_threshold_ms, state.last_call_end);
        let out = std::mem::take(&mut state.script_out);
        ScriptClient {
            state,
            client,
            read_only,
            allow_oom,
            out,
            in_exec,
            in_script,
            caller: ctx.me,
            caller_argv: ctx.argv,
            pump: super::ctx::reborrow_pump(&mut ctx.pump),
            function,
        }
    }

    pub(super) fn finish(mut self) {
        // A buffer a big reply grew is let go rather than kept for the server's life.
        if self.out.buf.capacity() <= SCRIPT_OUT_KEPT_MAX {
            self.out.buf.clear();
            self.out.errors.clear();
            self.state.script_out = self.out;
        }
        self.state.in_exec = self.in_exec;
        self.state.in_script = self.in_script;
        self.state.busy = None;
        crate::scripting::end_run();
        self.state.sessions.remove(self.client);
    }

    /// The script just passed `busy-reply-threshold` (Redis's enterScriptTimedoutMode): logged, and shown to
    /// other clients' commands through `State::busy`.
    fn enter_busy(&mut self, name: &str) {
        let started = crate::scripting::run_started().unwrap_or_else(std::time::Instant::now);
        crate::log!(
            Warning,
            "Slow script detected: still in execution after {} milliseconds. You can try killing the script \
             using the {} command. Script name is: {}.",
            started.elapsed().as_millis(),
            if self.function.is_some() { "FUNCTION KILL" } else { "SCRIPT KILL" },
            name
        );
        let (libraries, functions) = self.function.unwrap_or_default();
        self.state.busy = Some(Busy {
            caller: self.caller,
            function: self.function.is_some(),
            name: name.to_string(),
            argv: self.caller_argv.to_vec(),
            started,
            killed: false,
            libraries,
            functions,
            served: false,
        });
    }
}

impl ScriptClient<'_> {
    /// Counts a command refused before it ran, as scriptCall does: an `ERR` reply in the error statistics
    /// (the text has no code of its own) and a rejected call of the command, if there is one. Returns the
    /// text for the script's error.
    fn reject(&mut self, cmd_id: Option<usize>, text: &str) -> String {
        self.out.errors.push("ERR".into());
        super::call::count_errors(self.state, &mut self.out, cmd_id, Verdict::Rejected);
        text.into()
    }
}

impl Host for ScriptClient<'_> {
    /// Redis's scriptInterrupt: the other clients' commands run as arriving commands (not inside EXEC or a
    /// script), then the script goes on unless one of them killed it.
    fn busy(&mut self, name: &str) -> bool {
        if self.pump.is_none() {
            return false;
        }
        if self.state.busy.is_none() {
            self.enter_busy(name);
        }
        let Some(pump) = self.pump.as_deref_mut() else { return false };
        let in_exec = std::mem::replace(&mut self.state.in_exec, false);
        let in_script = std::mem::replace(&mut self.state.in_script, false);
        // The script's time snapshot stays its own.
        let (now_ms, last_call_end) = (self.state.now_ms, self.state.last_call_end);
        pump.process_events_while_blocked(self.state);
        self.state.now_ms = now_ms;
        self.state.last_call_end = last_call_end;
        self.state.in_exec = in_exec;
        self.state.in_script = in_script;
        self.state.busy.as_ref().is_some_and(|busy| busy.killed)
    }

    fn call(&mut self, argv: &[Bytes], resp3: bool, propagate: bool) -> Result<&[u8], String> {
        let Ok(cmd) = lookup(argv) else {
            return Err(self.reject(None, "Unknown Redis command called from script"));
        };
        if !cmd.spec.arity_ok(argv.len()) {
            return Err(self.reject(Some(cmd.id), "Wrong number of args calling Redis command from script"));
        }
        if cmd.spec.flags & flag::NOSCRIPT != 0 && !self.state.script_disable_deny {
            return Err(self.reject(Some(cmd.id), "This Redis command is not allowed from script"));
        }
        // May-replicate commands count as writes here, so read-only scripts may run during CLIENT PAUSE WRITE.
        if self.read_only && cmd.spec.flags & (flag::WRITE | flag::MAY_REPLICATE) != 0 {
            return Err(self.reject(Some(cmd.id), "Write commands are not allowed from read-only scripts."));
        }
        self.out.buf.clear();
        self.out.resp3 = resp3;
        let refusal =
            if cmd.spec.flags & flag::WRITE != 0 { super::call::script_write_refusal(self.state) } else { None };
        let refusal = refusal.or_else(|| {
            super::evict::refuses_in_script(self.state, cmd, self.allow_oom).then(|| super::evict::OOM.into())
        });
        if let Some(err) = refusal {
            // As Redis, the refusal is the command's error reply, which redis.call raises with its own code.
            self.out.error(&err.0);
            super::call::count_errors(self.state, &mut self.out, Some(cmd.id), Verdict::Rejected);
            return Ok(&self.out.buf);
        }
        if cmd.spec.flags & flag::WRITE != 0 {
            crate::scripting::note_write();
        }
        let propagating = self.state.propagation.enabled;
        self.state.propagation.enabled = propagating && propagate;
        execute_found(self.state, self.client, cmd, argv, &mut self.out, None, None);
        self.state.propagation.enabled = propagating;
        Ok(&self.out.buf)
    }
}

fn script_load(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let body = &ctx.argv[2];
    let (compiled, _flags) = shebang(body)?;
    let sha = crate::scripting::sha1_hex(body);
    if !ctx.state.scripting.exists(&sha) {
        ctx.state
            .scripting
            .load_as(sha, &compiled, body.clone())
            .map_err(|e| super::CmdError::from(format!("ERR {e}")))?;
    }
    reply.bulk(&sha);
    Ok(())
}

fn script_exists(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let shas = &ctx.argv[2..];
    reply.array(shas.len());
    for sha in shas {
        reply.int(i64::from(parse_sha(sha).is_some_and(|sha| ctx.state.scripting.exists(&sha))));
    }
    Ok(())
}

fn script_flush(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    match &ctx.argv[2..] {
        [] => {}
        [mode] if mode.eq_ignore_ascii_case(b"async") || mode.eq_ignore_ascii_case(b"sync") => {}
        _ => return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into()),
    }
    ctx.state.scripting.flush();
    reply.ok();
    Ok(())
}

fn script_kill(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    kill(ctx, reply, false)
}

/// SCRIPT KILL and FUNCTION KILL (Redis's scriptKill): only a busy script can be running while another
/// command runs; one that wrote cannot be killed, and each command kills only its own kind.
pub(super) fn kill(ctx: &mut Ctx<'_>, reply: &mut Reply, function: bool) -> CmdResult {
    let Some(busy) = ctx.state.busy.as_mut() else { return Err("NOTBUSY No scripts in execution right now.".into()) };
    if crate::scripting::wrote() {
        return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either \
                    wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
            .into());
    }
    if busy.function != function {
        return Err(busy.error().into());
    }
    busy.killed = true;
    reply.ok();
    Ok(())
}

fn script_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::admin::reply_help(
        reply,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}
