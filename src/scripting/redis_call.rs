//! `redis.call` and `redis.pcall`, and how they reach the running script's [`Host`].
//!
//! The two are C functions (`lua_call_command`) over Lua's own stack, made once with the Lua state: they
//! read their arguments where Lua holds them and build the reply's Lua values in place, where mlua's
//! conversions cost a reference slot, a clone and a drop for every argument and every value, and mlua's
//! scoped functions (what this did first) three closures, their userdata and destructors per run. They
//! reach the run through [`Bound`], which `Loaded::run_with` binds for the length of one run
//! (`Bound::bind`) and which is empty between runs, so a call made when no script runs is refused instead
//! of reaching a host that is gone. The hook's `busy` goes through the same binding.
//!
//! Arguments are copied into one arena (`CallArgs::arena`), whose block is reclaimed at the next call once
//! the command dropped its argv, so in steady state a `redis.call` allocates nothing on the Rust side.
//!
//! **Invariants:** `Bound::run` holds a pointer only while `run_with`'s frame, which owns the `&mut` it
//! came from, is on the stack; a call takes it out of the cell while it uses it, so two `&mut` to the host
//! never exist at once (a nested call finds the cell empty). The C functions raise (`lua_error`, a
//! longjmp) only from their own frame, once everything with a destructor is dropped; the pushes before it
//! raise only when Lua cannot allocate, which mlua's own unprotected fast path (no memory limit set, as
//! here) takes as not happening either.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::ptr::NonNull;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use mlua::{Function, Lua, ffi};

use super::{Host, RunFlags, convert};

/// The run a script's calls reach: its host and its name (the SHA-1 or the function's name).
pub(super) struct Run<'a> {
    pub host: &'a mut dyn Host,
    pub name: &'a str,
}

/// What `redis.call`, `redis.pcall` and the hook's `busy` share.
#[derive(Debug, Default)]
pub(super) struct Bound {
    /// The running script's `Run`, set by `bind` for the run (see the module's invariants).
    run: Cell<Option<NonNull<Run<'static>>>>,
    /// `redis.setresp(3)` and `redis.set_repl`'s flags, reset by each run.
    pub flags: RunFlags,
    args: RefCell<CallArgs>,
}

/// The argument buffer of `redis.call`, reused by every call.
#[derive(Debug, Default)]
struct CallArgs {
    /// The bytes of the arguments, each split off as a `Bytes` of `argv`.
    arena: BytesMut,
    argv: Vec<Bytes>,
    /// The text of a number argument, before it goes to the arena.
    number: Vec<u8>,
}

/// Clears `Bound::run` when the run ends, however it ends.
pub(super) struct Binding<'b> {
    bound: &'b Bound,
}

impl Drop for Binding<'_> {
    fn drop(&mut self) {
        self.bound.run.set(None);
    }
}

/// What a call leaves on the stack for `lua_call_command` to hand back.
enum Called {
    /// One value to return.
    Value,
    /// One value to raise.
    Raise,
}

