//! Glob-style matching with exactly the answers of Redis 7.0's `stringmatchlen` (util.c).
//!
//! Used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET and anything else that takes a Redis pattern.
//! API: [`glob_match`]`(pattern, string, nocase)`.
//!
//! The syntax, as Redis reads it:
//! - `*` matches any run of bytes (consecutive stars are one), `?` matches one byte;
//! - `[abc]`, `[^abc]`, `[a-z]` match one byte from a class; a range may be written backwards (`[z-a]`), a
//!   `\` inside a class escapes the next byte, and a class with no closing `]` takes the rest of the pattern;
//! - `\x` matches `x` literally; a trailing lone `\` matches a backslash;
//! - `nocase` folds ASCII letters, except for escaped bytes inside a class, which Redis compares exactly.
//!
//! Quirks kept on purpose, because clients see them: an empty string matches only the empty pattern (so `*`
//! does not match `""`; KEYS special-cases a lone `*` before it gets here), and range bounds are compared
//! as C's signed `char`, so `[\xe9-a]` covers the bytes 0x00..=0x61 and 0xe9..=0xff.
//!
//! Redis recurses once per `*`, caps the depth at 1000 (a pattern with more than 1000 stars that are
//! followed by something matches nothing) and prunes with `skipLongerMatches`. We give the same answers
//! without recursion: a first pass counts the stars, then a two-pointer scan that remembers only the last
//! star. That scan is correct because every other token matches exactly one byte, and it runs in
//! O(pattern × string) time and constant space whatever the pattern.

/// Stars (runs of `*` followed by more pattern) Redis follows before giving up: its `nesting > 1000` guard.
const STAR_NESTING_MAX: usize = 1000;

/// True when `string` matches the Redis glob `pattern`; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // Redis's loop never runs on an empty string, so only an empty pattern matches it.
    if string.is_empty() {
        return pattern.is_empty();
    }
    if inner_star_runs(pattern) > STAR_NESTING_MAX {
        return false;
    }
    // `p`/`s` walk the pattern and the string; `backtrack` is where to resume after the last star:
    // the pattern just after its run, and the first string byte that star has not swallowed yet.
    let (mut p, mut s) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while s < string.len() {
        if p < pattern.len() {
            match token_at(pattern, p) {
                Token::Star => {
                    p = skip_stars(pattern, p);
                    if p == pattern.len() {
                        return true;
                    }
                    backtrack = Some((p, s));
                    continue;
                }
                Token::One { next } => {
                    if byte_matches(pattern, p, string[s], nocase) {
                        p = next;
                        s += 1;
                        continue;
                    }
                }
            }
        }
        // A mismatch, or pattern left over is missing: let the last star swallow one more byte.
        match backtrack {
            Some((star_p, star_s)) => {
                backtrack = Some((star_p, star_s + 1));
                p = star_p;
                s = star_s + 1;
            }
            None => return false,
        }
    }
    // The string is used up: what is left of the pattern must be stars only.
    skip_stars(pattern, p) == pattern.len()
}

/// One pattern token: a `*`, or something that matches exactly one byte and ends before `next`.
#[derive(Debug)]
enum Token {
    Star,
    One { next: usize },
}

fn token_at(pattern: &[u8], p: usize) -> Token {
    match pattern[p] {
        b'*' => Token::Star,
        b'[' => Token::One { next: class_at(pattern, p, None, false).1 },
        b'\\' if p + 1 < pattern.len() => Token::One { next: p + 2 },
        _ => Token::One { next: p + 1 },
    }
}

/// Index of the first byte after the run of `*` starting at `p` (or `p` itself when there is none).
fn skip_stars(pattern: &[u8], mut p: usize) -> usize {
    while pattern.get(p) == Some(&b'*') {
        p += 1;
    }
    p
}

/// Runs of `*` that have more pattern after them: each costs Redis one level of recursion.
fn inner_star_runs(pattern: &[u8]) -> usize {
    let mut runs = 0;
    let mut p = 0;
    while p < pattern.len() {
        match token_at(pattern, p) {
            Token::Star => {
                p = skip_stars(pattern, p);
                if p < pattern.len() {
                    runs += 1;
                }
            }
            Token::One { next } => p = next,
        }
    }
    runs
}

