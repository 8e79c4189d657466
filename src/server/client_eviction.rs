//! `maxmemory-clients` (Redis 7.0's client eviction): when the memory of all evictable clients together
//! (query buffers, output buffers, arguments, the session itself: CLIENT LIST's `tot-mem`) reaches the
//! limit, the clients using the most are closed, largest first, until the rest fit, each logged with Redis's
//! `Evicting client:` line and counted in INFO `evicted_clients`. A client that ran CLIENT NO-EVICT ON, and
//! sessions without a connection (scripts, the AOF loader), are never evicted.
//!
//! It runs before the loop sleeps, after each client's input was processed, so a client cannot grow past
//! the limit for longer than one turn. With `maxmemory-clients 0` it costs one test.

use super::Loop;
use crate::config::Config;
use crate::state::session::ClientId;

/// Below this the server could not talk to anyone, so Redis raises a smaller limit to it.
const CLIENT_EVICTION_LIMIT_MIN: u64 = 128 * 1024;

/// The limit in bytes (getClientEvictionLimit): the directive's bytes, or its percentage of `maxmemory`;
/// 0 when client eviction is off.
pub(super) fn client_eviction_limit(config: &Config) -> u64 {
    let limit = match config.maxmemory_clients {
        percent if percent < 0 && config.maxmemory > 0 => {
            (config.maxmemory as f64 * -(percent as f64) / 100.0).min(u64::MAX as f64) as u64
        }
        bytes if bytes > 0 => bytes as u64,
        _ => return 0,
    };
    limit.max(CLIENT_EVICTION_LIMIT_MIN)
}

impl Loop<'_> {
    /// Closes the biggest evictable clients while all of them together use at least the limit.
    pub(super) fn evict_clients(&mut self) {
        let limit = client_eviction_limit(&self.state.config);
        if limit == 0 {
            return;
        }
        let mut usage: Vec<(u64, ClientId)> = self
            .state
            .sessions
            .iter()
            .filter(|(_, s)| s.link.is_some() && !s.no_evict && !s.close_asap)
            .map(|(id, s)| (crate::cmd::conn::client_memory_usage(s) as u64, id))
            .collect();
        let mut total: u64 = usage.iter().map(|(bytes, _)| bytes).sum();
        if total < limit {
            return;
        }
        usage.sort_unstable_by_key(|&(bytes, _)| std::cmp::Reverse(bytes));
        for (bytes, id) in usage {
            if total < limit {
                break;
            }
            let info = crate::cmd::conn::client_info_string(self.state, id);
            crate::log!(Notice, "Evicting client: {}", info);
            self.state.stats.evicted_clients += 1;
            self.state.close_asap(id);
            total -= bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_as_redis() {
        let mut config = Config::default();
        assert_eq!(client_eviction_limit(&config), 0);
        config.maxmemory_clients = 1 << 20;
        assert_eq!(client_eviction_limit(&config), 1 << 20);
        config.maxmemory_clients = 1000;
        assert_eq!(client_eviction_limit(&config), CLIENT_EVICTION_LIMIT_MIN);
        config.maxmemory_clients = -10;
        assert_eq!(client_eviction_limit(&config), 0, "a percentage of no maxmemory is no limit");
        config.maxmemory = 100 << 20;
        assert_eq!(client_eviction_limit(&config), 10 << 20);
    }
}
