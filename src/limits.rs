//! Every cap the server enforces, in one place, named with its unit last.
//!
//! Caps that users can change live in `config`; these are the fixed ones. Each says why it has its value.

/// Longest inline request or multibulk/bulk header line without a newline (Redis's PROTO_INLINE_MAX_SIZE).
pub const INLINE_LEN_MAX: usize = 64 * 1024;
/// Most arguments a multibulk header may announce (Redis rejects counts above INT_MAX).
pub const MULTIBULK_LEN_MAX: i64 = i32::MAX as i64;
/// Arguments reserved up front for a multibulk request; more grow as they arrive, so a header alone
/// cannot make us allocate much.
pub const ARGV_PREALLOC_MAX: usize = 1024;
/// Before AUTH, requests may carry this many arguments at most (Redis's unauthenticated limits).
pub const UNAUTH_MULTIBULK_LEN_MAX: i64 = 10;
/// Before AUTH, a bulk argument may be this long at most.
pub const UNAUTH_BULK_LEN_MAX: i64 = 16 * 1024;
/// Keys DEBUG POPULATE reserves room for up front; a bigger count grows the keyspace as keys are added,
/// so an absurd count cannot make one allocation of its size.
pub const POPULATE_RESERVE_MAX: usize = 1 << 24;

/// Bytes read from one socket per readiness event before other clients get a turn. Every complete request
/// in them runs in that turn, so this bounds how long a pipelining client holds the loop: 64 KiB of small
/// commands is about 2,000 of them, a few hundred microseconds (256 KiB let one client's pipeline raise the
/// others' worst latency to 18-20 ms).
pub const READ_BUDGET_BYTES: usize = 64 * 1024;
/// The per-event budget while the parser waits for the rest of a big bulk argument: those bytes run
/// nothing until the argument is complete, so reading more of them per turn costs the others little.
pub const BULK_READ_BUDGET_BYTES: usize = 1024 * 1024;
/// Size of one ordinary socket read (Redis's PROTO_IOBUF_LEN).
pub const READ_CHUNK_BYTES: usize = 16 * 1024;
/// A client whose pending replies exceed this stops having its requests executed until they drain, so a
/// pipelining client that never reads cannot grow our memory without bound.
pub const REPLY_PAUSE_BYTES: usize = 64 * 1024 * 1024;
/// Output buffers above this size are shrunk after they drain, so one burst does not pin memory.
pub const REPLY_SHRINK_BYTES: usize = 64 * 1024;

/// Readiness events taken from the poll in one call.
pub const EVENTS_PER_POLL_MAX: usize = 1024;
/// Longest time one active-expiry slice may run; the loop never stalls longer than this on expiry.
pub const EXPIRE_SLICE_US_MAX: u64 = 1000;
/// Keys sampled per expiry round (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
pub const EXPIRE_KEYS_PER_ROUND: usize = 20;
/// Percentage of stale keys in a sample above which another round runs at once (Redis's 10%).
pub const EXPIRE_STALE_PERCENT_MAX: usize = 10;
/// Largest LCS dynamic-programming table, in bytes, that one LCS command may allocate. Redis 7.0.15 caps the
/// table at proto-max-bulk-len (512 MiB by default) and we check that first, with Redis's error; but that config
/// may be raised to any size, and one command must not be able to take all the memory, so beyond this cap LCS
/// fails with the error Redis gives when its allocation fails.
pub const LCS_TABLE_BYTES_MAX: u64 = 512 * 1024 * 1024;

/// Longest HTTP request head (request line and headers); beyond it the gateway answers 431. Browsers and curl
/// send well under 2 KiB; 16 KiB leaves room for long bearer tokens and cookies.
pub const HTTP_HEAD_BYTES_MAX: usize = 16 * 1024;
/// Most headers in one HTTP request (431 beyond); also the size of the parser's stack array of header slots.
pub const HTTP_HEADERS_MAX: usize = 64;
/// Most keys one `GET /` page asks SCAN for, so a listing response stays bounded whatever `count` says.
pub const HTTP_SCAN_COUNT_MAX: usize = 1000;
/// Most commands in one `/_redis/pipeline` or `/_redis/multi-exec` request (the body cap bounds them too).
pub const HTTP_PIPELINE_COMMANDS_MAX: usize = 10_000;
/// Quiet time after which an HTTP event stream gets a comment line (proxies close connections silent for a
/// minute or so, and the write finds a client that vanished).
pub const SSE_HEARTBEAT_MS: i64 = 15_000;

/// Most MIGRATE connections kept open (Redis's MIGRATE_SOCKET_CACHE_ITEMS); a new one past it closes a random one.
pub const MIGRATE_SOCKET_CACHE_ITEMS_MAX: usize = 64;
/// Seconds a cached MIGRATE connection may stay unused before the cron closes it (MIGRATE_SOCKET_CACHE_TTL).
pub const MIGRATE_SOCKET_CACHE_TTL_S: i64 = 10;
/// MIGRATE writes its request in chunks of this size, each within the command's timeout (as Redis does).
pub const MIGRATE_WRITE_CHUNK_BYTES: usize = 64 * 1024;
/// Longest reply line MIGRATE reads from a target: Redis reads replies into 1024-byte buffers with
/// syncReadLine, which keeps 1023 bytes and a NUL.
pub const MIGRATE_REPLY_LINE_BYTES_MAX: usize = 1023;
