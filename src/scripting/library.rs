//! Redis 7.0 functions (`functions.c`, `function_lua.c`): libraries loaded by FUNCTION LOAD from code that
//! starts with `#!lua name=<library>`, whose top level registers functions with `redis.register_function`
//! (seeing only the load API), and which FCALL runs with `(KEYS, ARGV)` in the functions' sandbox. Library
//! and function names compare case-insensitively, as Redis's dicts of them do.

use bytes::Bytes;
use mlua::{Function, Table, Value};

/// How long a library's body may run at FUNCTION LOAD (Redis's LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT_MS: u64 = 500;

use super::{Engine, Host, Loaded, lua_message};
use crate::resp::reply::Reply;

/// One registered function.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub name: String,
    pub description: Option<Bytes>,
    /// Its flags, in the order given (`no-writes`, `allow-oom`, ...).
    pub flags: Vec<String>,
    callback: Function,
}

impl FunctionDef {
    /// Declared `no-writes`: FCALL_RO may run it, and its writes are refused.
    pub fn no_writes(&self) -> bool {
        self.flags.iter().any(|f| f == "no-writes")
    }
}

/// One library: its name, its code as loaded (the shebang included) and its functions.
#[derive(Debug, Clone)]
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<FunctionDef>,
}

/// The library name in `#!lua name=<name>` (the engine named in any case), or Redis's refusal, checked
/// in Redis's order (functionExtractLibMetaData, then the engine and the name's characters). The shebang
/// line is split as sdssplitargs splits it, so `name="foo"` names `foo` and `#! name=x` names no engine.
fn library_name(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else { return Err("ERR Invalid library metadata".into()) };
    let parts = crate::util::splitargs::split_args(&code[..end]).filter(|parts| !parts.is_empty());
    let Some(parts) = parts else { return Err("ERR Invalid library metadata".into()) };
    let engine = String::from_utf8_lossy(parts[0].get(2..).unwrap_or_default()).into_owned();
    let mut name = None;
    for part in &parts[1..] {
        match part.get(..5) {
            Some(prefix) if prefix.eq_ignore_ascii_case(b"name=") => {
                if name.is_some() {
                    return Err("ERR Invalid metadata value, name argument was given multiple times".into());
                }
                name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            }
            _ => return Err(format!("ERR Invalid metadata value given: {}", String::from_utf8_lossy(part))),
        }
    }
    let name = name.ok_or_else(|| "ERR Library name was not given".to_string())?;
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one \
                    character long"
            .into());
    }
    Ok(name)
}

impl Engine {
    /// The loaded libraries, in load order.
    pub fn libraries(&self) -> &[Library] {
        &self.libraries
    }

    /// Functions over every library (FUNCTION STATS).
    pub fn functions_count(&self) -> usize {
        self.libraries.iter().map(|l| l.functions.len()).sum()
    }

