//! JSON for the gateway: one RESP reply turned into JSON text, and the small JSON helpers around it.
//!
//! API: [`reply_to_json`] converts the RESP2/RESP3 reply `cmd::call` wrote (so HTTP sees exactly what RESP
//! sees) and returns how many bytes it used; [`write_string`] writes bytes as a JSON string; [`write_stored`]
//! writes a stored string value (embedded as-is when it is JSON text, else as a JSON string); [`compact`]
//! strips insignificant whitespace from validated JSON text; [`base64`] is Upstash's response encoding.
//!
//! Mapping: status and bulk strings → strings (bytes that are not UTF-8 are replaced with U+FFFD, as JSON
//! strings must be Unicode); integers and big numbers → numbers; doubles → numbers, or the strings `"inf"`,
//! `"-inf"`, `"nan"` that JSON cannot spell as numbers; booleans → `true`/`false`; every null → `null`;
//! arrays, sets and pushes → arrays; maps → objects (a key that is not a string becomes the string of its JSON);
//! an error inside an aggregate (EXEC's results) → `{"error": "..."}`; a top-level error is the caller's (it
//! becomes a 400). With `base64`, every string but the status `OK` is base64 text, which is what
//! `@upstash/redis` decodes by default.
//!
//! The reply comes from our own writer, but the converter still checks every length against the buffer and
//! caps nesting at [`DEPTH_MAX`], so a bug upstream is an error here, never a panic or a runaway recursion.

use serde_json::value::RawValue;

/// Deepest nesting converted; Redis's replies nest a few levels at most (COMMAND DOCS is the deepest).
pub const DEPTH_MAX: usize = 32;

/// Why a reply could not be converted; each means a bug in the reply writer, not bad input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertError {
    Truncated,
    Malformed,
    TooDeep,
}

/// How strings are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Base64 for every string except the status `OK` (the `Upstash-Encoding: base64` request header).
    pub base64: bool,
}

/// Appends the JSON form of the reply at the start of `resp` to `out`; returns the reply's length in bytes.
pub fn reply_to_json(resp: &[u8], out: &mut Vec<u8>, options: Options) -> Result<usize, ConvertError> {
    let mut reader = Reader { buf: resp, pos: 0, options };
    reader.value(out, 0)?;
    Ok(reader.pos)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    options: Options,
}

impl<'a> Reader<'a> {
    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Result<(), ConvertError> {
        if depth > DEPTH_MAX {
            return Err(ConvertError::TooDeep);
        }
        let kind = *self.buf.get(self.pos).ok_or(ConvertError::Truncated)?;
        self.pos += 1;
        let line = self.line()?;
        match kind {
            b'+' => self.string(out, line, line == b"OK"),
            b'-' => {
                out.extend_from_slice(b"{\"error\":");
                write_string(out, line);
                out.push(b'}');
            }
            b':' | b'(' => out.extend_from_slice(number_text(line)?),
            b',' => write_double(out, line),
            b'#' => out.extend_from_slice(if line == b"t" { b"true" } else { b"false" }),
            b'_' => out.extend_from_slice(b"null"),
            b'$' | b'=' => match length(line)? {
                None => out.extend_from_slice(b"null"),
                Some(len) => {
                    let data = self.bulk_data(len)?;
                    // A verbatim string starts with its format and a colon (`txt:`), which is not text.
                    let text = if kind == b'=' { data.get(4..).ok_or(ConvertError::Malformed)? } else { data };
                    self.string(out, text, false);
                }
            },
            b'*' | b'~' | b'>' => match length(line)? {
                None => out.extend_from_slice(b"null"),
                Some(len) => self.array(out, len, depth)?,
            },
            b'%' => self.object(out, length(line)?.ok_or(ConvertError::Malformed)?, depth)?,
            b'|' => {
                // Attributes are out-of-band metadata: convert them to learn their extent, then drop them.
                let mut ignored = Vec::new();
                self.object(&mut ignored, length(line)?.ok_or(ConvertError::Malformed)?, depth)?;
                self.value(out, depth)?;
            }
            _ => return Err(ConvertError::Malformed),
        }
        Ok(())
    }

    fn array(&mut self, out: &mut Vec<u8>, len: usize, depth: usize) -> Result<(), ConvertError> {
        out.push(b'[');
        for i in 0..len {
            if i > 0 {
                out.push(b',');
            }
            self.value(out, depth + 1)?;
        }
        out.push(b']');
        Ok(())
    }

