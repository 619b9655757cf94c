use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        Ok(uuid::Uuid::new_v4().to_string())
    }
}

fn main() {}
