//! List commands: their difftest templates.

use super::Template;

pub const TEMPLATES: &[Template] = &[];