impl Bound {
    /// Binds `run` until the returned guard drops. The guard borrows `run` for its whole life, so the
    /// pointer kept in `self.run` cannot outlive what it points to.
    pub fn bind<'b>(&'b self, run: &'b mut Run<'_>) -> Binding<'b> {
        // The lifetime is erased only to store the pointer; `with_run` hands it out again as `&mut Run<'_>`
        // to a closure that cannot keep it, and the guard clears it before `run`'s borrow ends.
        self.run.set(Some(NonNull::from(run).cast::<Run<'static>>()));
        Binding { bound: self }
    }

    /// Runs `f` with the bound run, or gives `None` if there is none (between runs, or already in use by
    /// an outer call of this run).
    pub fn with_run<R>(&self, f: impl FnOnce(&mut Run<'_>) -> R) -> Option<R> {
        let mut run = self.run.take()?;
        // SAFETY: `run` was made by `bind` from a `&mut Run` whose borrow outlives the `Binding` that clears
        // the cell, and the cell is set only while that binding lives (module invariant), so the pointee is
        // alive here. It was taken out of the cell, so no other `&mut` to it exists until it is put back
        // below; everything runs on the Lua state's one thread (`Lua` is not `Send`). If `f` panics, the
        // pointer is simply not put back, and the binding's drop clears the cell anyway.
        let out = f(unsafe { run.as_mut() });
        self.run.set(Some(run));
        Some(out)
    }

    /// Makes `redis.call` (`raise`) or `redis.pcall`: `lua_call_command` with this `Bound` and `raise` as
    /// its upvalues. `self` must outlive the Lua state (`Loaded` holds both, the state dropped first).
    pub fn create_call(self: &Rc<Self>, lua: &Lua, raise: bool) -> mlua::Result<Function> {
        let bound = Rc::as_ptr(self).cast_mut().cast::<c_void>();
        // SAFETY: `exec_raw` runs the closure on the state with room for three values (it checks the stack),
        // and the closure leaves exactly the function it returns.
        unsafe {
            lua.exec_raw::<Function>((), |state| {
                ffi::lua_pushlightuserdata(state, bound);
                ffi::lua_pushboolean(state, c_int::from(raise));
                ffi::lua_pushcclosure(state, lua_call_command, 2);
            })
        }
    }

    /// The hook's `busy`: lets the loop serve others; true if that killed the script. False with no run
    /// bound, or when the run's host is in a `redis.call` (a hook firing in Lua it runs): the next turn serves.
    pub fn busy(&self) -> bool {
        self.with_run(|run| run.host.busy(run.name)).unwrap_or(false)
    }

    /// `redis.call` / `redis.pcall` over the arguments on `stack`: checks them as Redis does, runs the
    /// command through the host and pushes its reply as a Lua value, or the refusal as Redis's error table.
    fn call(&self, stack: &Stack, raise: bool) -> Called {
        let count = stack.top();
        if count == 0 {
            return stack.refusal(raise, "Please specify at least one argument for this redis lib call", false);
        }
        let Ok(mut args) = self.args.try_borrow_mut() else {
            return stack.refusal(raise, "redis.call cannot be called from inside another redis.call", false);
        };
        let filled = args.fill(stack, count);
        // The arguments are copied (or refused): their slots go, so that the reply has all of Lua's stack
        // limit (LUAI_MAXCSTACK counts the arguments, up to 7999 of them from `unpack`).
        stack.pop(count);
        if !filled {
            return stack.refusal(raise, "Lua redis lib command arguments must be strings or integers", false);
        }
        let (resp3, propagate) = (self.flags.resp3.get(), self.flags.repl.get() & 1 != 0);
        let called = self.with_run(|run| {
            let result = run.host.call(&args.argv, resp3, propagate);
            // The arguments' bytes go now, not at the next call (a big value would otherwise stay alive).
            args.release();
            match result {
                Err(msg) => stack.refusal(raise, &msg, true),
                Ok(bytes) => {
                    convert::push_resp(stack, bytes);
                    if raise && bytes.first() == Some(&b'-') { Called::Raise } else { Called::Value }
                }
            }
        });
        called.unwrap_or_else(|| {
            args.release();
            stack.refusal(raise, "redis.call is only available while a script runs", false)
        })
    }
}

/// `redis.call` (upvalue 2 true) and `redis.pcall`: Lua calls it with the arguments at 1..=top.
unsafe extern "C-unwind" fn lua_call_command(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: the upvalues are the ones `create_call` set: a pointer to a `Bound` that outlives the state
    // (see there), and a boolean. Lua gives a C function LUA_MINSTACK free slots above its arguments,
    // which is what `Stack::new` asks.
    let (bound, raise, stack) = unsafe {
        let bound = &*ffi::lua_touserdata(state, ffi::lua_upvalueindex(1)).cast::<Bound>();
        (bound, ffi::lua_toboolean(state, ffi::lua_upvalueindex(2)) != 0, Stack::new(state))
    };
    match bound.call(&stack, raise) {
        Called::Value => 1,
        // SAFETY: the error value is on top of the stack, and nothing in this frame has a destructor (the
        // longjmp skips none): `call` dropped all it held before returning.
        Called::Raise => unsafe { ffi::lua_error(state) },
    }
}

/// The stack of a C function Lua is running: its arguments at 1..=`top()`, room pushed for as `room`
/// says. Its methods are the few Lua API calls the conversions need.
pub(super) struct Stack {
    state: *mut ffi::lua_State,
}

/// An argument of `redis.call`, as Lua holds it.
pub(super) enum Arg<'s> {
    Str(&'s [u8]),
    Number(f64),
    Other,
}

impl Stack {
    /// # Safety
    /// `state` is the state of the C function now running (so it has LUA_MINSTACK free slots), and the
    /// `Stack` does not outlive that call.
    unsafe fn new(state: *mut ffi::lua_State) -> Stack {
        Stack { state }
    }

    /// How many values are on the stack (the arguments, before anything is pushed).
    pub fn top(&self) -> c_int {
        // SAFETY (here and below): `state` is the running C function's, per `new`'s contract; each push
        // is within the room Lua guarantees or `room` obtained, and each index names a slot that exists.
        unsafe { ffi::lua_gettop(self.state) }
    }

    /// Argument `index` (1-based, at most `top()`). A string's bytes stay valid while it is on the stack,
    /// which is for the whole call.
    pub fn arg(&self, index: c_int) -> Arg<'_> {
        unsafe {
            match ffi::lua_type(self.state, index) {
                ffi::LUA_TSTRING => {
                    let mut len = 0;
                    let data = ffi::lua_tolstring(self.state, index, &mut len);
                    Arg::Str(std::slice::from_raw_parts(data.cast::<u8>(), len))
                }
                ffi::LUA_TNUMBER => Arg::Number(ffi::lua_tonumber(self.state, index)),
                _ => Arg::Other,
            }
        }
    }

    /// Makes room for `slots` more values; false if Lua's stack cannot grow that far.
    pub fn room(&self, slots: c_int) -> bool {
        unsafe { ffi::lua_checkstack(self.state, slots) != 0 }
    }

    pub fn push_bytes(&self, bytes: &[u8]) {
        unsafe { ffi::lua_pushlstring_(self.state, bytes.as_ptr().cast(), bytes.len()) }
    }

    pub fn push_number(&self, n: f64) {
        unsafe { ffi::lua_pushnumber(self.state, n) }
    }

    pub fn push_bool(&self, b: bool) {
        unsafe { ffi::lua_pushboolean(self.state, c_int::from(b)) }
    }

    pub fn push_nil(&self) {
        unsafe { ffi::lua_pushnil(self.state) }
    }

    /// Pushes a new table with room for `array` sequence items and `hash` fields.
    pub fn push_table(&self, array: usize, hash: usize) {
        let (array, hash) = (c_int::try_from(array).unwrap_or(0), c_int::try_from(hash).unwrap_or(0));
        unsafe { ffi::lua_createtable(self.state, array, hash) }
    }

    /// Pops a value into field `name` of the table below it.
    pub fn set_field(&self, name: &[u8]) {
        self.push_bytes(name);
        unsafe {
            ffi::lua_insert(self.state, -2);
            ffi::lua_rawset(self.state, -3);
        }
    }

    /// Pops a value into item `index` of the table below it.
    pub fn set_item(&self, index: usize) {
        let index = c_int::try_from(index).unwrap_or(c_int::MAX);
        unsafe { ffi::lua_rawseti_(self.state, -2, index) }
    }

    /// Pops a key and a value (pushed in that order) into the table below them.
    pub fn set_pair(&self) {
        unsafe { ffi::lua_rawset(self.state, -3) }
    }

    /// Swaps the two values on top.
    pub fn swap_top(&self) {
        unsafe { ffi::lua_insert(self.state, -2) }
    }

    /// Whether the value at `index` (negative: from the top) is nil or NaN, which no table takes as a key.
    pub fn is_nil_or_nan(&self, index: c_int) -> bool {
        unsafe {
            match ffi::lua_type(self.state, index) {
                ffi::LUA_TNIL => true,
                ffi::LUA_TNUMBER => ffi::lua_tonumber(self.state, index).is_nan(),
                _ => false,
            }
        }
    }

    pub fn pop(&self, count: c_int) {
        unsafe { ffi::lua_settop(self.state, -count - 1) }
    }

    /// Pushes Redis's error table for a refusal (`{err = 'ERR ' .. msg}`, as luaPushError makes for a text
    /// with no code of its own), to return (`redis.pcall`) or raise (`redis.call`). `counted`: the host
    /// refused the command and counted the error, so the table carries `ignore_error_stats_update`, as a
    /// command's error reply does, and the script's reply does not count it again.
    fn refusal(&self, raise: bool, msg: &str, counted: bool) -> Called {
        self.push_table(0, 2);
        self.push_bytes(format!("ERR {msg}").as_bytes());
        self.set_field(b"err");
        if counted {
            self.push_bool(true);
            self.set_field(b"ignore_error_stats_update");
        }
        if raise { Called::Raise } else { Called::Value }
    }
}

