//! The Lua engine behind EVAL: one Lua 5.1 state owned by the one thread, Redis 7.0's sandbox
//! (`sandbox.lua`), the script cache by SHA-1, and the `redis` table's Rust side. It knows no command: a
//! script's `redis.call` goes to a [`Host`] the caller passes for the run (`cmd::eval` runs it through
//! `cmd::call` as a session with no connection), so this module sits below `cmd` and above `resp` only.
//!
//! Conversions between RESP and Lua are in `convert`; Redis's PRNG behind `math.random` in `rand48`; the
//! bundled libraries in `bit`, `cjson`, `msgpack` (`cmsgpack`) and `lua_struct` (`struct`), with the
//! auxiliary library's argument checks and errors they share in `lua_args`.

mod bit;
mod cjson;
mod convert;
pub mod library;
mod lua_args;
mod lua_struct;
mod msgpack;
mod rand48;
mod redis_call;

use std::cell::Cell;
use std::ffi::c_int;
use std::rc::Rc;

use bytes::Bytes;
use hashbrown::HashMap;
use mlua::{Function, Lua, StdLib, Table, Value, Variadic, ffi};
use redis_call::Bound;

use crate::resp::reply::Reply;

/// Set by SIGINT/SIGTERM (the server registers it). The loop learns of a signal only between commands, and
/// a script that never ends (or one that has written, which SCRIPT KILL cannot end) would keep the server
/// from shutting down: a hook every `HOOK_INSTRUCTIONS` instructions ends the script when the flag is set,
/// and the loop then shuts down.
pub static SHUTDOWN_SIGNALLED: std::sync::LazyLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
    std::sync::LazyLock::new(Default::default);

/// How often (in Lua instructions) a running script checks for a shutdown signal and its time limit, and,
/// once past `busy-reply-threshold`, lets the loop serve other clients (Redis's luaMaskCountHook, set with
/// the same count).
const HOOK_INSTRUCTIONS: u32 = 100_000;

/// The text of the error a script ended by SCRIPT KILL or FUNCTION KILL raises, as Redis's.
const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// The text a library's body gets past FUNCTION LOAD's time limit (`library::LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT: &str = "FUNCTION LOAD timeout";

/// What the hook knows of the code now running.
#[derive(Debug, Clone, Copy, Default)]
struct RunLimit {
    started: Option<std::time::Instant>,
    /// Past it, a script serves the loop's other clients (`Host::busy`) and a library's load fails.
    deadline: Option<std::time::Instant>,
    /// A library's body under FUNCTION LOAD, rather than a script.
    loading: bool,
    wrote: bool,
    /// The hook stopped the script: every line raises the error again until the run ends.
    stopped: bool,
}

thread_local! {
    static RUN_LIMIT: Cell<RunLimit> = const {
        Cell::new(RunLimit { started: None, deadline: None, loading: false, wrote: false, stopped: false })
    };
}

/// A script starts (its client is made) at `now`: `threshold_ms` is `busy-reply-threshold`, 0 for none.
pub fn begin_run(threshold_ms: u64, now: std::time::Instant) {
    begin(threshold_ms, false, now);
}

/// A library's body starts running under FUNCTION LOAD, which fails past `limit_ms`.
fn begin_load(limit_ms: u64) {
    begin(limit_ms, true, std::time::Instant::now());
}

fn begin(limit_ms: u64, loading: bool, now: std::time::Instant) {
    let deadline =
        Some(limit_ms).filter(|&ms| ms > 0).and_then(|ms| now.checked_add(std::time::Duration::from_millis(ms)));
    RUN_LIMIT.with(|limit| limit.set(RunLimit { started: Some(now), deadline, loading, wrote: false, stopped: false }));
}

/// The running script called a write command: SCRIPT KILL can no longer end it without breaking its
/// atomicity (Redis's SCRIPT_WRITE_DIRTY).
pub fn note_write() {
    RUN_LIMIT.with(|limit| limit.set(RunLimit { wrote: true, ..limit.get() }));
}

/// Whether the running script has called a write command yet.
pub fn wrote() -> bool {
    RUN_LIMIT.with(|limit| limit.get().wrote)
}

/// When the running script started.
pub fn run_started() -> Option<std::time::Instant> {
    RUN_LIMIT.with(|limit| limit.get().started)
}

/// The script ended.
pub fn end_run() {
    RUN_LIMIT.with(|limit| limit.set(RunLimit::default()));
}

