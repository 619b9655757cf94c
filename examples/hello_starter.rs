//! The hello example's starter: runs `YourWorkflow` and prints its result. Needs a worker
//! (`hello_worker`) polling the same server.
//!
//! Environment: `TEMPORAL_ADDRESS` (default `localhost:7233`).

use examples::hello::{TASK_QUEUE, YourWorkflow};
use workflow_client::Client;
use workflow_core::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::var("TEMPORAL_ADDRESS").unwrap_or_else(|_| "localhost:7233".into());
    let client = Client::connect(address).await?;
    let workflow_id = format!("your-workflow-{}", std::process::id());
    let greeting = client
        .execute_workflow(
            YourWorkflow::run,
            "your name".to_string(),
            WorkflowOptions::new(&workflow_id, TASK_QUEUE),
        )
        .await?;
    println!("{greeting}");
    Ok(())
}
