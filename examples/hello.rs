//! The hello example in one process: a worker hosting `YourWorkflow` and `your_activity`,
//! and a client running the workflow against the same server. Prints `Hello, your name!`.
//!
//! Environment: `TEMPORAL_ADDRESS` (default `localhost:7233`).

use examples::hello::{TASK_QUEUE, YourWorkflow, your_activity};
use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_worker::Worker;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::var("TEMPORAL_ADDRESS").unwrap_or_else(|_| "localhost:7233".into());
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
            "your name".to_string(),
            WorkflowOptions::new(&workflow_id, TASK_QUEUE),
        )
        .await?;
    println!("{greeting}");

    shutdown.shutdown();
    running.await??;
    Ok(())
}
