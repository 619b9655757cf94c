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

    #[signal]
    fn increment(&mut self) -> u32 {
        self.count += 1;
        self.count
    }
}

fn main() {}
