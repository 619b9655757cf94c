#![warn(missing_docs)]
//! An embedded Temporal-compatible dev server: the same gRPC API as `temporal server
//! start-dev`, so this project's SDK and Temporal's own SDKs and CLI talk to it unchanged.
//!
//! So far, in memory: the gRPC front door (gzip accepted and sent), the system info,
//! namespaces (`default` plus any registered); starting, describing, reading (with long polls)
//! and terminating workflow executions; workflow and activity tasks with long polls, eager
//! activities, the commands that schedule activities and complete or fail a workflow, and
//! signals (buffered while a workflow task runs), timers (started, fired, cancelled).
//! Task timeouts, retries, queries and persistence come next; calls not implemented yet
//! answer `UNIMPLEMENTED` naming the method.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use workflow_server::{RunningServer, ServerOptions};
//!
//! let server = RunningServer::start(ServerOptions::new().namespace("orders")).await?;
//! // Point a client at `server.target()`.
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

mod engine;
mod frontend;
mod namespaces;
mod server;
mod status;
mod unimplemented;

#[allow(clippy::all, missing_docs, unreachable_pub)]
mod generated {
    tonic::include_proto!("temporal.api.workflowservice.v1");
}

pub use frontend::SERVER_VERSION;
pub use namespaces::DEFAULT_NAMESPACE;
pub use server::{DEFAULT_PORT, RunningServer, ServerError, ServerOptions};
