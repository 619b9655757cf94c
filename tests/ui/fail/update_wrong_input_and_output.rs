use workflow_client::Client;
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
}

async fn wrong_input(client: Client) -> Result<u32, workflow_client::Error> {
    let cart = client.start_workflow(Cart::run, (), WorkflowOptions::new("c", "q")).await?;
    cart.execute_update(Cart::add_item, 42).await
}

async fn wrong_output(client: Client) -> Result<String, workflow_client::Error> {
    let cart = client.start_workflow(Cart::run, (), WorkflowOptions::new("c", "q")).await?;
    cart.execute_update(Cart::add_item, "apple".to_string()).await
}

fn main() {}
