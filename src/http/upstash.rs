//! The command API, compatible with Upstash's REST API so `@upstash/redis` works with the base URL
//! `http://host:7379/_redis`: `POST /_redis` with `["SET","k","v"]` answers `{"result": ..}` or 400
//! `{"error": ..}`; `POST /_redis/pipeline` takes an array of commands and answers an array of
//! `{"result"}`/`{"error"}` in order; `POST /_redis/multi-exec` runs them as one transaction.
//!
//! Commands run in RESP2, as Upstash's do: `@upstash/redis` expects HGETALL as a flat array and doubles as
//! strings. Arguments are JSON strings or numbers (a number keeps its exact text). Every command is checked
//! before any runs, so a malformed pipeline changes nothing. Commands that need a connection which outlives the
//! request (blocking, MULTI/EXEC/WATCH, pub/sub, MONITOR, QUIT) are refused: every HTTP request stands alone.

use bytes::Bytes;
use serde_json::value::RawValue;

use super::route::{Answered, HttpError, OK_JSON};
use super::{Exchange, error_text, json};
use crate::cmd::flag;
use crate::limits::HTTP_PIPELINE_COMMANDS_MAX;

/// Commands that only make sense on a connection that lives across requests.
const CONNECTION_BOUND: &[&str] = &[
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "monitor",
    "quit",
    "reset",
];

/// `POST /_redis`: one command.
pub fn single(ex: &mut Exchange<'_>, body: &[u8], out: &mut Vec<u8>) -> Answered {
    let raw: Vec<Box<RawValue>> =
        serde_json::from_slice(body).map_err(bad_body("a JSON array of strings, like [\"GET\",\"key\"]"))?;
    let argv = command_argv(&raw)?;
    let reply = run(ex, &argv);
    if let Some(error) = error_text(reply) {
        return Err(HttpError::new(400, error));
    }
    out.extend_from_slice(b"{\"result\":");
    let base64 = ex.base64;
    json::reply_to_json(ex.last_reply(), out, json::Options { base64 }).map_err(HttpError::unconvertible)?;
    out.push(b'}');
    OK_JSON
}

/// `POST /_redis/pipeline`: each command in order, each answered on its own (an error does not stop the rest).
pub fn pipeline(ex: &mut Exchange<'_>, body: &[u8], out: &mut Vec<u8>) -> Answered {
    let commands = commands_argv(body)?;
    out.push(b'[');
    for (i, argv) in commands.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        run(ex, argv);
        write_result(ex, out)?;
    }
    out.push(b']');
    OK_JSON
}

/// `POST /_redis/multi-exec`: the commands as one transaction. Checked like a pipeline, then run by
/// [`multi_exec_run`].
pub fn multi_exec(ex: &mut Exchange<'_>, body: &[u8], out: &mut Vec<u8>) -> Answered {
    let commands = commands_argv(body)?;
    multi_exec_run(ex, &commands, out)
}

/// Runs `commands` between MULTI and EXEC through `cmd::call`, so a command rejected while queuing aborts
/// the whole transaction (400 with Redis's EXECABORT text) and runtime errors are per command, as over RESP.
/// The request runs to completion inside one event, so nothing interleaves with it either way.
fn multi_exec_run(ex: &mut Exchange<'_>, commands: &[Vec<Bytes>], out: &mut Vec<u8>) -> Answered {
    let options = json::Options { base64: ex.base64 };
    ex.call(&[Bytes::from_static(b"MULTI")], false);
    for argv in commands {
        ex.call(argv, false);
    }
    let reply = ex.call(&[Bytes::from_static(b"EXEC")], false);
    if let Some(error) = error_text(reply) {
        return Err(HttpError::new(400, error));
    }
    let header_len = line_len(reply).ok_or(HttpError::unconvertible(json::ConvertError::Malformed))?;
    let mut pos = header_len;
    out.push(b'[');
    for i in 0..commands.len() {
        if i > 0 {
            out.push(b',');
        }
        let element = &reply[pos..];
        if element.first() == Some(&b'-') {
            let len = line_len(element).ok_or(HttpError::unconvertible(json::ConvertError::Truncated))?;
            out.extend_from_slice(&super::response::error_body(&element[1..len - 2]));
            pos += len;
        } else {
            out.extend_from_slice(b"{\"result\":");
            pos += json::reply_to_json(element, out, options).map_err(HttpError::unconvertible)?;
            out.push(b'}');
        }
    }
    out.push(b']');
    OK_JSON
}

