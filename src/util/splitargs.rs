//! Splits a line into arguments the way Redis's `sdssplitargs` does.
//!
//! Used for inline (telnet-style) requests and for redis.conf lines, so both accept exactly what redis-server
//! accepts: bare words separated by spaces, `"double quoted"` strings with `\n \r \t \b \a \\ \" \xHH` escapes,
//! and `'single quoted'` strings where only `\'` is an escape. A closing quote must be followed by a space or
//! the end of the line; anything else (or a missing closing quote) makes the whole line invalid (`None`).
//! [`push_repr`] is the inverse, sds.c's `sdscatrepr`.

use std::fmt::Write as _;

/// Splits `line` into arguments, or `None` when quotes are unbalanced.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut pos = 0;
    loop {
        while pos < line.len() && is_space(line[pos]) {
            pos += 1;
        }
        if pos == line.len() {
            return Some(args);
        }
        let (arg, next) = split_one(line, pos)?;
        args.push(arg);
        pos = next;
    }
}

/// Reads one argument starting at `pos` (not a space); returns it and the position after it.
fn split_one(line: &[u8], mut pos: usize) -> Option<(Vec<u8>, usize)> {
    let mut arg = Vec::new();
    let mut quote: Option<u8> = None;
    loop {
        match quote {
            None => match line.get(pos) {
                None => return Some((arg, pos)),
                Some(&c) if ends_word(c) => return Some((arg, pos)),
                Some(&c @ (b'"' | b'\'')) => quote = Some(c),
                Some(&c) => arg.push(c),
            },
            Some(q) => {
                let c = *line.get(pos)?;
                if c == q {
                    // Redis requires a space (or the end) right after the closing quote.
                    if line.get(pos + 1).is_some_and(|&n| !is_space(n)) {
                        return None;
                    }
                    return Some((arg, pos + 1));
                }
                if c == b'\\' && pos + 1 < line.len() {
                    pos += escape(line, pos, q, &mut arg);
                    continue;
                }
                arg.push(c);
            }
        }
        pos += 1;
    }
}

/// Decodes the escape at `line[pos] == '\\'` inside a `q`-quoted string, pushing its byte(s) to `arg`;
/// returns how many bytes of `line` it used.
fn escape(line: &[u8], pos: usize, q: u8, arg: &mut Vec<u8>) -> usize {
    let next = line[pos + 1];
    if q == b'\'' {
        // Single quotes only know `\'`; any other backslash is literal.
        if next == b'\'' {
            arg.push(b'\'');
            return 2;
        }
        arg.push(b'\\');
        return 1;
    }
    if next == b'x'
        && pos + 3 < line.len()
        && let (Some(hi), Some(lo)) = (hex_digit(line[pos + 2]), hex_digit(line[pos + 3]))
    {
        arg.push(hi << 4 | lo);
        return 4;
    }
    arg.push(match next {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    });
    2
}

/// sds.c's `sdscatrepr`: a double-quoted string that split_args reads back to the same bytes.
pub fn push_repr(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                // Writing into a String cannot fail.
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

/// `isspace` in the C locale, which sdssplitargs uses to skip between arguments and after a closing quote.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

/// What ends an unquoted word in sdssplitargs: its own list, without `isspace`'s `\v` and `\f`, so
/// `ECHO a\x0bb` is one 3-byte argument (and `\v` before a word is still skipped).
fn ends_word(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| v.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect())
    }

    #[test]
    fn bare_words_and_spaces() {
        assert_eq!(split("  set  k v "), Some(vec!["set".into(), "k".into(), "v".into()]));
        assert_eq!(split(""), Some(vec![]));
        assert_eq!(split("\t \r\n"), Some(vec![]));
    }

    #[test]
    fn vertical_tab_and_form_feed_end_no_word() {
        assert_eq!(split("ECHO a\x0bb"), Some(vec!["ECHO".into(), "a\x0bb".into()]));
        assert_eq!(split("ECHO a\x0cb"), Some(vec!["ECHO".into(), "a\x0cb".into()]));
        // Between words and after a closing quote they are spaces, as isspace says.
        assert_eq!(split("\x0bECHO \"a\"\x0b"), Some(vec!["ECHO".into(), "a".into()]));
    }

    #[test]
    fn double_quotes_with_escapes() {
        assert_eq!(split(r#"set "a b" "\x41\n\"""#), Some(vec!["set".into(), "a b".into(), "A\n\"".into()]));
        // An invalid \x escape keeps the 'x' literally, as sdssplitargs does.
        assert_eq!(split(r#""\xZZ""#), Some(vec!["xZZ".into()]));
        assert_eq!(split(r#""""#), Some(vec!["".into()]));
        // Quotes in the middle of a word open a quoted part of the same argument.
        assert_eq!(split(r#"ab"c d""#), Some(vec!["abc d".into()]));
    }

    #[test]
    fn single_quotes_only_escape_quote() {
        assert_eq!(split(r"'it\'s' '\n'"), Some(vec!["it's".into(), "\\n".into()]));
    }

    #[test]
    fn unbalanced_or_glued_quotes_fail() {
        assert_eq!(split(r#"set "abc"#), None);
        assert_eq!(split("set 'abc"), None);
        assert_eq!(split(r#""a"b"#), None);
        assert_eq!(split(r#""abc\"#), None);
    }
}
