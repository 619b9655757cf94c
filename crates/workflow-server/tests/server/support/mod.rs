//! What the tests that run workflows share: an in-process server with one worker polling
//! a task queue, and our client to it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

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

/// Starts the server binary on `port` over the SQLite file `db`, once it listens.
pub fn spawn_server(port: u16, db: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflow-server"))
        .args([
            "start-dev",
            "--port",
            &port.to_string(),
            "--log-level",
            "warn",
            "--headless",
        ])
        .arg("--db-filename")
        .arg(db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the binary");
    // The first line says it listens.
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{line}");
    child
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
