use workflow_core::prelude::*;

pub struct Opaque;

#[activity]
pub async fn take(_ctx: ActivityContext, input: Opaque) -> Result<(), ActivityError> {
    let _ = input;
    Ok(())
}

fn main() {}
