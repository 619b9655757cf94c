use workflow_client::Client;
use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Cart {
    items: Vec<String>,
}

#[workflow]
impl Cart {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }

    #[signal]
    fn add(&mut self, item: String) {
        self.items.push(item);
    }
}

async fn signal(client: Client) -> Result<(), workflow_client::Error> {
    let cart = client.start_workflow(Cart::run, (), WorkflowOptions::new("c", "q")).await?;
    cart.signal(Cart::add, 7).await
}

fn main() {}
