//! `redis.call` and `redis.pcall`'s Rust half, and how they reach the running script's [`Host`].
//!
//! The two functions (and the hook's `busy`) are made once, with the Lua state, and kept: making them for
//! each run (mlua's `scope`) cost three closures, their userdata and their destructors per EVALSHA. They
//! reach the run through [`Bound`], which `Loaded::run_with` binds for the length of one run (`Bound::bind`)
//! and which is empty between runs, so a call made when no script runs (a function kept by a script and
//! called from a later FUNCTION LOAD body, say) is refused instead of reaching a host that is gone.
//!
//! The sandbox's `redis.call` is a Lua wrapper that passes `select('#', ...)` first, so the Rust side takes
//! a fixed tuple of arguments (no `Vec` per call, as `Variadic` would make) and still tells an explicit
//! trailing `nil`, which Redis refuses, from a missing argument. Arguments are copied into one arena
//! (`CallArgs::arena`), whose block is reclaimed at the next call once the command dropped its argv, so in
//! steady state a `redis.call` allocates nothing on the Rust side.
//!
//! **Invariant:** `Bound::run` holds a pointer only while `run_with`'s frame, which owns the `&mut` it
//! came from, is on the stack; a callback takes it out of the cell while it uses it, so two `&mut` to the
//! host never exist at once (a nested call finds the cell empty).

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use bytes::{Bytes, BytesMut};
use mlua::{Lua, Table, Value, Variadic};

use super::{Host, RunFlags, convert};

/// The run a script's calls reach: its host and its name (the SHA-1 or the function's name).
pub(super) struct Run<'a> {
    pub host: &'a mut dyn Host,
    pub name: &'a str,
}

/// What the kept `redis.call`, `redis.pcall` and the hook's `busy` share.
#[derive(Debug)]
pub(super) struct Bound {
    /// The running script's `Run`, set by `bind` for the run (see the module's invariant).
    run: Cell<Option<NonNull<Run<'static>>>>,
    /// `redis.setresp(3)` and `redis.set_repl`'s flags, reset by each run.
    pub flags: RunFlags,
    args: RefCell<CallArgs>,
    /// The table the sandbox and Rust share (`pending`, `error_table`).
    hooks: Table,
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

/// How many arguments the fixed part of the Rust `redis.call` takes; more go through a `Variadic`.
const FIXED_ARGS: usize = 8;

/// The Rust `redis.call`'s arguments: the count the wrapper passes, the first `FIXED_ARGS`, the rest.
type RawArgs = (i64, Value, Value, Value, Value, Value, Value, Value, Value, Variadic<Value>);

/// Clears `Bound::run` when the run ends, however it ends.
pub(super) struct Binding<'b> {
    bound: &'b Bound,
}

impl Drop for Binding<'_> {
    fn drop(&mut self) {
        self.bound.run.set(None);
    }
}

impl Bound {
    pub fn new(hooks: Table) -> Bound {
        let args =
            CallArgs { arena: BytesMut::with_capacity(ARENA_BYTES), argv: Vec::with_capacity(8), number: Vec::new() };
        Bound { run: Cell::new(None), flags: RunFlags::default(), args: RefCell::new(args), hooks }
    }

