use workflow_core::prelude::*;

#[activity]
pub async fn greet(name: String) -> Result<String, ActivityError> {
    Ok(name)
}

fn main() {}
