//! Redis's rand48 (`rand.c`), the PRNG behind a script's `math.random`: a 48-bit linear congruential
//! generator. Redis 7.0 does not reseed it per script (effects replication made that unneeded): it starts
//! from rand48's fixed initial state, and `math.randomseed` reseeds it, so the draws follow Redis's.

use std::cell::Cell;

const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
/// rand48's initial state (X2 X1 X0 = 0x1234 0xABCD 0x330E).
pub const INITIAL: u64 = 0x1234_ABCD_330E;
const MASK: u64 = (1 << 48) - 1;
/// REDIS_LRAND48_MAX: INT32_MAX.
const LRAND48_MAX: i64 = i32::MAX as i64;

/// redisSrand48: the high 32 bits from the seed, the low 16 bits 0x330E.
pub fn seed(state: &Cell<u64>, seed: i32) {
    state.set(((u64::from(seed as u32) << 16) | 0x330E) & MASK);
}

/// redisLrand48: the next state's top 31 bits.
fn next(state: &Cell<u64>) -> i64 {
    let x = (state.get().wrapping_mul(A).wrapping_add(C)) & MASK;
    state.set(x);
    (x >> 17) as i64
}

/// redis_math_random's `r`: a number in [0, 1).
pub fn next_unit(state: &Cell<u64>) -> f64 {
    (next(state) % LRAND48_MAX) as f64 / LRAND48_MAX as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first draws after seeding with 0 are Redis's (`EVAL "return tostring(math.random())" 0`).
    #[test]
    fn matches_redis_first_draw() {
        let state = Cell::new(0);
        seed(&state, 0);
        assert_eq!(format!("{:.14}", next_unit(&state)), "0.17082803611217");
    }
}
