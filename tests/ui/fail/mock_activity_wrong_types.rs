use workflow_core::prelude::*;
use workflow_testing::mock_activity;

#[activity]
async fn charge_card(_ctx: ActivityContext, cents: u64) -> Result<String, ActivityError> {
    Ok(format!("{cents}"))
}

fn main() {
    // The mock must take the activity's input and return its output.
    let _ = mock_activity(charge_card, |_ctx, cents: String| async move { Ok(cents) });
    let _ = mock_activity(charge_card, |_ctx, cents: u64| async move { Ok(cents) });
}
