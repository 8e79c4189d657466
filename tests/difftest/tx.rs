//! Transactions (MULTI/EXEC/WATCH): their difftest templates.

use super::Template;

pub const TEMPLATES: &[Template] = &[];
