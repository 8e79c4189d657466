//! The reply writer: every reply is written straight into the client's output buffer, in RESP2 or RESP3.
//!
//! Handlers call typed methods (`bulk`, `int`, `map`, `double`, ...) and never think about the protocol: a
//! RESP3 client (one that sent `HELLO 3`) gets the native types, and a RESP2 client gets them downgraded exactly
//! as Redis does (map → flat array of twice the length, set → array, double → bulk string, null → `$-1`, null
//! array → `*-1`, boolean → integer 1/0, verbatim → bulk, push → array).
//!
//! Errors are counted (and their first word remembered) so the dispatcher can keep INFO's error statistics
//! without the handlers knowing about them.

use crate::util::num;

/// A client's pending output plus the protocol it speaks.
#[derive(Debug, Default)]
pub struct Reply {
    /// Bytes not yet written to the socket.
    pub buf: Vec<u8>,
    /// True after `HELLO 3`.
    pub resp3: bool,
    /// Error replies written since the dispatcher last took them, by their first word (`ERR`, `WRONGTYPE`).
    pub errors: Vec<Box<str>>,
    /// An error reply was written that `errors` leaves out, because the statistics counted it where it arose
    /// (a script's `redis.call` error, passed on as the script's reply): the command still counts as failed.
    pub uncounted_failure: bool,
}

impl Reply {
    pub fn new(resp3: bool) -> Reply {
        Reply { buf: Vec::new(), resp3, errors: Vec::new(), uncounted_failure: false }
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply, `+<s>`; `s` must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        debug_assert!(!s.contains(['\r', '\n']));
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.crlf();
    }

    /// An error reply, `-<msg>`; `msg` starts with its code (`ERR ...`, `WRONGTYPE ...`). Newlines are turned into
    /// spaces, as Redis does, because an error must stay on one line even when it quotes user input.
    /// `msg` is bytes, not `str`, because Redis echoes arguments into some errors verbatim (unknown command).
    pub fn error(&mut self, msg: impl AsRef<[u8]>) {
        let msg = msg.as_ref();
        self.buf.push(b'-');
        self.buf.extend(msg.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
        self.crlf();
        let code = msg.split(|&c| c == b' ').next().unwrap_or(b"ERR");
        self.errors.push(String::from_utf8_lossy(code).into());
    }

    /// `error` for an error the statistics counted already (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE).
    pub fn counted_error(&mut self, msg: impl AsRef<[u8]>) {
        let counted = self.errors.len();
        self.error(msg);
        self.errors.truncate(counted);
        self.uncounted_failure = true;
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.crlf();
    }

    /// An integer sent as a bulk string (SCAN cursors, GET of an integer-encoded string).
    pub fn bulk_i64(&mut self, n: i64) {
        let mut digits = itoa::Buffer::new();
        self.bulk(digits.format(n).as_bytes());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs; the caller then writes 2 × `len` items.
    pub fn map(&mut self, len: usize) {
        if self.resp3 { self.header(b'%', len as i64) } else { self.header(b'*', 2 * len as i64) }
    }

    /// A set of `len` items.
    pub fn set(&mut self, len: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, len as i64);
    }

    /// An out-of-band push of `len` items (pub/sub messages, invalidations).
    pub fn push(&mut self, len: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, len as i64);
    }

    /// A double printed as Redis 7.0 prints it (`%.17g`, `inf`, `-inf`).
    ///
    /// The text is written in place (a double's is at most 24 bytes), and in RESP2 its `$<len>` header is slid
    /// in before it, so a reply of many scores allocates nothing per score.
    pub fn double(&mut self, v: f64) {
        if self.resp3 {
            self.buf.push(b',');
            num::write_double(&mut self.buf, v);
            self.crlf();
            return;
        }
        let start = self.buf.len();
        num::write_double(&mut self.buf, v);
        let mut digits = itoa::Buffer::new();
        let len = digits.format(self.buf.len() - start).as_bytes();
        let mut header = [0u8; 8];
        header[0] = b'$';
        header[1..=len.len()].copy_from_slice(len);
        header[len.len() + 1..len.len() + 3].copy_from_slice(b"\r\n");
        self.buf.splice(start..start, header[..len.len() + 3].iter().copied());
        self.crlf();
    }

    pub fn bool(&mut self, b: bool) {
        if self.resp3 {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(i64::from(b));
        }
    }

    /// A big number given as its decimal digits: RESP3 `(`, RESP2 a bulk string (Redis's addReplyBigNum).
    pub fn big_number(&mut self, digits: &[u8]) {
        if !self.resp3 {
            return self.bulk(digits);
        }
        self.buf.push(b'(');
        self.buf.extend_from_slice(digits);
        self.crlf();
    }

