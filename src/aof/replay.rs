//! Replaying the AOF at startup and for DEBUG LOADAOF (Redis's loadAppendOnlyFiles): the base, then each
//! incr file, every command run through `cmd::call` as a session without a connection, with propagation off.
//!
//! A file must be a sequence of RESP arrays of bulk strings. If the last file ends inside a command, or
//! inside a MULTI without its EXEC, and `aof-load-truncated` is yes, the file is cut back to the last whole
//! command (before the MULTI) with Redis's warnings; otherwise, and for any malformed byte, loading fails
//! with Redis's message and the server exits. No length read from the file sizes an allocation beyond what
//! the file itself holds.

use bytes::Bytes;
use std::path::Path;
use std::time::Instant;

use super::manifest::Manifest;
use crate::state::State;
use crate::util::strerror::strerror;

/// How a file's bytes parse at an offset.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A whole command and the offset after it.
    Command(Vec<Bytes>, usize),
    /// The file ends inside a command.
    Truncated,
    /// Not the AOF format.
    Bad,
}

/// Longest `*<n>` or `$<n>` line, digits and CRLF included.
const HEADER_BYTES_MAX: usize = 24;

/// Parses the command at `at` in `data`.
pub(crate) fn parse_command(data: &Bytes, at: usize) -> Parsed {
    let mut pos = at;
    let count = match header(data, &mut pos, b'*') {
        Ok(n) if n >= 1 => n,
        Ok(_) => return Parsed::Bad,
        Err(parsed) => return parsed,
    };
    // Every argument takes at least 4 bytes ("$0\r\n"): a count beyond that is a torn or bad file, and
    // never sizes the vector beyond the file's own length.
    let mut argv = Vec::with_capacity(count.min((data.len() - pos) / 4 + 1));
    for _ in 0..count {
        let len = match header(data, &mut pos, b'$') {
            Ok(n) => n,
            Err(parsed) => return parsed,
        };
        let Some(end) = pos.checked_add(len).filter(|&end| end + 2 <= data.len()) else {
            return Parsed::Truncated;
        };
        if &data[end..end + 2] != b"\r\n" {
            return Parsed::Bad;
        }
        argv.push(data.slice(pos..end));
        pos = end + 2;
    }
    Parsed::Command(argv, pos)
}

/// Reads a `<kind><n>\r\n` line at `pos`, moving past it.
fn header(data: &[u8], pos: &mut usize, kind: u8) -> Result<usize, Parsed> {
    let rest = &data[*pos..];
    if rest.is_empty() {
        return Err(Parsed::Truncated);
    }
    if rest[0] != kind {
        return Err(Parsed::Bad);
    }
    let window = &rest[..rest.len().min(HEADER_BYTES_MAX)];
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        return Err(if rest.len() < HEADER_BYTES_MAX { Parsed::Truncated } else { Parsed::Bad });
    };
    match window.get(cr + 1) {
        None => return Err(Parsed::Truncated),
        Some(b'\n') => {}
        Some(_) => return Err(Parsed::Bad),
    }
    let n = std::str::from_utf8(&window[1..cr]).ok().and_then(|s| s.parse::<usize>().ok()).ok_or(Parsed::Bad)?;
    *pos += cr + 2;
    Ok(n)
}

/// Loads every file `manifest` names from `dir` into `state`. `Err` is the log line of a fatal failure.
pub fn load(state: &mut State, dir: &Path, manifest: &Manifest) -> Result<(), String> {
    let started = Instant::now();
    let propagating = state.propagation.enabled;
    state.set_propagating(false);
    state.keyspace.dbs.iter_mut().for_each(|db| db.loading = true);
    let id = state.add_session(None);
    state.sessions[id].authenticated = true;
    let files: Vec<_> = manifest.files_to_load().cloned().collect();
    let mut result = Ok(());
    for (index, file) in files.iter().enumerate() {
        let last = index + 1 == files.len();
        let kind = if file.kind == super::manifest::Kind::Base { "base" } else { "incr" };
        let file_started = Instant::now();
        result = load_file(state, id, &dir.join(&file.name), &file.name, last);
        if result.is_err() {
            break;
        }
        crate::log!(
            Notice,
            "DB loaded from {kind} file {}: {:.3} seconds",
            file.name,
            file_started.elapsed().as_secs_f64()
        );
    }
    state.sessions.remove(id);
    state.keyspace.dbs.iter_mut().for_each(|db| db.loading = false);
    state.set_propagating(propagating);
    result?;
    crate::log!(Notice, "DB loaded from append only file: {:.3} seconds", started.elapsed().as_secs_f64());
    Ok(())
}

