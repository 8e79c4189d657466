//! Hash values as a pure structure: no RESP, no I/O. (Scaffold: the hash work of issue 3 fills it in.)

/// A hash value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hash {}

impl Hash {
    /// The `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
}
