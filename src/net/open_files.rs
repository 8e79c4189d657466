//! The process's open-file limit and `maxclients`, as Redis's adjustOpenFilesLimit fits them: at startup and
//! on CONFIG SET maxclients, the limit is raised to `maxclients` plus Redis's 32 reserved descriptors, or,
//! when the system refuses, `maxclients` is lowered to what the limit allows, with Redis's log lines. The
//! one `unsafe` here is the two libc calls std does not wrap (getrlimit, setrlimit).

use std::io;

/// File descriptors Redis keeps for itself beyond one per client (CONFIG_MIN_RESERVED_FDS: listeners,
/// logs, persistence files).
const RESERVED_FDS: u64 = 32;

/// Raises the open-file limit to what `maxclients` needs and returns `maxclients`, or the lower number of
/// clients the limit allows, logging Redis's lines; exits as Redis does when not even the reserved
/// descriptors fit.
pub fn fit_maxclients(maxclients: usize) -> usize {
    let wanted = maxclients as u64 + RESERVED_FDS;
    let Ok((old_limit, hard_limit)) = open_files_limit() else {
        crate::log!(
            Warning,
            "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients \
             configuration accordingly.",
            crate::util::strerror::strerror(&io::Error::last_os_error())
        );
        return (1024 - RESERVED_FDS) as usize;
    };
    if old_limit >= wanted {
        return maxclients;
    }
    // As Redis: try the full need, then 16 fewer at a time, down to the current limit.
    let mut best = wanted;
    let mut error = None;
    while best > old_limit {
        match set_open_files_limit(best, hard_limit) {
            Ok(()) => break,
            Err(e) => error = Some(e),
        }
        if best < 16 {
            best = old_limit;
            break;
        }
        best -= 16;
    }
    let best = best.max(old_limit);
    if best >= wanted {
        crate::log!(
            Notice,
            "Increased maximum number of open files to {} (it was originally set to {}).",
            wanted,
            old_limit
        );
        return maxclients;
    }
    if best <= RESERVED_FDS {
        crate::log!(
            Warning,
            "Your current 'ulimit -n' of {} is not enough for the server to start. Please increase your open file \
             limit to at least {}. Exiting.",
            old_limit,
            wanted
        );
        std::process::exit(1);
    }
    let fitted = (best - RESERVED_FDS) as usize;
    let error = error.map(|e| crate::util::strerror::strerror(&e)).unwrap_or_default();
    crate::log!(
        Warning,
        "You requested maxclients of {} requiring at least {} max file descriptors.",
        maxclients,
        wanted
    );
    crate::log!(Warning, "Server can't set maximum open files to {} because of OS error: {}.", wanted, error);
    crate::log!(
        Warning,
        "Current maximum open files is {}. maxclients has been reduced to {} to compensate for low ulimit. If you \
         need higher maxclients increase 'ulimit -n'.",
        best,
        fitted
    );
    fitted
}

/// RLIMIT_NOFILE's soft and hard limits.
fn open_files_limit() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live, properly aligned local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Sets RLIMIT_NOFILE's soft limit to `files`, and the hard limit too when `files` is above it (which only a
/// privileged process may do). Redis sets the hard limit to `files` even when it was higher; keeping it leaves
/// a later raise possible and changes nothing a client sees.
fn set_open_files_limit(files: u64, hard_limit: u64) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: files, rlim_max: hard_limit.max(files) };
    // SAFETY: setrlimit only reads one `rlimit` through a pointer to a live, properly aligned local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