    fn object(&mut self, out: &mut Vec<u8>, len: usize, depth: usize) -> Result<(), ConvertError> {
        out.push(b'{');
        for i in 0..len {
            if i > 0 {
                out.push(b',');
            }
            let key_start = out.len();
            self.value(out, depth + 1)?;
            if out.get(key_start) != Some(&b'"') {
                // JSON keys are strings: a number, null or aggregate key becomes the string of its JSON text.
                let text = out.split_off(key_start);
                write_string(out, &text);
            }
            out.push(b':');
            self.value(out, depth + 1)?;
        }
        out.push(b'}');
        Ok(())
    }

    fn string(&self, out: &mut Vec<u8>, text: &[u8], is_ok_status: bool) {
        if self.options.base64 && !is_ok_status {
            out.push(b'"');
            base64(out, text);
            out.push(b'"');
        } else {
            write_string(out, text);
        }
    }

    /// The rest of the current line, without its CRLF; the position moves past the CRLF.
    fn line(&mut self) -> Result<&'a [u8], ConvertError> {
        let rest: &'a [u8] = &self.buf[self.pos..];
        let end = rest.windows(2).position(|w| w == b"\r\n").ok_or(ConvertError::Truncated)?;
        self.pos += end + 2;
        Ok(&rest[..end])
    }

    fn bulk_data(&mut self, len: usize) -> Result<&'a [u8], ConvertError> {
        let end = self.pos.checked_add(len).ok_or(ConvertError::Malformed)?;
        let buf: &'a [u8] = self.buf;
        let data = buf.get(self.pos..end).ok_or(ConvertError::Truncated)?;
        if self.buf.get(end..end + 2) != Some(b"\r\n") {
            return Err(ConvertError::Truncated);
        }
        self.pos = end + 2;
        Ok(data)
    }
}

/// An aggregate or bulk length; `None` for RESP2's `-1` nulls.
fn length(line: &[u8]) -> Result<Option<usize>, ConvertError> {
    if line == b"-1" {
        return Ok(None);
    }
    let text = std::str::from_utf8(line).map_err(|_| ConvertError::Malformed)?;
    text.parse().map(Some).map_err(|_| ConvertError::Malformed)
}

/// An integer's digits, checked so the JSON stays valid whatever the line holds.
fn number_text(line: &[u8]) -> Result<&[u8], ConvertError> {
    let digits = line.strip_prefix(b"-").unwrap_or(line);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ConvertError::Malformed);
    }
    Ok(line)
}

/// Redis prints doubles with `%.17g` (`1.5`, `1e+300`, `inf`): valid JSON numbers except the non-finite ones.
fn write_double(out: &mut Vec<u8>, line: &[u8]) {
    let finite = std::str::from_utf8(line).ok().and_then(|t| t.parse::<f64>().ok()).is_some_and(f64::is_finite);
    if finite && serde_json::from_slice::<&RawValue>(line).is_ok() {
        out.extend_from_slice(line);
    } else {
        write_string(out, line);
    }
}

