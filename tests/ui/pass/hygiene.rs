//! Generated code needs nothing in scope: no prelude, and `workflow_core` under another name.
#![no_implicit_prelude]

extern crate workflow_core as wf;
extern crate std;

#[wf::activity(crate = "wf")]
pub async fn shout(
    _ctx: wf::activity::ActivityContext,
    text: std::string::String,
) -> std::result::Result<std::string::String, wf::activity::ActivityError> {
    std::result::Result::Ok(text.to_uppercase())
}

#[wf::workflow(name = "Hygienic")]
#[derive(std::default::Default)]
pub struct Hygienic {
    seen: std::vec::Vec<std::string::String>,
}

#[wf::workflow(crate = "wf")]
impl Hygienic {
    #[run]
    pub async fn run(
        ctx: wf::workflow::WorkflowContext<Self>,
        text: std::string::String,
    ) -> wf::workflow::WorkflowResult<std::string::String> {
        let options = wf::workflow::ActivityOptions::start_to_close(std::time::Duration::from_secs(1));
        std::result::Result::Ok(ctx.execute_activity(shout, text, options).await?)
    }

    #[signal]
    pub fn see(&mut self, text: std::string::String) {
        self.seen.push(text);
    }

    #[query]
    pub fn seen(&self) -> std::vec::Vec<std::string::String> {
        std::clone::Clone::clone(&self.seen)
    }

    #[update]
    pub async fn remember(
        ctx: wf::workflow::WorkflowContext<Self>,
        text: std::string::String,
        times: u32,
    ) -> wf::workflow::WorkflowResult<usize> {
        std::result::Result::Ok(ctx.state_mut(|state| {
            for _ in 0..times {
                state.seen.push(std::clone::Clone::clone(&text));
            }
            state.seen.len()
        }))
    }

    #[validator(remember)]
    pub fn check(&self, text: &str, _times: &u32) -> std::result::Result<(), std::string::String> {
        if text.is_empty() {
            return std::result::Result::Err(std::string::ToString::to_string("empty"));
        }
        std::result::Result::Ok(())
    }
}

fn main() {}