/// Whether the one-byte token at `p` (not a star) matches `c`.
fn byte_matches(pattern: &[u8], p: usize, c: u8, nocase: bool) -> bool {
    match pattern[p] {
        b'?' => true,
        b'[' => class_at(pattern, p, Some(c), nocase).0,
        b'\\' if p + 1 < pattern.len() => same_byte(pattern[p + 1], c, nocase),
        literal => same_byte(literal, c, nocase),
    }
}

fn same_byte(a: u8, b: u8, nocase: bool) -> bool {
    if nocase { a.eq_ignore_ascii_case(&b) } else { a == b }
}

/// Walks the class opening at `pattern[open] == '['` the way Redis does. Returns whether `c` is in it
/// (false when `c` is `None`) and the index just past the class: after its `]`, or the pattern's end when
/// the class is unterminated. The end never depends on `c`, so tokenizing needs no byte to test.
fn class_at(pattern: &[u8], open: usize, c: Option<u8>, nocase: bool) -> (bool, usize) {
    let mut p = open + 1;
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut hit = false;
    loop {
        let Some(&pc) = pattern.get(p) else {
            // Unterminated: the class takes the rest of the pattern.
            return (c.is_some() && hit != negate, pattern.len());
        };
        if pc == b'\\' && p + 1 < pattern.len() {
            // Redis compares escaped class members exactly, even under nocase.
            p += 1;
            hit |= c == Some(pattern[p]);
        } else if pc == b']' {
            return (c.is_some() && hit != negate, p + 1);
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' {
            hit |= c.is_some_and(|c| in_range(pc, pattern[p + 2], c, nocase));
            p += 2;
        } else {
            hit |= c.is_some_and(|c| same_byte(pc, c, nocase));
        }
        p += 1;
    }
}

