//! Redis's geohash (geohash.c, geohash_helper.c): 52-bit interleaved cells over longitude [-180, 180] and
//! latitude [-85.05112878, 85.05112878], the haversine distance on Redis's earth radius, and the search
//! areas (a centre cell and its eight neighbours at a step sized to the shape) that GEORADIUS and GEOSEARCH
//! scan. Every formula is Redis's own, in the same floating-point order, so scores, distances and the cells
//! visited (hence unsorted result order) are the same.

/// The finest step: 26 bits each of longitude and latitude, 52 in all, exact in an f64 score.
pub const STEP_MAX: u8 = 26;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Redis's EARTH_RADIUS_IN_METERS.
const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Redis's MERCATOR_MAX, the half-circumference that step estimation starts from.
const MERCATOR_MAX: f64 = 20037726.37;

/// A cell: `bits` interleaved (latitude in even positions, longitude in odd ones) at `step` bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cell {
    pub bits: u64,
    pub step: u8,
}

impl Cell {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The score range `[min, max)` of the 52-bit scores inside this cell.
    pub fn score_range(&self) -> (u64, u64) {
        let shift = 52 - u32::from(self.step) * 2;
        (self.bits << shift, (self.bits + 1) << shift)
    }
}

/// A latitude/longitude box.
#[derive(Debug, Clone, Copy)]
struct Area {
    long_min: f64,
    long_max: f64,
    lat_min: f64,
    lat_max: f64,
}

fn deg_rad(angle: f64) -> f64 {
    angle * (std::f64::consts::PI / 180.0)
}

fn rad_deg(angle: f64) -> f64 {
    angle / (std::f64::consts::PI / 180.0)
}

/// Spreads the 32 bits of `v` to the even bit positions.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bit positions of `x` into 32 bits.
fn squash(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
}

/// Whether a coordinate pair is one Redis can index.
pub fn valid(longitude: f64, latitude: f64) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&longitude) && (LAT_MIN..=LAT_MAX).contains(&latitude)
}

/// geohashEncode over the given latitude range (Redis's own, or -90..90 for GEOHASH's standard strings).
fn encode_in(longitude: f64, latitude: f64, lat_min: f64, lat_max: f64, step: u8) -> Cell {
    let lat_offset = (latitude - lat_min) / (lat_max - lat_min) * (1u64 << step) as f64;
    let long_offset = (longitude - LONG_MIN) / (LONG_MAX - LONG_MIN) * (1u64 << step) as f64;
    Cell { bits: spread(lat_offset as u32) | (spread(long_offset as u32) << 1), step }
}

/// The cell of a valid point at `step`.
pub fn encode(longitude: f64, latitude: f64, step: u8) -> Cell {
    encode_in(longitude, latitude, LAT_MIN, LAT_MAX, step)
}

/// The 52-bit score of a valid point (GEOADD).
pub fn score(longitude: f64, latitude: f64) -> f64 {
    encode(longitude, latitude, STEP_MAX).bits as f64
}

fn decode_area(cell: Cell) -> Area {
    let (lat_scale, long_scale) = (LAT_MAX - LAT_MIN, LONG_MAX - LONG_MIN);
    let (lat, long) = (squash(cell.bits), squash(cell.bits >> 1));
    let cells = (1u64 << cell.step) as f64;
    Area {
        lat_min: LAT_MIN + (f64::from(lat) / cells) * lat_scale,
        lat_max: LAT_MIN + ((f64::from(lat) + 1.0) / cells) * lat_scale,
        long_min: LONG_MIN + (f64::from(long) / cells) * long_scale,
        long_max: LONG_MIN + ((f64::from(long) + 1.0) / cells) * long_scale,
    }
}