    /// The function named `name` (FCALL), with its library's index.
    pub fn function(&self, name: &[u8]) -> Option<&FunctionDef> {
        self.libraries.iter().flat_map(|l| &l.functions).find(|f| f.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// FUNCTION DELETE: false if there is no such library.
    pub fn delete_library(&mut self, name: &[u8]) -> bool {
        let before = self.libraries.len();
        self.libraries.retain(|l| !l.name.as_bytes().eq_ignore_ascii_case(name));
        self.libraries.len() != before
    }

    /// Puts back libraries saved before a FUNCTION RESTORE that failed.
    pub fn restore_libraries(&mut self, libraries: Vec<Library>) {
        self.libraries = libraries;
    }

    /// FUNCTION FLUSH.
    pub fn flush_functions(&mut self) {
        self.libraries.clear();
    }

    /// The name of the library `code` declares, when one of that name is loaded already.
    pub fn library_exists(&self, code: &[u8]) -> Option<String> {
        let name = library_name(code).ok()?;
        self.libraries.iter().any(|l| l.name.eq_ignore_ascii_case(&name)).then_some(name)
    }

    /// FUNCTION LOAD: compiles and runs `code`, registering its functions; with `replace`, an existing
    /// library of that name is replaced. Returns the library's name, or Redis's error text.
    pub fn load_library(&mut self, code: &Bytes, replace: bool) -> Result<String, String> {
        let name = library_name(code)?;
        let existing = self.libraries.iter().position(|l| l.name.eq_ignore_ascii_case(&name));
        if existing.is_some() && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let loaded = Loaded::made(&mut self.functions)?;
        // Redis's FUNCTION LOAD gives a library's body 500 ms (LOAD_TIMEOUT_MS), then fails the load.
        super::begin_load(LOAD_TIMEOUT_MS);
        let functions = loaded.load_library(code);
        super::end_run();
        let functions = functions?;
        for f in &functions {
            let clash = self
                .libraries
                .iter()
                .filter(|l| !l.name.eq_ignore_ascii_case(&name))
                .flat_map(|l| &l.functions)
                .any(|g| g.name.eq_ignore_ascii_case(&f.name));
            if clash {
                return Err(format!("ERR Function {} already exists", f.name));
            }
        }
        let library = Library { name: name.clone(), code: code.clone(), functions };
        match existing {
            Some(index) => self.libraries[index] = library,
            None => self.libraries.push(library),
        }
        Ok(name)
    }

    /// FCALL: runs function `name` (which the caller found) with KEYS and ARGV.
    pub fn call_function(
        &mut self,
        name: &[u8],
        keys: &[Bytes],
        args: &[Bytes],
        host: &mut dyn Host,
        reply: &mut Reply,
    ) {
        let Some(function) = self.function(name) else { return };
        let Some(loaded) = &self.functions else { return };
        let invoke = || loaded.call(super::Call::Function, &function.callback, keys, args);
        let result = loaded.run_with(host, &function.name, reply, invoke);
        if let Err(err) = result {
            reply.error(format!("ERR Error running script {}, {:.100}", function.name, lua_message(&err)));
        }
    }
}

impl Loaded {
    /// Compiles and runs a library's code under the load API; gives the functions it registered.
    fn load_library(&self, code: &[u8]) -> Result<Vec<FunctionDef>, String> {
        // The shebang line becomes a comment, so line numbers stay the code's own.
        let mut source = b"--".to_vec();
        source.extend_from_slice(&code[2..]);
        let env: Table = self.hooks.raw_get("functions_env").map_err(|e| e.to_string())?;
        let chunk = self
            .lua
            .load(&source[..])
            .set_name("@user_function")
            .set_environment(env)
            .into_function()
            .map_err(|err| format!("ERR Error compiling function: {}", lua_message(&err)))?;
        let loader: Function = self.hooks.raw_get("load_library").map_err(|e| e.to_string())?;
        // Past LOAD_TIMEOUT_MS the hook raises on every line, the loader's own after its pcall too, so the
        // error comes out here; Redis's pcall of the body reports it as any other error of the body.
        let (ok, result): (bool, Value) = loader.call(chunk).map_err(|err| match lua_message(&err) {
            text if text == super::LOAD_TIMEOUT => format!("ERR Error registering functions: ERR {text}"),
            text => text,
        })?;
        let Value::Table(result) = result else { return Err("ERR Error registering functions".into()) };
        if !ok {
            let err: String = result.raw_get("err").unwrap_or_default();
            return Err(format!("ERR Error registering functions: {err}"));
        }
        let mut functions = Vec::new();
        for entry in result.sequence_values::<Table>() {
            let entry = entry.map_err(|e| e.to_string())?;
            let description: Option<mlua::LuaString> = entry.raw_get("description").map_err(|e| e.to_string())?;
            let flags: Table = entry.raw_get("flags").map_err(|e| e.to_string())?;
            functions.push(FunctionDef {
                name: entry.raw_get("name").map_err(|e| e.to_string())?,
                description: description.map(|d| Bytes::copy_from_slice(&d.as_bytes())),
                flags: flags.sequence_values::<String>().filter_map(Result::ok).collect(),
                callback: entry.raw_get("callback").map_err(|e| e.to_string())?,
            });
        }
        if functions.is_empty() {
            return Err("ERR No functions registered".into());
        }
        Ok(functions)
    }
}
