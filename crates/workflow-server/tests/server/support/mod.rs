//! What the tests that run workflows share: an in-process server with one worker polling
//! a task queue, and our client to it.

use workflow_client::Client;
use workflow_server::{RunningServer, ServerOptions};
use workflow_worker::{ShutdownHandle, Worker, WorkerError};

pub struct ServerWithWorker {
    pub server: RunningServer,
    pub client: Client,
    stop: ShutdownHandle,
    running: tokio::task::JoinHandle<Result<(), WorkerError>>,
}

impl ServerWithWorker {
    /// Starts the server, then a worker on `task_queue` with what `register` adds to it.
    pub async fn start(
        options: ServerOptions,
        task_queue: &str,
        register: impl FnOnce(Worker) -> Worker,
    ) -> Self {
        let server = RunningServer::start(options).await.unwrap();
        let client = Client::connect(server.target()).await.unwrap();
        let worker = register(Worker::new(client.clone(), task_queue));
        let stop = worker.shutdown_handle();
        let running = tokio::spawn(worker.run());
        Self {
            server,
            client,
            stop,
            running,
        }
    }

    /// Stops the worker (it must end cleanly), then the server.
    pub async fn stop(self) {
        self.stop.shutdown();
        self.running.await.unwrap().unwrap();
        self.server.shutdown().await.unwrap();
    }
}
