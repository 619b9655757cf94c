//! The in-process server with time skipping, and the workers of a test.

use std::time::{Duration, SystemTime};

use workflow_client::Client;
use workflow_server::{RunningServer, ServerError, ServerOptions};
use workflow_worker::{ShutdownHandle, Worker, WorkerError};

use crate::faults::{Faults, FaultyWorker};

/// Why a test environment could not start, move its clock or stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestEnvError {
    /// The in-process server failed.
    #[error("the test server: {0}")]
    Server(#[from] ServerError),
    /// The client could not connect to it.
    #[error("connecting to the test server: {0}")]
    Client(#[from] workflow_client::Error),
    /// A worker stopped with an error.
    #[error("a worker of the test: {0}")]
    Worker(#[from] WorkerError),
    /// A worker's task panicked.
    #[error("a worker of the test panicked: {0}")]
    WorkerPanicked(String),
}

/// Our server in-process (in memory, on a free port, namespace `default`) with time
/// skipping, and a client connected to it.
///
/// Time skipping, as in Temporal's test server: while the test awaits a workflow's result
/// (`handle.result()`, `execute_workflow`) and no workflow or activity task is waiting or
/// running, the server's clock jumps to the next deadline (a timer, a timeout, a retry's
/// backoff), so the wait costs no real time however long the workflow sleeps. Otherwise the
/// clock runs in real time, and [`TestEnv::sleep`] moves it forward explicitly, for tests
/// that act in between (a signal after an hour).
#[derive(Debug)]
pub struct TestEnv {
    server: RunningServer,
    client: Client,
}

impl TestEnv {
    /// Starts the server and connects a client.
    pub async fn start() -> Result<Self, TestEnvError> {
        Self::start_with(ServerOptions::new()).await
    }

    /// Starts the server with these options (for example a namespace or a database file);
    /// the port is a free one and time skipping is on.
    pub async fn start_with(options: ServerOptions) -> Result<Self, TestEnvError> {
        let server = RunningServer::start(
            options
                .port(0)
                .time_skipping(true)
                .time_skipping_while_awaited(true),
        )
        .await?;
        let client = Client::connect(server.target()).await?;
        Ok(Self { server, client })
    }

    /// The client of the test.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The server, for what the environment does not wrap (its address, the Web UI).
    pub fn server(&self) -> &RunningServer {
        &self.server
    }

    /// A worker on `task_queue`, to register workflows and activities (or mocks) with.
    pub fn worker(&self, task_queue: impl Into<String>) -> Worker {
        Worker::new(self.client.clone(), task_queue)
    }

    /// A worker on `task_queue` that injects `faults` into what is registered with it.
    pub fn faulty_worker(&self, task_queue: impl Into<String>, faults: Faults) -> FaultyWorker {
        FaultyWorker::new(self.worker(task_queue), faults, self.server.clock())
    }

    /// Runs a worker in the background until [`RunningWorker::stop`].
    pub fn run_worker(&self, worker: Worker) -> RunningWorker {
        let shutdown = worker.shutdown_handle();
        RunningWorker {
            shutdown,
            task: tokio::spawn(worker.run()),
        }
    }

    /// The server's time, which histories and timers follow.
    pub fn now(&self) -> SystemTime {
        self.server.now()
    }

    /// Moves the server's clock forward by `duration`: the timers, timeouts and retries due
    /// by then come due at once. Returns the new time.
    pub async fn sleep(&self, duration: Duration) -> Result<SystemTime, TestEnvError> {
        Ok(self.server.skip_time(duration).await?)
    }

    /// Stops the server.
    pub async fn shutdown(self) -> Result<(), TestEnvError> {
        Ok(self.server.shutdown().await?)
    }
}

/// A worker running in the background of a test.
#[derive(Debug)]
pub struct RunningWorker {
    shutdown: ShutdownHandle,
    task: tokio::task::JoinHandle<Result<(), WorkerError>>,
}

impl RunningWorker {
    /// Shuts the worker down and waits for it; its error, if it stopped with one.
    pub async fn stop(self) -> Result<(), TestEnvError> {
        self.shutdown.shutdown();
        match self.task.await {
            Ok(result) => Ok(result?),
            Err(e) => Err(TestEnvError::WorkerPanicked(e.to_string())),
        }
    }
}
