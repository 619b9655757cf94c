//! Faults injected into a test's worker, to prove a workflow durable: it must reach the same
//! result when every step is replayed from history, when activities fail their first
//! attempts, and when their first attempts time out.

use std::time::Duration;

use workflow_core::activity::{Activity, ActivityContext, ActivityError};
use workflow_core::definition::ActivityDefinition;
use workflow_core::workflow::Workflow;
use workflow_server::ServerClock;
use workflow_worker::{Worker, WorkerOptions};

/// Which faults a [`FaultyWorker`] injects. None by default; [`Faults::all`] turns each on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Keep no run between workflow tasks, as if the worker were killed after each one:
    /// every task rebuilds the run by replaying its whole history.
    pub replay_every_task: bool,
    /// Each activity's first attempt times out on the server (its start-to-close timeout
    /// passes at once); the retry runs the code.
    pub time_out_first_attempt: bool,
    /// Attempts of each activity (after the one that times out) that fail with a retryable
    /// `InjectedFault` error before the code runs.
    pub failed_attempts: u32,
}

impl Faults {
    /// Every fault: replay at each task, a timed-out first attempt, one failed attempt.
    pub fn all() -> Self {
        Self {
            replay_every_task: true,
            time_out_first_attempt: true,
            failed_attempts: 1,
        }
    }

    /// Replays every workflow task from history.
    pub fn replay_every_task(mut self) -> Self {
        self.replay_every_task = true;
        self
    }

    /// Times out each activity's first attempt.
    pub fn time_out_first_attempt(mut self) -> Self {
        self.time_out_first_attempt = true;
        self
    }

    /// Fails `attempts` attempts of each activity before its code runs.
    pub fn failed_attempts(mut self, attempts: u32) -> Self {
        self.failed_attempts = attempts;
        self
    }
}

/// A worker whose activities and cache carry the injected [`Faults`]; made by
/// [`TestEnv::faulty_worker`](crate::TestEnv::faulty_worker). Activities need a retry
/// policy that allows the extra attempts (the default one retries without limit).
pub struct FaultyWorker {
    worker: Worker,
    faults: Faults,
    clock: ServerClock,
}

impl std::fmt::Debug for FaultyWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyWorker")
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl FaultyWorker {
    pub(crate) fn new(worker: Worker, faults: Faults, clock: ServerClock) -> Self {
        let worker = if faults.replay_every_task {
            worker.options(WorkerOptions::default().max_cached_workflows(0))
        } else {
            worker
        };
        Self {
            worker,
            faults,
            clock,
        }
    }

    /// Registers a workflow type.
    pub fn register_workflow<W: Workflow>(mut self) -> Self {
        self.worker = self.worker.register_workflow::<W>();
        self
    }

    /// Registers an activity (or a [`mock_activity`](crate::mock_activity)), with the faults
    /// in front of its code.
    pub fn register_activity<A: Activity>(mut self, activity: A) -> Self
    where
        A::Input: Send,
    {
        self.worker = self.worker.register_activity(FaultyActivity {
            inner: activity,
            faults: self.faults,
            clock: self.clock.clone(),
        });
        self
    }

    /// The worker, to run with [`TestEnv::run_worker`](crate::TestEnv::run_worker).
    pub fn build(self) -> Worker {
        self.worker
    }
}

/// An activity behind injected faults.
struct FaultyActivity<A> {
    inner: A,
    faults: Faults,
    clock: ServerClock,
}

impl<A: ActivityDefinition> ActivityDefinition for FaultyActivity<A> {
    type Input = A::Input;
    type Output = A::Output;
    fn name(&self) -> &str {
        self.inner.name()
    }
}

impl<A: Activity> Activity for FaultyActivity<A>
where
    A::Input: Send,
{
    async fn execute(
        &self,
        ctx: ActivityContext,
        input: Self::Input,
    ) -> Result<Self::Output, ActivityError> {
        let attempt = ctx.info().attempt;
        let mut injected = 0;
        if self.faults.time_out_first_attempt {
            // Without an attempt timeout to pass, the first attempt fails instead (below).
            injected += 1;
            if attempt == 1
                && let Some(limit) = attempt_timeout(&ctx)
            {
                // Past the attempt's deadline the server times it out and schedules the
                // retry; what this attempt answers after that is refused, as for any
                // attempt that outlived its timeout.
                self.clock
                    .skip(limit + Duration::from_secs(1))
                    .await
                    .map_err(|e| ActivityError::retryable("InjectedTimeout", e.to_string()))?;
                return Err(ActivityError::retryable(
                    "InjectedTimeout",
                    "the attempt outlived its start-to-close timeout",
                ));
            }
        }
        injected += self.faults.failed_attempts;
        if attempt <= injected {
            return Err(ActivityError::retryable(
                "InjectedFault",
                format!("attempt {attempt} failed on purpose"),
            ));
        }
        self.inner.execute(ctx, input).await
    }
}

/// The attempt's start-to-close timeout, when passing it times out only this attempt (not
/// the whole activity, whose schedule-to-close timeout may come first).
fn attempt_timeout(ctx: &ActivityContext) -> Option<Duration> {
    let info = ctx.info();
    let limit = info.start_to_close_timeout?;
    match info.schedule_to_close_timeout {
        Some(whole) if whole <= limit + Duration::from_secs(1) => None,
        _ => Some(limit),
    }
}
