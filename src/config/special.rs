//! The directives with a syntax of their own (Redis's `createSpecialConfig` entries and the odd validators):
//! each parser refuses what config.c refuses, with its error text, and each renderer prints what CONFIG GET
//! prints. List parsers get the words after the directive's name (CONFIG SET splits its value at spaces).
//!
//! API (crate-internal): `set_*` / `render_*` pairs for `bind`, `save`, `client-output-buffer-limit`,
//! `oom-score-adj-values`, `replicaof`, `latency-tracking-info-percentiles` and the `shutdown-on-*` flags;
//! [`check_hostname`] and [`check_proc_title_template`] for the string directives that validate.

use super::syntax::strtoll_exact;
use super::{Config, OutputBufferLimit, OutputBufferLimits, shutdown};
use crate::config::syntax::memory_to_u64;
use crate::util::num::parse_f64;

/// Redis's CONFIG_BINDADDR_MAX.
const BIND_ADDRESSES_MAX: usize = 16;
/// Redis's NET_HOST_STR_LEN: announced hostnames are shorter.
const HOSTNAME_LEN_MAX: usize = 256;
pub(super) const OUTPUT_BUFFER_LIMITS_DEFAULT: &str = "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60";
pub(super) const LATENCY_PERCENTILES_DEFAULT: &str = "50 99 99.9";

/// `bind addr...`: replaces the list; a single empty argument means no address.
pub(super) fn set_bind(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    if args.len() > BIND_ADDRESSES_MAX {
        return Err("Too many bind addresses specified.".into());
    }
    let args = if args == [b""] { &[][..] } else { args };
    c.bind = args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    Ok(())
}

/// `http-allow-origins <origin> ...`: each `scheme://host[:port]`, as a browser's Origin header names a page
/// (lowercased, since browsers send scheme and host in lowercase); `""` empties the list.
pub(super) fn set_http_allow_origins(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    let origins = words(args);
    if let Some(bad) =
        origins.iter().find(|o| !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/'))
    {
        return Err(format!("'{bad}' is not an origin (scheme://host[:port], no path)"));
    }
    c.http_allow_origins = origins;
    Ok(())
}

/// `http-allow-hosts <name> ...`: extra names the Host header may give (lowercased); `""` empties the list.
pub(super) fn set_http_allow_hosts(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    c.http_allow_hosts = words(args);
    Ok(())
}

/// A list directive's words, lowercased; the single empty argument is the empty list.
fn words(args: &[&[u8]]) -> Vec<String> {
    let args = if args == [b""] { &[][..] } else { args };
    args.iter().map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).collect()
}

/// `save <seconds> <changes> ...`, validated like setConfigSaveOption (strtoll syntax, seconds >= 1,
/// changes >= 0). CONFIG SET and the first `save` line of a load replace the list; later lines append;
/// `save ""` (or a bare `save`) empties it.
pub(super) fn set_save(c: &mut Config, args: &[&[u8]], repeated: bool) -> Result<(), String> {
    let args = if args == [b""] { &[][..] } else { args };
    let invalid = || "Invalid save parameters".to_string();
    if !args.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks_exact(2) {
        let seconds = strtoll_exact(pair[0]).filter(|&s| s >= 1).ok_or_else(invalid)?;
        let changes = strtoll_exact(pair[1]).filter(|&n| n >= 0).ok_or_else(invalid)?;
        // Redis keeps `changes` in a C int; we saturate where it would truncate.
        points.push((seconds.unsigned_abs(), changes.min(i64::from(i32::MAX)).unsigned_abs()));
    }
    if !repeated || args.is_empty() {
        c.save.clear();
    }
    c.save.extend(points);
    Ok(())
}

pub(super) fn render_save(c: &Config) -> String {
    c.save.iter().map(|(seconds, changes)| format!("{seconds} {changes}")).collect::<Vec<_>>().join(" ")
}

/// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds> ...` (updateClientOutputBufferLimit):
/// every group is checked before any is stored, and only the classes named change.
pub(super) fn set_output_buffer_limits(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = c.client_output_buffer_limit;
    for group in args.chunks_exact(4) {
        let slot = class_limit(&mut limits, group[0])
            .ok_or("Invalid client class specified in buffer limit configuration.")?;
        *slot = parse_output_buffer_limit(&group[1..])
            .ok_or("Error in hard, soft or soft_seconds setting in buffer limit configuration.")?;
    }
    c.client_output_buffer_limit = limits;
    Ok(())
}

/// getClientTypeByName less `master`, which has no output buffer limit.
fn class_limit<'l>(limits: &'l mut OutputBufferLimits, class: &[u8]) -> Option<&'l mut OutputBufferLimit> {
    match class.to_ascii_lowercase().as_slice() {
        b"normal" => Some(&mut limits.normal),
        b"slave" | b"replica" => Some(&mut limits.replica),
        b"pubsub" => Some(&mut limits.pubsub),
        _ => None,
    }
}

/// `<hard> <soft> <soft-seconds>`: two memory values and a strtoll count that Redis keeps in a C int,
/// so it is truncated to 32 bits before the sign check, as there.
fn parse_output_buffer_limit(words: &[&[u8]]) -> Option<OutputBufferLimit> {
    let hard_bytes = memory_to_u64(words[0])?;
    let soft_bytes = memory_to_u64(words[1])?;
    let soft_seconds = u32::try_from(strtoll_exact(words[2])? as i32).ok()?;
    Some(OutputBufferLimit { hard_bytes, soft_bytes, soft_seconds })
}

