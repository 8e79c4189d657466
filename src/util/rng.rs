//! A small, fast pseudo-random generator (xorshift64*) for sampling: RANDOMKEY, active expiry, run ids.
//!
//! Nothing here needs cryptographic quality; it needs to be cheap and never block.

/// xorshift64* state; never zero.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// A fixed seed: for state that needs dice but no unpredictability (the LFU counter's increments).
impl Default for Rng {
    fn default() -> Rng {
        Rng::new(0)
    }
}

impl Rng {
    /// Seeds from `seed`; a zero seed is replaced because xorshift would stay at zero forever.
    pub fn new(seed: u64) -> Rng {
        Rng { state: if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed } }
    }

    /// Seeds from the clock and the process id, so two servers differ.
    pub fn from_entropy() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng::new(nanos ^ (u64::from(std::process::id()) << 32))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Rng::new(7);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = rng.below(10);
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
