//! Worker tuning.

use std::time::Duration;

/// How a worker polls and runs tasks.
///
/// ```
/// use std::time::Duration;
/// use workflow_worker::WorkerOptions;
/// let options = WorkerOptions::default()
///     .max_concurrent_activities(20)
///     .graceful_shutdown_timeout(Duration::from_secs(30));
/// assert_eq!(options.max_concurrent_activities, 20);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerOptions {
    /// Activities running at once; no task is polled beyond this. Default 100.
    pub max_concurrent_activities: usize,
    /// Concurrent long polls of the activity task queue. Default 2.
    pub activity_pollers: usize,
    /// Identity recorded in history; defaults to the client's identity.
    pub identity: Option<String>,
    /// How long shutdown waits for running activities before cancelling them. Default 10 s.
    pub graceful_shutdown_timeout: Duration,
    /// Heartbeat throttle when the activity has no heartbeat timeout. Default 30 s.
    pub default_heartbeat_throttle: Duration,
    /// Upper bound of the heartbeat throttle. Default 60 s.
    pub max_heartbeat_throttle: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            max_concurrent_activities: 100,
            activity_pollers: 2,
            identity: None,
            graceful_shutdown_timeout: Duration::from_secs(10),
            default_heartbeat_throttle: Duration::from_secs(30),
            max_heartbeat_throttle: Duration::from_secs(60),
        }
    }
}

impl WorkerOptions {
    /// Sets the number of activities running at once.
    pub fn max_concurrent_activities(mut self, max: usize) -> Self {
        self.max_concurrent_activities = max;
        self
    }

    /// Sets the number of concurrent activity polls.
    pub fn activity_pollers(mut self, pollers: usize) -> Self {
        self.activity_pollers = pollers;
        self
    }

    /// Sets the identity.
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = Some(identity.into());
        self
    }

    /// Sets how long shutdown waits for running activities.
    pub fn graceful_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.graceful_shutdown_timeout = timeout;
        self
    }

    /// The throttle between heartbeats of an activity: 80% of its heartbeat timeout, or the
    /// default, capped at the maximum.
    pub(crate) fn heartbeat_throttle(&self, heartbeat_timeout: Option<Duration>) -> Duration {
        heartbeat_timeout
            .map(|t| t.mul_f64(0.8))
            .unwrap_or(self.default_heartbeat_throttle)
            .min(self.max_heartbeat_throttle)
    }
}