/// The (longitude, latitude) a score stands for: the centre of its cell, clamped to the valid ranges.
pub fn decode(score: f64) -> (f64, f64) {
    let area = decode_area(Cell { bits: score as u64, step: STEP_MAX });
    let longitude = ((area.long_min + area.long_max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let latitude = ((area.lat_min + area.lat_max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (longitude, latitude)
}

/// GEOHASH's 11-character string: the point re-encoded over latitude -90..90, in base 32.
pub fn standard_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (longitude, latitude) = decode(score);
    let bits = encode_in(longitude, latitude, -90.0, 90.0, STEP_MAX).bits;
    let mut text = [ALPHABET[0]; 11];
    for (i, c) in text.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    text
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Redis's geohashGetDistance in meters.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (lon1r, lon2r) = (deg_rad(lon1), deg_rad(lon2));
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// A search shape in meters around a centre.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// The distance from the centre of a point inside `shape`, or `None` outside it (Redis's
/// geohashGetDistanceIfInRadius / IfInRectangle).
pub fn within(shape: Shape, center: (f64, f64), point: (f64, f64)) -> Option<f64> {
    let ((x1, y1), (x2, y2)) = (center, point);
    match shape {
        Shape::Radius(radius) => Some(distance(x1, y1, x2, y2)).filter(|&d| d <= radius),
        Shape::Box { width, height } => {
            if lat_distance(y2, y1) > height / 2.0 || distance(x2, y2, x1, y2) > width / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x2, y2))
        }
    }
}

fn steps_for_radius(mut range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return STEP_MAX;
    }
    let mut step: i32 = 1;
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

/// Moves a cell one step east (+1) or west (-1) (`lat` false), or north/south (`lat` true).
fn moved(cell: Cell, lat: bool, d: i8) -> Cell {
    let (mine, other) = if lat {
        (0x5555_5555_5555_5555u64, 0xaaaa_aaaa_aaaa_aaaau64)
    } else {
        (0xaaaa_aaaa_aaaa_aaaa, 0x5555_5555_5555_5555)
    };
    let shift = 64 - u32::from(cell.step) * 2;
    let mut x = cell.bits & mine;
    let y = cell.bits & other;
    let zz = other >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= mine >> shift;
    Cell { bits: x | y, step: cell.step }
}

/// The bounding box of a shape (meters) around a centre: [min lon, min lat, max lon, max lat].
fn bounding_box(shape: Shape, (longitude, latitude): (f64, f64)) -> [f64; 4] {
    let (height, width) = match shape {
        Shape::Radius(r) => (r, r),
        Shape::Box { width, height } => (height / 2.0, width / 2.0),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_M);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS_M / deg_rad(latitude - lat_delta).cos());
    let delta = if latitude < 0.0 { long_delta_bottom } else { long_delta_top };
    [longitude - delta, latitude - lat_delta, longitude + delta, latitude + lat_delta]
}

/// The cells a search scans, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW), useless ones dropped
/// and a neighbour equal to the one before skipped (geohashCalculateAreasByShapeWGS84 and
/// membersOfAllNeighbors).
pub fn search_cells(shape: Shape, center: (f64, f64)) -> Vec<Cell> {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape, center);
    let radius_m = match shape {
        Shape::Radius(r) => r,
        Shape::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
    };
    let mut steps = steps_for_radius(radius_m, center.1);
    let mut cell = encode(center.0, center.1, steps);
    let mut n = neighbours(cell);
    let too_coarse = decode_area(n[1]).lat_max < max_lat
        || decode_area(n[2]).lat_min > min_lat
        || decode_area(n[3]).long_max < max_lon
        || decode_area(n[4]).long_min > min_lon;
    if steps > 1 && too_coarse {
        steps -= 1;
        cell = encode(center.0, center.1, steps);
        n = neighbours(cell);
    }
    let area = decode_area(cell);
    if steps >= 2 {
        let zero = |n: &mut [Cell; 9], which: [usize; 3]| which.iter().for_each(|&i| n[i] = Cell::default());
        if area.lat_min < min_lat {
            zero(&mut n, [2, 8, 7]);
        }
        if area.lat_max > max_lat {
            zero(&mut n, [1, 5, 6]);
        }
        if area.long_min < min_lon {
            zero(&mut n, [4, 8, 6]);
        }
        if area.long_max > max_lon {
            zero(&mut n, [3, 7, 5]);
        }
    }
    let mut cells = Vec::with_capacity(9);
    let mut last: Option<usize> = None;
    for (i, c) in n.iter().enumerate() {
        if c.is_zero() || last.is_some_and(|l| l != 0 && n[l] == *c) {
            continue;
        }
        cells.push(*c);
        last = Some(i);
    }
    cells
}

/// The cell and its neighbours: centre, N, S, E, W, NE, NW, SE, SW.
fn neighbours(cell: Cell) -> [Cell; 9] {
    let east = moved(cell, false, 1);
    let west = moved(cell, false, -1);
    [
        cell,
        moved(cell, true, 1),
        moved(cell, true, -1),
        east,
        west,
        moved(east, true, 1),
        moved(west, true, 1),
        moved(east, true, -1),
        moved(west, true, -1),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_strings_match_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania (Redis's documentation).
        assert_eq!(score(13.361389, 38.115556), 3479099956230698.0);
        assert_eq!(score(15.087269, 37.502669), 3479447370796909.0);
        assert_eq!(&standard_string(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&standard_string(3479447370796909.0), b"sqdtr74hyu0");
        let ((lon1, lat1), (lon2, lat2)) = (decode(3479099956230698.0), decode(3479447370796909.0));
        let d = distance(lon1, lat1, lon2, lat2);
        assert_eq!(format!("{d:.4}"), "166274.1516");
    }
}
