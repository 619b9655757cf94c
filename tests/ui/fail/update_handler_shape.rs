use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Cart {
    total: u32,
}

#[workflow]
impl Cart {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }

    #[update]
    fn add_item(&mut self, item: String) -> u32 {
        self.total += item.len() as u32;
        self.total
    }
}

fn main() {}
