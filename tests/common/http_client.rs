//! A blocking HTTP/1.1 client over `std::net::TcpStream` for the gateway tests: it sends exactly the bytes a
//! test asks for (so tests can pipeline, trickle or send garbage) and reads responses framed by
//! Content-Length, which is how the gateway frames every response.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::READ_TIMEOUT_MS;

/// One response as received.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

#[derive(Debug)]
pub struct HttpConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl HttpConn {
    pub fn connect(port: u16) -> HttpConn {
        let stream = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(5))
            .expect("connect to the HTTP port");
        stream.set_read_timeout(Some(Duration::from_millis(READ_TIMEOUT_MS))).unwrap();
        stream.set_nodelay(true).unwrap();
        HttpConn { stream, buf: Vec::new() }
    }

    pub fn set_read_timeout_ms(&mut self, timeout_ms: u64) {
        self.stream.set_read_timeout(Some(Duration::from_millis(timeout_ms))).unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends a request (with `Content-Length` when there is a body) and reads its response.
    pub fn request(&mut self, method: &str, path: &str, body: Option<&str>) -> HttpResponse {
        self.send_raw(&request_bytes(method, path, &[], body));
        self.read_response()
    }

    /// Like `request`, with extra header lines (`"Name: value"`).
    pub fn request_with(&mut self, method: &str, path: &str, headers: &[&str], body: Option<&str>) -> HttpResponse {
        self.send_raw(&request_bytes(method, path, headers, body));
        self.read_response()
    }

    pub fn read_response(&mut self) -> HttpResponse {
        self.try_read_response().unwrap_or_else(|e| panic!("reading a response: {e}"))
    }

    pub fn try_read_response(&mut self) -> io::Result<HttpResponse> {
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let length: usize = headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
        // An interim 100 has no body.
        let length = if status == 100 { 0 } else { length };
        while self.buf.len() < head_end + 4 + length {
            self.fill()?;
        }
        let body = self.buf[head_end + 4..head_end + 4 + length].to_vec();
        self.buf.drain(..head_end + 4 + length);
        Ok(HttpResponse { status, headers, body })
    }

    /// True once the server has closed the connection (reads EOF or reset), within the read timeout.
    pub fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        loop {
            match self.stream.read(&mut byte) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => return false,
                Err(_) => return true,
            }
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// The bytes of one request.
pub fn request_bytes(method: &str, path: &str, headers: &[&str], body: Option<&str>) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    if let Some(body) = body {
        out.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    out.push_str(body.unwrap_or_default());
    out.into_bytes()
}
