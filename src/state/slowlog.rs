//! The slow log (Redis's `slowlog.c`): the most recent commands that ran at least `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them.
//!
//! An entry keeps at most `ARGC_MAX` arguments (the last one then says how many more there were) and at most
//! `STRING_MAX` bytes of each (followed by how many more bytes there were), as Redis does, so a huge command
//! costs the log a bounded copy (a copy always: the arguments of a command share its read buffer, which an
//! entry must not keep alive). Sensitive arguments (passwords) arrive already replaced by `(redacted)`.

use bytes::Bytes;
use std::collections::VecDeque;

/// Arguments kept per entry (Redis's SLOWLOG_ENTRY_MAX_ARGC).
const ARGC_MAX: usize = 32;
/// Bytes kept per argument (SLOWLOG_ENTRY_MAX_STRING).
const STRING_MAX: usize = 128;

/// One logged command.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: u64,
    /// When it ran, in Unix seconds.
    pub time_s: i64,
    pub duration_us: u64,
    pub argv: Vec<Bytes>,
    /// The client's `ip:port` and name (empty when it has none).
    pub peer: String,
    pub name: Bytes,
}

#[derive(Debug, Default)]
pub struct SlowLog {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl SlowLog {
    /// Logs a command, trimming its arguments, then drops the oldest entries beyond `len_max`.
    pub fn push(&mut self, mut entry: Entry, argv: impl ExactSizeIterator<Item = Bytes>, len_max: usize) {
        let argc = argv.len();
        let kept = argc.min(ARGC_MAX);
        entry.argv = argv
            .take(kept)
            .enumerate()
            .map(|(index, arg)| {
                if kept != argc && index == kept - 1 {
                    Bytes::from(format!("... ({} more arguments)", argc - kept + 1))
                } else if arg.len() > STRING_MAX {
                    let mut cut = arg[..STRING_MAX].to_vec();
                    cut.extend_from_slice(format!("... ({} more bytes)", arg.len() - STRING_MAX).as_bytes());
                    Bytes::from(cut)
                } else {
                    // A copy: an argument shares the memory of the read buffer it came in, which a log entry
                    // kept for hours must not pin.
                    Bytes::copy_from_slice(&arg)
                }
            })
            .collect();
        entry.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(len_max);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The newest `count` entries, newest first.
    pub fn newest(&self, count: usize) -> impl ExactSizeIterator<Item = &Entry> {
        self.entries.iter().take(count)
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry { id: 0, time_s: 0, duration_us: 1, argv: Vec::new(), peer: String::new(), name: Bytes::new() }
    }

    #[test]
    fn trims_arguments_and_entries_as_redis() {
        let mut log = SlowLog::default();
        let many: Vec<Bytes> = (0..40).map(|i| Bytes::from(i.to_string())).collect();
        log.push(entry(), many.into_iter(), 2);
        let long = vec![Bytes::from_static(b"set"), Bytes::from(vec![b'A'; 130])];
        log.push(entry(), long.into_iter(), 2);
        log.push(entry(), [Bytes::from_static(b"ping")].into_iter(), 2);
        assert_eq!(log.len(), 2);
        let newest: Vec<&Entry> = log.newest(5).collect();
        assert_eq!((newest[0].id, newest[1].id), (2, 1));
        let cut = &newest[1].argv[1];
        assert!(cut.starts_with(&[b'A'; 128]) && cut.ends_with(b"AA... (2 more bytes)"));
        log.push(entry(), (0..40).map(|i| Bytes::from(i.to_string())), 3);
        let first = log.newest(1).next().unwrap();
        assert_eq!(first.argv.len(), 32);
        assert_eq!(&first.argv[31][..], b"... (9 more arguments)");
    }
}
