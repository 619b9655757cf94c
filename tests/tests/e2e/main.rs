//! The end-to-end tests, in one binary so the whole stack links once: one module per area.
//! The compile-time checks of the macros (`ui.rs`) stay a binary of their own, since they
//! touch no server and `scripts/test.sh` runs this one a second time on our server.

mod client_lifecycle;
mod client_signals_queries;
mod client_start_and_result;
mod client_tls;
mod payload_compat;
mod python_updates;
mod registry;
mod worker_activities;
mod workflow_activities;
mod workflow_basics;
mod workflow_cache;
mod workflow_cancellation;
mod workflow_features;
mod workflow_updates;
