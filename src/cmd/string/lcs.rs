//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common subsequence of two strings.
//!
//! Redis 7.0's algorithm, kept exactly because IDX exposes which of several equally long answers was chosen:
//! fill the (|a|+1)×(|b|+1) table of prefix LCS lengths, then walk back from the bottom-right corner, preferring
//! to drop a byte of `b` on ties, and report the runs of matched bytes (last first) as IDX ranges.
//!
//! The table is u32 cells. Before allocating it, as in Redis 7.0.15: strings of u32::MAX-1 bytes or more are
//! refused, and a table larger than proto-max-bulk-len is refused with Redis's text. Since that config may be
//! raised without bound, `limits::LCS_TABLE_BYTES_MAX` caps the table as well, and a table over it (or one
//! whose memory cannot be reserved) fails with Redis's allocation-failure text. Filling a table of the maximum
//! size takes seconds during which the loop serves nobody; Redis stalls the same way, and bounding that time
//! is out of scope here.
//!
//! The type check comes first, with LCS's own error text rather than WRONGTYPE (as Redis), then the options.

use crate::cmd::Ctx;
use crate::cmd::args::Args;
use crate::cmd::errors::{self, CmdError, CmdResult};
use crate::limits::LCS_TABLE_BYTES_MAX;
use crate::resp::reply::Reply;

const NOT_STRINGS: &str = "ERR The specified keys must contain string values";
const LEN_AND_IDX: &str = "ERR If you want both the length and indexes, please just use IDX.";
const STRING_TOO_LONG: &str = "ERR String too long for LCS";
const TABLE_TOO_BIG: &str = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
const ALLOCATION_FAILED: &str = "ERR Insufficient memory, failed allocating transient memory for LCS";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    /// Ranges shorter than this are left out of IDX's reply; negative values count as 0.
    min_match_len: i64,
}

