use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Selfish;

#[workflow]
impl Selfish {
    #[run]
    async fn run(&self, _ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }
}

fn main() {}