/// Whether the file starts as an RDB file does.
fn has_rdb_preamble(path: &Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 5];
    let mut file = std::fs::File::open(path)?;
    match std::io::Read::read_exact(&mut file, &mut magic) {
        Ok(()) => Ok(&magic == b"REDIS"),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Replays one file; `last` allows cutting a torn tail under `aof-load-truncated`.
fn load_file(
    state: &mut State,
    id: crate::state::session::ClientId,
    path: &Path,
    name: &str,
    last: bool,
) -> Result<(), String> {
    let cant_open = |e: std::io::Error| format!("Can't open the append-only file {name}: {}", strerror(&e));
    if has_rdb_preamble(path).map_err(cant_open)? {
        // A base with an RDB preamble (`aof-use-rdb-preamble yes`): the snapshot is the dataset so far.
        crate::log!(Notice, "Reading RDB base file on AOF loading...");
        crate::persist::load_file(state, path, crate::persist::LoadMode::Replace)
            .map_err(cant_open)?
            .map_err(|e| format!("Bad file format reading the append only file {name}: {e}"))?;
        // The snapshot's databases replaced ours, flags included: the rest of the log still loads.
        state.keyspace.dbs.iter_mut().for_each(|db| db.loading = true);
        return Ok(());
    }
    let data = Bytes::from(std::fs::read(path).map_err(cant_open)?);
    let mut pos = 0;
    // Where the file can be cut: after the last command outside a MULTI.
    let mut valid_up_to = 0;
    let mut in_multi = false;
    while pos < data.len() {
        match parse_command(&data, pos) {
            Parsed::Command(argv, next) => {
                state.begin_batch();
                crate::cmd::call(state, id, &argv);
                state.sessions[id].reply.buf.clear();
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    in_multi = true;
                } else if argv[0].eq_ignore_ascii_case(b"exec") {
                    in_multi = false;
                }
                pos = next;
                if !in_multi {
                    valid_up_to = pos;
                }
            }
            Parsed::Truncated => return truncated(state, path, name, last, valid_up_to),
            Parsed::Bad => {
                return Err(format!(
                    "Bad file format reading the append only file {name}: make a backup of your AOF file, then \
                     use ./redis-check-aof --fix <filename.manifest>"
                ));
            }
        }
    }
    if in_multi {
        crate::log!(Warning, "Revert incomplete MULTI/EXEC transaction in AOF file {name}");
        return truncated(state, path, name, last, valid_up_to);
    }
    Ok(())
}

/// A file that ends inside a command or a transaction: cut it at `valid_up_to` if allowed, as Redis does.
fn truncated(state: &mut State, path: &Path, name: &str, last: bool, valid_up_to: usize) -> Result<(), String> {
    if !state.config.aof_load_truncated || !last {
        return Err(format!(
            "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF \
             file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the \
             'aof-load-truncated' configuration option to yes and restart the server."
        ));
    }
    crate::log!(Warning, "!!! Warning: short read while loading the AOF file {name}!!!");
    crate::log!(Warning, "!!! Truncating the AOF {name} at offset {valid_up_to} !!!");
    let cut = std::fs::OpenOptions::new().write(true).open(path).and_then(|f| {
        f.set_len(valid_up_to as u64)?;
        f.sync_all()
    });
    if let Err(e) = cut {
        return Err(format!("Error truncating the AOF file {name}: {}", strerror(&e)));
    }
    crate::log!(Warning, "AOF {name} loaded anyway because aof-load-truncated is enabled");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Parsed {
        parse_command(&Bytes::copy_from_slice(text.as_bytes()), 0)
    }

    #[test]
    fn commands_and_torn_tails() {
        let whole = "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n";
        assert_eq!(parse(whole), Parsed::Command(vec![Bytes::from("DEL"), Bytes::from("k")], whole.len()));
        for cut in 0..whole.len() {
            assert_eq!(parse(&whole[..cut]), Parsed::Truncated, "{cut}");
        }
        for bad in [
            "+OK\r\n",
            "*0\r\n",
            "*x\r\n",
            "*1\r\n:1\r\n",
            "*1\r\n$1\r\nab\r\n",
            "*1\rx",
            "*99999999999999999999999\r\n",
        ] {
            assert_eq!(parse(bad), Parsed::Bad, "{bad:?}");
        }
    }

    /// Bounded mutation fuzzing: a valid stream with random bytes changed, inserted or cut parses to
    /// commands, a torn tail or a refusal, always moving forward and never panicking.
    #[test]
    fn mutated_streams_never_panic() {
        let mut valid = Vec::new();
        for i in 0..20 {
            let argv = [Bytes::from("SET"), Bytes::from(format!("key{i}")), Bytes::from("x".repeat(i * 7))];
            crate::state::propagation::encode_command(&mut valid, &argv);
        }
        let mut rng = crate::util::rng::Rng::new(42);
        for _ in 0..2000 {
            let mut data = valid.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(data.len());
                match rng.below(3) {
                    0 => data[at] = rng.next_u64() as u8,
                    1 => data.insert(at, b"*$\r\n0123456789"[rng.below(14)]),
                    _ => data.truncate(at),
                }
            }
            let data = Bytes::from(data);
            let mut pos = 0;
            while pos < data.len() {
                match parse_command(&data, pos) {
                    Parsed::Command(argv, next) => {
                        assert!(next > pos && next <= data.len() && !argv.is_empty());
                        pos = next;
                    }
                    Parsed::Truncated | Parsed::Bad => break,
                }
            }
        }
    }

    #[test]
    fn a_huge_count_allocates_nothing_and_is_torn() {
        assert_eq!(parse("*2000000000\r\n$1\r\na\r\n"), Parsed::Truncated);
    }
}
