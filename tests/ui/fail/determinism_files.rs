use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let _ = std::fs::read_to_string("config.toml");
        let _ = std::fs::File::open("config.toml");
        Ok(())
    }
}

fn main() {}
