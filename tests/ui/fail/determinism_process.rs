use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let output = std::process::Command::new("hostname").output();
        Ok(output.map_or_else(|_| String::new(), |o| String::from_utf8_lossy(&o.stdout).into()))
    }
}

fn main() {}
