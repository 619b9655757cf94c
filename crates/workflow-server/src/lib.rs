//! The embedded Temporal-compatible dev server.
//!
//! Not implemented yet: this crate is a placeholder in the workspace layout and exports
//! nothing. Until it lands, use a Temporal dev server (`temporal server start-dev`).
