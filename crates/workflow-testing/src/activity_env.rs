//! One activity run with a test context, without a server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use workflow_core::activity::{
    Activity, ActivityCanceller, ActivityContext, ActivityError, ActivityInfo, CancelReason,
    HeartbeatSink,
};
use workflow_core::payload::{Payload, PayloadError, PayloadValue};

/// Runs activities with a test context: what they heartbeat is recorded, and they can be
/// cancelled while they run. The context's info says attempt 1 of an activity of workflow
/// `test-workflow`; [`ActivityEnv::with_info`] changes it.
///
/// ```
/// use workflow_core::prelude::*;
/// use workflow_testing::ActivityEnv;
///
/// #[activity]
/// async fn count_to(ctx: ActivityContext, n: u32) -> Result<u32, ActivityError> {
///     for i in 1..=n {
///         ctx.heartbeat(&i)?;
///     }
///     Ok(n)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let env = ActivityEnv::new();
/// assert_eq!(env.run(&count_to, 3).await.unwrap(), 3);
/// assert_eq!(env.heartbeats::<u32>().unwrap(), [1, 2, 3]);
/// # }
/// ```
#[derive(Debug)]
pub struct ActivityEnv {
    info: ActivityInfo,
    details: Vec<Payload>,
    heartbeats: Arc<Recorder>,
    cancel: Mutex<Cancel>,
}

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Vec<Payload>>>);

impl HeartbeatSink for Recorder {
    fn record(&self, details: Vec<Payload>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(details);
    }
}

/// The running attempt's canceller, or a cancellation asked for before it started.
#[derive(Debug, Default)]
struct Cancel {
    running: Option<ActivityCanceller>,
    asked: Option<CancelReason>,
}

impl Default for ActivityEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl ActivityEnv {
    /// A test context for attempt 1 with 10 s to run and no heartbeat timeout.
    pub fn new() -> Self {
        let now = SystemTime::now();
        Self::with_info(ActivityInfo {
            activity_id: "1".into(),
            activity_type: "test-activity".into(),
            task_queue: "test".into(),
            workflow_namespace: "default".into(),
            workflow_id: "test-workflow".into(),
            workflow_run_id: "test-run".into(),
            workflow_type: "TestWorkflow".into(),
            attempt: 1,
            task_token: Vec::new(),
            scheduled_time: Some(now),
            started_time: Some(now),
            schedule_to_close_timeout: None,
            start_to_close_timeout: Some(Duration::from_secs(10)),
            heartbeat_timeout: None,
        })
    }

    /// A test context with this info (an attempt number, timeouts, the workflow's ids).
    pub fn with_info(info: ActivityInfo) -> Self {
        Self {
            info,
            details: Vec::new(),
            heartbeats: Arc::default(),
            cancel: Mutex::default(),
        }
    }

    /// What the last attempt heartbeat, as `ctx.last_heartbeat_details()` gives it to a retry.
    pub fn with_last_heartbeat<T: PayloadValue>(
        mut self,
        details: &T,
    ) -> Result<Self, PayloadError> {
        self.details = vec![details.to_payload()?];
        Ok(self)
    }

    /// Runs one attempt of `activity` with `input`. Its type name in the context's info is
    /// the activity's.
    pub async fn run<A: Activity>(
        &self,
        activity: &A,
        input: A::Input,
    ) -> Result<A::Output, ActivityError> {
        let mut info = self.info.clone();
        info.activity_type = activity.name().to_string();
        let (ctx, canceller) = ActivityContext::new(
            info,
            self.details.clone(),
            self.heartbeats.clone() as Arc<dyn HeartbeatSink>,
        );
        {
            let mut cancel = self.lock_cancel();
            if let Some(reason) = cancel.asked.take() {
                canceller.cancel(reason);
            }
            cancel.running = Some(canceller);
        }
        let result = activity.execute(ctx, input).await;
        self.lock_cancel().running = None;
        result
    }

    /// Cancels the running attempt (call it from another task while [`ActivityEnv::run`] is
    /// awaited), or the next one to start.
    pub fn cancel(&self, reason: CancelReason) {
        let mut cancel = self.lock_cancel();
        match &cancel.running {
            Some(running) => running.cancel(reason),
            None => cancel.asked = Some(reason),
        }
    }

    /// Each heartbeat's details so far, as sent.
    pub fn heartbeat_payloads(&self) -> Vec<Vec<Payload>> {
        self.heartbeats
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Each heartbeat so far, decoded as `T` (one value per heartbeat).
    pub fn heartbeats<T: PayloadValue>(&self) -> Result<Vec<T>, PayloadError> {
        self.heartbeat_payloads()
            .iter()
            .filter_map(|details| details.first())
            .map(T::from_payload)
            .collect()
    }

    fn lock_cancel(&self) -> std::sync::MutexGuard<'_, Cancel> {
        self.cancel.lock().unwrap_or_else(|e| e.into_inner())
    }
}
