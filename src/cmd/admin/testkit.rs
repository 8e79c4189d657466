//! Test harness for command handlers: a `State` with sessions that have no connection, and `run`, which
//! sends one request through `cmd::call` and returns the reply bytes as text. No socket, no event loop:
//! exactly what a handler sees, and what later sessions without a connection (AOF loading, Lua) will use.

use bytes::Bytes;

use crate::cmd::call::call;
use crate::config::Config;
use crate::state::session::{ClientId, Link};
use crate::state::{NoListeners, State};

#[derive(Debug)]
pub(crate) struct TestServer {
    pub state: State,
}

impl TestServer {
    pub fn new() -> TestServer {
        TestServer::with_config(Config { port: 0, ..Config::default() })
    }

    pub fn with_config(config: Config) -> TestServer {
        TestServer { state: State::new(config, crate::cmd::table().names.len(), Box::new(NoListeners)) }
    }

    /// Adds a session without a connection, authenticated unless a password is configured. It gets the
    /// `Link` facts a loopback client would have, so CLIENT LIST, CLIENT KILL and INFO see a connected client.
    pub fn connect(&mut self) -> ClientId {
        let port = 40000 + self.state.sessions.len();
        let link =
            Link { addr: format!("127.0.0.1:{port}"), laddr: "127.0.0.1:6379".into(), fd: -1, ..Link::default() };
        self.state.add_session(Some(link))
    }

    /// Runs one request for session `id`, space-separated, and returns its reply.
    pub fn run(&mut self, id: ClientId, request: &str) -> String {
        let argv: Vec<Bytes> = request.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
        self.state.begin_batch();
        self.state.sessions[id].reply.buf.clear();
        call(&mut self.state, id, &argv);
        String::from_utf8_lossy(&self.state.sessions[id].reply.buf).into_owned()
    }
}
