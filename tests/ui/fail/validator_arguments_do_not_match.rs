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

    #[update]
    async fn set_note(_ctx: WorkflowContext<Self>, _note: String) -> WorkflowResult<()> {
        Ok(())
    }

    #[validator(set_note)]
    fn check_note(&self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
