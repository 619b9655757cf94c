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

    #[query]
    fn item(&self, index: usize) -> Option<String> {
        self.items.get(index).cloned()
    }
}

async fn ask(client: Client) -> Result<(), workflow_client::Error> {
    let cart = client.start_workflow(Cart::run, (), WorkflowOptions::new("c", "q")).await?;
    let _ = cart.query(Cart::item, "first".to_string()).await?;
    Ok(())
}

fn main() {}
