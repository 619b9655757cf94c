use workflow_core::prelude::*;

#[activity]
pub async fn greet(_ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
    Ok(name)
}

#[workflow]
#[derive(Default)]
pub struct Greeter;

#[workflow]
impl Greeter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        let options = ActivityOptions::start_to_close(Duration::from_secs(5));
        Ok(ctx.execute_activity(greet, 42u32, options).await?)
    }
}

fn main() {}