impl CallArgs {
    /// Fills `argv` from the `count` arguments on `stack`; false (and `argv` empty) if one is neither a
    /// string nor a number. Numbers become the text Redis gives them: integers as integers, others `%.17g`.
    fn fill(&mut self, stack: &Stack, count: c_int) -> bool {
        self.argv.clear();
        // The previous call's arguments are gone (unless the command kept some, for propagation): this
        // takes the arena's block back (BytesMut reclaims a block it alone holds) instead of allocating.
        self.arena.reserve(ARENA_BYTES);
        for index in 1..=count {
            match stack.arg(index) {
                Arg::Str(bytes) => self.arena.extend_from_slice(bytes),
                Arg::Number(n) if is_integer(n) => {
                    self.arena.extend_from_slice(itoa::Buffer::new().format(n as i64).as_bytes());
                }
                Arg::Number(n) => {
                    self.number.clear();
                    crate::util::num::write_double(&mut self.number, n);
                    self.arena.extend_from_slice(&self.number);
                }
                Arg::Other => {
                    self.release();
                    return false;
                }
            }
            self.argv.push(self.arena.split().freeze());
        }
        true
    }

    /// After a call: the argv goes, and an arena grown past `ARENA_BYTES_MAX` by a big argument is let go
    /// rather than kept for the state's life.
    fn release(&mut self) {
        self.argv.clear();
        self.arena.clear();
        if self.arena.capacity() > ARENA_BYTES_MAX {
            self.arena = BytesMut::new();
        }
    }
}

