use workflow_core::prelude::*;

#[activity]
pub fn greet(_ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
    Ok(name)
}

fn main() {}
