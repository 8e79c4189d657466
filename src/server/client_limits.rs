//! Enforcing the per-client limits that need the event loop: `client-query-buffer-limit`, checked after
//! every read as Redis's readQueryFromClient does, and the output buffer limits (`state::output_limits`),
//! checked after every command and before every write. A client over either is closed at once (nothing it
//! sent later runs, nothing more is written to it) with Redis's log line naming it.

use crate::state::session::ClientId;

use super::Loop;

/// Bytes of the query buffer quoted in the log line (Redis's `sdscatrepr(bytes, c->querybuf, 64)`).
const QBUF_LOGGED_BYTES: usize = 64;

impl Loop<'_> {
    /// Closes client `id` if its unparsed input passed `client-query-buffer-limit`; true if it did. Called
    /// right after a read, before the input is parsed, so a request bigger than the limit is refused however
    /// its bytes arrive (whole, it would otherwise be run and leave the buffer empty before the check).
    pub(super) fn query_buffer_over_limit(&mut self, id: ClientId) -> bool {
        let Some(conn) = self.io.connections[id.index()].as_mut() else { return false };
        if conn.query.len() as u64 <= self.state.config.client_query_buffer_limit {
            return false;
        }
        let mut bytes = String::new();
        crate::util::splitargs::push_repr(&mut bytes, &conn.query[..conn.query.len().min(QBUF_LOGGED_BYTES)]);
        if let Some(link) = self.state.sessions[id].link.as_mut() {
            conn.update_link(link);
        }
        let client = crate::cmd::conn::client_info_string(self.state, id);
        crate::log!(
            Warning,
            "Closing client that reached max query buffer length: {} (qbuf initial bytes: {})",
            client,
            bytes
        );
        self.state.close_asap(id);
        true
    }

    /// Closes client `id` if its unsent replies are over its class's output buffer limits at `now_ms`; true
    /// if it did.
    pub(super) fn output_over_limit(&mut self, id: ClientId, now_ms: i64) -> bool {
        let session = &self.state.sessions[id];
        // The usual case, checked after every command: nothing waits beyond the static buffer and no soft-limit
        // clock runs, so no limit can be reached (and copying the limits costs more than this test).
        if session.output_limited_bytes() == 0 && session.soft_limit_since_s.is_none() {
            return false;
        }
        let now_s = now_ms.div_euclid(1000);
        let limits = self.state.config.client_output_buffer_limit;
        let session = &mut self.state.sessions[id];
        if session.close_asap || session.link.is_none() || !session.output_limit_reached(&limits, now_s) {
            return false;
        }
        let client = crate::cmd::conn::client_info_string(self.state, id);
        crate::log!(Warning, "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.", client);
        self.state.close_asap(id);
        true
    }
}
