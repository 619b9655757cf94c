//! A completed workflow task's commands: checked all together first (`validate`), so a bad
//! one changes nothing, then carried out (`apply`).

mod apply;
mod validate;

pub(crate) use apply::apply;
pub(crate) use validate::{BadCommand, Refusal, closes_run, validate};
