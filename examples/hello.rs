//! The hello example in one process: a worker hosting `YourWorkflow` and `your_activity`,
//! and a client running the workflow. Prints `Hello, your name!` (or the name given as the
//! first argument).
//!
//! With no setup at all it starts our embedded server in-process, on a free port and in
//! memory. With `TEMPORAL_ADDRESS` set it uses that server instead (a Temporal dev server,
//! a cluster, or `workflow-server start-dev`).

use examples::hello::{TASK_QUEUE, YourWorkflow, your_activity};
use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_worker::Worker;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "your name".into());
    let (address, embedded) = examples::server().await?;
    let client = Client::connect(address).await?;

    let worker = Worker::new(client.clone(), TASK_QUEUE)
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity);
    let shutdown = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());

    let workflow_id = format!("your-workflow-{}", std::process::id());
    let greeting = client
        .execute_workflow(
            YourWorkflow::run,
            name,
            WorkflowOptions::new(&workflow_id, TASK_QUEUE),
        )
        .await?;
    println!("{greeting}");

    shutdown.shutdown();
    running.await??;
    if let Some(server) = embedded {
        server.shutdown().await?;
    }
    Ok(())
}
