//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH. (Scaffold: the transactions work of issue 3 fills it in.)

use super::CommandSpec;

pub const COMMANDS: &[CommandSpec] = &[];
