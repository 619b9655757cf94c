//! The guide's hello example with every stub typed.
use std::time::Duration;

use workflow_client::Client;
use workflow_core::prelude::*;
use workflow_worker::Worker;

#[derive(Serialize, Deserialize)]
pub struct YourParams {
    pub greeting: String,
    pub name: String,
}

#[activity(name = "your_activity")]
pub async fn your_activity(_ctx: ActivityContext, input: YourParams) -> Result<String, ActivityError> {
    Ok(format!("{}, {}!", input.greeting, input.name))
}

/// Several inputs become several payloads.
#[activity]
pub async fn add(_ctx: ActivityContext, a: i64, b: i64) -> Result<i64, ActivityError> {
    Ok(a + b)
}

#[activity]
pub async fn nothing(_ctx: ActivityContext) -> Result<(), ActivityError> {
    Ok(())
}

#[workflow(name = "YourWorkflow")]
#[derive(Default)]
pub struct YourWorkflow {
    items: Vec<String>,
}

#[workflow]
impl YourWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        let sum = ctx.execute_activity(add, Args((1, 2)), options.clone()).await?;
        ctx.execute_activity(nothing, (), options.clone()).await?;
        let params = YourParams { greeting: format!("Hello {sum}"), name };
        Ok(ctx.execute_activity(your_activity, params, options).await?)
    }

    #[signal]
    pub fn add_item(&mut self, item: String) {
        self.items.push(item);
    }

    #[signal(name = "clear")]
    pub fn clear_items(&mut self) {
        self.items.clear();
    }

    #[query]
    pub fn count(&self) -> usize {
        self.items.len()
    }

    #[query]
    pub fn item(&self, index: usize) -> Option<String> {
        self.items.get(index).cloned()
    }
}

#[workflow]
pub struct WithInit {
    greeting: String,
}

#[workflow]
impl WithInit {
    #[init]
    fn new(name: &Option<String>) -> Self {
        Self { greeting: format!("Hi {}", name.as_deref().unwrap_or("there")) }
    }

    #[run]
    async fn run(ctx: WorkflowContext<Self>, _name: Option<String>) -> WorkflowResult<String> {
        Ok(ctx.state(|s| s.greeting.clone()))
    }
}

#[allow(dead_code)]
async fn client_side(client: Client) -> Result<(), workflow_client::Error> {
    let out: String = client
        .execute_workflow(YourWorkflow::run, "you".to_string(), WorkflowOptions::new("id", "queue"))
        .await?;
    let handle = client
        .start_workflow(YourWorkflow::run, out, WorkflowOptions::new("id2", "queue"))
        .await?;
    handle.signal(YourWorkflow::add_item, "x".to_string()).await?;
    handle.signal(YourWorkflow::clear_items, ()).await?;
    let _count: usize = handle.query(YourWorkflow::count, ()).await?;
    let _item: Option<String> = handle.query(YourWorkflow::item, 0).await?;
    let _greeting: String = client
        .execute_workflow(WithInit::run, None, WorkflowOptions::new("id3", "queue"))
        .await?;
    Worker::new(client, "queue")
        .register_workflow::<YourWorkflow>()
        .register_workflow::<WithInit>()
        .register_activity(your_activity)
        .register_activity(add)
        .register_activity(nothing);
    Ok(())
}

fn main() {
    assert_eq!(<YourWorkflow as Workflow>::NAME, "YourWorkflow");
    assert_eq!(<YourWorkflow as Workflow>::SIGNALS, &["add_item", "clear"]);
    assert_eq!(your_activity.name(), "your_activity");
    assert_eq!(add.name(), "add");
}
