use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        std::thread::sleep(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {}).await;
        Ok(())
    }
}

fn main() {}
