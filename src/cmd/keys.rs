//! Keyspace commands (Redis's db.c and expire.c). Placeholder.
use super::CommandSpec;
pub const COMMANDS: &[CommandSpec] = &[];
