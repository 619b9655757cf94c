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

    #[signal]
    fn add(&mut self, _item: String) {}
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

async fn signal(client: Client) -> Result<(), workflow_client::Error> {
    let order = client.start_workflow(Order::run, (), WorkflowOptions::new("o", "q")).await?;
    order.signal(Cart::add, "apple".to_string()).await
}

fn main() {}