impl LcsOptions {
    /// Parses the rest of `args`.
    fn parse(mut args: Args<'_>) -> Result<LcsOptions, CmdError> {
        let mut parsed = LcsOptions::default();
        while let Some(option) = args.next_option() {
            if option.is("idx") {
                parsed.idx = true;
            } else if option.is("len") {
                parsed.len = true;
            } else if option.is("withmatchlen") {
                parsed.with_match_len = true;
            } else if option.is("minmatchlen") && args.remaining() > 0 {
                parsed.min_match_len = args.next_int()?.max(0);
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        if parsed.len && parsed.idx {
            return Err(LEN_AND_IDX.into());
        }
        Ok(parsed)
    }
}

pub(super) fn lcs(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (a_key, b_key) = (args.next_key()?, args.next_key()?);
    let now_ms = ctx.now_ms;
    // Both keys are looked up (and counted as reads) before either type is checked, as in Redis.
    let a_len = operand_len(ctx, a_key);
    let b_len = operand_len(ctx, b_key);
    let (Some(a_len), Some(b_len)) = (a_len, b_len) else {
        return Err(NOT_STRINGS.into());
    };
    let options = LcsOptions::parse(args)?;
    check_table_size(a_len, b_len, ctx.state.config.proto_max_bulk_len)?;
    // Both strings must be readable at once; copying `a` costs less than the table, which is larger.
    let a = ctx.db().get(a_key, now_ms).and_then(|value| value.with_str(<[u8]>::to_vec)).unwrap_or_default();
    match ctx.db().get(b_key, now_ms) {
        None => lcs_reply(reply, &a, b"", options),
        Some(value) => value.with_str(|b| lcs_reply(reply, &a, b, options)).ok_or(NOT_STRINGS)?,
    }
}

/// The length of the string at `key` (0 if missing), or `None` if the key holds another type.
fn operand_len(ctx: &mut Ctx<'_>, key: &[u8]) -> Option<usize> {
    match ctx.read_key(key) {
        None => Some(0),
        Some(value) => value.str_len(),
    }
}

/// Refuses tables Redis refuses, then tables over our own cap; see the module header.
fn check_table_size(a_len: usize, b_len: usize, proto_max_bulk_len: u64) -> CmdResult {
    let string_len_max = u32::MAX as usize - 1;
    if a_len >= string_len_max || b_len >= string_len_max {
        return Err(STRING_TOO_LONG.into());
    }
    // Both factors are below 2^32, so only the multiplication by the cell size can overflow.
    let cells = (a_len as u64 + 1) * (b_len as u64 + 1);
    match cells.checked_mul(size_of::<u32>() as u64) {
        Some(bytes) if bytes > proto_max_bulk_len => Err(TABLE_TOO_BIG.into()),
        Some(bytes) if bytes <= LCS_TABLE_BYTES_MAX => Ok(()),
        _ => Err(ALLOCATION_FAILED.into()),
    }
}

fn lcs_reply(reply: &mut Reply, a: &[u8], b: &[u8], options: LcsOptions) -> CmdResult {
    let table = LcsTable::build(a, b).ok_or(ALLOCATION_FAILED)?;
    if options.len {
        reply.int(table.lcs_len().into());
        return Ok(());
    }
    let (common, matches) = table.backtrack(a, b, options.min_match_len);
    if !options.idx {
        reply.bulk(&common);
        return Ok(());
    }
    reply.map(2);
    reply.bulk(b"matches");
    reply.array(matches.len());
    for m in &matches {
        reply.array(if options.with_match_len { 3 } else { 2 });
        for (start, end) in [m.a, m.b] {
            reply.array(2);
            reply.int(start as i64);
            reply.int(end as i64);
        }
        if options.with_match_len {
            reply.int(m.len() as i64);
        }
    }
    reply.bulk(b"len");
    reply.int(table.lcs_len().into());
    Ok(())
}

/// One run of matched bytes: inclusive byte ranges in `a` and in `b`, of equal length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LcsMatch {
    a: (usize, usize),
    b: (usize, usize),
}

impl LcsMatch {
    fn len(&self) -> usize {
        self.a.1 - self.a.0 + 1
    }
}

/// The filled table: cell (i, j) is the LCS length of `a[..i]` and `b[..j]`.
#[derive(Debug)]
struct LcsTable {
    cells: Vec<u32>,
    /// `b.len() + 1`: cells per row.
    width: usize,
}

impl LcsTable {
    /// Fills the table for `a` and `b`, or `None` if its memory cannot be reserved. The caller has checked
    /// the size (`check_table_size`), so lengths fit in u32.
    fn build(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let width = b.len() + 1;
        let size = (a.len() + 1).checked_mul(width)?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).ok()?;
        cells.resize(size, 0);
        for (i, &byte_a) in a.iter().enumerate() {
            let (above, row) = cells[i * width..(i + 2) * width].split_at_mut(width);
            for (j, &byte_b) in b.iter().enumerate() {
                row[j + 1] = if byte_a == byte_b { above[j] + 1 } else { above[j + 1].max(row[j]) };
            }
        }
        Some(LcsTable { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    fn lcs_len(&self) -> u32 {
        self.cells[self.cells.len() - 1]
    }

    /// Walks back from the end as Redis does and returns the common subsequence and its runs of matched bytes,
    /// last run first, leaving out runs shorter than `min_match_len`.
    fn backtrack(&self, a: &[u8], b: &[u8], min_match_len: i64) -> (Vec<u8>, Vec<LcsMatch>) {
        let mut remaining = self.lcs_len() as usize;
        let mut common = vec![0u8; remaining];
        let mut matches = Vec::new();
        let mut run: Option<LcsMatch> = None;
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                common[remaining - 1] = a[i - 1];
                remaining -= 1;
                match &mut run {
                    None => run = Some(LcsMatch { a: (i - 1, i - 1), b: (j - 1, j - 1) }),
                    Some(r) if r.a.0 == i && r.b.0 == j => {
                        r.a.0 -= 1;
                        r.b.0 -= 1;
                    }
                    // Unreachable in practice (a non-match step always ends the run first); Redis then ends
                    // the run without starting one at this byte, and so do we.
                    Some(_) => emit = true,
                }
                // A run that reached the start of either string is complete: the walk ends here.
                emit |= run.is_some_and(|r| r.a.0 == 0 || r.b.0 == 0);
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = run.is_some();
            }
            // Taking the run ends it, whether or not it is long enough to be reported.
            if emit
                && let Some(r) = run.take()
                && r.len() as i64 >= min_match_len
            {
                matches.push(r);
            }
        }
        (common, matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: (usize, usize), b: (usize, usize)) -> LcsMatch {
        LcsMatch { a, b }
    }

    fn run(a: &str, b: &str, min_match_len: i64) -> (String, Vec<LcsMatch>, u32) {
        let table = LcsTable::build(a.as_bytes(), b.as_bytes()).unwrap();
        let (common, matches) = table.backtrack(a.as_bytes(), b.as_bytes(), min_match_len);
        (String::from_utf8(common).unwrap(), matches, table.lcs_len())
    }

    #[test]
    fn matches_redis_answers() {
        // Replies recorded from redis-server 7.0.15.
        let (common, matches, len) = run("ohmytext", "mynewtext", 0);
        assert_eq!((common.as_str(), len), ("mytext", 6));
        assert_eq!(matches, [m((4, 7), (5, 8)), m((2, 3), (0, 1))]);
        assert_eq!(matches.iter().map(LcsMatch::len).collect::<Vec<_>>(), [4, 2]);
        assert_eq!(run("ohmytext", "mynewtext", 4).1, [m((4, 7), (5, 8))]);
        let (common, matches, _) = run("ABCBDAB", "BDCABA", 0);
        assert_eq!(common, "BDAB");
        assert_eq!(matches, [m((5, 6), (3, 4)), m((3, 4), (0, 1))]);
        assert_eq!(run("12345", "2345", 0).1, [m((1, 4), (0, 3))]);
    }

    #[test]
    fn empty_and_disjoint_strings() {
        assert_eq!(run("", "", 0), (String::new(), vec![], 0));
        assert_eq!(run("abc", "", 0), (String::new(), vec![], 0));
        assert_eq!(run("abc", "xyz", 0), (String::new(), vec![], 0));
        assert_eq!(run("abc", "abc", 0), ("abc".into(), vec![m((0, 2), (0, 2))], 3));
    }

    #[test]
    fn common_subsequence_is_common_and_longest() {
        // A brute-force check on all pairs of short strings over a two-letter alphabet.
        let words: Vec<String> = (0..=5u32)
            .flat_map(|len| {
                (0..1u32 << len).map(move |bits| (0..len).map(|k| if bits >> k & 1 == 1 { 'a' } else { 'b' }).collect())
            })
            .collect();
        let is_subsequence = |s: &str, of: &str| {
            let mut rest = of.chars();
            s.chars().all(|c| rest.any(|d| d == c))
        };
        for a in &words {
            for b in &words {
                let (common, matches, len) = run(a, b, 0);
                assert_eq!(common.len(), len as usize);
                assert!(is_subsequence(&common, a) && is_subsequence(&common, b), "{a} {b} {common}");
                let longest = words.iter().filter(|w| is_subsequence(w, a) && is_subsequence(w, b)).map(|w| w.len());
                assert_eq!(longest.max(), Some(len as usize), "{a} {b}");
                assert_eq!(matches.iter().map(LcsMatch::len).sum::<usize>(), len as usize);
            }
        }
    }

    #[test]
    fn table_size_checks() {
        let default_max = 512 * 1024 * 1024;
        assert_eq!(check_table_size(600, 600, 1024 * 1024), Err(TABLE_TOO_BIG.into()));
        assert_eq!(check_table_size(600, 10, 1024 * 1024), Ok(()));
        assert_eq!(check_table_size(11584, 11584, default_max), Ok(()));
        assert_eq!(check_table_size(11585, 11585, default_max), Err(TABLE_TOO_BIG.into()));
        assert_eq!(check_table_size(u32::MAX as usize - 1, 0, u64::MAX), Err(STRING_TOO_LONG.into()));
        // Allowed by a raised proto-max-bulk-len, refused by our own cap.
        assert_eq!(check_table_size(20000, 20000, u64::MAX), Err(ALLOCATION_FAILED.into()));
        assert_eq!(
            check_table_size(u32::MAX as usize - 2, u32::MAX as usize - 2, u64::MAX),
            Err(ALLOCATION_FAILED.into())
        );
    }

    #[test]
    fn options() {
        let parse = |s: &str| LcsOptions::parse(Args::new(&crate::cmd::args::test_argv(s), 0));
        assert_eq!(
            parse("IDX minmatchlen -5 withmatchlen"),
            Ok(LcsOptions { idx: true, with_match_len: true, ..Default::default() })
        );
        assert_eq!(parse("len len").map(|o| o.len), Ok(true));
        assert_eq!(parse("LEN\\0x MinMatchLen\\0 2").map(|o| (o.len, o.min_match_len)), Ok((true, 2)));
        assert_eq!(parse("minmatchlen 4").map(|o| o.min_match_len), Ok(4));
        assert_eq!(parse("minmatchlen"), Err(errors::SYNTAX.into()));
        assert_eq!(parse("minmatchlen x"), Err(errors::NOT_INTEGER.into()));
        assert_eq!(parse("len foo"), Err(errors::SYNTAX.into()));
        assert_eq!(parse("idx len"), Err(LEN_AND_IDX.into()));
    }
}
