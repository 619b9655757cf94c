use workflow_core::prelude::*;

#[activity]
pub async fn greet(name: String, _ctx: ActivityContext) -> Result<String, ActivityError> {
    Ok(name)
}

fn main() {}
