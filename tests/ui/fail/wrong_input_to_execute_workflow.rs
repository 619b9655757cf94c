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

async fn start(client: Client) {
    let _ = client.execute_workflow(Greeter::run, 42, WorkflowOptions::new("id", "q")).await;
}

fn main() {}
