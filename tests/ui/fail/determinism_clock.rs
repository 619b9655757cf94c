use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<u64> {
        let started = std::time::SystemTime::now();
        let _ = std::time::Instant::now();
        let _ = ctx.now();
        Ok(started.elapsed().map_or(0, |d| d.as_secs()))
    }
}

fn main() {}
