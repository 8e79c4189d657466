//! Placeholder configuration (replaced by the full directive table).
use crate::log::Level;

pub type LogLevel = Level;

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub databases: usize,
    pub hz: u32,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub maxclients: usize,
    pub timeout_s: u64,
    pub tcp_keepalive_s: u64,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub requirepass: Option<Vec<u8>>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            databases: 16,
            hz: 10,
            loglevel: Level::Notice,
            logfile: String::new(),
            maxclients: 10000,
            timeout_s: 0,
            tcp_keepalive_s: 300,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            requirepass: None,
        }
    }
}

#[derive(Debug)]
pub enum CliOutcome {
    Run(Config),
    PrintAndExit(String),
}

impl Config {
    pub fn from_cli(args: impl IntoIterator<Item = String>) -> Result<CliOutcome, String> {
        let mut c = Config::default();
        let args: Vec<String> = args.into_iter().collect();
        let mut i = 0;
        while i < args.len() {
            if args[i] == "--port" {
                c.port = args[i + 1].parse().map_err(|_| "bad port")?;
                i += 1;
            }
            i += 1;
        }
        Ok(CliOutcome::Run(c))
    }
}