/// Length of the first line of `resp`, CRLF included.
fn line_len(resp: &[u8]) -> Option<usize> {
    resp.windows(2).position(|pair| pair == b"\r\n").map(|at| at + 2)
}

/// Writes the reply in the scratch buffer as `{"result": ..}` or `{"error": ..}`.
fn write_result(ex: &mut Exchange<'_>, out: &mut Vec<u8>) -> Result<(), HttpError> {
    let reply = ex.last_reply();
    if let Some(error) = error_text(reply) {
        out.extend_from_slice(&super::response::error_body(error));
        return Ok(());
    }
    out.extend_from_slice(b"{\"result\":");
    json::reply_to_json(reply, out, json::Options { base64: ex.base64 }).map_err(HttpError::unconvertible)?;
    out.push(b'}');
    Ok(())
}

/// Runs one checked command; a command that sent no reply (CLIENT REPLY OFF) gets an error in its place, so
/// every command has exactly one answer.
fn run<'e>(ex: &'e mut Exchange<'_>, argv: &[Bytes]) -> &'e [u8] {
    if ex.call(argv, false).is_empty() {
        ex.append_reply(b"-ERR the command sent no reply\r\n");
    }
    ex.last_reply()
}

/// The 400 for a body that is not the JSON asked for.
fn bad_body(expected: &'static str) -> impl Fn(serde_json::Error) -> HttpError {
    move |e| HttpError::new(400, format!("the body must be {expected}: {e}"))
}

/// A pipeline body: an array of commands, each checked.
fn commands_argv(body: &[u8]) -> Result<Vec<Vec<Bytes>>, HttpError> {
    let raw: Vec<Vec<Box<RawValue>>> = serde_json::from_slice(body)
        .map_err(bad_body("a JSON array of commands, like [[\"SET\",\"k\",\"v\"],[\"GET\",\"k\"]]"))?;
    if raw.is_empty() || raw.len() > HTTP_PIPELINE_COMMANDS_MAX {
        return Err(HttpError::new(400, format!("send from 1 to {HTTP_PIPELINE_COMMANDS_MAX} commands")));
    }
    raw.iter().map(|command| command_argv(command)).collect()
}

/// One command's argv, refused if HTTP cannot serve it.
fn command_argv(raw: &[Box<RawValue>]) -> Result<Vec<Bytes>, HttpError> {
    let argv = raw.iter().map(|arg| argument(arg)).collect::<Result<Vec<Bytes>, HttpError>>()?;
    let Some(name) = argv.first() else { return Err(HttpError::new(400, "the command is empty")) };
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    if CONNECTION_BOUND.contains(&lower.as_str()) {
        let message = format!("ERR {lower} is not supported over HTTP: each request is a connection of its own");
        return Err(HttpError::new(400, message));
    }
    if crate::cmd::table().lookup(name).is_some_and(|cmd| cmd.spec.flags & flag::BLOCKING != 0) {
        return Err(HttpError::new(400, format!("ERR {lower} blocks, and blocking commands are refused over HTTP")));
    }
    Ok(argv)
}

/// A JSON string (its text) or number (its exact spelling) as one argument.
fn argument(raw: &RawValue) -> Result<Bytes, HttpError> {
    let text = raw.get();
    if text.starts_with('"') {
        let string: String = serde_json::from_str(text).map_err(|e| HttpError::new(400, e.to_string()))?;
        return Ok(Bytes::from(string));
    }
    if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Ok(Bytes::copy_from_slice(text.as_bytes()));
    }
    Err(HttpError::new(400, "command arguments must be JSON strings or numbers"))
}