/// Runs every `HOOK_INSTRUCTIONS` instructions. Ends the script on a shutdown signal and a library's body
/// past its limit; past `busy-reply-threshold`, a script lets the loop serve others (`hooks.busy`, bound
/// to the run's `Host`) and is ended if that ran SCRIPT KILL or FUNCTION KILL. A script it ends gets an
/// error, and from then on the hook fires on every line, as Redis's luaMaskCountHook does after SCRIPT KILL,
/// so a `pcall` that catches the error cannot keep the script alive. Installed once with the state: the
/// line hook puts it back at the first line run after the stopped run ended.
fn install_hook(lua: &Lua, bound: &Rc<Bound>) -> mlua::Result<()> {
    let bound = bound.clone();
    lua.set_hook(mlua::HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS), move |lua, _| {
        let limit = RUN_LIMIT.with(Cell::get);
        let stop = if SHUTDOWN_SIGNALLED.load(std::sync::atomic::Ordering::Relaxed) {
            "Script killed by a shutdown signal"
        } else if limit.deadline.is_none_or(|at| std::time::Instant::now() < at) {
            return Ok(mlua::VmState::Continue);
        } else if limit.loading {
            LOAD_TIMEOUT
        } else if bound.busy() {
            crate::log!(Warning, "Lua script killed by user with SCRIPT KILL.");
            KILLED
        } else {
            return Ok(mlua::VmState::Continue);
        };
        RUN_LIMIT.with(|limit| limit.set(RunLimit { stopped: true, ..limit.get() }));
        let hooks: Table = lua.named_registry_value(lua_args::HOOKS_KEY)?;
        // Once the run is over (any later code, however it is entered), the line hook gives way to this one.
        let line_hooks = hooks.clone();
        let line_bound = bound.clone();
        lua.set_hook(mlua::HookTriggers::new().every_line(), move |lua, _| {
            if RUN_LIMIT.with(Cell::get).stopped {
                return Err(raise(&line_hooks, stop));
            }
            install_hook(lua, &line_bound)?;
            Ok(mlua::VmState::Continue)
        })?;
        Err(raise(&hooks, stop))
    })
}

/// What a script's `redis.call` reaches: runs one command and gives its RESP reply.
pub trait Host {
    /// The script (`name`: its SHA-1 or the function's name) is past `busy-reply-threshold`: lets the loop
    /// serve other clients for a moment. True if one of them killed the script.
    fn busy(&mut self, name: &str) -> bool;

    /// Runs `argv` (`resp3`: the script's `redis.setresp(3)`; `propagate`: `set_repl` kept the AOF) and
    /// returns its reply bytes, or the refusal text Redis gives before running (unknown command, arity,
    /// not allowed from scripts, writes from a read-only script), without a leading `-`. Either way the host
    /// has counted the error in the error statistics.
    fn call(&mut self, argv: &[Bytes], resp3: bool, propagate: bool) -> Result<&[u8], String>;
}

/// A compiled script and its source.
#[derive(Debug)]
struct Script {
    function: Function,
    body: Bytes,
}

/// The Lua states, each created on first use, and the script cache.
#[derive(Debug, Default)]
pub struct Engine {
    /// EVAL's state; SCRIPT FLUSH drops it with the scripts, so the next script starts on a fresh one, as
    /// Redis's scriptingReset does (and whatever the old scripts left in Lua's heap goes with it).
    eval: Option<Loaded>,
    /// FUNCTION's state, apart from EVAL's as in Redis 7.0: neither sees the other's globals or garbage.
    functions: Option<Loaded>,
    scripts: HashMap<[u8; 40], Script>,
    /// FUNCTION's libraries, in load order.
    libraries: Vec<library::Library>,
}

#[derive(Debug)]
struct Loaded {
    lua: Lua,
    /// The sandbox's read-only view of the globals, the environment of every script.
    sandbox: Table,
    /// The table the sandbox and Rust share: `pending` (the error table being raised), `run`, `error_table`.
    hooks: Table,
    /// What the kept `redis.call`, `redis.pcall` and the hook reach the running script through, and the
    /// flags its `redis.setresp` and `redis.set_repl` set (read on every `redis.call`, so kept in Rust).
    bound: Rc<Bound>,
    /// `__redis__err__handler`, the message handler of every run.
    handler: Function,
    /// Runs since the collector was last stepped.
    runs: Cell<u32>,
}

