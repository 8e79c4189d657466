//! The per-key access word: one `u32` in each entry that says how recently or how often the key was used,
//! read by OBJECT IDLETIME / OBJECT FREQ and by eviction (Redis's 24-bit `lru` field of a `robj`).
//!
//! Its meaning depends on the `maxmemory-policy`, as in Redis:
//! - under an LRU or any non-LFU policy it is a clock reading: the Unix second of the last access (Redis keeps
//!   24 bits of a seconds clock that wraps every 194 days; 32 bits do not wrap before 2106);
//! - under an LFU policy its low 24 bits are Redis's: 16 bits of the minute (Unix minutes mod 2^16) when the
//!   counter was last decremented, then an 8-bit logarithmic counter that starts at `LFU_INIT_VAL`, grows with
//!   probability 1/((counter - LFU_INIT_VAL) * lfu-log-factor + 1) per access and loses one per
//!   `lfu-decay-time` minutes of idleness.
//!
//! Switching policy at runtime reinterprets the words without converting them, as Redis does (its error text
//! warns that "LRU and LFU data will take some time to adjust"). Everything here is a pure function of the
//! word, the time and the policy; the `Db` only calls them when it looks a key up or creates one.

use crate::util::rng::Rng;

/// The counter a new key starts with under LFU, so it is not evicted before it had a chance to be used.
pub const LFU_INIT_VAL: u8 = 5;

/// How the databases interpret and update access words (from `maxmemory-policy`, `lfu-log-factor`,
/// `lfu-decay-time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// An LFU policy is selected: words are frequency counters, not clock readings.
    pub lfu: bool,
    pub lfu_log_factor: u32,
    /// Minutes of idleness per counter decrement; 0 never decrements.
    pub lfu_decay_time_min: u32,
}

impl Default for AccessPolicy {
    fn default() -> AccessPolicy {
        AccessPolicy { lfu: false, lfu_log_factor: 10, lfu_decay_time_min: 1 }
    }
}

/// The LRU clock: Unix seconds, saturated into a `u32`.
pub fn lru_clock(now_ms: i64) -> u32 {
    (now_ms / 1000).clamp(0, i64::from(u32::MAX)) as u32
}

/// Seconds since the access recorded in an LRU word (OBJECT IDLETIME); 0 if the clock went back.
pub fn lru_idle_s(word: u32, now_ms: i64) -> u64 {
    u64::from(lru_clock(now_ms).saturating_sub(word))
}

/// The LRU word of a key last used `idle_s` seconds before `now_ms` (RESTORE IDLETIME).
pub fn lru_with_idle(now_ms: i64, idle_s: u64) -> u32 {
    lru_clock(now_ms).saturating_sub(u32::try_from(idle_s).unwrap_or(u32::MAX))
}

/// Redis's LFUGetTimeInMinutes: Unix minutes, 16 bits.
fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms.max(0) / 60_000) & 0xffff) as u32
}

/// Minutes since `ldt`, allowing for the 16-bit wrap (LFUTimeElapsed).
fn lfu_elapsed_min(ldt: u32, now_ms: i64) -> u32 {
    let now = lfu_minutes(now_ms);
    if now >= ldt { now - ldt } else { 65535 - ldt + now }
}

/// The LFU word of counter `freq` decremented at `now_ms` (RESTORE FREQ, and every update).
pub fn lfu_with_freq(now_ms: i64, freq: u8) -> u32 {
    (lfu_minutes(now_ms) << 8) | u32::from(freq)
}

/// The counter of an LFU word after the decay its idle minutes call for (LFUDecrAndReturn): what OBJECT FREQ
/// answers, without changing the word.
pub fn lfu_freq(word: u32, now_ms: i64, policy: AccessPolicy) -> u8 {
    let ldt = (word >> 8) & 0xffff;
    let counter = word & 0xff;
    let periods = match policy.lfu_decay_time_min {
        0 => 0,
        decay => lfu_elapsed_min(ldt, now_ms) / decay,
    };
    counter.saturating_sub(periods) as u8
}

/// One probabilistic increment of the logarithmic counter (LFULogIncr).
fn lfu_log_incr(counter: u8, log_factor: u32, rng: &mut Rng) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p { counter + 1 } else { counter }
}

/// The word of a key just created at `now_ms`.
pub fn new_word(policy: AccessPolicy, now_ms: i64) -> u32 {
    if policy.lfu { lfu_with_freq(now_ms, LFU_INIT_VAL) } else { lru_clock(now_ms) }
}

