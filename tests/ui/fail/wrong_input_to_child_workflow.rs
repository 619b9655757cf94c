use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Child;

#[workflow]
impl Child {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, n: u64) -> WorkflowResult<u64> {
        Ok(n)
    }
}

#[workflow]
#[derive(Default)]
pub struct Parent;

#[workflow]
impl Parent {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<u64> {
        Ok(ctx
            .execute_child_workflow(Child::run, "seven", ChildWorkflowOptions::new())
            .await?)
    }
}

fn main() {}
