//! The guide's hello example: `YourWorkflow` calls `your_activity` with `YourParams`.

use std::time::Duration;

use workflow_core::prelude::*;

/// The activity's input: one struct, so fields can be added without breaking callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YourParams {
    /// How to greet.
    pub greeting: String,
    /// Whom to greet.
    pub name: String,
}

/// Composes the greeting. Activities may do anything (I/O, clocks, randomness); the workflow
/// only records their results.
#[activity]
pub async fn your_activity(
    _ctx: ActivityContext,
    input: YourParams,
) -> Result<String, ActivityError> {
    Ok(format!("{}, {}!", input.greeting, input.name))
}

/// Greets `name` through the activity.
#[workflow(name = "YourWorkflow")]
#[derive(Debug, Default)]
pub struct YourWorkflow;

#[workflow]
impl YourWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let params = YourParams {
            greeting: "Hello".into(),
            name,
        };
        let options = ActivityOptions::start_to_close(Duration::from_secs(10));
        Ok(ctx.execute_activity(your_activity, params, options).await?)
    }
}

/// The task queue of the example.
pub const TASK_QUEUE: &str = "your-task-queue";
