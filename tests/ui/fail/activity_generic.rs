use workflow_core::prelude::*;

#[activity]
pub async fn echo<T: Send>(_ctx: ActivityContext, value: T) -> Result<T, ActivityError> {
    Ok(value)
}

fn main() {}