/// How a run hands over KEYS and ARGV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// EVAL: as globals.
    Script,
    /// FCALL: as the function's two arguments.
    Function,
}

/// Redis's LUA_GC_CYCLE_PERIOD: the collector is stepped every this many runs, by this many kilobytes.
const GC_PERIOD: u32 = 50;

/// `redis.setresp` and `redis.set_repl`'s state for the running script.
#[derive(Debug, Default)]
struct RunFlags {
    resp3: Cell<bool>,
    repl: Cell<i64>,
}

/// The lowercase hex SHA-1 of `body`, the script's name.
pub fn sha1_hex(body: &[u8]) -> [u8; 40] {
    let mut hex = [0u8; 40];
    for (i, byte) in crate::util::sha1::sha1(body).iter().enumerate() {
        hex[2 * i] = b"0123456789abcdef"[usize::from(byte >> 4)];
        hex[2 * i + 1] = b"0123456789abcdef"[usize::from(byte & 15)];
    }
    hex
}

/// Lowercases a client-given SHA-1 (EVALSHA accepts either case), `None` if it cannot be one.
pub fn parse_sha(sha: &[u8]) -> Option<[u8; 40]> {
    let hex: [u8; 40] = sha.try_into().ok()?;
    Some(hex.map(|c| c.to_ascii_lowercase()))
}

impl Engine {
    /// Whether a script is cached (SCRIPT EXISTS, EVALSHA).
    pub fn exists(&self, sha: &[u8; 40]) -> bool {
        self.scripts.contains_key(sha)
    }

    /// How many scripts are cached (INFO's number_of_cached_scripts).
    pub fn cached(&self) -> usize {
        self.scripts.len()
    }

    /// A cached script's source.
    pub fn body(&self, sha: &[u8; 40]) -> Option<&Bytes> {
        self.scripts.get(sha).map(|s| &s.body)
    }

    /// SCRIPT FLUSH: forgets every script and EVAL's Lua state.
    pub fn flush(&mut self) {
        self.scripts.clear();
        self.eval = None;
    }

    /// Bytes of the cached scripts' source (INFO used_memory_scripts_eval).
    pub fn scripts_bytes(&self) -> usize {
        self.scripts.values().map(|s| s.body.len()).sum()
    }

    /// Bytes of the libraries' code (INFO used_memory_functions).
    pub fn functions_bytes(&self) -> usize {
        self.libraries.iter().map(|l| l.code.len()).sum()
    }

    /// Bytes EVAL's Lua state uses (INFO used_memory_lua and used_memory_vm_eval).
    pub fn memory(&self) -> usize {
        self.eval.as_ref().map_or(0, |l| l.lua.used_memory())
    }

    /// Bytes FUNCTION's Lua state uses (INFO used_memory_vm_functions).
    pub fn functions_memory(&self) -> usize {
        self.functions.as_ref().map_or(0, |l| l.lua.used_memory())
    }

    /// Compiles `code` (the script's source, its shebang line blanked) into the cache as script `sha` whose
    /// source is `body`, or gives Redis's compile error.
    pub fn load_as(&mut self, sha: [u8; 40], code: &[u8], body: Bytes) -> Result<(), String> {
        let loaded = Loaded::made(&mut self.eval)?;
        let function = loaded
            .lua
            .load(code)
            .set_name("@user_script")
            .set_environment(loaded.sandbox.clone())
            .into_function()
            .map_err(|err| format!("Error compiling script (new function): {}", lua_message(&err)))?;
        self.scripts.insert(sha, Script { function, body });
        Ok(())
    }

    /// Runs cached script `sha` with KEYS and ARGV, writing its reply (or error) into `reply`.
    pub fn run(&mut self, sha: &[u8; 40], keys: &[Bytes], args: &[Bytes], host: &mut dyn Host, reply: &mut Reply) {
        let Some(script) = self.scripts.get(sha) else { return };
        let Some(loaded) = &self.eval else { return };
        let name = std::str::from_utf8(sha).unwrap_or("");
        if let Err(err) = loaded.run(&script.function, keys, args, host, name, reply) {
            reply.error(format!("ERR Error running script {name}, {:.100}", lua_message(&err)));
        }
    }
}

/// The message of a Lua error without mlua's decoration.
fn lua_message(err: &mlua::Error) -> String {
    match err {
        mlua::Error::SyntaxError { message, .. } | mlua::Error::RuntimeError(message) => message.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        other => other.to_string(),
    }
}

