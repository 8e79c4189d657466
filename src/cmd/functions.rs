//! FUNCTION and FCALL / FCALL_RO (Redis's `functions.c`) over the libraries in `crate::scripting::library`.
//! FCALL runs a function as EVAL runs a script (`scripting::ScriptClient`, effects propagated); FUNCTION
//! LOAD, DELETE, FLUSH and RESTORE are write commands, so the AOF records them as they were given.

use bytes::Bytes;

use super::eval::{ScriptClient, keys_and_args};
use super::{CmdResult, Ctx, Handlers, errors};
use crate::rdb::{decode, encode, opcodes, payload};
use crate::resp::reply::Reply;

pub const HANDLERS: &[Handlers] = &[&[
    ("fcall", fcall),
    ("fcall_ro", fcall_ro),
    ("function", super::admin::container),
    ("function|load", function_load),
    ("function|delete", function_delete),
    ("function|flush", function_flush),
    ("function|list", function_list),
    ("function|dump", function_dump),
    ("function|restore", function_restore),
    ("function|kill", function_kill),
    ("function|stats", function_stats),
    ("function|help", function_help),
]];

fn fcall(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    run_function(ctx, reply, false)
}

fn fcall_ro(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    run_function(ctx, reply, true)
}

fn run_function(ctx: &mut Ctx<'_>, reply: &mut Reply, read_only: bool) -> CmdResult {
    let argv = ctx.argv;
    let name = &argv[1];
    let Some(function) = ctx.state.scripting.function(name) else { return Err("ERR Function not found".into()) };
    let no_writes = function.no_writes();
    let allow_oom = function.flags.iter().any(|flag| flag == "allow-oom");
    if crate::util::num::parse_i64(&argv[2]).is_none() {
        return Err("ERR Bad number of keys provided".into());
    }
    let (keys, args) = keys_and_args(argv)?;
    if read_only && !no_writes {
        return Err("ERR Can not execute a script with write flag using *_ro command.".into());
    }
    let counts = (ctx.state.scripting.libraries().len(), ctx.state.scripting.functions_count());
    let mut engine = std::mem::take(&mut ctx.state.scripting);
    let mut host = ScriptClient::new(ctx, read_only || no_writes, allow_oom, Some(counts));
    engine.call_function(name, keys, args, &mut host, reply);
    host.finish();
    ctx.state.scripting = engine;
    ctx.prevent_propagation();
    Ok(())
}

fn function_load(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    // The code is the last argument; REPLACE is the one option before it.
    let Some((code, options)) = ctx.argv[2..].split_last() else { return Err(errors::wrong_arity("function|load")) };
    let mut replace = false;
    for option in options {
        if !option.eq_ignore_ascii_case(b"replace") {
            return Err(format!("ERR Unknown option given: {}", String::from_utf8_lossy(option)).into());
        }
        replace = true;
    }
    let name = ctx.state.scripting.load_library(code, replace).map_err(super::CmdError::from)?;
    ctx.state.dirty += 1;
    reply.bulk(name.as_bytes());
    Ok(())
}

fn function_delete(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if !ctx.state.scripting.delete_library(&ctx.argv[2]) {
        return Err("ERR Library not found".into());
    }
    ctx.state.dirty += 1;
    reply.ok();
    Ok(())
}

fn function_flush(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    match &ctx.argv[2..] {
        [] => {}
        [mode] if mode.eq_ignore_ascii_case(b"async") || mode.eq_ignore_ascii_case(b"sync") => {}
        [_] => return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into()),
        _ => return Err(errors::subcommand_syntax(&ctx.argv[0], &ctx.argv[1])),
    }
    ctx.state.scripting.flush_functions();
    ctx.state.dirty += 1;
    reply.ok();
    Ok(())
}

fn function_list(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut pattern: Option<&Bytes> = None;
    let mut with_code = false;
    let mut rest = ctx.argv[2..].iter();
    while let Some(arg) = rest.next() {
        if arg.eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
        } else if arg.eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            pattern = Some(rest.next().ok_or(super::CmdError::from("ERR library name argument was not given"))?);
        } else {
            return Err(format!("ERR Unknown argument {}", String::from_utf8_lossy(arg)).into());
        }
    }
    let libraries: Vec<_> = ctx
        .state
        .scripting
        .libraries()
        .iter()
        .filter(|l| pattern.is_none_or(|p| crate::util::glob::glob_match(p, l.name.as_bytes(), false)))
        .collect();
    reply.array(libraries.len());
    for library in libraries {
        reply.map(3 + usize::from(with_code));
        reply.bulk(b"library_name");
        reply.bulk(library.name.as_bytes());
        reply.bulk(b"engine");
        reply.bulk(b"LUA");
        reply.bulk(b"functions");
        reply.array(library.functions.len());
        for function in &library.functions {
            reply.map(3);
            reply.bulk(b"name");
            reply.bulk(function.name.as_bytes());
            reply.bulk(b"description");
            match &function.description {
                Some(d) => reply.bulk(d),
                None => reply.null(),
            }
            reply.bulk(b"flags");
            reply.set(function.flags.len());
            for flag in &function.flags {
                reply.simple(flag);
            }
        }
        if with_code {
            reply.bulk(b"library_code");
            reply.bulk(&library.code);
        }
    }
    Ok(())
}

