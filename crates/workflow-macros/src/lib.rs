//! `#[workflow]` and `#[activity]` attribute macros.
//!
//! Not implemented yet: this crate is a placeholder in the workspace layout and exports
//! nothing. Until it lands, definitions are written by hand with the traits of
//! `workflow_core::definition` (or named with `WorkflowRef` and friends).