    /// RESP3 attributes of `len` pairs, which the caller writes next, followed by the real reply. RESP3 only:
    /// RESP2 has no way to say it, so a caller writes attributes only for RESP3 clients, as Redis's do.
    pub fn attribute(&mut self, len: usize) {
        debug_assert!(self.resp3);
        self.header(b'|', len as i64);
    }

    /// A verbatim string with a three-letter format (`txt`, `mkd`): RESP3 `=`, RESP2 a plain bulk string.
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if !self.resp3 {
            return self.bulk(text);
        }
        debug_assert_eq!(format.len(), 3);
        self.header(b'=', (text.len() + 4) as i64);
        self.buf.extend_from_slice(format.as_bytes());
        self.buf.push(b':');
        self.buf.extend_from_slice(text);
        self.crlf();
    }

    /// Starts an array whose length is known only after its items are written; see `end_array`.
    pub fn begin_array(&mut self) -> usize {
        self.buf.len()
    }

    /// Inserts the header for `len` items written since `begin_array` returned `start`. The items are moved
    /// once; that is cheaper than a first pass just to count them (KEYS, SCAN).
    pub fn end_array(&mut self, start: usize, len: usize) {
        self.insert_header(start, b'*', len);
    }

    /// Inserts `kind`, `len` and CRLF at `start`, from a stack buffer (no allocation: ZRANGEBYSCORE with a
    /// LIMIT ends every reply here).
    fn insert_header(&mut self, start: usize, kind: u8, len: usize) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(len).as_bytes();
        let mut header = [0u8; 24];
        header[0] = kind;
        header[1..=digits.len()].copy_from_slice(digits);
        header[digits.len() + 1..digits.len() + 3].copy_from_slice(b"\r\n");
        self.buf.splice(start..start, header[..digits.len() + 3].iter().copied());
    }

    /// `end_array` for a map of `len` entries (in RESP2 a flat array of twice the length).
    pub fn end_map(&mut self, start: usize, len: usize) {
        if self.resp3 {
            self.insert_header(start, b'%', len);
        } else {
            self.end_array(start, len * 2);
        }
    }

    /// Bytes written so far; lets callers undo a partial reply (`truncate`).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn header(&mut self, kind: u8, n: i64) {
        self.buf.push(kind);
        self.buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.crlf();
    }

    fn crlf(&mut self) {
        self.buf.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::Reply;

    fn both(f: impl Fn(&mut Reply)) -> (String, String) {
        let mut r2 = Reply::new(false);
        let mut r3 = Reply::new(true);
        f(&mut r2);
        f(&mut r3);
        (String::from_utf8(r2.buf).unwrap(), String::from_utf8(r3.buf).unwrap())
    }

    #[test]
    fn scalars() {
        assert_eq!(both(|r| r.ok()).0, "+OK\r\n");
        assert_eq!(both(|r| r.int(-42)).0, ":-42\r\n");
        assert_eq!(both(|r| r.bulk(b"hi")).0, "$2\r\nhi\r\n");
        assert_eq!(both(|r| r.bulk(b"")).0, "$0\r\n\r\n");
        assert_eq!(both(|r| r.bulk_i64(10)).0, "$2\r\n10\r\n");
    }

    #[test]
    fn resp2_downgrades_resp3_types() {
        assert_eq!(both(|r| r.null()), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.map(2)), ("*4\r\n".into(), "%2\r\n".into()));
        assert_eq!(both(|r| r.set(3)), ("*3\r\n".into(), "~3\r\n".into()));
        assert_eq!(both(|r| r.push(3)), ("*3\r\n".into(), ">3\r\n".into()));
        assert_eq!(both(|r| r.bool(true)), (":1\r\n".into(), "#t\r\n".into()));
        assert_eq!(both(|r| r.double(1.5)), ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into()));
        assert_eq!(both(|r| r.double(f64::INFINITY)), ("$3\r\ninf\r\n".into(), ",inf\r\n".into()));
        assert_eq!(both(|r| r.verbatim("txt", b"ab")), ("$2\r\nab\r\n".into(), "=6\r\ntxt:ab\r\n".into()));
    }

    #[test]
    fn errors_are_one_line_and_counted() {
        let mut r = Reply::new(false);
        r.error("ERR bad\r\nthing");
        r.error("WRONGTYPE Operation");
        assert_eq!(r.buf, b"-ERR bad  thing\r\n-WRONGTYPE Operation\r\n");
        assert_eq!(r.errors, vec!["ERR".into(), "WRONGTYPE".into()]);
    }

    #[test]
    fn deferred_array_length() {
        let mut r = Reply::new(false);
        r.int(1);
        let start = r.begin_array();
        r.bulk(b"a");
        r.bulk(b"b");
        r.end_array(start, 2);
        assert_eq!(r.buf, b":1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    }
}
