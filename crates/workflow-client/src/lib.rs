#![warn(missing_docs)]
//! A typed client for Temporal-compatible servers: our embedded server, a Temporal cluster or
//! Temporal Cloud.
//!
//! Start workflows with typed definitions (a wrong argument type does not compile), wait for
//! results, signal, query, cancel, terminate, describe, list and count them, and complete
//! activities asynchronously.
//!
//! ```no_run
//! use workflow_client::Client;
//! use workflow_core::prelude::*;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Order { id: u32 }
//!
//! const PROCESS: WorkflowRef<Order, String> = WorkflowRef::new("ProcessOrder");
//!
//! # async fn run() -> Result<(), workflow_client::Error> {
//! let client = Client::connect("localhost:7233").await?;
//! let handle = client
//!     .start_workflow(PROCESS, Order { id: 7 }, WorkflowOptions::new("order-7", "orders"))
//!     .await?;
//! println!("{:?}", handle.describe().await?.status);
//! let outcome: String = handle.result().await?;
//! # Ok(()) }
//! ```

mod activity;
mod client;
mod error;
pub mod grpc;
mod handle;
mod info;
mod options;
mod tls;
mod update;

pub use activity::{AsyncActivityHandle, HeartbeatResponse};
pub use client::{Client, CountGroup, Headers, WorkflowCount, WorkflowService};
pub use error::Error;
pub use handle::{Untyped, WorkflowHandle};
pub use info::{WorkflowDescription, WorkflowExecutionInfo, WorkflowExecutionStatus};
pub use options::{ClientOptions, RpcRetryOptions, TlsOptions};
pub use temporalio_protos::temporal::api::enums::v1::QueryRejectCondition;
pub use update::{UpdateHandle, UpdateOptions, WaitStage};

/// The README's Rust snippets compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
