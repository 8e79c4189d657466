//! Reading redis.conf text and redis-server's command line into a [`Config`], as config.c's
//! `loadServerConfigFromString` and server.c's `main` do.
//!
//! API (crate-internal): [`options_from_args`] turns argv into the config file name, the stdin flag and the
//! option lines; [`Loader::load_text`] applies config text line by line; [`fatal`] words an error.
//!
//! How argv becomes config text: every `--name` starts a new line `name`, and each following word is
//! appended quoted (`sdscatrepr`), so `--save 900 1 --port 7777` becomes the lines `save "900" "1"` and
//! `port "7777"`. Those lines go after the config file and stdin, in one text, so later lines win and
//! error line numbers count from the top of the file, exactly as redis-server reports them.
//!
//! Each line is trimmed, skipped when blank or a `#` comment, split with [`split_args`], and its first
//! word looked up (any case) in the directive table; `include path` loads another file in place (a path
//! with `*`, `?` or `[` in its last component includes every matching file, in name order). Includes
//! nest at most [`INCLUDE_DEPTH_MAX`] deep, where Redis would recurse until it crashed.

use std::path::{Path, PathBuf};

use super::table::{self, Kind};
use super::{Config, REDIS_VERSION};
use crate::util::glob::glob_match;
use crate::util::splitargs::split_args;

/// Nested `include`s followed before the load fails.
pub(super) const INCLUDE_DEPTH_MAX: usize = 16;

/// Directives Redis 7.0 still accepts (with one value) and ignores.
const DEPRECATED_DIRECTIVES: &[&str] =
    &["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

/// What redis-server's argv asks for, besides `--version` and `--help`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct CliSources {
    /// The first argument when it does not start with `-`.
    pub config_file: Option<String>,
    /// A lone `-` as the first or last argument: read config text from stdin.
    pub stdin: bool,
    /// The option lines; present whenever there was any argument (Redis then always appends "\n" and
    /// them, even when empty, which shifts option line numbers by one).
    pub options: Option<String>,
}

/// server.c's argv loop, word for word in behaviour (including `--save` with no value meaning `save ""`).
pub(super) fn options_from_args(args: &[String]) -> CliSources {
    let mut sources = CliSources::default();
    let Some(first) = args.first() else {
        return sources;
    };
    let mut j = 0;
    if !first.starts_with('-') {
        sources.config_file = Some(first.clone());
        j = 1;
    }
    let mut options = String::new();
    // False right after a `--name` with no value yet: the next word is its value even if it starts with `--`.
    let mut name_has_value = true;
    while j < args.len() {
        let arg = &args[j];
        let is_last = j == args.len() - 1;
        if arg == "-" && (j == 0 || is_last) {
            sources.stdin = true;
        } else if name_has_value && arg.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&arg[2..]);
            options.push(' ');
            // "--port 6380" as one word carries its value; "--port" alone waits for the next word.
            name_has_value = split_args(arg.as_bytes()).is_none_or(|words| words.len() != 1);
            let next_is_name = args.get(j + 1).is_some_and(|next| next.starts_with("--"));
            if !name_has_value && arg.eq_ignore_ascii_case("--save") && (next_is_name || is_last) {
                // `--save` followed by another option (or nothing) means `save ""`, as before Redis 7.0.1.
                options.push_str("\"\"");
                name_has_value = true;
            }
        } else {
            crate::util::splitargs::push_repr(&mut options, arg.as_bytes());
            options.push(' ');
            name_has_value = true;
        }
        j += 1;
    }
    sources.options = Some(options);
    sources
}

/// The message redis-server prints to stderr before exiting 1 on a bad config (a leading blank line
/// included); `at` is the 1-based line number and the trimmed line, when the error has one.
pub(super) fn fatal(at: Option<(usize, &[u8])>, error: &str) -> String {
    let mut out = format!("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n");
    if let Some((number, line)) = at {
        out.push_str(&format!("Reading the configuration file, at line {number}\n"));
        out.push_str(&format!(">>> '{}'\n", String::from_utf8_lossy(line)));
    }
    out.push_str(error);
    out
}

/// The message redis-server logs when a config file cannot be read.
pub(super) fn unreadable(path: &str, error: &std::io::Error) -> String {
    format!("Fatal error, can't open config file '{path}': {}", crate::util::strerror::strerror(error))
}

