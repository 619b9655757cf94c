use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Counter {
    reads: u32,
}

#[workflow]
impl Counter {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }

    #[query]
    fn reads(&mut self) -> u32 {
        self.reads += 1;
        self.reads
    }
}

fn main() {}
