//! Placeholder parser (replaced by the incremental one).
use bytes::{Buf, Bytes, BytesMut};

#[derive(Debug)]
pub struct ParseLimits {
    pub proto_max_bulk_len: u64,
    pub authenticated: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum ProtocolError {
    Invalid,
}

impl ProtocolError {
    pub fn reply_text(&self) -> String {
        "ERR Protocol error: invalid multibulk length".into()
    }
}

#[derive(Debug, Default)]
pub struct RequestParser;

impl RequestParser {
    pub fn bytes_wanted(&self) -> usize {
        0
    }
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        argv: &mut Vec<Bytes>,
        _l: &ParseLimits,
    ) -> Result<bool, ProtocolError> {
        argv.clear();
        if buf.is_empty() {
            return Ok(false);
        }
        if buf[0] != b'*' {
            let Some(nl) = buf.iter().position(|&c| c == b'\n') else { return Ok(false) };
            let line = buf.split_to(nl + 1);
            for w in line[..].split(|c| c.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
                argv.push(Bytes::copy_from_slice(w));
            }
            return Ok(!argv.is_empty());
        }
        let mut pos = 0;
        let line = |pos: usize| -> Option<(i64, usize)> {
            let end = buf[pos..].iter().position(|&c| c == b'\r')? + pos;
            if end + 1 >= buf.len() {
                return None;
            }
            let n: i64 = std::str::from_utf8(&buf[pos + 1..end]).ok()?.parse().ok()?;
            Some((n, end + 2))
        };
        let Some((n, p)) = line(pos) else { return Ok(false) };
        pos = p;
        let mut spans = vec![];
        for _ in 0..n {
            let Some((len, p)) = line(pos) else { return Ok(false) };
            if p + len as usize + 2 > buf.len() {
                return Ok(false);
            }
            spans.push((p, len as usize));
            pos = p + len as usize + 2;
        }
        let data = buf.split_to(pos).freeze();
        for (s, l) in spans {
            argv.push(data.slice(s..s + l));
        }
        let _ = data.remaining();
        Ok(true)
    }
}