/// The word after an access at `now_ms` (Redis's lookupKey: updateLFU, or the LRU clock).
pub fn touched(policy: AccessPolicy, word: u32, now_ms: i64, rng: &mut Rng) -> u32 {
    if !policy.lfu {
        return lru_clock(now_ms);
    }
    let counter = lfu_log_incr(lfu_freq(word, now_ms, policy), policy.lfu_log_factor, rng);
    lfu_with_freq(now_ms, counter)
}

/// How good an eviction candidate the key is, higher first: idle seconds under LRU, 255 minus the decayed
/// counter under LFU (evictionPoolPopulate's `idle`).
pub fn eviction_score(policy: AccessPolicy, word: u32, now_ms: i64) -> u64 {
    if policy.lfu { 255 - u64::from(lfu_freq(word, now_ms, policy)) } else { lru_idle_s(word, now_ms) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LFU: AccessPolicy = AccessPolicy { lfu: true, lfu_log_factor: 10, lfu_decay_time_min: 1 };

    #[test]
    fn lru_words_read_as_idle_seconds() {
        let word = new_word(AccessPolicy::default(), 10_000);
        assert_eq!(lru_idle_s(word, 15_999), 5);
        assert_eq!(lru_idle_s(word, 1_000), 0, "a clock that went back reads as no idle time");
        assert_eq!(lru_idle_s(lru_with_idle(100_000, 40), 100_000), 40);
        assert_eq!(lru_with_idle(5_000, u64::MAX), 0);
    }

    #[test]
    fn lfu_starts_at_init_and_decays_per_period() {
        let now = 60_000 * 1_000;
        let word = new_word(LFU, now);
        assert_eq!(lfu_freq(word, now, LFU), LFU_INIT_VAL);
        assert_eq!(lfu_freq(word, now + 3 * 60_000, LFU), LFU_INIT_VAL - 3);
        assert_eq!(lfu_freq(word, now + 300 * 60_000, LFU), 0);
        let never = AccessPolicy { lfu_decay_time_min: 0, ..LFU };
        assert_eq!(lfu_freq(word, now + 300 * 60_000, never), LFU_INIT_VAL);
        let slow = AccessPolicy { lfu_decay_time_min: 10, ..LFU };
        assert_eq!(lfu_freq(word, now + 25 * 60_000, slow), LFU_INIT_VAL - 2);
        assert_eq!(lfu_freq(lfu_with_freq(now, 100), now, LFU), 100);
    }

    #[test]
    fn lfu_minutes_wrap_at_sixteen_bits() {
        let before_wrap = 65_535 * 60_000;
        let word = lfu_with_freq(before_wrap, 9);
        // Redis's LFUTimeElapsed counts one minute short across the wrap (65535 - ldt + now); so do we.
        assert_eq!(lfu_freq(word, before_wrap + 2 * 60_000, LFU), 8);
    }

    #[test]
    fn lfu_counter_grows_logarithmically() {
        // Redis's table (redis.conf) for lfu-log-factor 10: 100 hits give 10, 1000 give 18, 100k give 142.
        let mut rng = Rng::new(11);
        let now = 1_000_000;
        let mut word = new_word(LFU, now);
        let mut at = Vec::new();
        for hit in 1..=100_000u32 {
            word = touched(LFU, word, now, &mut rng);
            if [100, 1000, 100_000].contains(&hit) {
                at.push(lfu_freq(word, now, LFU));
            }
        }
        assert!((8..=13).contains(&at[0]), "{at:?}");
        assert!((15..=22).contains(&at[1]), "{at:?}");
        assert!((125..=160).contains(&at[2]), "{at:?}");
        // It never wraps past 255.
        let full = touched(LFU, lfu_with_freq(now, 255), now, &mut rng);
        assert_eq!(lfu_freq(full, now, LFU), 255);
    }

    #[test]
    fn eviction_prefers_idle_or_infrequent_keys() {
        let now = 100_000_000;
        let lru = AccessPolicy::default();
        assert!(eviction_score(lru, lru_with_idle(now, 50), now) > eviction_score(lru, lru_with_idle(now, 5), now));
        assert!(eviction_score(LFU, lfu_with_freq(now, 2), now) > eviction_score(LFU, lfu_with_freq(now, 50), now));
    }
}
