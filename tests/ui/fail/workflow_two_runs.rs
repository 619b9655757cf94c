use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Twice;

#[workflow]
impl Twice {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }

    #[run]
    async fn run_again(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }
}

fn main() {}
