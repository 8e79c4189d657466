//! The `ferrokv` binary: parse redis-server's command line, bind, log Redis's start lines, serve.

use ferrokv::config::{CliOutcome, Config};
use ferrokv::{Server, log};

#[global_allocator]
static ALLOC: ferrokv::util::alloc::CountingAlloc = ferrokv::util::alloc::CountingAlloc;

fn main() {
    let config = match Config::from_cli(std::env::args().skip(1)) {
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
    let mut server = match Server::bind(config) {
        Ok(server) => server,
        Err(e) => {
            log::log(log::Level::Warning, format_args!("Failed listening on port: {e}, aborting."));
            std::process::exit(1);
        }
    };
    ferrokv::log!(Notice, "Running mode=standalone, port={}.", server.port());
    if let Some(http_port) = server.http_port() {
        ferrokv::log!(Notice, "HTTP gateway listening on port {}.", http_port);
    }
    ferrokv::log!(Warning, "Server initialized");
    ferrokv::log!(Notice, "Ready to accept connections");
    if let Err(e) = server.run() {
        ferrokv::log!(Warning, "Event loop failed: {}", e);
        std::process::exit(1);
    }
}
