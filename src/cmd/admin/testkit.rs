//! Test harness for command handlers: a `Server` without listeners, clients on real loopback sockets, and
//! `run`, which sends one request through the dispatcher and returns the reply bytes as text. It skips the
//! event loop, so what `Server::execute` adds (CLIENT REPLY's dropping, closing) is not covered here.

use bytes::Bytes;
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use crate::clock;
use crate::cmd::dispatch::process_command;
use crate::config::Config;
use crate::net::client::Client;
use crate::server::Server;

#[derive(Debug)]
pub(crate) struct TestServer {
    pub server: Server,
    /// The peers' ends of the client sockets, kept open for the test's length.
    peers: Vec<TcpStream>,
}

impl TestServer {
    pub fn new() -> TestServer {
        TestServer::with_config(Config { port: 0, ..Config::default() })
    }

    /// A server for `config`, never with an HTTP listener (handler tests need none, and parallel tests would
    /// fight over the default port).
    pub fn with_config(config: Config) -> TestServer {
        let config = Config { http_port: 0, ..config };
        TestServer { server: Server::bind(config).expect("server without listeners"), peers: Vec::new() }
    }

    /// Adds a connected client, authenticated unless a password is configured; returns its slab key.
    pub fn connect(&mut self) -> usize {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, addr) = listener.accept().unwrap();
        accepted.set_nonblocking(true).unwrap();
        self.peers.push(peer);
        let state = &mut self.server.state;
        let id = state.next_client_id;
        state.next_client_id += 1;
        let authenticated = state.config.requirepass.is_none();
        let stream = mio::net::TcpStream::from_std(accepted);
        state.clients.insert(Client::new(id, stream, addr, clock::unix_ms(), authenticated))
    }

    /// Runs one request for client `key`, space-separated, and returns its reply.
    pub fn run(&mut self, key: usize, request: &str) -> String {
        let argv: Vec<Bytes> = request.split(' ').map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
        let state = &mut self.server.state;
        let mut reply = std::mem::take(&mut state.clients[key].reply);
        reply.buf.clear();
        process_command(state, key, &argv, &mut reply, clock::unix_ms(), Instant::now());
        let text = String::from_utf8_lossy(&reply.buf).into_owned();
        state.clients[key].reply = reply;
        text
    }
}
