//! Pure data structures behind the collection values (Redis's quicklist/listpack/intset/dict users): no RESP,
//! no I/O, no server state, so they are unit- and model-tested on their own.

pub mod bitstring;
pub mod geohash;
pub mod hash_object;
pub mod hll_sketch;
pub mod list_object;
pub mod packed;
pub mod set_object;
pub mod small;
pub mod stream_group;
pub mod stream_object;
pub mod zset_index;
pub mod zset_object;
pub mod zset_pack;
pub mod zset_tree;

/// Redis's MEMORY USAGE estimate for a nested value: the mean of the first `samples` items' sizes (at least
/// one is taken) times the number of items, truncated as C's `size_t += double` does. `sizes` yields each
/// item's bytes; `len` is how many items there are in all.
pub fn sampled_estimate(sizes: impl Iterator<Item = usize>, len: usize, samples: usize) -> usize {
    let (total, taken) = sizes.take(samples.max(1)).fold((0, 0), |(total, taken), size| (total + size, taken + 1));
    if taken == 0 { 0 } else { (total as f64 / taken as f64 * len as f64) as usize }
}

#[cfg(test)]
mod tests {
    use super::sampled_estimate;

    #[test]
    fn sampled_estimate_extrapolates_the_mean_of_the_samples() {
        assert_eq!(sampled_estimate([10, 20, 90].into_iter(), 3, 2), 45);
        assert_eq!(sampled_estimate([10, 20, 90].into_iter(), 3, usize::MAX), 120);
        assert_eq!(sampled_estimate([7].into_iter(), 10, 0), 70);
        assert_eq!(sampled_estimate(std::iter::empty(), 0, 5), 0);
        // 1/3 * 2 = 0.67, truncated.
        assert_eq!(sampled_estimate([1, 0, 0].into_iter(), 2, 3), 0);
    }
}
