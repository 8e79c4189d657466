//! List values as a pure structure: no RESP, no I/O. (Scaffold: the list work of issue 3 fills it in.)

/// A list value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {}

impl List {
    /// The `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
}
