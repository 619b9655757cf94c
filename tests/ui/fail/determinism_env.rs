use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        Ok(std::env::var("REGION").unwrap_or_default())
    }
}

fn main() {}
