//! Command errors and the exact texts Redis sends for them.
//!
//! Clients and Redis's own tests match on these strings, so every shared text lives here once. A handler
//! returns `Err(CmdError)` and `call` writes it; the connection stays open (only protocol errors close).

use std::borrow::Cow;

/// An error reply, text without the leading `-`. Bytes, because some errors quote arguments verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, [u8]>);

pub type CmdResult = Result<(), CmdError>;

impl CmdError {
    /// The text, with any non-UTF-8 bytes replaced (for logs and test assertions).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> CmdError {
        CmdError(Cow::Borrowed(s.as_bytes()))
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> CmdError {
        CmdError(Cow::Owned(s.into_bytes()))
    }
}

impl From<Vec<u8>> for CmdError {
    fn from(s: Vec<u8>) -> CmdError {
        CmdError(Cow::Owned(s))
    }
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
/// Writes refused after a failed BGSAVE (`stop-writes-on-bgsave-error`), Redis's shared.bgsaveerr.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist \
                           to disk. Commands that may modify the data set are disabled, because this instance is \
                           configured to report errors during writes if RDB snapshotting fails \
                           (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the \
                           RDB error.";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
/// A write refused under `min-replicas-to-write` (Redis's shared.noreplicaserr).
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";
/// A `no-multi` command (SAVE, SHUTDOWN, SYNC, PSYNC) sent inside MULTI.
pub const NO_MULTI: &str = "ERR Command not allowed inside a transaction";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const DB_INDEX_RANGE: &str = "ERR DB index is out of range";
pub const INVALID_DB_INDEX: &str = "ERR invalid DB index";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
pub const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";
/// LMPOP's and ZMPOP's numkeys and COUNT (and their blocking forms'), and the count of LPOP, RPOP, ZPOPMIN and
/// ZPOPMAX.
pub const NUMKEYS_RANGE: &str = "ERR numkeys should be greater than 0";
pub const MPOP_COUNT_RANGE: &str = "ERR count should be greater than 0";
pub const POP_COUNT_RANGE: &str = "ERR value is out of range, must be positive";

/// `ERR wrong number of arguments for '<name>' command` (name as Redis prints it: lowercase, `a|b` for
/// subcommands).
pub fn wrong_arity(name: &str) -> CmdError {
    format!("ERR wrong number of arguments for '{name}' command").into()
}

/// `ERR invalid expire time in '<cmd>' command`.
pub fn invalid_expire(command: &str) -> CmdError {
    format!("ERR invalid expire time in '{command}' command").into()
}

/// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' `, truncated as Redis truncates: the
/// name to 128 bytes and the argument list to about 128 bytes.
pub fn unknown_command(argv: &[bytes::Bytes]) -> CmdError {
    let mut args = Vec::new();
    for arg in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push(b'\'');
        args.extend_from_slice(c_str(arg, room));
        args.extend_from_slice(b"' ");
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(c_str(&argv[0], 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&args);
    msg.into()
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(command: &[u8], sub: &[u8]) -> CmdError {
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(c_str(sub, 128));
    msg.extend_from_slice(b"'. Try ");
    msg.extend_from_slice(&command.to_ascii_uppercase());
    msg.extend_from_slice(b" HELP.");
    msg.into()
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.` (Redis's
/// addReplySubcommandSyntaxError, for containers that check their subcommands' arguments themselves).
pub fn subcommand_syntax(command: &[u8], sub: &[u8]) -> CmdError {
    let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    msg.extend_from_slice(c_str(sub, 128));
    msg.extend_from_slice(b"'. Try ");
    msg.extend_from_slice(&command.to_ascii_uppercase());
    msg.extend_from_slice(b" HELP.");
    msg.into()
}

/// What C's `%.*s` prints of `arg`: at most `max` bytes, and nothing from the first NUL on.
pub fn c_str(arg: &[u8], max: usize) -> &[u8] {
    let arg = &arg[..arg.len().min(max)];
    arg.split(|&c| c == 0).next().unwrap_or(arg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn unknown_command_text() {
        let argv = [Bytes::from("foo"), Bytes::from("a"), Bytes::from("b")];
        assert_eq!(&*unknown_command(&argv).0, b"ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
        let argv = [Bytes::from(&b"a\0b"[..]), Bytes::from(&b"c\0d"[..])];
        assert_eq!(&*unknown_command(&argv).0, b"ERR unknown command 'a', with args beginning with: 'c' ");
        let argv = [Bytes::from("foo"), Bytes::from(&b"\xff"[..])];
        assert_eq!(&*unknown_command(&argv).0, b"ERR unknown command 'foo', with args beginning with: '\xff' ");
    }
}