/// Writes `bytes` as a JSON string; invalid UTF-8 becomes U+FFFD.
pub fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let code = c as u32;
                out.extend_from_slice(b"\\u00");
                out.push(HEX_DIGITS[(code >> 4) as usize]);
                out.push(HEX_DIGITS[(code & 0xf) as usize]);
            }
            c => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    out.push(b'"');
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A stored string value: JSON text (what POST stores) is embedded as it is, anything else (a plain string set
/// over RESP) becomes a JSON string.
pub fn write_stored(out: &mut Vec<u8>, value: &[u8]) {
    match serde_json::from_slice::<&RawValue>(value) {
        Ok(raw) => out.extend_from_slice(raw.get().as_bytes()),
        Err(_) => write_string(out, value),
    }
}

/// Appends `json` (already validated) without the whitespace between tokens; strings are kept byte for byte,
/// and numbers keep their exact spelling, which re-serializing through `serde_json::Value` would not.
pub fn compact(json: &str, out: &mut Vec<u8>) {
    let mut in_string = false;
    let mut escaped = false;
    for &c in json.as_bytes() {
        if in_string {
            in_string = escaped || c != b'"';
            escaped = !escaped && c == b'\\';
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        } else {
            in_string = c == b'"';
        }
        out.push(c);
    }
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(out: &mut Vec<u8>, data: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63]);
        out.push(ALPHABET[(n >> 12) as usize & 63]);
        out.push(if chunk.len() > 1 { ALPHABET[(n >> 6) as usize & 63] } else { b'=' });
        out.push(if chunk.len() > 2 { ALPHABET[n as usize & 63] } else { b'=' });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::reply::Reply;

    fn convert(resp: &[u8], base64: bool) -> String {
        let mut out = Vec::new();
        let used = reply_to_json(resp, &mut out, Options { base64 }).expect("converts");
        assert_eq!(used, resp.len());
        String::from_utf8(out).unwrap()
    }

    fn both_protocols(write: impl Fn(&mut Reply)) -> (String, String) {
        let (mut r2, mut r3) = (Reply::new(false), Reply::new(true));
        write(&mut r2);
        write(&mut r3);
        (convert(&r2.buf, false), convert(&r3.buf, false))
    }

    #[test]
    fn scalars() {
        assert_eq!(convert(b"+OK\r\n", false), r#""OK""#);
        assert_eq!(convert(b":-42\r\n", false), "-42");
        assert_eq!(convert(b"$5\r\nhe\"l\n\r\n", false), r#""he\"l\n""#);
        assert_eq!(convert(b"$-1\r\n", false), "null");
        assert_eq!(convert(b"*-1\r\n", false), "null");
        assert_eq!(convert(b"_\r\n", false), "null");
        assert_eq!(convert(b"#t\r\n", false), "true");
        assert_eq!(convert(b",1.5\r\n", false), "1.5");
        assert_eq!(convert(b",1e+300\r\n", false), "1e+300");
        assert_eq!(convert(b",inf\r\n", false), r#""inf""#);
        assert_eq!(convert(b",nan\r\n", false), r#""nan""#);
        assert_eq!(convert(b"(12345678901234567890123\r\n", false), "12345678901234567890123");
        assert_eq!(convert(b"=8\r\ntxt:abcd\r\n", false), r#""abcd""#);
        assert_eq!(convert(b"$2\r\n\xff\x01\r\n", false), "\"\u{fffd}\\u0001\"");
    }

    #[test]
    fn aggregates_and_nested_errors() {
        assert_eq!(convert(b"*3\r\n:1\r\n$1\r\na\r\n*0\r\n", false), r#"[1,"a",[]]"#);
        assert_eq!(convert(b"%2\r\n$1\r\nf\r\n:1\r\n:7\r\n_\r\n", false), r#"{"f":1,"7":null}"#);
        assert_eq!(convert(b"%1\r\n*1\r\n:1\r\n:2\r\n", false), r#"{"[1]":2}"#);
        assert_eq!(convert(b"~1\r\n$1\r\nx\r\n", false), r#"["x"]"#);
        assert_eq!(convert(b"*2\r\n+OK\r\n-ERR no\r\n", false), r#"["OK",{"error":"ERR no"}]"#);
        assert_eq!(convert(b"|1\r\n+a\r\n+b\r\n:5\r\n", false), "5");
    }

    #[test]
    fn maps_follow_the_protocol_the_reply_was_written_in() {
        let hash = |r: &mut Reply| {
            r.map(1);
            r.bulk(b"field");
            r.double(2.5);
        };
        assert_eq!(both_protocols(hash), (r#"["field","2.5"]"#.into(), r#"{"field":2.5}"#.into()));
    }

    #[test]
    fn base64_strings_except_ok() {
        assert_eq!(convert(b"+OK\r\n", true), r#""OK""#);
        assert_eq!(convert(b"+PONG\r\n", true), r#""UE9ORw==""#);
        assert_eq!(convert(b"*2\r\n$3\r\nbar\r\n:3\r\n", true), r#"["YmFy",3]"#);
        let mut out = Vec::new();
        for (plain, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            out.clear();
            base64(&mut out, plain.as_bytes());
            assert_eq!(out, encoded.as_bytes());
        }
    }

    #[test]
    fn broken_replies_are_errors_not_panics() {
        let mut out = Vec::new();
        for bad in [&b""[..], b"$5\r\nab\r\n", b"*2\r\n:1\r\n", b"?x\r\n", b":1x\r\n", b"$99999999999999999999\r\n"] {
            assert!(reply_to_json(bad, &mut out, Options::default()).is_err(), "{bad:?}");
        }
        let deep = "*1\r\n".repeat(DEPTH_MAX + 2) + ":1\r\n";
        assert_eq!(reply_to_json(deep.as_bytes(), &mut out, Options::default()), Err(ConvertError::TooDeep));
    }

    #[test]
    fn stored_values_and_compaction() {
        let mut out = Vec::new();
        write_stored(&mut out, br#"{"theme": "dark"}"#);
        assert_eq!(out, br#"{"theme": "dark"}"#);
        out.clear();
        write_stored(&mut out, b"hello world");
        assert_eq!(out, br#""hello world""#);
        out.clear();
        compact(" { \"a b\" : [1, 2.50 ,\"x\\\" y\"] }\n", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a b":[1,2.50,"x\" y"]}"#);
    }
}
