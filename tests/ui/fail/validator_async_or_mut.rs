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
    async fn check_item(&self, _item: &str) -> Result<(), String> {
        Ok(())
    }

    #[update]
    async fn set_note(_ctx: WorkflowContext<Self>, _note: String) -> WorkflowResult<()> {
        Ok(())
    }

    #[validator(set_note)]
    fn check_note(&mut self, _note: &str) -> Result<(), String> {
        Ok(())
    }

    #[validator(remove_item)]
    fn check_removal(&self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
