use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, prices: std::collections::HashMap<String, u64>) -> WorkflowResult<()> {
        for (item, _) in &prices {
            ctx.logger().info(item);
        }
        let _first = prices.keys().next();
        // Order does not matter here, so nothing is reported.
        let _total: u64 = prices.values().sum();
        Ok(())
    }
}

fn main() {}