/// The libraries as RDB function records (opcode FUNCTION2, then the code as an RDB string): FUNCTION
/// DUMP's body and what RDB files carry.
pub fn encode_libraries(out: &mut Vec<u8>, engine: &crate::scripting::Engine, opts: encode::Options) {
    for library in engine.libraries() {
        out.push(opcodes::FUNCTION2);
        encode::string(out, &library.code, opts);
    }
}

fn function_dump(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut body = Vec::new();
    encode_libraries(&mut body, &ctx.state.scripting, encode::Options { compress: ctx.state.config.rdbcompression });
    reply.bulk(&payload::seal(body));
    Ok(())
}

/// FUNCTION RESTORE's policy for libraries already loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    Flush,
    Append,
    Replace,
}

fn function_restore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let policy = match &ctx.argv[3..] {
        [] => Policy::Append,
        [p] if p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        [p] if p.eq_ignore_ascii_case(b"append") => Policy::Append,
        [p] if p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        [_] => return Err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.".into()),
        _ => return Err(errors::subcommand_syntax(&ctx.argv[0], &ctx.argv[1])),
    };
    let body = payload::verify(&ctx.argv[2])
        .map_err(|_| super::CmdError::from("ERR DUMP payload version or checksum are wrong"))?;
    let codes = decode_libraries(body).map_err(super::CmdError::from)?;
    let engine = &mut ctx.state.scripting;
    // All or nothing: on an error the libraries are put back as they were.
    let saved = engine.libraries().to_vec();
    if policy == Policy::Flush {
        engine.flush_functions();
    }
    for code in &codes {
        // libraryJoin's text for APPEND, which FUNCTION LOAD words differently ('name' in quotes).
        if policy == Policy::Append
            && let Some(name) = engine.library_exists(code)
        {
            engine.restore_libraries(saved);
            return Err(format!("ERR Library {name} already exists").into());
        }
        if let Err(err) = engine.load_library(code, policy == Policy::Replace) {
            engine.restore_libraries(saved);
            return Err(err.into());
        }
    }
    ctx.state.dirty += 1;
    reply.ok();
    Ok(())
}

/// The library codes of a FUNCTION DUMP body (or an RDB's function records).
pub fn decode_libraries(body: &[u8]) -> Result<Vec<Bytes>, String> {
    let mut reader = decode::Reader::new(body);
    let mut codes = Vec::new();
    while reader.remaining() > 0 {
        match reader.byte() {
            Ok(opcodes::FUNCTION2) => {}
            _ => return Err("ERR given type is not a function".into()),
        }
        let code = reader.string().map_err(|_| "ERR Bad data format".to_string())?;
        codes.push(Bytes::copy_from_slice(&code));
    }
    Ok(codes)
}

fn function_kill(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::eval::kill(ctx, reply, true)
}

/// FUNCTION STATS: the function running past `busy-reply-threshold`, if any (a busy EVAL script is refused
/// with -BUSY, as Redis's functionStatsCommand does), and the engine's counts.
fn function_stats(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if let Some(busy) = ctx.state.busy.as_ref().filter(|busy| !busy.function) {
        return Err(busy.error().into());
    }
    let engine = &ctx.state.scripting;
    let mut counts = (engine.libraries().len(), engine.functions_count());
    reply.map(2);
    reply.bulk(b"running_script");
    match &ctx.state.busy {
        Some(busy) => {
            counts = (busy.libraries, busy.functions);
            reply.map(3);
            reply.bulk(b"name");
            reply.bulk(busy.name.as_bytes());
            reply.bulk(b"command");
            reply.array(busy.argv.len());
            for arg in &busy.argv {
                reply.bulk(arg);
            }
            reply.bulk(b"duration_ms");
            reply.int(busy.started.elapsed().as_millis() as i64);
        }
        None => reply.null(),
    }
    reply.bulk(b"engines");
    reply.map(1);
    reply.bulk(b"LUA");
    reply.map(2);
    reply.bulk(b"libraries_count");
    reply.int(counts.0 as i64);
    reply.bulk(b"functions_count");
    reply.int(counts.1 as i64);
    Ok(())
}

fn function_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::admin::reply_help(
        reply,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION \
             RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}
