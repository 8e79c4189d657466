//! MEMORY USAGE and MEMORY HELP (Redis's `memoryCommand` in object.c).
//!
//! MEMORY USAGE key [SAMPLES count] answers the bytes the key and its value take in our own structures, the
//! figure INFO's `used_memory` counts them with: the keyspace slot, the key's heap bytes and the value's
//! (`Entry::memory_usage`). Compact encodings are measured exactly; a list's nodes and a hashtable's strings
//! are estimated from the first `count` of them (default 5, 0 for all), as Redis's objectComputeSize samples.
//! Like Redis, the key is found without expiring or touching it (a bare `dictFind`), so a key whose TTL has
//! passed but that no lookup has deleted yet is still measured.
//!
//! MEMORY DOCTOR, STATS, MALLOC-STATS and PURGE do not exist yet; HELP lists what does, as DEBUG HELP does.

use super::super::args::Args;
use super::super::errors::{self, CmdResult};
use super::super::{Ctx, Handlers};
use crate::resp::reply::Reply;

/// MEMORY's subcommands by full name, bound to their entries in src/cmd/meta/admin.json.
pub(super) const HANDLERS: Handlers = &[("memory|help", memory_help), ("memory|usage", memory_usage)];

const HELP: &[&str] = &[
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// Nested items MEMORY USAGE samples without SAMPLES (Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES).
const SAMPLES_DEFAULT: usize = 5;

fn memory_help(_ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    super::reply_help(reply, "MEMORY", HELP);
    Ok(())
}

/// MEMORY USAGE key [SAMPLES count]: the options are checked before the key is looked up, as in Redis.
fn memory_usage(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.sub_args();
    let key = args.next_key()?;
    let samples = memory_usage_samples(args)?;
    match ctx.db().find_raw(key) {
        Some(entry) => reply.int(entry.memory_usage(samples) as i64),
        None => reply.null(),
    }
    Ok(())
}

/// The rest of `args` as SAMPLES options (the last one wins; 0 means every item), or Redis's error for a bad
/// one.
fn memory_usage_samples(mut args: Args<'_>) -> Result<usize, errors::CmdError> {
    let mut samples = SAMPLES_DEFAULT;
    while let Some(option) = args.next_option() {
        if !option.is("samples") || args.remaining() == 0 {
            return Err(errors::SYNTAX.into());
        }
        samples = match args.next_int()? {
            ..0 => return Err(errors::SYNTAX.into()),
            0 => usize::MAX,
            n => n as usize,
        };
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::TestServer;

    #[test]
    fn usage_options_and_errors_as_redis() {
        let mut t = TestServer::new();
        let me = t.connect();
        assert_eq!(t.run(me, "MEMORY USAGE nokey"), "$-1\r\n");
        // Options are parsed before the lookup, so a missing key still gets the option's error.
        assert_eq!(t.run(me, "MEMORY USAGE nokey SAMPLES x"), "-ERR value is not an integer or out of range\r\n");
        t.run(me, "SET k v");
        for bad in ["SAMPLES", "SAMPLES -1", "COUNT 3", "k"] {
            assert_eq!(t.run(me, &format!("MEMORY USAGE k {bad}")), "-ERR syntax error\r\n", "{bad}");
        }
        assert!(t.run(me, "MEMORY USAGE k SAMPLES 0 samples 3").starts_with(':'));
        assert_eq!(t.run(me, "MEMORY USAGE"), "-ERR wrong number of arguments for 'memory|usage' command\r\n");
        assert_eq!(t.run(me, "MEMORY foo"), "-ERR unknown subcommand 'foo'. Try MEMORY HELP.\r\n");
        assert!(t.run(me, "MEMORY HELP").starts_with("*6\r\n+MEMORY <subcommand>"));
    }

    /// The integer of a `:n` reply.
    fn int(reply: String) -> i64 {
        reply.trim_start_matches(':').trim_end().parse().unwrap_or_else(|_| panic!("not an integer: {reply}"))
    }

    #[test]
    fn usage_grows_with_the_value() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "SET int 12345");
        t.run(me, "SET short abc");
        t.run(me, &format!("SET long {}", "x".repeat(1000)));
        let of_int = int(t.run(me, "MEMORY USAGE int"));
        assert_eq!(int(t.run(me, "MEMORY USAGE short")), of_int, "inline strings cost only the slot");
        assert!(int(t.run(me, "MEMORY USAGE long")) >= of_int + 1000);
        for i in 0..200 {
            t.run(me, &format!("RPUSH list {}", "e".repeat(100 + i)));
            t.run(me, &format!("HSET hash field{i} {}", "v".repeat(30)));
            t.run(me, &format!("SADD set member-{}-{i}", "m".repeat(30)));
        }
        for key in ["list", "hash", "set"] {
            let all = int(t.run(me, &format!("MEMORY USAGE {key} SAMPLES 0")));
            assert!(all > 200 * 30, "{key}: {all}");
            let sampled = int(t.run(me, &format!("MEMORY USAGE {key}")));
            assert!(sampled * 2 > all && sampled < all * 2, "{key}: {sampled} sampled, {all} in all");
        }
    }

    #[test]
    fn usage_measures_a_stale_key_without_expiring_it() {
        let mut t = TestServer::new();
        let me = t.connect();
        t.run(me, "DEBUG SET-ACTIVE-EXPIRE 0");
        t.run(me, "SET k v PX 1");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(t.run(me, "MEMORY USAGE k").starts_with(':'));
        assert_eq!(t.run(me, "EXISTS k"), ":0\r\n");
        assert_eq!(t.run(me, "MEMORY USAGE k"), "$-1\r\n");
    }
}
