//! The hello example's worker: hosts `YourWorkflow` and `your_activity` until Ctrl-C.
//!
//! Environment: `TEMPORAL_ADDRESS` (default `localhost:7233`).

use examples::hello::{TASK_QUEUE, YourWorkflow, your_activity};
use workflow_client::Client;
use workflow_worker::Worker;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::var("TEMPORAL_ADDRESS").unwrap_or_else(|_| "localhost:7233".into());
    let client = Client::connect(address).await?;
    let worker = Worker::new(client, TASK_QUEUE)
        .register_workflow::<YourWorkflow>()
        .register_activity(your_activity);
    let shutdown = worker.shutdown_handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.shutdown();
    });
    println!("worker polling {TASK_QUEUE}; Ctrl-C stops it");
    worker.run().await?;
    Ok(())
}
