//! Support for the end-to-end tests: where the server and the Python worker are, and Rust
//! types mirroring the Python worker's dataclasses (`tests/python/worker.py`).
//!
//! `scripts/test.sh` starts a real Temporal dev server and the Python worker, then runs the
//! tests with these variables set:
//! - `TEMPORAL_ADDRESS`: the server's `host:port`;
//! - `WORKFLOW_TEST_TASK_QUEUE`: the Python worker's task queue;
//! - `WORKFLOW_TEST_PYTHON`: the venv's Python interpreter;
//! - `WORKFLOW_TEST_PYTHON_DIR`: the folder of the Python helpers.

pub mod workflows;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use workflow_client::Client;
use workflow_core::definition::{QueryRef, SignalRef, UpdateRef, WorkflowRef};
use workflow_core::options::WorkflowOptions;
use workflow_core::payload::{Args, RawPayload};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests with scripts/test.sh, which starts a Temporal dev server and the Python worker")
    })
}

/// `host:port` of the Temporal server under test.
pub fn address() -> String {
    env("TEMPORAL_ADDRESS")
}

/// Task queue the Python worker polls.
pub fn task_queue() -> String {
    env("WORKFLOW_TEST_TASK_QUEUE")
}

/// The Python interpreter with `temporalio` installed.
pub fn python() -> PathBuf {
    PathBuf::from(env("WORKFLOW_TEST_PYTHON"))
}

/// The folder of the Python helpers.
pub fn python_dir() -> PathBuf {
    PathBuf::from(env("WORKFLOW_TEST_PYTHON_DIR"))
}

/// A client connected to the server under test.
pub async fn client() -> Client {
    Client::connect(address())
        .await
        .expect("connect to the Temporal server under test")
}

/// A workflow id no other test uses.
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// Options for a workflow on the Python worker's queue, with a fresh id.
pub fn options(prefix: &str) -> WorkflowOptions {
    WorkflowOptions::new(unique_id(prefix), task_queue())
}

/// Polls `check` until it returns `Some`, for state that no event announces (visibility is
/// eventually consistent on Temporal servers). Panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Python `GreetingInput` dataclass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GreetingInput {
    pub name: String,
    pub greeting: String,
    pub times: u32,
}

/// Python `GreetingOutput` dataclass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GreetingOutput {
    pub message: String,
    pub length: usize,
    pub words: Vec<String>,
}

/// Python `AccumulatorResult` dataclass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccumulatorResult {
    pub items: Vec<String>,
    pub count: usize,
}

/// One payload as the Python `RawEchoWorkflow` saw it (base64 fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenPayload {
    pub metadata: std::collections::BTreeMap<String, String>,
    pub data: String,
}

pub type Accumulator = WorkflowRef<(), AccumulatorResult>;

pub const GREETING: WorkflowRef<GreetingInput, GreetingOutput> =
    WorkflowRef::new("GreetingWorkflow");
pub const MULTI_ARG: WorkflowRef<Args<(String, i64, Option<String>)>, String> =
    WorkflowRef::new("MultiArgWorkflow");
pub const NO_ARG: WorkflowRef<(), ()> = WorkflowRef::new("NoArgWorkflow");
pub const ECHO: WorkflowRef<serde_json::Value, serde_json::Value> =
    WorkflowRef::new("EchoWorkflow");
pub const RAW_ECHO: WorkflowRef<RawPayload, Vec<SeenPayload>> = WorkflowRef::new("RawEchoWorkflow");
pub const ACCUMULATOR: Accumulator = WorkflowRef::new("AccumulatorWorkflow");
pub const ADD_ITEM: SignalRef<Accumulator, String> = SignalRef::new("add_item");
pub const FINISH: SignalRef<Accumulator, ()> = SignalRef::new("finish");
pub const ITEMS: QueryRef<Accumulator, (), Vec<String>> = QueryRef::new("items");
pub const COUNT_WITH_PREFIX: QueryRef<Accumulator, String, usize> =
    QueryRef::new("count_with_prefix");
pub const FAIL_QUERY: QueryRef<Accumulator, (), String> = QueryRef::new("fail_query");
pub const ADD_AND_COUNT: UpdateRef<Accumulator, String, usize> = UpdateRef::new("add_and_count");
pub const FAILING: WorkflowRef<String, String> = WorkflowRef::new("FailingWorkflow");
pub const WAIT_FOREVER: WorkflowRef<(), ()> = WorkflowRef::new("WaitForeverWorkflow");
pub const CONTINUE_AS_NEW: WorkflowRef<u32, String> = WorkflowRef::new("ContinueAsNewWorkflow");
pub const ASYNC_COMPLETION: WorkflowRef<(), String> = WorkflowRef::new("AsyncCompletionWorkflow");

/// Waits (on the server's long poll, not a timer) for the first event of the run's history
/// that satisfies `matches`.
pub async fn wait_for_event<W>(
    handle: &workflow_client::WorkflowHandle<W>,
    mut matches: impl FnMut(&temporalio_protos::temporal::api::history::v1::HistoryEvent) -> bool,
) -> temporalio_protos::temporal::api::history::v1::HistoryEvent {
    use futures::StreamExt;
    let events = handle.watch_history();
    futures::pin_mut!(events);
    while let Some(event) = events.next().await {
        let event = event.expect("watch history");
        if matches(&event) {
            return event;
        }
    }
    panic!("the run closed without the awaited event")
}

/// A worker running on its own task: what stops it, and what it returned.
pub type RunningWorker = (
    workflow_worker::ShutdownHandle,
    tokio::task::JoinHandle<Result<(), workflow_worker::WorkerError>>,
);

/// Runs `worker` on its own task.
pub fn spawn_worker(worker: workflow_worker::Worker) -> RunningWorker {
    let shutdown = worker.shutdown_handle();
    (shutdown, tokio::spawn(worker.run()))
}

/// Shuts a worker down and checks it stopped cleanly.
pub async fn stop_worker((shutdown, running): RunningWorker) {
    shutdown.shutdown();
    running
        .await
        .expect("the worker task")
        .expect("the worker stops cleanly");
}
