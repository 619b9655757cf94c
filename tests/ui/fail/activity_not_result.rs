use workflow_core::prelude::*;

#[activity]
pub async fn greet(_ctx: ActivityContext, name: String) -> String {
    name
}

fn main() {}
