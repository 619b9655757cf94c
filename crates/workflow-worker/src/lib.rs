#![warn(missing_docs)]
//! The worker: polls a task queue and runs the workflows and activities registered on it.
//!
//! Workflow tasks run on a few executor threads, each owning the runs cached on it: a run's
//! code executes single-threaded and deterministically, driven by its event history. Runs stay
//! cached between tasks (sticky execution), so a task carries only new events; a bounded cache
//! evicts the least recently used run, which is rebuilt by replaying its history when its next
//! task arrives. A command that does not match the recorded history fails the workflow task
//! with a non-determinism error naming both sides; the workflow stays open for a fixed worker.
//!
//! Activities run concurrently up to a limit; heartbeats are throttled and sent in the
//! background, and a heartbeat answer that reports cancellation cancels the activity's
//! context. Shutdown stops polling, lets running tasks finish for a grace period, then
//! cancels what is left.
//!
//! [`Replayer`] replays saved histories against workflow code, to catch a breaking change
//! before it reaches running workflows.
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
//! // Workflows register by type: `.register_workflow::<MyWorkflow>()`.
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
mod poll;
mod probe;
mod registry;
mod worker;
mod workflow;

pub use error::WorkerError;
pub use options::WorkerOptions;
#[doc(hidden)]
pub use probe::WorkerProbe;
pub use worker::{ShutdownHandle, Worker};
#[cfg(feature = "history-json")]
pub use workflow::replay::history_from_json;
pub use workflow::replay::{
    DownloadError, PROTOBUF_EXTENSION, ReplayError, ReplayReport, Replayer, download_histories,
    read_history,
};