impl Loaded {
    /// The state in `slot`, made now if there is none yet.
    fn made(slot: &mut Option<Loaded>) -> Result<&Loaded, String> {
        if slot.is_none() {
            *slot = Some(Loaded::new().map_err(|err| format!("Lua state failed: {err}"))?);
        }
        Ok(slot.as_ref().expect("made above"))
    }

    fn new() -> mlua::Result<Loaded> {
        let lua = Lua::new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH, Default::default())?;
        let globals = lua.globals();
        for name in ["print", "dofile", "loadfile", "getfenv", "newproxy", "module", "require", "package"] {
            globals.raw_set(name, Value::Nil)?;
        }
        let rng = Rc::new(Cell::new(rand48::INITIAL));
        register_random(&lua, &globals, &rng)?;
        bit::register(&lua, &globals)?;
        cjson::register(&lua, &globals)?;
        msgpack::register(&lua, &globals)?;
        lua_struct::register(&lua, &globals)?;
        let hooks = lua.create_table()?;
        lua.set_named_registry_value(lua_args::HOOKS_KEY, &hooks)?;
        let bound = Rc::new(Bound::default());
        install_hook(&lua, &bound)?;
        // The sandbox moves these to `redis.call` and `redis.pcall`.
        hooks.raw_set("raw_call", bound.create_call(&lua, true)?)?;
        hooks.raw_set("raw_pcall", bound.create_call(&lua, false)?)?;
        let handler_hooks = hooks.clone();
        let handler = lua.create_function(move |lua, err: Value| error_handler(lua, &handler_hooks, err))?;
        globals.raw_set("__redis__err__handler", &handler)?;
        let redis = lua.create_table()?;
        let setresp_hooks = hooks.clone();
        let setresp_flags = bound.clone();
        redis.raw_set(
            "setresp",
            lua.create_function(move |_, args: Variadic<Value>| {
                let [resp] = &args[..] else {
                    return Err(raise(&setresp_hooks, "redis.setresp() requires one argument."));
                };
                match number(resp) {
                    Some(v) if v == 2.0 || v == 3.0 => {
                        setresp_flags.flags.resp3.set(v == 3.0);
                        Ok(())
                    }
                    _ => Err(raise(&setresp_hooks, "RESP version must be 2 or 3.")),
                }
            })?,
        )?;
        let repl_hooks = hooks.clone();
        let repl_flags = bound.clone();
        redis.raw_set(
            "set_repl",
            lua.create_function(move |_, args: Variadic<Value>| {
                let [flags] = &args[..] else {
                    return Err(raise(&repl_hooks, "redis.set_repl() requires one argument."));
                };
                match number(flags) {
                    Some(v) if (0.0..=3.0).contains(&v) && v.fract() == 0.0 => {
                        repl_flags.flags.repl.set(v as i64);
                        Ok(())
                    }
                    _ => Err(raise(
                        &repl_hooks,
                        "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    )),
                }
            })?,
        )?;
        redis.raw_set("REDIS_VERSION", "7.0.15")?;
        redis.raw_set("REDIS_VERSION_NUM", 0x07000f)?;
        redis.raw_set("sha1hex", lua.create_function(sha1hex)?)?;
        redis.raw_set("log", lua.create_function(log)?)?;
        globals.raw_set("redis", redis.clone())?;
        let sandbox: Table =
            lua.load(include_str!("sandbox.lua")).set_name("=redis").call((globals.clone(), hooks.clone()))?;
        // Scripts run with the sandbox in place of the globals; stray functions created by the libraries
        // (string.gsub callbacks...) see it too.
        Ok(Loaded { lua, sandbox, hooks, bound, handler, runs: Cell::new(0) })
    }

    fn run(
        &self,
        function: &Function,
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
        name: &str,
        reply: &mut Reply,
    ) -> mlua::Result<()> {
        self.run_with(host, name, reply, || self.call(Call::Script, function, keys, args))
    }

    /// Calls a script (`Call::Script`: KEYS and ARGV become globals, as Redis's) or a function (KEYS and
    /// ARGV are its arguments) under the error handler, and gives whether it succeeded and what it returned
    /// or raised (the handler's error table). The call is made on Lua's stack directly: mlua's conversions
    /// would cost a reference slot, a clone and a drop for each string, and a call of their own for each
    /// table item. Then, as Redis's luaCallFunction, every `GC_PERIOD` runs steps the collector by
    /// `GC_PERIOD` (lua_gc's LUA_GCSTEP data), rather than leaving a full cycle to Lua, which would add
    /// latency to one unlucky script.
    fn call(&self, call: Call, function: &Function, keys: &[Bytes], args: &[Bytes]) -> mlua::Result<(bool, Value)> {
        self.lua.exec_raw_lua(|raw| {
            let state = raw.state();
            // SAFETY: `state` is the main state, which no Lua code is running on (a run is never nested in
            // another: EVAL and FCALL are `noscript`), so its stack is ours above `base`, with the room
            // checked first: the handler, the function, a key and two tables, and one string at a time.
            // The pushes raise only when Lua cannot allocate, which mlua's own unprotected fast path (no
            // memory limit, as here) takes as not happening; the call is protected (`lua_pcall`), and the
            // stack is put back to `base` on both of its outcomes. `lua_rawset` on LUA_GLOBALSINDEX sets the
            // real globals table (no metamethod runs), and `lua_gc` may run only finalizers-free collection
            // steps (no `__gc` exists in the sandbox).
            unsafe {
                if ffi::lua_checkstack(state, 6) == 0 {
                    return Err(mlua::Error::StackError);
                }
                let base = ffi::lua_gettop(state);
                raw.push(&self.handler)?;
                raw.push(function)?;
                for (name, items) in [(&b"KEYS"[..], keys), (&b"ARGV"[..], args)] {
                    if call == Call::Script {
                        ffi::lua_pushlstring_(state, name.as_ptr().cast(), name.len());
                    }
                    ffi::lua_createtable(state, c_int::try_from(items.len()).unwrap_or(0), 0);
                    for (i, item) in items.iter().enumerate() {
                        ffi::lua_pushlstring_(state, item.as_ptr().cast(), item.len());
                        ffi::lua_rawseti_(state, -2, c_int::try_from(i + 1).unwrap_or(c_int::MAX));
                    }
                    if call == Call::Script {
                        ffi::lua_rawset(state, ffi::LUA_GLOBALSINDEX);
                    }
                }
                let nargs = if call == Call::Script { 0 } else { 2 };
                let status = ffi::lua_pcall(state, nargs, 1, base + 1);
                let value = raw.pop_value();
                ffi::lua_settop(state, base);
                let runs = self.runs.get() + 1;
                self.runs.set(if runs == GC_PERIOD { 0 } else { runs });
                if runs == GC_PERIOD {
                    ffi::lua_gc(state, ffi::LUA_GCSTEP, GC_PERIOD as c_int);
                }
                Ok((status == 0, value))
            }
        })
    }

    /// Runs `invoke` (a call of a runner from sandbox.lua) with `redis.call`, `redis.pcall` and the hook
    /// bound to `host`, and writes what the script returned, or its error under `name`, into `reply`.
    fn run_with(
        &self,
        host: &mut dyn Host,
        name: &str,
        reply: &mut Reply,
        invoke: impl FnOnce() -> mlua::Result<(bool, Value)>,
    ) -> mlua::Result<()> {
        let flags = &self.bound.flags;
        flags.resp3.set(false);
        flags.repl.set(3);
        let mut run = redis_call::Run { host, name };
        let (ok, value) = {
            let _binding = self.bound.bind(&mut run);
            invoke()?
        };
        if ok {
            convert::write_reply(&value, reply, flags.resp3.get());
        } else {
            convert::write_script_error(&value, name, reply);
        }
        Ok(())
    }
}

/// The message handler of every run (Redis's `__redis__err__handler`): makes the error a table with `err`,
/// and adds the source and line of the script frame that raised it (skipping C functions and the
/// sandbox's own Lua, so `redis.call`'s errors point at the script's line).
fn error_handler(lua: &Lua, hooks: &Table, err: Value) -> mlua::Result<Table> {
    let pending: Value = hooks.raw_get("pending")?;
    hooks.raw_set("pending", Value::Nil)?;
    let table = match (err, pending) {
        (Value::Table(t), _) => t,
        (Value::Error(_), Value::Table(pending)) => pending,
        // A library's error: its text, positioned already (`lua_args::error`).
        (Value::Error(_), Value::String(text)) => {
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string([&b"ERR "[..], &text.as_bytes()].concat())?)?;
            t
        }
        (other, _) => {
            let text = match &other {
                // A Rust function's error, positioned as luaL_error positions its C functions' errors.
                Value::Error(e) => format!("{}{}", where_prefix(lua), lua_message(e)),
                v => v.to_string().unwrap_or_else(|_| "nil".into()),
            };
            let t = lua.create_table()?;
            t.raw_set("err", format!("ERR {text}"))?;
            t
        }
    };
    for level in 1..64 {
        let frame = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            let user = source.what != "C" && source.source.as_deref().is_some_and(|s| !s.starts_with("=redis"));
            user.then(|| (source.source.map(|s| s.into_owned()), debug.current_line()))
        });
        match frame {
            None => break,
            Some(None) => continue,
            Some(Some((source, line))) => {
                table.raw_set("source", source)?;
                table.raw_set("line", line.map(|l| l as i64))?;
                break;
            }
        }
    }
    Ok(table)
}

