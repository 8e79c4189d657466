//! Geo commands (Redis's geo.c) over sorted sets whose scores are 52-bit geohashes: GEOADD GEODIST GEOHASH
//! GEOPOS GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO GEOSEARCH GEOSEARCHSTORE.
//!
//! The arithmetic lives in `types::geohash`; here are the argument rules in Redis's order (georadiusGeneric
//! reads options left to right and checks combinations after), the cell-by-cell scan that decides which
//! members are found (and in which order when unsorted), and Redis's number formats: `%.4f` distances and
//! `%.17Lf`-trimmed coordinates.

use bytes::Bytes;

use super::args::Args;
use super::errors::{self, CmdError, CmdResult};
use super::zset::{AddFlags, add_all, reply_each_score};
use super::{Ctx, Handlers};
use crate::resp::reply::Reply;
use crate::state::propagation;
use crate::types::geohash::{self, Shape};
use crate::types::zset_object::{Limits, Zset};
use crate::util::num;

const UNSUPPORTED_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const CANNOT_DECODE: &str = "ERR could not decode requested zset member";
const COUNT_NOT_POSITIVE: &str = "ERR COUNT must be > 0";
const ANY_WITHOUT_COUNT: &str = "ERR the ANY argument requires COUNT argument";

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[
    ("geoadd", geoadd),
    ("geodist", geodist),
    ("geohash", geohash_command),
    ("geopos", geopos),
    ("georadius", |ctx, reply| search(ctx, reply, Kind::Radius { store: true })),
    ("georadius_ro", |ctx, reply| search(ctx, reply, Kind::Radius { store: false })),
    ("georadiusbymember", |ctx, reply| search(ctx, reply, Kind::RadiusByMember { store: true })),
    ("georadiusbymember_ro", |ctx, reply| search(ctx, reply, Kind::RadiusByMember { store: false })),
    ("geosearch", |ctx, reply| search(ctx, reply, Kind::Search { store: false })),
    ("geosearchstore", |ctx, reply| search(ctx, reply, Kind::Search { store: true })),
]];

