use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Sync;

#[workflow]
impl Sync {
    #[run]
    fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }
}

fn main() {}
