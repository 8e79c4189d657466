//! Persistence commands (Redis's rdb.c and cluster.c): SAVE and BGSAVE over `crate::persist`, DUMP and
//! RESTORE over `crate::rdb::payload`. LASTSAVE is in `admin`.

use super::errors::{self, CmdResult};
use super::{Ctx, Handlers};
use crate::config::notify;
use crate::persist::{self, BgsaveRefusal};
use crate::rdb::payload::{self, Refusal};
use crate::resp::reply::Reply;
use crate::state::propagation;

/// This family's handlers by command name, bound to the entries of its src/cmd/meta file.
pub const HANDLERS: &[Handlers] = &[&[("save", save), ("bgsave", bgsave), ("dump", dump), ("restore", restore)]];

const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";

/// SAVE: writes the snapshot now, in the loop.
fn save(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    if ctx.state.persistence.rdb_child_running() {
        return Err(BGSAVE_IN_PROGRESS.into());
    }
    match persist::save(ctx.state) {
        Ok(()) => reply.ok(),
        Err(_) => return Err("ERR".into()),
    }
    Ok(())
}

/// BGSAVE [SCHEDULE]: forks a child that writes the snapshot; with SCHEDULE, waits for another child first.
fn bgsave(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let schedule = match args.next_option() {
        None => false,
        Some(option) if option.is("schedule") && args.remaining() == 0 => true,
        Some(_) => return Err(errors::SYNTAX.into()),
    };
    match persist::bgsave(ctx.state) {
        Ok(()) => reply.simple("Background saving started"),
        Err(BgsaveRefusal::InProgress) => return Err(BGSAVE_IN_PROGRESS.into()),
        Err(BgsaveRefusal::OtherChild) if schedule => {
            ctx.state.persistence.bgsave_scheduled = true;
            reply.simple("Background saving scheduled");
        }
        Err(BgsaveRefusal::OtherChild) => {
            return Err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in \
                        order to schedule a BGSAVE whenever possible."
                .into());
        }
        Err(BgsaveRefusal::Fork(_)) => return Err("ERR".into()),
    }
    Ok(())
}

/// DUMP key: the value's payload, or a null bulk for a missing key.
fn dump(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let key = ctx.args().next_key()?;
    let opts = crate::rdb::Options { compress: ctx.state.config.rdbcompression };
    match ctx.read_key(key) {
        Some(value) => reply.bulk(&payload::dump(value, opts)),
        None => reply.null(),
    }
    Ok(())
}

/// RESTORE's options after the payload.
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idle_s: Option<i64>,
    /// FREQ: kept only under an LFU policy, as IDLETIME only under another (Redis's objectSetLRUOrLFU).
    freq: Option<u8>,
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], checked in Redis's
/// order: options, BUSYKEY, the TTL, the payload's footer, its body.
fn restore(ctx: &mut Ctx<'_>, reply: &mut Reply) -> CmdResult {
    let mut args = ctx.args();
    let (key, ttl_arg, data) = (args.next_key()?, args.next_bytes()?, args.next_bytes()?);
    let opts = restore_options(&mut args)?;
    let now_ms = ctx.now_ms;
    if !opts.replace && ctx.db().contains(key, now_ms) {
        return Err("BUSYKEY Target key name already exists.".into());
    }
    let ttl = super::args::int(ttl_arg)?;
    if ttl < 0 {
        return Err("ERR Invalid TTL value, must be >= 0".into());
    }
    let mut limits = persist::load_limits(&ctx.state.config);
    // `clients` sanitizes what clients send, not what an AOF being loaded replays (Redis's restoreCommand).
    limits.deep_sanitize |= ctx.state.config.sanitize_dump_payload == "clients" && !ctx.db().loading;
    let value = match payload::restore(data, &limits) {
        Ok(Some(value)) => value,
        Err(Refusal::VersionOrChecksum) => return Err("ERR DUMP payload version or checksum are wrong".into()),
        Ok(None) | Err(Refusal::BadData(_)) => return Err("ERR Bad data format".into()),
    };
    let deleted = opts.replace && ctx.db().delete(key, now_ms);
    let expire_at_ms = match ttl {
        0 => None,
        _ if opts.absttl => Some(ttl),
        _ => Some(ttl.saturating_add(now_ms)),
    };
    if expire_at_ms.is_some_and(|at| at <= now_ms) {
        // Already expired: nothing is stored, but a replaced key is gone.
        if deleted {
            ctx.key_changed(key);
            ctx.notify(notify::GENERIC, "del", key);
            let verb = propagation::deletion(ctx.state.config.lazyfree_lazy_server_del);
            let key = ctx.argv[1].clone();
            ctx.propagate_as(|| [propagation::arg(verb), key]);
        }
        reply.ok();
        return Ok(());
    }
    let db = ctx.db();
    let access = db.access_word_of(opts.idle_s.map(|s| s as u64), opts.freq, now_ms);
    let inserted = db.insert_absent(key, value, expire_at_ms, access);
    debug_assert!(inserted, "RESTORE checked BUSYKEY and deleted under REPLACE");
    ctx.key_changed(key);
    ctx.notify(notify::GENERIC, "restore", key);
    if let Some(at_ms) = expire_at_ms.filter(|_| !opts.absttl) {
        // Redis propagates a relative TTL as the absolute one it set, with ABSTTL appended.
        let argv = ctx.argv;
        ctx.propagate_as(|| {
            let head = [argv[0].clone(), argv[1].clone(), propagation::int(at_ms)];
            head.into_iter().chain(argv[3..].iter().cloned()).chain([propagation::arg(b"ABSTTL")])
        });
    }
    reply.ok();
    Ok(())
}

fn restore_options(args: &mut super::args::Args<'_>) -> Result<RestoreOptions, errors::CmdError> {
    let mut opts = RestoreOptions { replace: false, absttl: false, idle_s: None, freq: None };
    while let Some(option) = args.next_option() {
        let has_value = args.remaining() > 0;
        if option.is("replace") {
            opts.replace = true;
        } else if option.is("absttl") {
            opts.absttl = true;
        } else if option.is("idletime") && has_value && opts.freq.is_none() {
            let idle = args.next_int()?;
            if idle < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0".into());
            }
            opts.idle_s = Some(idle);
        } else if option.is("freq") && has_value && opts.idle_s.is_none() {
            let freq = args.next_int()?;
            if !(0..=255).contains(&freq) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into());
            }
            opts.freq = Some(freq as u8);
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(opts)
}