/// `[start-end]` membership with Redis's arithmetic: bounds in either order, compared as signed C chars
/// (x86's `char`), then folded to lower case when `nocase`.
fn in_range(start: u8, end: u8, c: u8, nocase: bool) -> bool {
    let as_c_char = |b: u8| {
        let b = if nocase { b.to_ascii_lowercase() } else { b };
        i32::from(b as i8)
    };
    let (low, high) = if (start as i8) > (end as i8) { (end, start) } else { (start, end) };
    (as_c_char(low)..=as_c_char(high)).contains(&as_c_char(c))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(pattern: &str, string: &str) -> bool {
        glob_match(pattern.as_bytes(), string.as_bytes(), false)
    }

    fn mi(pattern: &str, string: &str) -> bool {
        glob_match(pattern.as_bytes(), string.as_bytes(), true)
    }

    #[test]
    fn literals_stars_and_question_marks() {
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("*", "x"));
        assert!(m("**", "anything"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b*", "xxbxxaxx"));
        assert!(m("*ab", "aab"));
        assert!(m("a*b*c", "abbbc"));
        assert!(!m("a*b*c", "abbb"));
        assert!(m("user:*:name", "user:1000:name"));
        assert!(!m("?", "ab"));
        assert!(!m("a*?", "a"));
    }

    #[test]
    fn empty_string_matches_only_empty_pattern() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn classes_ranges_and_negation() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Backwards ranges are swapped.
        assert!(m("[z-a]", "m"));
        // An empty class matches nothing; `]` right after `[` closes it.
        assert!(!m("[]a]", "]"));
        assert!(!m("[]a]", "a"));
        assert!(!m("[]a]", "a]"));
        // `-` at the end of a class is just a member... unless a range can still be read.
        assert!(m("[a-]", "]"));
        assert!(!m("[a-]", "b"));
        assert!(m("[-a]", "-"));
        // Escapes inside a class.
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("[a\\-z]", "-"));
        assert!(!m("[a\\-z]", "m"));
    }

    #[test]
    fn unterminated_class_takes_the_rest() {
        assert!(m("a[b", "ab"));
        assert!(m("[abc", "c"));
        assert!(!m("[abc", "cc"));
        assert!(m("[^abc", "d"));
        assert!(m("[a*", "*"));
        assert!(m("[a\\", "\\"));
        assert!(!m("[", "["));
    }

    #[test]
    fn escapes_and_trailing_backslash() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(m("a\\[b", "a[b"));
        assert!(m("\\", "\\"));
        assert!(m("a\\", "a\\"));
        assert!(!m("a\\", "a"));
    }

    #[test]
    fn nocase_folds_ascii_but_not_escaped_class_members() {
        assert!(mi("HELLO", "hello"));
        assert!(mi("h*O", "HellO"));
        assert!(mi("[A-C]x", "bX"));
        assert!(mi("[a-c]", "B"));
        assert!(mi("\\H", "h"));
        assert!(mi("[H]", "h"));
        assert!(!mi("[\\H]", "h"));
        assert!(!m("HELLO", "hello"));
        // Non-ASCII bytes are not folded.
        assert!(!glob_match(b"\xc9", b"\xe9", true));
    }

    #[test]
    fn ranges_compare_as_signed_chars() {
        assert!(glob_match(b"[\xe9-a]", b"\x00", false));
        assert!(glob_match(b"[\xe9-a]", b"a", false));
        assert!(glob_match(b"[\xe9-a]", b"\xff", false));
        assert!(!glob_match(b"[\xe9-a]", b"b", false));
        assert!(!glob_match(b"[\xe9-a]", b"\x80", false));
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
        assert!(!glob_match(b"[\x80-\xff]", b"a", false));
    }

    #[test]
    fn thousand_stars_are_fast_and_capped_like_redis() {
        let string = "a".repeat(4000);
        let stars_then_a = "*a".repeat(1000);
        // 1000 stars followed by something are within Redis's nesting cap.
        assert!(m(&stars_then_a, &string));
        assert!(!m(&(stars_then_a.clone() + "b"), &string));
        // The 1001st inner star exceeds it: Redis answers "no match" whatever the string.
        assert!(!m(&(stars_then_a.clone() + "*a"), &string));
        // A trailing star costs no recursion in Redis, so it stays a match.
        assert!(m(&(stars_then_a + "*"), &string));
        // The classic exponential case for naive backtracking.
        let hostile = "a*".repeat(30) + "b";
        assert!(!m(&hostile, &"a".repeat(10_000)));
    }

    /// Redis's recursive algorithm, ported literally (nesting cap and `skipLongerMatches` included), as
    /// the reference the iterative version must agree with.
    fn reference(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
        fn at(s: &[u8], i: usize) -> u8 {
            s.get(i).copied().unwrap_or(0)
        }
        fn lower(c: i32) -> i32 {
            if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) { c + 32 } else { c }
        }
        fn imp(pat: &[u8], mut p: usize, st: &[u8], mut s: usize, nocase: bool, skip: &mut bool, nest: u32) -> bool {
            if nest > 1000 {
                return false;
            }
            while p < pat.len() && s < st.len() {
                match pat[p] {
                    b'*' => {
                        while p < pat.len() && at(pat, p + 1) == b'*' {
                            p += 1;
                        }
                        if pat.len() - p == 1 {
                            return true;
                        }
                        while s < st.len() {
                            if imp(pat, p + 1, st, s, nocase, skip, nest + 1) {
                                return true;
                            }
                            if *skip {
                                return false;
                            }
                            s += 1;
                        }
                        *skip = true;
                        return false;
                    }
                    b'?' => s += 1,
                    b'[' => {
                        p += 1;
                        let not = at(pat, p) == b'^';
                        if not {
                            p += 1;
                        }
                        let mut hit = false;
                        loop {
                            let left = pat.len() - p.min(pat.len());
                            if at(pat, p) == b'\\' && left >= 2 {
                                p += 1;
                                hit |= pat[p] == st[s];
                            } else if at(pat, p) == b']' && left > 0 {
                                break;
                            } else if left == 0 {
                                p -= 1;
                                break;
                            } else if left >= 3 && pat[p + 1] == b'-' {
                                let (mut a, mut b) = (i32::from(pat[p] as i8), i32::from(pat[p + 2] as i8));
                                let mut c = i32::from(st[s] as i8);
                                if a > b {
                                    std::mem::swap(&mut a, &mut b);
                                }
                                if nocase {
                                    (a, b, c) = (lower(a), lower(b), lower(c));
                                }
                                p += 2;
                                hit |= c >= a && c <= b;
                            } else if nocase {
                                hit |= lower(i32::from(pat[p])) == lower(i32::from(st[s]));
                            } else {
                                hit |= pat[p] == st[s];
                            }
                            p += 1;
                        }
                        if not {
                            hit = !hit;
                        }
                        if !hit {
                            return false;
                        }
                        s += 1;
                    }
                    c => {
                        let c = if c == b'\\' && pat.len() - p >= 2 {
                            p += 1;
                            pat[p]
                        } else {
                            c
                        };
                        let same = if nocase { lower(i32::from(c)) == lower(i32::from(st[s])) } else { c == st[s] };
                        if !same {
                            return false;
                        }
                        s += 1;
                    }
                }
                p += 1;
                if s == st.len() {
                    while at(pat, p) == b'*' && p < pat.len() {
                        p += 1;
                    }
                    break;
                }
            }
            p == pat.len() && s == st.len()
        }
        imp(pattern, 0, string, 0, nocase, &mut false, 0)
    }

    /// The grid of patterns and keys that was run through `KEYS` on redis-server 7.0.15; see the digest test.
    fn grid() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        fn words(alphabet: &[&[u8]], len: usize) -> Vec<Vec<u8>> {
            let mut out = vec![Vec::new()];
            for _ in 0..len {
                out = out.iter().flat_map(|w| alphabet.iter().map(move |c| [w.as_slice(), c].concat())).collect();
            }
            out
        }
        let str_alpha: [&[u8]; 11] = [b"a", b"b", b"B", b"\\", b"[", b"]", b"-", b"^", b"*", b"?", b"\xe9"];
        let pat_alpha: [&[u8]; 10] = [b"a", b"B", b"-", b"\\", b"[", b"]", b"^", b"*", b"?", b"\xe9"];
        let short_alpha: [&[u8]; 7] = [b"a", b"-", b"\\", b"[", b"]", b"^", b"*"];
        let strings: Vec<Vec<u8>> = (0..=3).flat_map(|n| words(&str_alpha, n)).collect();
        let mut patterns: Vec<Vec<u8>> = (0..=3).flat_map(|n| words(&pat_alpha, n)).collect();
        patterns.extend(words(&short_alpha, 4));
        for x in str_alpha {
            for y in str_alpha {
                patterns.push([b"[", x, b"-", y, b"]"].concat());
                patterns.push([b"[^", x, b"-", y].concat());
            }
        }
        (patterns, strings)
    }

    #[test]
    fn grid_agrees_with_redis_server() {
        // redis-server 7.0.15 answered `KEYS pattern` over these keys; the FNV-1a digest of its answers
        // ('1' match, '0' no match, patterns outer, keys inner) and its count of matches are pinned here.
        let (patterns, strings) = grid();
        let (mut digest, mut matches) = (0xcbf2_9ce4_8422_2325_u64, 0);
        for p in &patterns {
            for s in &strings {
                let hit = glob_match(p, s, false);
                matches += usize::from(hit);
                digest = (digest ^ if hit { 49 } else { 48 }).wrapping_mul(0x100_0000_01b3);
            }
        }
        assert_eq!((patterns.len(), strings.len(), matches), (3754, 1464, 80209));
        assert_eq!(digest, 0x37b4_0a39_483d_de3a);
    }

    #[test]
    fn grid_agrees_with_the_recursive_reference_in_both_cases() {
        let (patterns, strings) = grid();
        for p in &patterns {
            for s in &strings {
                for nocase in [false, true] {
                    assert_eq!(glob_match(p, s, nocase), reference(p, s, nocase), "{p:?} {s:?} {nocase}");
                }
            }
        }
    }

    #[test]
    fn star_cap_agrees_with_the_reference() {
        let string = b"ab".repeat(600);
        for stars in [999, 1000, 1001] {
            for tail in ["", "*", "b", "ab*"] {
                let pattern = [b"*a".repeat(stars), tail.as_bytes().to_vec()].concat();
                assert_eq!(glob_match(&pattern, &string, false), reference(&pattern, &string, false));
            }
        }
    }
}
