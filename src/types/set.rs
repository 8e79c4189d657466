//! Set values as a pure structure: no RESP, no I/O. (Scaffold: the set work of issue 3 fills it in.)

/// A set value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Set {}

impl Set {
    /// The `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
}
