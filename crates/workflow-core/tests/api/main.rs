//! `workflow-core`'s public API, tested from outside the crate; one binary, one module per
//! area.

mod activity;
mod failure;
mod payload;
mod workflow_runtime;
