use workflow_core::prelude::*;

pub struct Opaque;

#[workflow]
#[derive(Default)]
pub struct Maker;

#[workflow]
impl Maker {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<Opaque> {
        Ok(Opaque)
    }
}

fn main() {}