/// A coordinate as GEOPOS and WITHCOORD print it: `%.17Lf` with trailing zeros (and a bare dot) trimmed
/// (ld2string's LD_STR_HUMAN), a RESP3 double or a RESP2 bulk string.
fn reply_coordinate(reply: &mut Reply, value: f64) {
    let mut text = format!("{value:.17}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
    text.truncate(trimmed);
    if text == "-0" {
        text = "0".into();
    }
    if reply.resp3 {
        reply.buf.push(b',');
        reply.buf.extend_from_slice(text.as_bytes());
        reply.buf.extend_from_slice(b"\r\n");
    } else {
        reply.bulk(text.as_bytes());
    }
}

/// A distance as Redis prints one: `%.4f`, always a bulk string.
fn reply_distance(reply: &mut Reply, meters: f64) {
    reply.bulk(format!("{meters:.4}").as_bytes());
}

/// Reads `longitude latitude` with Redis's errors (extractLongLatOrReply).
fn next_lon_lat(args: &mut Args<'_>) -> Result<(f64, f64), CmdError> {
    let longitude = args.next_float()?;
    let latitude = args.next_float()?;
    if !geohash::valid(longitude, latitude) {
        return Err(format!("ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}").into());
    }
    Ok((longitude, latitude))
}

/// Meters per unit (extractUnitOrReply).
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    let units = [("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)];
    crate::cmd::args::Keyword::of(arg).pick(&units).ok_or_else(|| UNSUPPORTED_UNIT.into())
}

/// `radius unit` (extractDistanceOrReply): the radius in the unit and the unit's meters.
fn next_distance(args: &mut Args<'_>) -> Result<(f64, f64), CmdError> {
    let radius = num::parse_f64(args.next_bytes()?).ok_or("ERR need numeric radius")?;
    if radius < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((radius, unit(args.next_bytes()?)?))
}

/// GEOADD key [NX|XX] [CH] longitude latitude member ...
fn geoadd(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let key = args.next_key()?;
    let mut flags = AddFlags::default();
    while let Some(arg) = args.peek() {
        let option = crate::cmd::args::Keyword::of(arg);
        match () {
            _ if option.is("nx") => flags.nx = true,
            _ if option.is("xx") => flags.xx = true,
            _ if option.is("ch") => flags.ch = true,
            _ => break,
        }
        args.next_bytes()?;
    }
    let triples = args.rest();
    if !triples.len().is_multiple_of(3) || (flags.nx && flags.xx) || triples.is_empty() {
        return Err(errors::SYNTAX.into());
    }
    let mut scores = Vec::with_capacity(triples.len() / 3);
    for triple in triples.chunks(3) {
        let (longitude, latitude) = next_lon_lat(&mut Args::new(triple, 0))?;
        scores.push(geohash::score(longitude, latitude));
    }
    add_all(ctx, reply, key, flags, scores.iter().zip(triples.chunks(3)).map(|(&score, t)| (score, &t[2][..])))?;
    // Redis's geoaddCommand runs ZADD with the key and options as given and each score as an integer, and
    // propagates that ZADD.
    let argv = ctx.argv;
    let head = &argv[1..argv.len() - triples.len()];
    ctx.propagate_as(|| {
        let pairs = scores.iter().zip(triples.chunks(3));
        let pairs = pairs.flat_map(|(&score, t)| [propagation::int(score as i64), t[2].clone()]);
        std::iter::once(propagation::arg(b"zadd")).chain(head.iter().cloned()).chain(pairs)
    });
    Ok(())
}

fn geodist(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, first, second) = (args.next_key()?, args.next_bytes()?, args.next_bytes()?);
    let to_meters = match args.remaining() {
        0 => 1.0,
        1 => unit(args.next_bytes()?)?,
        _ => return Err(errors::SYNTAX.into()),
    };
    let Some(zset) = ctx.read_typed::<Zset>(key)? else {
        reply.null();
        return Ok(());
    };
    match (zset.score(first), zset.score(second)) {
        (Some(a), Some(b)) => {
            let ((lon1, lat1), (lon2, lat2)) = (geohash::decode(a), geohash::decode(b));
            reply_distance(reply, geohash::distance(lon1, lat1, lon2, lat2) / to_meters);
        }
        _ => reply.null(),
    }
    Ok(())
}

fn geohash_command(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    reply_each_score(ctx, reply, |reply, score| reply.bulk(&geohash::standard_string(score)), Reply::null)
}

fn geopos(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let position = |reply: &mut Reply, score: f64| {
        let (longitude, latitude) = geohash::decode(score);
        reply.array(2);
        reply_coordinate(reply, longitude);
        reply_coordinate(reply, latitude);
    };
    reply_each_score(ctx, reply, position, Reply::null_array)
}

/// Which search command runs, and whether it may store (the `_RO` forms and GEOSEARCH may not).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Radius { store: bool },
    RadiusByMember { store: bool },
    Search { store: bool },
}

/// Sorting of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Everything a search was asked for.
struct Search<'a> {
    center: Option<(f64, f64)>,
    shape: Option<(Shape, f64)>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    sort: Sort,
    count: usize,
    store: Option<&'a Bytes>,
    store_dist: bool,
    /// FROMMEMBER or FROMLONLAT was given (a FROMMEMBER of a missing key sets no centre).
    from_given: bool,
}

/// The members' coordinates from a member's score (longLatFromMember).
fn member_center(zset: Option<&Zset>, member: &[u8]) -> Result<(f64, f64), CmdError> {
    zset.and_then(|zset| zset.score(member)).map(geohash::decode).ok_or_else(|| CANNOT_DECODE.into())
}

