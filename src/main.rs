//! The `ferrokv` binary: parse redis-server's command line, detach if `daemonize yes`, bind, write the pid
//! file, log Redis's start lines and the directives not acted on, serve, remove the pid file.

use ferrokv::config::{CliOutcome, Config};
use ferrokv::net::listen::{self, ListenError};
use ferrokv::{Server, log};

/// Redis's CONFIG_DEFAULT_PID_FILE: where a daemon without `pidfile` writes its pid.
const DEFAULT_PID_FILE: &str = "/var/run/redis.pid";

#[global_allocator]
static ALLOC: ferrokv::util::alloc::CountingAlloc = ferrokv::util::alloc::CountingAlloc;

fn main() {
    let mut config = match Config::from_cli(std::env::args().skip(1)) {
        Ok(CliOutcome::Run(config)) => config,
        Ok(CliOutcome::PrintAndExit(text)) => {
            println!("{text}");
            return;
        }
        // An unreadable file is a log line in Redis; every other config error is a banner on stderr.
        Err(message) if message.starts_with("Fatal error") => {
            log::log_as('C', log::Level::Warning, format_args!("{message}"));
            std::process::exit(1);
        }
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(1);
        }
    };
    log::init(config.loglevel, &config.logfile);
    // Redis works from `dir`: relative paths (dump files, logs) resolve there.
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        log::log_as('C', log::Level::Warning, format_args!("Can't chdir to '{}': {e}", config.dir));
        std::process::exit(1);
    }
    // As Redis: a supervised process stays in the foreground even with `daemonize yes`.
    let background = config.daemonize && !supervised(&config);
    if background {
        daemonize();
    }
    let pid = std::process::id();
    log::log_as(
        'C',
        log::Level::Warning,
        format_args!("oO0OoO0OoO0Oo ferrokv (Redis 7.0.15 compatible) is starting oO0OoO0OoO0Oo"),
    );
    log::log_as(
        'C',
        log::Level::Warning,
        format_args!("Redis version=7.0.15, ferrokv={}, bits=64, pid={pid}, just started", env!("CARGO_PKG_VERSION")),
    );
    for warning in config.not_acted_on() {
        log::log(log::Level::Warning, format_args!("{warning}"));
    }
    if let Some(warning) = listen::backlog_warning(config.tcp_backlog) {
        log::log(log::Level::Warning, format_args!("{warning}"));
    }
    let pidfile = match config.pidfile.as_str() {
        "" if background => DEFAULT_PID_FILE.to_string(),
        path => path.to_string(),
    };
    config.maxclients = ferrokv::net::open_files::fit_maxclients(config.maxclients);
    let mut server = match Server::bind(config) {
        Ok(server) => server,
        Err(e) => exit_listen_failed(&e),
    };
    if !pidfile.is_empty() {
        write_pid_file(&pidfile);
    }
    ferrokv::log!(Notice, "Running mode=standalone, port={}.", server.port());
    if let Some(http_port) = server.http_port() {
        ferrokv::log!(Notice, "HTTP gateway listening on port {}.", http_port);
    }
    ferrokv::log!(Warning, "Server initialized");
    // As Redis's loadDataFromDisk: with appendonly the AOF is the dataset, else the RDB.
    server.start_aof();
    if !server.state.config.appendonly && !ferrokv::persist::load_at_startup(&mut server.state) {
        std::process::exit(1);
    }
    ferrokv::log!(Notice, "Ready to accept connections");
    let outcome = server.run();
    if !pidfile.is_empty() {
        ferrokv::log!(Notice, "Removing the pid file.");
        let _ = std::fs::remove_file(&pidfile);
    }
    if let Err(e) = outcome {
        ferrokv::log!(Warning, "Event loop failed: {}", e);
        std::process::exit(1);
    }
}

/// redisIsSupervised: `supervised` counts only when the supervisor's variable is in the environment.
fn supervised(config: &Config) -> bool {
    let has = |name| std::env::var_os(name).is_some();
    match config.supervised.as_str() {
        "systemd" => has("NOTIFY_SOCKET"),
        "upstart" => has("UPSTART_JOB"),
        "auto" => has("NOTIFY_SOCKET") || has("UPSTART_JOB"),
        _ => false,
    }
}

/// Redis's daemonize(): fork, the parent exits 0, the child starts a new session and points stdin,
/// stdout and stderr at /dev/null. Runs before any thread exists, so the child is a whole copy.
fn daemonize() {
    // SAFETY: fork, setsid, open, dup2 and close are called as their man pages allow, with a valid
    // NUL-terminated path; the process is still single-threaded, so fork cannot split held locks.
    unsafe {
        match libc::fork() {
            -1 => {
                log::log_as('C', log::Level::Warning, format_args!("fork: {}", std::io::Error::last_os_error()));
                std::process::exit(1);
            }
            0 => {}
            _ => std::process::exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR, 0);
        if fd != -1 {
            for target in [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO] {
                libc::dup2(fd, target);
            }
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
    }
}

/// createPidFile: a failure is logged, not fatal, as in Redis.
fn write_pid_file(path: &str) {
    if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
        ferrokv::log!(Warning, "Failed to write PID file: {}", ferrokv::util::strerror::strerror(&e));
    }
}

/// A listener could not be created: Redis's two lines naming it, then exit 1.
fn exit_listen_failed(error: &std::io::Error) -> ! {
    match ListenError::find(error) {
        Some(failure) => {
            failure.log_lines().iter().for_each(|line| log::log(log::Level::Warning, format_args!("{line}")))
        }
        None => log::log(log::Level::Warning, format_args!("Failed listening on port: {error}, aborting.")),
    }
    std::process::exit(1);
}
