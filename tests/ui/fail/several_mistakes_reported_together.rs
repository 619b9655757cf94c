use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Messy {
    count: u32,
}

#[workflow]
impl Messy {
    #[run]
    fn run(&self) -> u32 {
        0
    }

    #[signal]
    async fn bump(&self) -> u32 {
        self.count
    }

    #[query]
    fn count(&mut self) {}
}

fn main() {}
