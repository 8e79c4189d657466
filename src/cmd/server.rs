//! Server commands. Placeholder.
use super::CommandSpec;
pub const COMMANDS: &[CommandSpec] = &[];
