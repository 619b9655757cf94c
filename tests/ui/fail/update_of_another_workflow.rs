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

#[workflow]
#[derive(Default)]
pub struct Order;

#[workflow]
impl Order {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }
}

async fn update(client: Client) -> Result<u32, workflow_client::Error> {
    let order = client.start_workflow(Order::run, (), WorkflowOptions::new("o", "q")).await?;
    order.execute_update(Cart::add_item, "apple".to_string()).await
}

fn main() {}
