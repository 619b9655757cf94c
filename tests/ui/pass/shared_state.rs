//! Activities as methods of a struct holding shared state.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_worker::Worker;

pub struct Counter {
    total: AtomicU64,
}

#[activities]
impl Counter {
    #[activity]
    pub async fn add(&self, _ctx: ActivityContext, amount: u64) -> Result<u64, ActivityError> {
        Ok(self.total.fetch_add(amount, Ordering::SeqCst) + amount)
    }

    #[activity(name = "read_total")]
    pub async fn total(&self, _ctx: ActivityContext) -> Result<u64, ActivityError> {
        Ok(self.total.load(Ordering::SeqCst))
    }

    /// Not an activity: an ordinary method stays as it is.
    pub fn reset(&self) {
        self.total.store(0, Ordering::SeqCst);
    }
}

#[workflow]
#[derive(Default)]
pub struct Tally;

#[workflow]
impl Tally {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, amount: u64) -> WorkflowResult<u64> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(5));
        ctx.execute_activity(Counter::add, amount, options.clone()).await?;
        Ok(ctx.execute_activity(Counter::total, (), options).await?)
    }
}

#[allow(dead_code)]
fn worker(client: Client) -> Worker {
    Worker::new(client, "q")
        .register_workflow::<Tally>()
        .register_activities(Counter { total: AtomicU64::new(0) })
}

fn main() {
    assert_eq!(Counter::total.name(), "read_total");
    assert_eq!(Counter::add.name(), "add");
    Counter { total: AtomicU64::new(0) }.reset();
}
