use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let _ = tokio::spawn(async {}).await;
        let _ = std::thread::spawn(|| {}).join();
        Ok(())
    }
}

fn main() {}
