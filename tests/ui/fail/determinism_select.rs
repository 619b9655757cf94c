use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        tokio::select! {
            _ = ctx.sleep(Duration::from_secs(1)) => {}
            _ = ctx.sleep(Duration::from_secs(2)) => {}
        }
        Ok(())
    }
}

fn main() {}
