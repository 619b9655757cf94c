use std::collections::{BTreeMap, HashMap};

use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example {
    totals: BTreeMap<String, u64>,
}

#[workflow]
impl Example {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, prices: HashMap<String, u64>) -> WorkflowResult<u64> {
        // The deterministic alternatives.
        let _ = ctx.now();
        let _ = ctx.random_u64();
        let _ = ctx.uuid4();
        ctx.sleep(Duration::from_secs(1)).await?;
        // A side effect is recorded once and read back on replay.
        let _id = ctx.side_effect(|| uuid::Uuid::new_v4().to_string())?;
        // Uses of a hash map that do not depend on its order.
        let total: u64 = prices.values().sum();
        let mut items: Vec<_> = prices.keys().collect();
        items.sort();
        for item in items {
            ctx.logger().info(item);
        }
        // A reviewed exception, on a statement.
        #[allow_nondeterminism("only measures how long the worker took; never decides a step")]
        let took = std::time::Instant::now();
        let _ = took;
        Ok(total)
    }

    #[signal]
    fn add(&mut self, item: String, cents: u64) {
        *self.totals.entry(item).or_default() += cents;
    }

    #[query]
    fn total(&self) -> u64 {
        self.totals.values().sum()
    }

    /// A reviewed exception, on a whole method.
    #[query]
    #[allow_nondeterminism("a query changes nothing and is not replayed")]
    fn asked_at(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

fn main() {}
