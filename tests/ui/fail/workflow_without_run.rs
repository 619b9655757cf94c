use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Idle;

#[workflow]
impl Idle {
    #[query]
    fn status(&self) -> String {
        "idle".into()
    }
}

fn main() {}