pub(super) fn render_output_buffer_limits(c: &Config) -> String {
    let l = &c.client_output_buffer_limit;
    [("normal", l.normal), ("slave", l.replica), ("pubsub", l.pubsub)]
        .iter()
        .map(|(name, l)| format!("{name} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `oom-score-adj-values <master> <replica> <bgchild>`, each a strtoll integer in -2000..=2000.
pub(super) fn set_oom_score_adj_values(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    let [master, replica, child] = args else {
        return Err("wrong number of arguments".into());
    };
    let mut values = [0i32; 3];
    for (value, word) in values.iter_mut().zip([master, replica, child]) {
        *value = strtoll_exact(word)
            .filter(|v| (-2000..=2000).contains(v))
            .and_then(|v| i32::try_from(v).ok())
            .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
    }
    c.oom_score_adj_values = values;
    Ok(())
}

pub(super) fn render_oom_score_adj_values(c: &Config) -> String {
    c.oom_score_adj_values.map(|v| v.to_string()).join(" ")
}

/// `replicaof <host> <port>` or `replicaof no one` (setConfigReplicaOfOption).
pub(super) fn set_replicaof(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    let [host, port] = args else {
        return Err("wrong number of arguments".into());
    };
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        c.replicaof = None;
        return Ok(());
    }
    let port = strtoll_exact(port).and_then(|p| u16::try_from(p).ok()).ok_or("Invalid master port")?;
    c.replicaof = Some((String::from_utf8_lossy(host).into_owned(), port));
    Ok(())
}

pub(super) fn render_replicaof(c: &Config) -> String {
    c.replicaof.as_ref().map(|(host, port)| format!("{host} {port}")).unwrap_or_default()
}

/// `latency-tracking-info-percentiles <p> ...`: doubles (string2d) within 0..=100; `""` means none.
pub(super) fn set_percentiles(c: &mut Config, args: &[&[u8]], _repeated: bool) -> Result<(), String> {
    let args = if args == [b""] { &[][..] } else { args };
    let mut percentiles = Vec::with_capacity(args.len());
    for word in args {
        let p = parse_f64(word).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
        }
        percentiles.push(p);
    }
    c.latency_tracking_info_percentiles = percentiles;
    Ok(())
}

/// Each percentile as `%f` with trailing zeros (and a trailing point) trimmed, as trimDoubleString does.
pub(super) fn render_percentiles(c: &Config) -> String {
    let trimmed = |p: &f64| {
        let text = format!("{p:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    c.latency_tracking_info_percentiles.iter().map(trimmed).collect::<Vec<_>>().join(" ")
}

/// The `shutdown-on-*` flag names, bit `1 << i` for the i-th after `default` (which is no bit).
const SHUTDOWN_FLAG_NAMES: [&str; 5] = ["default", "save", "nosave", "now", "force"];

/// `shutdown-on-sigint <flag> ...`: any of `default save nosave now force`, or-ed; not both SAVE and NOSAVE.
pub(super) fn parse_shutdown_flags(args: &[&[u8]]) -> Result<u8, String> {
    let unknown = || format!("argument(s) must be one of the following: {}", SHUTDOWN_FLAG_NAMES.join(", "));
    if args.is_empty() {
        return Err(unknown());
    }
    let mut flags = 0;
    for word in args {
        let index =
            SHUTDOWN_FLAG_NAMES.iter().position(|n| n.as_bytes().eq_ignore_ascii_case(word)).ok_or_else(unknown)?;
        flags |= (1u8 << index) >> 1;
    }
    if flags & shutdown::SAVE != 0 && flags & shutdown::NOSAVE != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    Ok(flags)
}

pub(super) fn render_shutdown_flags(flags: u8) -> String {
    if flags == 0 {
        return SHUTDOWN_FLAG_NAMES[0].to_string();
    }
    let names = SHUTDOWN_FLAG_NAMES[1..].iter().enumerate().filter(|(i, _)| flags & (1 << i) != 0);
    names.map(|(_, name)| *name).collect::<Vec<_>>().join(" ")
}

/// isValidAnnouncedHostname: shorter than NET_HOST_STR_LEN, only letters, digits, `-` and `.`.
pub(super) fn check_hostname(v: &[u8]) -> Result<(), String> {
    if v.len() >= HOSTNAME_LEN_MAX {
        return Err(format!("Hostnames must be less than {HOSTNAME_LEN_MAX} characters"));
    }
    if !v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into());
    }
    Ok(())
}

/// validateProcTitleTemplate: the template must expand (sdstemplate: `{name}` variables, `{{` for a
/// brace, every `{` closed, only Redis's variable names) to something other than blanks, with an empty
/// title, as Redis checks it.
pub(super) fn check_proc_title_template(c: &Config, v: &[u8]) -> Result<(), String> {
    match expand_proc_title(c, v) {
        Some(text) if !text.trim_matches(' ').is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables".into()),
    }
}

/// sdstemplate with redisProcTitleGetVariable's variables, `title` empty; `None` where sdstemplate fails.
fn expand_proc_title(c: &Config, template: &[u8]) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.iter().position(|&b| b == b'{') {
        out.push_str(&String::from_utf8_lossy(&rest[..open]));
        let after = &rest[open + 1..];
        if after.first() == Some(&b'{') {
            out.push('{');
            rest = &after[1..];
            continue;
        }
        let close = after.iter().position(|&b| b == b'}')?;
        out.push_str(&proc_title_variable(c, &after[..close])?);
        rest = &after[close + 1..];
    }
    out.push_str(&String::from_utf8_lossy(rest));
    Some(out)
}

/// One variable of the process title, as redisProcTitleGetVariable expands it.
fn proc_title_variable(c: &Config, name: &[u8]) -> Option<String> {
    Some(match name {
        b"title" => String::new(),
        b"listen-addr" if c.port != 0 || c.tls_port != 0 => {
            let port = if c.port != 0 { c.port } else { c.tls_port };
            format!("{}:{port}", c.bind.first().map_or("*", String::as_str))
        }
        b"listen-addr" => format!("unixsocket:{}", c.unixsocket),
        b"server-mode" if c.cluster_enabled => "[cluster]".to_string(),
        b"server-mode" => String::new(),
        b"config-file" => c.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        b"port" => c.port.to_string(),
        b"tls-port" => c.tls_port.to_string(),
        b"unixsocket" => c.unixsocket.clone(),
        _ => return None,
    })
}