/// A Lua number, whichever way mlua hands it over.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// luaL_where(1) for an error raised in a Rust function: `user_script:<line>: ` of its Lua caller.
fn where_prefix(lua: &Lua) -> String {
    for level in 1..64 {
        let frame = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            (source.what != "C").then(|| (source.short_src.map(|s| s.into_owned()), debug.current_line()))
        });
        match frame {
            None => break,
            Some(Some((Some(src), Some(line)))) => return format!("{src}:{line}: "),
            Some(_) => continue,
        }
    }
    String::new()
}

/// Stores the Redis error table for `msg` in `hooks.pending` and gives the error that carries it up.
fn raise(hooks: &Table, msg: &str) -> mlua::Error {
    let table = hooks.raw_get::<Function>("error_table").and_then(|f| f.call::<Table>(msg));
    if let Ok(table) = table {
        let _ = hooks.raw_set("pending", table);
    }
    mlua::Error::RuntimeError(msg.into())
}

fn sha1hex(lua: &Lua, args: Variadic<Value>) -> mlua::Result<mlua::LuaString> {
    let [Value::String(s)] = &args[..] else {
        return Err(mlua::Error::RuntimeError("wrong number of arguments".into()));
    };
    lua.create_string(sha1_hex(&s.as_bytes()))
}

