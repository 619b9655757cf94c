//! The hello example: a Rust client runs a workflow and prints its result.
//!
//! Until this project's own worker lands, the workflow is hosted by a worker written with the
//! Temporal Python SDK (`tests/python/worker.py`); `scripts/run-example.sh` starts a Temporal
//! dev server and that worker, then runs this program. The data crosses languages: a Rust
//! struct goes in, a Python dataclass comes back as a Rust struct.
//!
//! Environment: `TEMPORAL_ADDRESS` (default `localhost:7233`), `TASK_QUEUE` (default
//! `python-worker`).

use workflow_client::Client;
use workflow_core::prelude::*;

/// Input of the Python `GreetingWorkflow` (a dataclass with the same fields).
#[derive(Debug, Serialize, Deserialize)]
struct GreetingInput {
    name: String,
    greeting: String,
    times: u32,
}

/// What the workflow returns.
#[derive(Debug, Serialize, Deserialize)]
struct GreetingOutput {
    message: String,
    length: usize,
    words: Vec<String>,
}

/// The workflow, named by its type: the compiler checks what goes in and comes out.
const GREETING: WorkflowRef<GreetingInput, GreetingOutput> = WorkflowRef::new("GreetingWorkflow");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::var("TEMPORAL_ADDRESS").unwrap_or_else(|_| "localhost:7233".into());
    let task_queue = std::env::var("TASK_QUEUE").unwrap_or_else(|_| "python-worker".into());

    let client = Client::connect(address).await?;
    let workflow_id = format!("hello-{}", std::process::id());
    let output = client
        .execute_workflow(
            GREETING,
            GreetingInput {
                name: "your name".into(),
                greeting: "Hello".into(),
                times: 1,
            },
            WorkflowOptions::new(&workflow_id, task_queue),
        )
        .await?;
    println!("workflow {workflow_id} returned: {}", output.message);
    println!("({} characters, words: {:?})", output.length, output.words);
    Ok(())
}
