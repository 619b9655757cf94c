use workflow_core::prelude::*;

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
    async fn count(&self) -> u32 {
        self.count
    }
}

fn main() {}
