//! List commands. (Scaffold: the list work of issue 3 fills it in.)

use super::CommandSpec;

pub const COMMANDS: &[CommandSpec] = &[];