/// `redis.log(level, ...)`: the arguments joined by spaces, at Redis's level.
fn log(_lua: &Lua, args: Variadic<Value>) -> mlua::Result<()> {
    if args.len() < 2 {
        return Err(mlua::Error::RuntimeError("redis.log() requires two arguments or more.".into()));
    }
    let Some(level) = number(&args[0]) else {
        return Err(mlua::Error::RuntimeError("First argument must be a number".into()));
    };
    use crate::log::Level;
    let level = match level as i64 {
        0 => Level::Debug,
        1 => Level::Verbose,
        2 => Level::Notice,
        3 => Level::Warning,
        _ => return Err(mlua::Error::RuntimeError("Invalid debug level.".into())),
    };
    let mut line = String::new();
    for (i, arg) in args[1..].iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        if let Value::String(s) = arg {
            line.push_str(&s.to_string_lossy());
        } else if let Ok(s) = arg.to_string() {
            line.push_str(&s);
        }
    }
    crate::log::log(level, format_args!("{line}"));
    Ok(())
}

/// math.random and math.randomseed over Redis's rand48, so scripts get the same numbers Redis's do.
fn register_random(lua: &Lua, globals: &Table, rng: &Rc<Cell<u64>>) -> mlua::Result<()> {
    let math: Table = globals.raw_get("math")?;
    let state = rng.clone();
    math.raw_set(
        "random",
        lua.create_function(move |_, args: Variadic<f64>| {
            let r = rand48::next_unit(&state);
            match args[..] {
                [] => Ok(r),
                [upper] if upper >= 1.0 => Ok((r * upper).floor() + 1.0),
                [lower, upper] if lower <= upper => Ok((r * (upper - lower + 1.0)).floor() + lower),
                [_] | [_, _] => {
                    Err(mlua::Error::RuntimeError("bad argument #1 to 'random' (interval is empty)".into()))
                }
                _ => Err(mlua::Error::RuntimeError("wrong number of arguments".into())),
            }
        })?,
    )?;
    let state = rng.clone();
    math.raw_set(
        "randomseed",
        lua.create_function(move |_, seed: f64| {
            rand48::seed(&state, seed as i32);
            Ok(())
        })?,
    )?;
    Ok(())
}