/// Why a line failed: either an error to report with that line, or a complete message from a nested file.
#[derive(Debug)]
enum LineError {
    Bad(String),
    Done(String),
}

impl From<String> for LineError {
    fn from(error: String) -> Self {
        LineError::Bad(error)
    }
}

/// Applies config text to a [`Config`], remembering which directives this load has seen (so repeated
/// `save` lines append) and how deep in `include`s it is.
#[derive(Debug)]
pub(super) struct Loader<'c> {
    config: &'c mut Config,
    /// Names of the directives applied so far in this load.
    seen: Vec<&'static str>,
    depth: usize,
}

impl<'c> Loader<'c> {
    pub(super) fn new(config: &'c mut Config) -> Self {
        Loader { config, seen: Vec::new(), depth: 0 }
    }

    /// Applies every line of `text`; on the first bad one, returns the whole fatal message.
    pub(super) fn load_text(&mut self, text: &[u8]) -> Result<(), String> {
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            match self.load_line(line) {
                Ok(()) => {}
                Err(LineError::Bad(error)) => return Err(fatal(Some((index + 1, line)), &error)),
                Err(LineError::Done(message)) => return Err(message),
            }
        }
        Ok(())
    }

    fn load_line(&mut self, line: &[u8]) -> Result<(), LineError> {
        let words = split_args(line).ok_or_else(|| "Unbalanced quotes in configuration line".to_string())?;
        let Some((name, args)) = words.split_first() else {
            return Ok(());
        };
        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        if let Some((_, directive)) = table::lookup(name) {
            if !matches!(directive.kind, Kind::List { .. }) && args.len() != 1 {
                return Err("wrong number of arguments".to_string().into());
            }
            let repeated = self.seen.contains(&directive.name);
            table::apply(self.config, directive, &args, repeated)?;
            if !repeated {
                self.seen.push(directive.name);
            }
            return Ok(());
        }
        if args.len() == 1 && DEPRECATED_DIRECTIVES.iter().any(|d| d.as_bytes().eq_ignore_ascii_case(name)) {
            return Ok(());
        }
        match args.as_slice() {
            [path] if name.eq_ignore_ascii_case(b"include") => self.include(path),
            _ => Err("Bad directive or wrong number of arguments".to_string().into()),
        }
    }

    /// `include path`: loads each named file in place. A relative path is taken from `dir`, which is where
    /// Redis's `dir` directive would have chdir()ed by then.
    fn include(&mut self, path: &[u8]) -> Result<(), LineError> {
        if self.depth >= INCLUDE_DEPTH_MAX {
            return Err(format!("include nested more than {INCLUDE_DEPTH_MAX} levels deep").into());
        }
        let path = String::from_utf8_lossy(path).into_owned();
        let full = Path::new(&self.config.dir).join(&path);
        let files = if path.contains(['*', '?', '[']) { glob_files(&full) } else { vec![full] };
        for file in files {
            let text = std::fs::read(&file).map_err(|e| LineError::Done(unreadable(&file.to_string_lossy(), &e)))?;
            self.depth += 1;
            let loaded = self.load_text(&text);
            self.depth -= 1;
            loaded.map_err(LineError::Done)?;
        }
        Ok(())
    }
}

/// `sdstrim(line, " \t\r\n")`: the error message shows the line trimmed exactly this way.
fn trim(line: &[u8]) -> &[u8] {
    let kept = |b: &u8| !matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    match (line.iter().position(kept), line.iter().rposition(kept)) {
        (Some(start), Some(end)) => &line[start..=end],
        _ => &[],
    }
}

/// Files matching a wildcard in the last component of `pattern`, sorted by name like glob(3); none is
/// not an error (Redis skips an include whose wildcard matches nothing). Hidden files match only a
/// pattern that starts with a dot, as with glob(3).
fn glob_files(pattern: &Path) -> Vec<PathBuf> {
    let (Some(parent), Some(name)) = (pattern.parent(), pattern.file_name()) else {
        return Vec::new();
    };
    let name = name.as_encoded_bytes();
    let Ok(listing) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .filter(|entry| {
            let candidate = entry.file_name();
            let candidate = candidate.as_encoded_bytes();
            (name.first() == Some(&b'.') || candidate.first() != Some(&b'.')) && glob_match(name, candidate, false)
        })
        .map(|entry| entry.path())
        .collect();
    files.sort();
    files
}