/// Whether `n` is an integer an i64 holds exactly (Lua 5.1's numbers are all doubles; -0 is not one).
fn is_integer(n: f64) -> bool {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    (-TWO_63..TWO_63).contains(&n) && ((n as i64) as f64).to_bits() == n.to_bits()
}

/// The arena's block; arguments that do not fit go to a new, larger one.
const ARENA_BYTES: usize = 4096;

/// An arena bigger than this after a call is dropped (see `CallArgs::release`).
const ARENA_BYTES_MAX: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout, System};

    use super::*;
    use crate::resp::reply::Reply;
    use crate::scripting::{Engine, sha1_hex};

    thread_local! {
        /// Allocations made by this thread (a const-initialised `Cell`, so reading it never allocates).
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    /// The system allocator, counting the allocations of each thread, for the unit tests of this crate.
    struct CountingPerThread;

    // SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
    // guarantees hold; the count is a plain thread-local `Cell` with no destructor, which never allocates.
    unsafe impl GlobalAlloc for CountingPerThread {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
            // SAFETY: as for the impl.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: as for the impl.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
            // SAFETY: as for the impl.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
            // SAFETY: as for the impl.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOC: CountingPerThread = CountingPerThread;

    /// A host that answers every command with the same bulk string and remembers the last argv.
    struct Echo {
        reply: Vec<u8>,
        calls: usize,
        last: Vec<Vec<u8>>,
    }

    impl Host for Echo {
        fn busy(&mut self, _name: &str) -> bool {
            false
        }

        fn call(&mut self, argv: &[Bytes], _resp3: bool, _propagate: bool) -> Result<&[u8], String> {
            self.calls += 1;
            if self.calls == 1 {
                self.last = argv.iter().map(|a| a.to_vec()).collect();
            }
            Ok(&self.reply)
        }
    }

    fn run(engine: &mut Engine, sha: &[u8; 40], host: &mut Echo, args: &[Bytes]) -> (u64, Vec<u8>) {
        let mut reply = Reply::default();
        reply.buf.reserve(64);
        let before = ALLOCATIONS.with(Cell::get);
        engine.run(sha, &[Bytes::from_static(b"key")], args, host, &mut reply);
        (ALLOCATIONS.with(Cell::get) - before, reply.buf)
    }

    #[test]
    fn redis_call_allocates_nothing_per_call() {
        let mut engine = Engine::default();
        // 'hello' stays referenced, so the reply's Lua string is found interned rather than made anew.
        let body: &[u8] = b"local keep = 'hello' for i = 1, tonumber(ARGV[1]) do \
            redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], 'value', 'EX', 10, 1.5) end return keep";
        let sha = sha1_hex(body);
        engine.load_as(sha, body, Bytes::copy_from_slice(body)).unwrap();
        let mut host = Echo { reply: b"$5\r\nhello\r\n".to_vec(), calls: 0, last: Vec::new() };
        let (_, reply) = run(&mut engine, &sha, &mut host, &[Bytes::from_static(b"1000")]);
        assert_eq!(reply, b"$5\r\nhello\r\n");
        assert_eq!(host.last, [&b"GET"[..], b"key"]);
        let (fewer, _) = run(&mut engine, &sha, &mut host, &[Bytes::from_static(b"1000")]);
        let (more, _) = run(&mut engine, &sha, &mut host, &[Bytes::from_static(b"5000")]);
        assert_eq!(host.calls, 2 * 7000);
        // 8000 more calls: anything per call would show as thousands.
        assert!(more.saturating_sub(fewer) < 100, "{fewer} allocations for 2000 calls, {more} for 10000");
    }

    #[test]
    fn arguments_are_converted_as_redis_converts_them() {
        let mut engine = Engine::default();
        let body: &[u8] = b"redis.call('SET', KEYS[1], 10, 1.5, -3, 'x') return 1";
        let sha = sha1_hex(body);
        engine.load_as(sha, body, Bytes::copy_from_slice(body)).unwrap();
        let mut host = Echo { reply: b"+OK\r\n".to_vec(), calls: 0, last: Vec::new() };
        run(&mut engine, &sha, &mut host, &[]);
        assert_eq!(host.last, [&b"SET"[..], b"key", b"10", b"1.5", b"-3", b"x"]);
    }

    #[test]
    fn explicit_nil_and_missing_arguments_are_refused_as_redis_refuses_them() {
        let mut engine = Engine::default();
        let cases: [(&[u8], &[u8]); 4] = [
            (b"return redis.call('GET', 'k', nil)", b"Lua redis lib command arguments must be strings or integers"),
            (b"return redis.call(nil)", b"Lua redis lib command arguments must be strings or integers"),
            (b"return redis.call()", b"Please specify at least one argument for this redis lib call"),
            (b"return redis.pcall('GET', {})['err']", b"Lua redis lib command arguments must be strings or integers"),
        ];
        for (body, err) in cases {
            let sha = sha1_hex(body);
            engine.load_as(sha, body, Bytes::copy_from_slice(body)).unwrap();
            let mut host = Echo { reply: b"+OK\r\n".to_vec(), calls: 0, last: Vec::new() };
            let (_, reply) = run(&mut engine, &sha, &mut host, &[]);
            let text = String::from_utf8_lossy(&reply);
            assert!(text.contains(std::str::from_utf8(err).unwrap()), "{}: {text}", String::from_utf8_lossy(body));
            assert_eq!(host.calls, 0);
        }
        // Twelve arguments: past the fixed part.
        let body: &[u8] = b"return redis.call('MSET', 'a', 1, 'b', 2, 'c', 3, 'd', 4, 'e', 5, 'f')";
        let sha = sha1_hex(body);
        engine.load_as(sha, body, Bytes::copy_from_slice(body)).unwrap();
        let mut host = Echo { reply: b"+OK\r\n".to_vec(), calls: 0, last: Vec::new() };
        run(&mut engine, &sha, &mut host, &[]);
        assert_eq!(host.last.len(), 12);
        assert_eq!(host.last[11], b"f");
    }
}