    /// Binds `run` until the returned guard drops. The guard borrows `run` for its whole life, so the
    /// pointer kept in `self.run` cannot outlive what it points to.
    pub fn bind<'b>(&'b self, run: &'b mut Run<'_>) -> Binding<'b> {
        // The lifetime is erased only to store the pointer; `with_run` hands it out again as `&mut Run<'_>`
        // to a closure that cannot keep it, and the guard clears it before `run`'s borrow ends.
        self.run.set(Some(NonNull::from(run).cast::<Run<'static>>()));
        Binding { bound: self }
    }

    /// Runs `f` with the bound run, or gives `None` if there is none (between runs, or already in use by
    /// an outer callback of this run).
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

    /// Makes `redis.call` (`raise`) or `redis.pcall`'s Rust half, kept for the state's life.
    pub fn create_call(self: &std::rc::Rc<Self>, lua: &Lua, raise: bool) -> mlua::Result<mlua::Function> {
        let bound = self.clone();
        lua.create_function(move |lua, (count, a1, a2, a3, a4, a5, a6, a7, a8, rest): RawArgs| {
            let fixed = [a1, a2, a3, a4, a5, a6, a7, a8];
            let count = usize::try_from(count).unwrap_or(0);
            let args =
                fixed.iter().take(count.min(FIXED_ARGS)).chain(rest.iter().take(count.saturating_sub(FIXED_ARGS)));
            bound.call(lua, raise, count, args)
        })
    }

    /// The hook's `busy`: lets the loop serve others; true if that killed the script. False with no run
    /// bound, or when the run's host is in a `redis.call` (a hook firing in Lua it runs): the next turn serves.
    pub fn busy(&self) -> bool {
        self.with_run(|run| run.host.busy(run.name)).unwrap_or(false)
    }

    /// `redis.call` / `redis.pcall`: checks the arguments as Redis does, runs the command through the host
    /// and converts its reply.
    fn call<'v>(
        &self,
        lua: &Lua,
        raise: bool,
        count: usize,
        args: impl Iterator<Item = &'v Value>,
    ) -> mlua::Result<Value> {
        let hooks = &self.hooks;
        let refuse = |msg: &str| -> mlua::Result<Value> {
            if raise {
                return Err(super::raise(hooks, msg));
            }
            let error_table: mlua::Function = hooks.raw_get("error_table")?;
            error_table.call(msg)
        };
        if count == 0 {
            return refuse("Please specify at least one argument for this redis lib call");
        }
        let Ok(mut buffer) = self.args.try_borrow_mut() else { return Err(mlua::Error::RecursiveMutCallback) };
        if !buffer.fill(args) {
            return refuse("Lua redis lib command arguments must be strings or integers");
        }
        let (resp3, propagate) = (self.flags.resp3.get(), self.flags.repl.get() & 1 != 0);
        let result = self.with_run(|run| match run.host.call(&buffer.argv, resp3, propagate) {
            Err(msg) => refuse(&msg),
            Ok(bytes) => {
                let failed = bytes.first() == Some(&b'-');
                let value = convert::resp_to_lua(lua, bytes)?;
                if failed && raise {
                    hooks.raw_set("pending", value)?;
                    Err(mlua::Error::RuntimeError("redis.call failed".into()))
                } else {
                    Ok(value)
                }
            }
        });
        // The arguments' bytes go now, not at the next call (a big value would otherwise stay alive).
        buffer.release();
        result.unwrap_or_else(|| {
            // No script is running: a kept `redis.call` called from outside a run.
            Err(super::raise(hooks, "redis.call is only available while a script runs"))
        })
    }
}

impl CallArgs {
    /// Fills `argv` from the script's arguments; false (and `argv` empty) if one is neither a string nor a
    /// number.
    fn fill<'v>(&mut self, args: impl Iterator<Item = &'v Value>) -> bool {
        self.argv.clear();
        // The previous call's arguments are gone (unless the command kept some, for propagation): this
        // takes the arena's block back (BytesMut reclaims a block it alone holds) instead of allocating.
        self.arena.reserve(ARENA_BYTES);
        for arg in args {
            match arg {
                Value::String(s) => self.arena.extend_from_slice(&s.as_bytes()),
                Value::Number(n) => {
                    self.number.clear();
                    crate::util::num::write_double(&mut self.number, *n);
                    self.arena.extend_from_slice(&self.number);
                }
                Value::Integer(n) => self.arena.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
                _ => {
                    self.argv.clear();
                    self.arena.clear();
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
        if self.arena.capacity() > ARENA_BYTES_MAX {
            self.arena = BytesMut::new();
        }
    }
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
