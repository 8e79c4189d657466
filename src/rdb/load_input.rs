//! The bytes an RDB load parses (`snapshot::load_from`): a file or an in-memory buffer, handed over in pieces.
//!
//! A file is read ahead by a helper thread in `CHUNK`-byte pieces, which also computes the CRC-64 of every byte
//! but the last 8 (the trailer's span in a well-formed file) as it goes. So the loop's thread never waits for
//! the disk or spends time on the checksum, and a load holds a window of the file rather than the whole of it:
//! loading a file of hashes used to hold all its 842 MB beside the dataset it built. The thread touches only
//! the file and its own buffers, never the keyspace.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::crc64;

/// Bytes the reader thread reads at a time.
pub const CHUNK: usize = 1 << 20;
/// Pieces read ahead of the parse at most (the memory a slow parse lets the reader hold).
const CHUNKS_AHEAD: usize = 4;

/// What a load reads from.
pub trait Input {
    /// The input's whole length.
    fn input_len(&self) -> usize;
    /// The fewest bytes worth asking `read_more` for.
    fn min_read(&self) -> usize {
        CHUNK
    }
    /// Appends the next bytes of the input to `window`: at least `at_least` of them unless the input ends.
    fn read_more(&mut self, window: &mut Vec<u8>, at_least: usize) -> io::Result<()>;
    /// The CRC-64 of the input's first `body_len` bytes; `window` holds the input from `window_base` on.
    fn checksum(&mut self, body_len: usize, window: &[u8], window_base: usize) -> io::Result<u64>;
}

/// A whole buffer, handed over at once.
#[derive(Debug)]
pub struct BufferInput<'a> {
    bytes: &'a [u8],
    given: bool,
}

impl BufferInput<'_> {
    pub fn new(bytes: &[u8]) -> BufferInput<'_> {
        BufferInput { bytes, given: false }
    }
}

impl Input for BufferInput<'_> {
    fn input_len(&self) -> usize {
        self.bytes.len()
    }

    fn read_more(&mut self, window: &mut Vec<u8>, _at_least: usize) -> io::Result<()> {
        if !std::mem::replace(&mut self.given, true) {
            window.extend_from_slice(self.bytes);
        }
        Ok(())
    }

    fn checksum(&mut self, body_len: usize, _window: &[u8], _window_base: usize) -> io::Result<u64> {
        Ok(crc64::checksum(&self.bytes[..body_len]))
    }
}

/// A file, read ahead by a helper thread.
#[derive(Debug)]
pub struct FileInput {
    path: PathBuf,
    len: usize,
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    /// The reader thread; it returns the CRC-64 of the file's first `len - 8` bytes.
    reader: Option<JoinHandle<u64>>,
}

impl FileInput {
    /// Opens `path` and starts reading it.
    pub fn open(path: &Path) -> io::Result<FileInput> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
        let (sender, chunks) = mpsc::sync_channel(CHUNKS_AHEAD);
        let reader =
            std::thread::Builder::new().name("rdb-reader".into()).spawn(move || read_ahead(file, len, &sender))?;
        Ok(FileInput { path: path.to_path_buf(), len, chunks, reader: Some(reader) })
    }
}

impl Input for FileInput {
    fn input_len(&self) -> usize {
        self.len
    }

    fn read_more(&mut self, window: &mut Vec<u8>, at_least: usize) -> io::Result<()> {
        let target = window.len().saturating_add(at_least);
        while window.len() < target {
            match self.chunks.recv() {
                Ok(chunk) => window.extend_from_slice(&chunk?),
                // The thread has sent the whole file.
                Err(mpsc::RecvError) => break,
            }
        }
        Ok(())
    }

    fn checksum(&mut self, body_len: usize, window: &[u8], window_base: usize) -> io::Result<u64> {
        if body_len + 8 == self.len
            && let Some(crc) = self.reader.take().and_then(|thread| thread.join().ok())
        {
            return Ok(crc);
        }
        // The file goes on after its trailer (or the thread died): checksum the body from what is at hand.
        if window_base == 0 && body_len <= window.len() {
            return Ok(crc64::checksum(&window[..body_len]));
        }
        let mut body = Vec::new();
        File::open(&self.path)?.take(body_len as u64).read_to_end(&mut body)?;
        Ok(crc64::checksum(&body))
    }
}

/// The reader thread: sends the file's `len` bytes in `CHUNK`s and returns the checksum of all but the last 8.
/// It stops early when the loader hangs up (a load that failed).
fn read_ahead(mut file: File, len: usize, chunks: &mpsc::SyncSender<io::Result<Vec<u8>>>) -> u64 {
    let body_len = len.saturating_sub(8);
    let mut digest = crc64::REDIS_CRC64.digest();
    let mut at = 0;
    while at < len {
        let want = CHUNK.min(len - at);
        let mut chunk = Vec::with_capacity(want);
        let read = (&mut file).take(want as u64).read_to_end(&mut chunk);
        let chunk = match read {
            Ok(n) if n == want => Ok(chunk),
            Ok(_) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file became shorter while loading")),
            Err(e) => Err(e),
        }
        .map(|chunk| {
            digest.update(&chunk[..body_len.saturating_sub(at).min(chunk.len())]);
            chunk
        });
        let failed = chunk.is_err();
        at += want;
        if chunks.send(chunk).is_err() || failed {
            break;
        }
    }
    digest.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_arrives_whole_with_the_checksum_of_its_body() {
        let dir = std::env::temp_dir().join(format!("ferrokv-load-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("three-chunks.rdb");
        let bytes: Vec<u8> = (0..CHUNK * 2 + 1234).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut input = FileInput::open(&path).unwrap();
        assert_eq!(input.input_len(), bytes.len());
        let mut window = Vec::new();
        input.read_more(&mut window, 10).unwrap();
        assert_eq!(window.len(), CHUNK, "one piece covers a small need");
        input.read_more(&mut window, usize::MAX).unwrap();
        assert_eq!(window, bytes);
        let body_len = bytes.len() - 8;
        assert_eq!(input.checksum(body_len, &window, 0).unwrap(), crc64::checksum(&bytes[..body_len]));
        // A body that ends before the file does is checksummed from the file itself.
        let mut input = FileInput::open(&path).unwrap();
        assert_eq!(input.checksum(1000, &[], 5000).unwrap(), crc64::checksum(&bytes[..1000]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
