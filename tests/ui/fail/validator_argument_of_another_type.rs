use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Cart;

#[workflow]
impl Cart {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }

    #[update]
    async fn add_item(_ctx: WorkflowContext<Self>, _item: String) -> WorkflowResult<u32> {
        Ok(1)
    }

    #[validator(add_item)]
    fn check_item(&self, _quantity: &u32) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
