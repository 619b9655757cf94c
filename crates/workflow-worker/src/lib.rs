#![warn(missing_docs)]
//! The worker: polls a task queue and runs the activities registered on it.
//!
//! Activities run concurrently up to a limit; heartbeats are throttled and sent in the
//! background, and a heartbeat answer that reports cancellation cancels the activity's
//! context. Shutdown stops polling, lets running activities finish for a grace period, then
//! cancels what is left.
//!
//! Running workflows on this worker is not implemented yet; workflow tasks are left to other
//! workers on the queue.
//!
//! ```no_run
//! use workflow_client::Client;
//! use workflow_core::prelude::*;
//! use workflow_worker::Worker;
//!
//! struct Greet;
//! impl ActivityDefinition for Greet {
//!     type Input = String;
//!     type Output = String;
//!     fn name(&self) -> &str { "greet" }
//! }
//! impl Activity for Greet {
//!     async fn execute(&self, _ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
//!         Ok(format!("Hello, {name}!"))
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::connect("localhost:7233").await?;
//! let worker = Worker::new(client, "greetings").register_activity(Greet);
//! let shutdown = worker.shutdown_handle();
//! let running = tokio::spawn(worker.run());
//! // ... later
//! shutdown.shutdown();
//! running.await??;
//! # Ok(()) }
//! ```

mod activity_task;
mod error;
mod options;
mod registry;
mod worker;
mod workflow;

pub use error::WorkerError;
pub use options::WorkerOptions;
pub use worker::{ShutdownHandle, Worker};
#[cfg(feature = "history-json")]
pub use workflow::replay::history_from_json;
pub use workflow::replay::{ReplayError, Replayer};
