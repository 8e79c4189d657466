//! The AOF manifest of Redis 7.0's multi-part layout: which files of `appenddirname` make the log, one line
//! each, `file <name> seq <n> type <b|h|i>`, the base first, then history files (left over by a rewrite, to
//! be deleted), then the incr files in order. Parsing follows aofLoadManifestFromFile: `#` lines are
//! comments, keys may come in any order, a line over 1024 bytes, an unknown type, a second base or a file
//! missing a key is an error. The names are Redis's: `<appendfilename>.<seq>.base.aof` (`.rdb` with a
//! preamble), `<appendfilename>.<seq>.incr.aof`, `<appendfilename>.manifest`.

use crate::util::splitargs::split_args;

/// Longest manifest line Redis accepts (AOF_MANIFEST_LINE_MAX... its fgets buffer).
const LINE_BYTES_MAX: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Base,
    History,
    Incr,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Base => 'b',
            Kind::History => 'h',
            Kind::Incr => 'i',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: Kind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub history: Vec<AofFile>,
    pub incrs: Vec<AofFile>,
}

impl Manifest {
    /// Parses a manifest's text, with Redis's error wording.
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        let mut manifest = Manifest::default();
        for line in text.split_inclusive(|&b| b == b'\n') {
            if line.len() > LINE_BYTES_MAX {
                return Err("The AOF manifest file contains too long line".into());
            }
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            if line.first() == Some(&b'#') || line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let file = parse_line(line)?;
            match file.kind {
                Kind::Base if manifest.base.is_some() => return Err("Found duplicate base file information".into()),
                Kind::Base => manifest.base = Some(file),
                Kind::History => manifest.history.push(file),
                Kind::Incr => {
                    if manifest.incrs.last().is_some_and(|last| last.seq >= file.seq) {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    manifest.incrs.push(file)
                }
            }
        }
        if manifest.base.is_none() && manifest.incrs.is_empty() {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(manifest)
    }

    /// The manifest's text, as Redis's getAofManifestAsString writes it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for file in self.base.iter().chain(&self.history).chain(&self.incrs) {
            out.push_str(&format!("file {} seq {} type {}\n", file.name, file.seq, file.kind.letter()));
        }
        out
    }

    /// The files to replay, in order: the base, then the incr files.
    pub fn files_to_load(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(&self.incrs)
    }

    /// The sequence number the next incr file takes.
    pub fn next_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(1, |f| f.seq + 1)
    }

    /// The sequence number the next base file takes.
    pub fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(1, |f| f.seq + 1)
    }
}

fn parse_line(line: &[u8]) -> Result<AofFile, String> {
    let invalid = || "Invalid AOF manifest file format".to_string();
    let words = split_args(line).ok_or_else(invalid)?;
    if words.len() < 6 || words.len() % 2 != 0 {
        return Err(invalid());
    }
    let (mut name, mut seq, mut kind) = (None, None, None);
    for pair in words.chunks(2) {
        let value = String::from_utf8_lossy(&pair[1]).into_owned();
        match &pair[0][..] {
            b"file" => name = Some(value),
            b"seq" => seq = value.parse::<u64>().ok(),
            b"type" => {
                kind = match value.as_str() {
                    "b" => Some(Kind::Base),
                    "h" => Some(Kind::History),
                    "i" => Some(Kind::Incr),
                    _ => return Err("Unknown AOF file type".into()),
                }
            }
            _ => {}
        }
    }
    match (name, seq, kind) {
        (Some(name), Some(seq), Some(kind)) if !name.is_empty() => Ok(AofFile { name, seq, kind }),
        _ => Err("Invalid AOF manifest file format".into()),
    }
}

/// `<appendfilename>.<seq>.base.aof` (or `.rdb` when it starts with an RDB preamble).
pub fn base_name(appendfilename: &str, seq: u64, rdb: bool) -> String {
    format!("{appendfilename}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

pub fn incr_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}.incr.aof")
}

pub fn manifest_name(appendfilename: &str) -> String {
    format!("{appendfilename}.manifest")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_manifest_round_trips() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let manifest = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(manifest.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(manifest.incrs.len(), 1);
        assert_eq!(manifest.render(), text);
        assert_eq!(manifest.next_incr_seq(), 2);
    }

    #[test]
    fn mutated_manifests_never_panic() {
        let valid = b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let mut rng = crate::util::rng::Rng::new(7);
        for _ in 0..2000 {
            let mut text = valid.to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(text.len());
                text[at] = b"\n \"#bi0123456789x"[rng.below(17)];
            }
            if let Ok(manifest) = Manifest::parse(&text) {
                assert!(manifest.base.is_some() || !manifest.incrs.is_empty());
            }
        }
    }

    #[test]
    fn keys_in_any_order_and_comments() {
        let text = "# comment\ntype i seq 3 file a.3.incr.aof\nfile a.4.incr.aof seq 4 type i\n";
        let manifest = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(manifest.incrs.iter().map(|f| f.seq).collect::<Vec<_>>(), [3, 4]);
        assert!(manifest.base.is_none());
    }

    #[test]
    fn malformed_manifests_are_refused() {
        for bad in [
            "",
            "file a seq 1\n",
            "file a seq 1 type x\n",
            "file a seq 1 type b\nfile b seq 2 type b\n",
            "file a.2 seq 2 type i\nfile a.1 seq 1 type i\n",
            "file \"unterminated seq 1 type i\n",
        ] {
            assert!(Manifest::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(Manifest::parse(format!("file {} seq 1 type i\n", "x".repeat(1100)).as_bytes()).is_err());
    }
}
