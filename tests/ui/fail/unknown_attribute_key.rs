use workflow_core::prelude::*;

#[activity(nmae = "greet", timeout = 5)]
pub async fn greet(_ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
    Ok(name)
}

fn main() {}
