//! Request targets: percent-decoding, splitting a path into segments and a query string into pairs.
//!
//! Pure functions over bytes, no allocation beyond the decoded output. A key is one path segment, so `/` inside
//! a key travels as `%2F` and is decoded only after the path was split; `+` is a literal plus in a path and a
//! space in a query (the `application/x-www-form-urlencoded` convention browsers and curl's `--data-urlencode`
//! follow).

/// Why a target could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEscape;

/// Decodes `%XX` escapes; `plus_is_space` turns `+` into a space (query strings only). A `%` not followed by
/// two hex digits is an error rather than a literal, so a mistyped key is refused instead of silently kept.
pub fn percent_decode(text: &[u8], plus_is_space: bool) -> Result<Vec<u8>, BadEscape> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'%' => {
                let high = text.get(i + 1).and_then(|&c| hex_value(c)).ok_or(BadEscape)?;
                let low = text.get(i + 2).and_then(|&c| hex_value(c)).ok_or(BadEscape)?;
                out.push(high << 4 | low);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    char::from(c).to_digit(16).map(|d| d as u8)
}

/// A request target split into its raw (still encoded) path and query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    pub path: &'a [u8],
    pub query: &'a [u8],
}

impl<'a> Target<'a> {
    /// Splits at the first `?`; a fragment (`#...`, which clients should not send) is dropped.
    pub fn parse(target: &'a [u8]) -> Target<'a> {
        let target = target.split(|&c| c == b'#').next().unwrap_or(target);
        match target.iter().position(|&c| c == b'?') {
            Some(at) => Target { path: &target[..at], query: &target[at + 1..] },
            None => Target { path: target, query: b"" },
        }
    }

    /// The path's segments after the leading `/`, still encoded, with one trailing empty segment (a trailing
    /// slash) dropped: `/a/` and `/a` both give `["a"]`, and `/` gives `[""]`.
    pub fn segments(&self) -> Vec<&'a [u8]> {
        let path = self.path.strip_prefix(b"/").unwrap_or(self.path);
        let mut segments: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
        if segments.len() > 1 && segments.last().is_some_and(|s| s.is_empty()) {
            segments.pop();
        }
        segments
    }

    /// The decoded value of query parameter `name` (the first one if repeated); `None` when absent.
    pub fn query_param(&self, name: &str) -> Option<Result<Vec<u8>, BadEscape>> {
        self.query.split(|&c| c == b'&').find_map(|pair| {
            let (key, value) = match pair.iter().position(|&c| c == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            (key == name.as_bytes()).then(|| percent_decode(value, true))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_refuses_broken_ones() {
        assert_eq!(percent_decode(b"a%2Fb%5f%20c+d", false).unwrap(), b"a/b_ c+d");
        assert_eq!(percent_decode(b"a+b", true).unwrap(), b"a b");
        assert_eq!(percent_decode(b"%e2%82%AC", false).unwrap(), "€".as_bytes());
        assert_eq!(percent_decode(b"%00", false).unwrap(), b"\0");
        for bad in [&b"%"[..], b"%4", b"%zz", b"a%g1"] {
            assert_eq!(percent_decode(bad, false), Err(BadEscape), "{bad:?}");
        }
    }

    #[test]
    fn splits_path_query_and_trailing_slash() {
        let t = Target::parse(b"/user-config/?match=a*&count=5#frag");
        assert_eq!(t.path, b"/user-config/");
        assert_eq!(t.segments(), vec![&b"user-config"[..]]);
        assert_eq!(t.query_param("match"), Some(Ok(b"a*".to_vec())));
        assert_eq!(t.query_param("count"), Some(Ok(b"5".to_vec())));
        assert_eq!(t.query_param("cursor"), None);
        assert_eq!(Target::parse(b"/").segments(), vec![&b""[..]]);
        assert_eq!(Target::parse(b"/k/incr").segments(), vec![&b"k"[..], b"incr"]);
        assert_eq!(Target::parse(b"//").segments(), vec![&b""[..]]);
        assert_eq!(Target::parse(b"/?values").query_param("values"), Some(Ok(Vec::new())));
    }
}
