#![warn(missing_docs)]
//! An embedded Temporal-compatible dev server: the same gRPC API as `temporal server
//! start-dev`, so this project's SDK and Temporal's own SDKs and CLI talk to it unchanged.
//!
//! Executions live in memory and, with a database file, in SQLite: every change is one
//! transaction, written before the request that made it is answered, so a restarted server
//! carries on where it stopped. The engine writes histories as Temporal does: workflow
//! and activity tasks (sticky queues, timeouts, retries with backoff, heartbeats),
//! timers, signals, queries, cancellation, termination, child workflows, continue-as-new,
//! run timeouts and start delays. Lists take Temporal's filter language (see
//! [`visibility`]). Time skipping, for tests, jumps the clock to the next deadline when
//! no task is waiting or running. Calls not implemented answer `UNIMPLEMENTED` naming the
//! method.
//!
//! With [`ServerOptions::ui_port`] the server also serves the Web UI (crate `workflow-ui`).
//! When the gRPC port has TLS ([`ServerOptions::tls`]) the UI is HTTPS with the same
//! certificate and, under mTLS, requires client certificates from the same CA;
//! [`UiTransport`] (`start-dev --ui-behind-tls-proxy`) serves it as plain HTTP instead. The
//! certificate, key and client CA are checked before anything listens ([`TlsError`]).
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

mod compression;
mod describe;
mod engine;
mod frontend;
mod limits;
mod matching;
mod namespaces;
mod server;
mod status;
mod store;
mod tls;
mod unimplemented;
pub mod visibility;

#[allow(clippy::all, missing_docs, unreachable_pub)]
mod generated {
    tonic::include_proto!("temporal.api.workflowservice.v1");
}

pub use engine::DEFAULT_RUN_CACHE;
#[doc(hidden)]
pub use engine::RunsInMemory;
pub use frontend::SERVER_VERSION;
pub use limits::{MAX_MESSAGE_SIZE, MAX_PAYLOAD_SIZE};
pub use namespaces::DEFAULT_NAMESPACE;
pub use server::{
    DEFAULT_PORT, RETENTION_SWEEP_INTERVAL, RunningServer, ServerClock, ServerError, ServerOptions,
    ServerTls, UiTransport,
};
pub use store::StoreError;
pub use tls::{TlsError, TlsPart, TlsProblem};
