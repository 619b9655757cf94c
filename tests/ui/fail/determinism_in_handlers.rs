use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }

    #[signal]
    fn touch(&mut self) {
        let _ = std::time::SystemTime::now();
    }

    #[query]
    fn region(&self) -> String {
        std::env::var("REGION").unwrap_or_default()
    }
}

fn main() {}
