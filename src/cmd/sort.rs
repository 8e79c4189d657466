//! SORT and SORT_RO (Redis's sort.c) over lists, sets and sorted sets: BY patterns (`*` replaced by the
//! element, `->field` reading a hash), BY without `*` (no sorting), LIMIT, GET patterns and `#`, ASC/DESC,
//! ALPHA, and STORE into a list.
//!
//! The elements are copied out first, because sorting looks other keys up while it runs. Numbers are read
//! as Redis's strtod check reads them (an empty string is 0; trailing bytes, NaN or a range error fail the
//! whole command); equal numbers, and ALPHA, compare bytes, and the sort is stable, as glibc's qsort
//! (a merge sort) is for the sizes Redis meets.

use bytes::Bytes;

use super::errors::{self, CmdError, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::types::list_object::{End, List};
use crate::util::num;

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] =
    &[&[("sort", |ctx, reply| sort(ctx, reply, false)), ("sort_ro", |ctx, reply| sort(ctx, reply, true))]];

/// SORT's options.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<&'a Bytes>,
    by: Option<&'a Bytes>,
    dont_sort: bool,
    gets: Vec<&'a Bytes>,
}

fn parse<'a>(ctx: &Ctx<'a>, readonly: bool) -> Result<Options<'a>, CmdError> {
    let mut args = ctx.args();
    args.next_key()?;
    let mut o =
        Options { desc: false, alpha: false, limit: None, store: None, by: None, dont_sort: false, gets: Vec::new() };
    while let Some(option) = args.next_option() {
        let left = args.remaining();
        if option.is("asc") {
            o.desc = false;
        } else if option.is("desc") {
            o.desc = true;
        } else if option.is("alpha") {
            o.alpha = true;
        } else if option.is("limit") && left >= 2 {
            o.limit = Some((args.next_int()?, args.next_int()?));
        } else if !readonly && option.is("store") && left >= 1 {
            o.store = Some(args.next_key()?);
        } else if option.is("by") && left >= 1 {
            let pattern = args.next_bytes()?;
            o.dont_sort = !errors::c_str(pattern, usize::MAX).contains(&b'*');
            o.by = Some(pattern);
        } else if option.is("get") && left >= 1 {
            o.gets.push(args.next_bytes()?);
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(o)
}

/// Redis's lookupKeyByPattern: `#` is the element itself; otherwise the first `*` is replaced by the element
/// and the key read as a string, or with `->field` as that hash field. `None` for anything else.
fn lookup_by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    if errors::c_str(pattern, usize::MAX) == b"#" {
        return Some(element.to_vec());
    }
    let star = errors::c_str(pattern, usize::MAX).iter().position(|&c| c == b'*')?;
    let arrow = pattern[star + 1..].windows(2).position(|w| w == b"->").map(|i| star + 1 + i);
    let (key_end, field) = match arrow {
        Some(at) if at + 2 < pattern.len() && pattern[at + 2] != 0 => (at, Some(&pattern[at + 2..])),
        _ => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(key_end + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    match (ctx.read_key(&key)?, field) {
        (Value::Hash(hash), Some(field)) => hash.get(field).map(<[u8]>::to_vec),
        (value, None) => value.with_str(<[u8]>::to_vec),
        _ => None,
    }
}

/// A sort key read as a number the way SORT's strtod check reads it.
fn sort_number(text: &[u8]) -> Option<f64> {
    let text = errors::c_str(text, usize::MAX);
    if text.is_empty() {
        return Some(0.0);
    }
    num::parse_f64(text.trim_ascii_start()).filter(|_| !text.trim_ascii_start().is_empty())
}

/// The elements to sort, and (for BY without `*` on a list or sorted set) the LIMIT already applied.
fn elements(value: Option<&Value>, o: &Options<'_>, start: usize, count: usize) -> Vec<Vec<u8>> {
    let direct = o.dont_sort;
    match value {
        Some(Value::List(list)) if direct => {
            let len = list.len();
            let count = count.min(len.saturating_sub(start));
            if o.desc {
                list.iter().rev().skip(start).take(count).map(<[u8]>::to_vec).collect()
            } else {
                list.range(start, count).map(<[u8]>::to_vec).collect()
            }
        }
        Some(Value::List(list)) => list.iter().map(<[u8]>::to_vec).collect(),
        Some(Value::Set(set)) => set.iter().map(|m| m.with_bytes(<[u8]>::to_vec)).collect(),
        Some(Value::Zset(zset)) if direct => {
            let len = zset.len();
            let count = count.min(len.saturating_sub(start));
            let mut out = Vec::with_capacity(count);
            let (lo, hi) = if o.desc { (len - start - count, len - start) } else { (start, start + count) };
            zset.visit(lo, hi, o.desc, |_, member| out.push(member.to_vec()));
            out
        }
        Some(Value::Zset(zset)) => {
            let mut out = Vec::with_capacity(zset.len());
            zset.for_each(|_, member| out.push(member.to_vec()));
            out
        }
        _ => Vec::new(),
    }
}

/// The LIMIT window over `len` elements as Redis computes it: (start, count).
fn window(limit: Option<(i64, i64)>, len: usize) -> (usize, usize) {
    let len = len as i64;
    let (limit_start, limit_count) = limit.unwrap_or((0, -1));
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 { len - 1 } else { start.wrapping_add(limit_count).wrapping_sub(1) };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    if end < start { (0, 0) } else { (start as usize, (end - start + 1) as usize) }
}

fn sort(ctx: &mut Ctx<'_>, reply: &mut Reply, readonly: bool) -> CmdResult {
    let mut o = parse(ctx, readonly)?;
    let key = ctx.argv[1].clone();
    let value = ctx.read_key(&key);
    if value.is_some_and(|v| !matches!(v, Value::List(_) | Value::Set(_) | Value::Zset(_))) {
        return Err(errors::WRONGTYPE.into());
    }
    let is_set = matches!(value, Some(Value::Set(_)));
    let is_zset = matches!(value, Some(Value::Zset(_)));
    let now_ms = ctx.now_ms;
    if is_zset {
        // Redis's sortCommandGeneric converts a packed sorted set to a skiplist for good ("destructively"),
        // SORT_RO too, without counting a change: OBJECT ENCODING, DUMP and MEMORY USAGE see it afterwards.
        if let Some(Value::Zset(zset)) = ctx.db().get_mut(&key, now_ms) {
            zset.convert_to_large();
        }
    }
    // Read before `value` borrows the keyspace.
    let in_script = ctx.state.in_script;
    let value = ctx.db().get(&key, now_ms);
    if o.dont_sort && is_set && (o.store.is_some() || in_script) {
        // A set has no order of its own, so a stored result, or one a script sees (and whose effects are
        // replicated), is made deterministic as ALPHA (sortCommandGeneric's CLIENT_SCRIPT rule).
        (o.dont_sort, o.alpha, o.by) = (false, true, None);
    }
    let len = match value {
        Some(Value::List(list)) => list.len(),
        Some(Value::Set(set)) => set.len(),
        Some(Value::Zset(zset)) => zset.len(),
        _ => 0,
    };
    let (start, count) = window(o.limit, len);
    let direct = o.dont_sort && !is_set;
    let mut items = elements(value, &o, start, count);
    let (start, count) = if direct { (0, items.len()) } else { (start, count) };
    if !o.dont_sort {
        sort_items(ctx, &mut items, &o)?;
    }
    let chosen = items.iter().skip(start).take(count);
    let fill = ctx.state.config.list_max_listpack_size;
    match o.store {
        None => {
            reply.array(if o.gets.is_empty() { count } else { count * o.gets.len() });
            for element in chosen {
                if o.gets.is_empty() {
                    reply.bulk(element);
                }
                for pattern in &o.gets {
                    match lookup_by_pattern(ctx, pattern, element) {
                        Some(found) => reply.bulk(&found),
                        None => reply.null(),
                    }
                }
            }
        }
        Some(destination) => {
            let mut list = List::new(fill);
            for element in chosen {
                if o.gets.is_empty() {
                    list.push(End::Back, element);
                }
                for pattern in &o.gets {
                    list.push(End::Back, &lookup_by_pattern(ctx, pattern, element).unwrap_or_default());
                }
            }
            let stored = list.len();
            let now_ms = ctx.now_ms;
            if stored > 0 {
                ctx.db().set(destination, Value::List(Box::new(list)), false, now_ms);
                // Redis counts one change per element stored.
                ctx.key_changed_by(destination, stored);
                ctx.notify(notify::LIST, "sortstore", destination);
            } else if ctx.db().delete(destination, now_ms) {
                ctx.key_changed(destination);
                ctx.notify(notify::GENERIC, "del", destination);
            }
            reply.int(stored as i64);
        }
    }
    Ok(())
}

/// What an element sorts by.
enum SortKey {
    Number(f64),
    Text(Option<Vec<u8>>),
}

/// Sorts `items` as sortCompare orders them.
fn sort_items(ctx: &mut Ctx<'_>, items: &mut Vec<Vec<u8>>, o: &Options<'_>) -> CmdResult {
    let mut keyed: Vec<(SortKey, Vec<u8>)> = Vec::with_capacity(items.len());
    let mut failed = false;
    for element in items.drain(..) {
        let by = match o.by {
            Some(pattern) => lookup_by_pattern(ctx, pattern, &element),
            None => None,
        };
        let key = if o.alpha {
            SortKey::Text(by)
        } else {
            let text = if o.by.is_some() { by } else { Some(element.clone()) };
            match text {
                None => SortKey::Number(0.0),
                Some(text) => SortKey::Number(sort_number(&text).unwrap_or_else(|| {
                    failed = true;
                    0.0
                })),
            }
        };
        keyed.push((key, element));
    }
    if failed {
        return Err(NOT_DOUBLE.into());
    }
    let (by_pattern, storing) = (o.by.is_some(), o.store.is_some());
    // Without STORE Redis compares ALPHA text with strcoll (C strings, ending at a NUL); with STORE, and for
    // ties of numbers, all the bytes.
    let text_cmp = |a: &[u8], b: &[u8]| {
        if storing { a.cmp(b) } else { errors::c_str(a, usize::MAX).cmp(errors::c_str(b, usize::MAX)) }
    };
    keyed.sort_by(|(ka, a), (kb, b)| {
        let ordering = match (ka, kb) {
            (SortKey::Number(x), SortKey::Number(y)) => {
                x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.cmp(b))
            }
            (SortKey::Text(x), SortKey::Text(y)) if by_pattern => match (x, y) {
                (Some(x), Some(y)) => text_cmp(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            },
            _ => text_cmp(a, b),
        };
        if o.desc { ordering.reverse() } else { ordering }
    });
    items.extend(keyed.into_iter().map(|(_, element)| element));
    Ok(())
}
