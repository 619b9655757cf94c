use workflow_client::Client;
use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Greeter;

#[workflow]
impl Greeter {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        Ok(name)
    }
}

async fn start(client: Client) -> Result<(), workflow_client::Error> {
    let count: u64 = client
        .execute_workflow(Greeter::run, "Ada".to_string(), WorkflowOptions::new("id", "q"))
        .await?;
    let _ = count;
    Ok(())
}

fn main() {}
