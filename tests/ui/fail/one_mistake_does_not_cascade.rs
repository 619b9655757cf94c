use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_worker::Worker;

#[workflow]
#[derive(Default)]
pub struct Counter {
    count: u32,
}

#[workflow]
impl Counter {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }

    #[query]
    fn count(&mut self) -> u32 {
        self.count
    }
}

// Only the query's mistake is reported: registering the workflow still type-checks.
fn worker(client: Client) -> Worker {
    Worker::new(client, "q").register_workflow::<Counter>()
}

fn main() {}
