use workflow_core::prelude::*;

// Stands in for the `rand` crate: the check goes by the names called.
mod rand {
    pub fn thread_rng() {}
    pub fn random() -> u64 {
        4
    }
}

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<u64> {
        let _rng = rand::thread_rng();
        Ok(rand::random())
    }
}

fn main() {}
