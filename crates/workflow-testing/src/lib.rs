#![warn(missing_docs)]
//! Testing workflows and activities, added as a dev-dependency.
//!
//! - [`TestEnv`]: our server in-process, in memory, with time skipping: while the test awaits
//!   a workflow's result and no task is waiting or running, its clock jumps to the next
//!   timer, timeout or retry, so a workflow that sleeps for a day finishes in milliseconds.
//!   It hands out a client and workers, and [`TestEnv::sleep`] and [`TestEnv::now`] move and
//!   read its clock.
//! - [`mock_activity`]: a closure registered under an activity's typed stub, so a workflow
//!   test replaces `charge_card` without touching the workflow.
//! - [`ActivityEnv`]: runs one activity with a test context: heartbeats recorded,
//!   cancellation on demand, no server.
//! - [`Faults`]: a worker that replays every workflow task from history, times out and fails
//!   activities' first attempts, to prove a workflow reaches the same result anyway.
//!
//! ```
//! use workflow_core::prelude::*;
//! use workflow_testing::{TestEnv, mock_activity};
//!
//! #[activity]
//! async fn charge_card(_ctx: ActivityContext, cents: u64) -> Result<String, ActivityError> {
//!     unimplemented!("talks to the bank")
//! }
//!
//! #[workflow]
//! #[derive(Default)]
//! struct Checkout;
//!
//! #[workflow]
//! impl Checkout {
//!     #[run]
//!     async fn run(ctx: WorkflowContext<Self>, cents: u64) -> WorkflowResult<String> {
//!         // A day to change one's mind, on a durable timer.
//!         ctx.sleep(Duration::from_secs(24 * 3600)).await?;
//!         let options = ActivityOptions::start_to_close(Duration::from_secs(30));
//!         Ok(ctx.execute_activity(charge_card, cents, options).await?)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let env = TestEnv::start().await?;
//! let worker = env
//!     .worker("checkout")
//!     .register_workflow::<Checkout>()
//!     .register_activity(mock_activity(charge_card, |_ctx, cents| async move {
//!         Ok(format!("charged {cents}"))
//!     }));
//! let running = env.run_worker(worker);
//! let started = env.now();
//! let receipt = env
//!     .client()
//!     .execute_workflow(Checkout::run, 500, WorkflowOptions::new("order-1", "checkout"))
//!     .await?;
//! assert_eq!(receipt, "charged 500");
//! assert!(env.now().duration_since(started)? >= Duration::from_secs(24 * 3600));
//! running.stop().await?;
//! env.shutdown().await?;
//! # Ok(()) }
//! ```

mod activity_env;
mod env;
mod faults;
mod mock;

pub use activity_env::ActivityEnv;
pub use env::{RunningWorker, TestEnv, TestEnvError};
pub use faults::{Faults, FaultyWorker};
pub use mock::{MockActivity, mock_activity};
