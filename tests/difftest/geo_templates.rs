//! Geo commands: their difftest templates.
//!
//! Points come from a few places (Sicily, both sides of the antimeridian, near the poles' limits, the origin)
//! plus invalid coordinates; searches pick centres and radii from the same places, so results include
//! unsorted scans (whose order is the cells' order), every WITH option, COUNT/ANY and the STORE forms. Geo
//! keys are the shared keys, so geo commands meet plain sorted sets and other types too.

use super::{Argv, Gen, Template, cmd, t};

pub const TEMPLATES: &[Template] = &[
    t("geoadd", 10, gen_geoadd),
    t("geodist", 3, |g| {
        let argv = cmd("GEODIST").arg(g.key()).arg(place(g)).arg(place(g));
        if g.rng.chance(0.6) { argv.arg(g.pick_word(UNITS)) } else { argv }
    }),
    t("geohash", 2, |g| {
        let argv = cmd("GEOHASH").arg(g.key());
        let count = 1 + g.rng.below(3);
        (0..count).fold(argv, |argv, _| argv.arg(place(g)))
    }),
    t("geopos", 2, |g| {
        let argv = cmd("GEOPOS").arg(g.key());
        let count = 1 + g.rng.below(3);
        (0..count).fold(argv, |argv, _| argv.arg(place(g)))
    }),
    t("georadius", 3, |g| {
        let argv = cmd("GEORADIUS").arg(g.key()).args(lon_lat(g)).args(radius(g));
        options(g, argv, true, false)
    }),
    t("georadius_ro", 2, |g| {
        let argv = cmd("GEORADIUS_RO").arg(g.key()).args(lon_lat(g)).args(radius(g));
        options(g, argv, false, false)
    }),
    t("georadiusbymember", 3, |g| {
        let argv = cmd("GEORADIUSBYMEMBER").arg(g.key()).arg(place(g)).args(radius(g));
        options(g, argv, true, false)
    }),
    t("georadiusbymember_ro", 1, |g| {
        let argv = cmd("GEORADIUSBYMEMBER_RO").arg(g.key()).arg(place(g)).args(radius(g));
        options(g, argv, false, false)
    }),
    t("geosearch", 4, |g| {
        let argv = cmd("GEOSEARCH").arg(g.key());
        let argv = search_shape(g, argv);
        options(g, argv, false, false)
    }),
    t("geosearchstore", 3, |g| {
        let argv = cmd("GEOSEARCHSTORE").arg(g.key()).arg(g.key());
        let argv = search_shape(g, argv);
        options(g, argv, false, true)
    }),
];

/// (name, longitude, latitude).
const PLACES: &[(&str, &str, &str)] = &[
    ("Palermo", "13.361389", "38.115556"),
    ("Catania", "15.087269", "37.502669"),
    ("Rome", "12.496366", "41.902782"),
    ("origin", "0", "0"),
    ("east", "179.99", "10"),
    ("west", "-179.99", "10"),
    ("north", "30", "85.05"),
    ("south", "-30", "-85.05"),
    ("near", "0.001", "-0.001"),
    ("edge", "180", "85.05112878"),
];
const BAD_COORDS: &[(&str, &str)] =
    &[("181", "0"), ("0", "86"), ("x", "1"), ("1", ""), ("-180.0001", "0"), ("nan", "0")];
const UNITS: &[&str] = &["m", "km", "mi", "ft", "KM", "parsec"];
const RADII: &[&str] = &["0", "1", "100", "200", "1000", "5000", "20000", "-1", "x"];

fn place(g: &mut Gen) -> &'static str {
    g.rng.pick(PLACES).0
}

fn lon_lat(g: &mut Gen) -> [&'static str; 2] {
    if g.rng.chance(0.1) {
        let (lon, lat) = *g.rng.pick(BAD_COORDS);
        return [lon, lat];
    }
    let (_, lon, lat) = *g.rng.pick(PLACES);
    [lon, lat]
}

fn radius(g: &mut Gen) -> Vec<Vec<u8>> {
    vec![g.rng.pick(RADII).as_bytes().to_vec(), g.pick_word(UNITS)]
}

fn gen_geoadd(g: &mut Gen) -> Argv {
    let mut argv = cmd("GEOADD").arg(g.key());
    for _ in 0..g.rng.below(2) {
        argv = argv.arg(g.pick_word(&["NX", "XX", "CH", "CH", "GT"]));
    }
    for _ in 0..1 + g.rng.below(3) {
        let (name, _, _) = *g.rng.pick(PLACES);
        argv = argv.args(lon_lat(g)).arg(name);
    }
    if g.rng.chance(0.03) { argv.arg("1") } else { argv }
}

/// FROMMEMBER/FROMLONLAT and BYRADIUS/BYBOX, usually one of each.
fn search_shape(g: &mut Gen, mut argv: Argv) -> Argv {
    match g.rng.below(10) {
        0..=4 => argv = argv.arg(g.word("FROMMEMBER")).arg(place(g)),
        5..=8 => argv = argv.arg(g.word("FROMLONLAT")).args(lon_lat(g)),
        _ => {}
    }
    match g.rng.below(10) {
        0..=4 => argv = argv.arg(g.word("BYRADIUS")).args(radius(g)),
        5..=8 => {
            let (w, h) = (g.rng.pick(RADII).to_string(), g.rng.pick(RADII).to_string());
            argv = argv.arg(g.word("BYBOX")).arg(w).arg(h).arg(g.pick_word(UNITS));
        }
        _ => {}
    }
    argv
}

/// The shared options; STORE/STOREDIST where the command may store.
fn options(g: &mut Gen, mut argv: Argv, store: bool, search_store: bool) -> Argv {
    for _ in 0..g.rng.below(4) {
        argv = match g.rng.below(9) {
            0 => argv.arg(g.word("WITHDIST")),
            1 => argv.arg(g.word("WITHCOORD")),
            2 => argv.arg(g.word("WITHHASH")),
            3 => argv.arg(g.pick_word(&["ASC", "DESC"])),
            4 => argv.arg(g.word("COUNT")).arg(g.rng.pick(&["1", "2", "10", "0", "x"])),
            5 => argv.arg(g.word("ANY")),
            6 if store => argv.arg(g.pick_word(&["STORE", "STOREDIST"])).arg(g.key()),
            6 if search_store => argv.arg(g.word("STOREDIST")),
            _ => argv.arg(g.pick_word(&["ASC", "BOGUS", "STOREDIST"])),
        };
    }
    argv
}