/// Reads a search's arguments in georadiusGeneric's order. `zset` is the source (None when missing, in which
/// case member lookups are skipped as Redis skips them).
fn parse_search<'a>(mut args: Args<'a>, kind: Kind, zset: Option<&Zset>) -> Result<Search<'a>, CmdError> {
    let mut s = Search {
        center: None,
        shape: None,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        any: false,
        sort: Sort::None,
        count: 0,
        store: None,
        store_dist: false,
        from_given: false,
    };
    match kind {
        Kind::Radius { .. } => {
            s.center = Some(next_lon_lat(&mut args)?);
            let (radius, to_meters) = next_distance(&mut args)?;
            s.shape = Some((Shape::Radius(radius * to_meters), to_meters));
        }
        Kind::RadiusByMember { .. } => {
            let member = args.next_bytes()?;
            if zset.is_some() {
                s.center = Some(member_center(zset, member)?);
                let (radius, to_meters) = next_distance(&mut args)?;
                s.shape = Some((Shape::Radius(radius * to_meters), to_meters));
            } else {
                args.take(2).ok_or(errors::SYNTAX)?;
            }
        }
        Kind::Search { .. } => {}
    }
    let can_store = matches!(kind, Kind::Radius { store: true } | Kind::RadiusByMember { store: true });
    let search = matches!(kind, Kind::Search { .. });
    let (mut by_radius, mut by_box, mut from_member, mut from_lonlat) = (false, false, false, false);
    while let Some(option) = args.next_option() {
        let remaining = args.remaining();
        if option.is("withdist") {
            s.with_dist = true;
        } else if option.is("withhash") {
            s.with_hash = true;
        } else if option.is("withcoord") {
            s.with_coord = true;
        } else if option.is("any") {
            s.any = true;
        } else if option.is("asc") {
            s.sort = Sort::Asc;
        } else if option.is("desc") {
            s.sort = Sort::Desc;
        } else if option.is("count") && remaining >= 1 {
            let count = args.next_int()?;
            if count <= 0 {
                return Err(COUNT_NOT_POSITIVE.into());
            }
            s.count = count as usize;
        } else if (option.is("store") || option.is("storedist")) && remaining >= 1 && can_store {
            s.store = Some(args.next_key()?);
            s.store_dist = option.is("storedist");
        } else if option.is("storedist") && matches!(kind, Kind::Search { store: true }) {
            s.store_dist = true;
        } else if option.is("frommember") && remaining >= 1 && search && !from_lonlat {
            let member = args.next_bytes()?;
            if zset.is_some() {
                s.center = Some(member_center(zset, member)?);
            }
            (s.from_given, from_member) = (true, true);
        } else if option.is("fromlonlat") && remaining >= 2 && search && !from_member {
            s.center = Some(next_lon_lat(&mut args)?);
            (s.from_given, from_lonlat) = (true, true);
        } else if option.is("byradius") && remaining >= 2 && search && !by_box {
            let (radius, to_meters) = next_distance(&mut args)?;
            s.shape = Some((Shape::Radius(radius * to_meters), to_meters));
            by_radius = true;
        } else if option.is("bybox") && remaining >= 3 && search && !by_radius {
            let width = num::parse_f64(args.next_bytes()?).ok_or("ERR need numeric width")?;
            let height = num::parse_f64(args.next_bytes()?).ok_or("ERR need numeric height")?;
            if height < 0.0 || width < 0.0 {
                return Err("ERR height or width cannot be negative".into());
            }
            let to_meters = unit(args.next_bytes()?)?;
            s.shape = Some((Shape::Box { width: width * to_meters, height: height * to_meters }, to_meters));
            by_box = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(s)
}

/// GEORADIUS, GEORADIUSBYMEMBER, their `_RO` forms, GEOSEARCH and GEOSEARCHSTORE (georadiusGeneric).
fn search(ctx: &mut Ctx<'_>, reply: &mut Reply, kind: Kind) -> CmdResult {
    let (mut args, argv) = (ctx.args(), ctx.argv);
    let search_store = matches!(kind, Kind::Search { store: true });
    let store_key = if search_store { Some(args.next_key()?) } else { None };
    let source = args.next_key()?;
    let limits = Limits {
        entries_max: ctx.state.config.zset_max_listpack_entries,
        value_max: ctx.state.config.zset_max_listpack_value,
    };
    let zset = ctx.read_typed::<Zset>(source)?;
    let mut s = parse_search(args, kind, zset)?;
    if store_key.is_some() {
        s.store = store_key;
    }
    if s.store.is_some() && (s.with_dist || s.with_hash || s.with_coord) {
        let what = if search_store { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(format!("ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options").into());
    }
    let name = String::from_utf8_lossy(errors::c_str(&argv[0], usize::MAX)).into_owned();
    if matches!(kind, Kind::Search { .. }) && !s.from_given {
        return Err(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}").into());
    }
    if matches!(kind, Kind::Search { .. }) && s.shape.is_none() {
        return Err(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}").into());
    }
    if s.any && s.count == 0 {
        return Err(ANY_WITHOUT_COUNT.into());
    }
    let event = if search_store { "geosearchstore" } else { "georadiusstore" };
    let (Some(zset), Some(center), Some((shape, to_meters))) = (zset, s.center, s.shape) else {
        match s.store {
            Some(destination) => super::zset::store(ctx, reply, destination, (Zset::default(), true), event),
            None => reply.array(0),
        }
        return Ok(());
    };
    if s.count != 0 && s.sort == Sort::None && !s.any {
        s.sort = Sort::Asc;
    }
    let mut found = find(zset, shape, center, if s.any { s.count } else { 0 });
    match s.sort {
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    let returned = if s.count == 0 { found.len() } else { found.len().min(s.count) };
    let found = &found[..returned];
    match s.store {
        None => reply_found(reply, found, &s, to_meters),
        Some(destination) => {
            let member_len_max = found.iter().map(|p| p.member.len()).max().unwrap_or(0);
            let mut result = Zset::with_hint(found.len(), member_len_max, &limits);
            for point in found {
                let score = if s.store_dist { point.dist / to_meters } else { point.score };
                result.set(&point.member, score, &limits);
            }
            super::zset::store(ctx, reply, destination, (result, true), event);
        }
    }
    Ok(())
}

/// One member found by a search.
struct Point {
    member: Vec<u8>,
    score: f64,
    longitude: f64,
    latitude: f64,
    dist: f64,
}

/// Scans the search cells in Redis's order, each as the score range `[min, max)`, keeping the members inside
/// `shape`; with `limit` (ANY) it stops once that many are found.
fn find(zset: &Zset, shape: Shape, center: (f64, f64), limit: usize) -> Vec<Point> {
    let mut found = Vec::new();
    for cell in geohash::search_cells(shape, center) {
        if limit != 0 && found.len() >= limit {
            break;
        }
        let (min, max) = cell.score_range();
        let (min, max) = (min as f64, max as f64);
        let lo = zset.count_scores_while(|score| score < min);
        let hi = zset.count_scores_while(|score| score < max).max(lo);
        let mut stopped = false;
        zset.visit(lo, hi, false, |score, member| {
            if stopped {
                return;
            }
            let (longitude, latitude) = geohash::decode(score);
            if let Some(dist) = geohash::within(shape, center, (longitude, latitude)) {
                found.push(Point { member: member.to_vec(), score, longitude, latitude, dist });
            }
            stopped = limit != 0 && found.len() >= limit;
        });
    }
    found
}

fn reply_found(reply: &mut Reply, found: &[Point], s: &Search<'_>, to_meters: f64) {
    let options = usize::from(s.with_dist) + usize::from(s.with_hash) + usize::from(s.with_coord);
    reply.array(found.len());
    for point in found {
        if options > 0 {
            reply.array(options + 1);
        }
        reply.bulk(&point.member);
        if s.with_dist {
            reply_distance(reply, point.dist / to_meters);
        }
        if s.with_hash {
            reply.int(point.score as i64);
        }
        if s.with_coord {
            reply.array(2);
            reply_coordinate(reply, point.longitude);
            reply_coordinate(reply, point.latitude);
        }
    }
}
