//! The worker: polls task queues and runs workflows and activities.
//!
//! Not implemented yet: this crate is a placeholder in the workspace layout and exports
//! nothing. Until it lands, workflows can be hosted by any Temporal SDK worker (the tests use
//! the Python SDK) and driven with `workflow-client`.
