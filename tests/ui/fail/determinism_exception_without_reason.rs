use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        #[allow_nondeterminism]
        let _ = std::time::SystemTime::now();
        #[allow_nondeterminism("")]
        let _ = std::time::Instant::now();
        Ok(())
    }
}

fn main() {}
