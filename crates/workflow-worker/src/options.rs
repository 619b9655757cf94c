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
    /// Workflow tasks processed at once; no task is polled beyond this. Default 100.
    pub max_concurrent_workflow_tasks: usize,
    /// Concurrent long polls of the workflow task queue (and as many of the sticky queue).
    /// Default 2.
    pub workflow_pollers: usize,
    /// Workflow runs kept in memory between tasks, so a task carries only new events
    /// (sticky execution); the least recently used run is evicted. 0 disables the cache.
    /// Default 1000.
    pub max_cached_workflows: usize,
    /// How long the server waits for this worker to pick up a task of a cached run before
    /// giving it to any worker. Default 10 s.
    pub sticky_queue_schedule_to_start_timeout: Duration,
    /// Threads running workflow code. Default: the number of CPUs, at most 4.
    pub workflow_threads: usize,
    /// Identity recorded in history; defaults to the client's identity.
    pub identity: Option<String>,
    /// How long shutdown waits for running activities before cancelling them. Default 10 s.
    pub graceful_shutdown_timeout: Duration,
    /// Heartbeat throttle when the activity has no heartbeat timeout. Default 30 s.
    pub default_heartbeat_throttle: Duration,
    /// Upper bound of the heartbeat throttle. Default 60 s.
    pub max_heartbeat_throttle: Duration,
    /// How long workflow code may run without yielding before the worker logs a warning
    /// naming the workflow and run (a busy loop or a blocking call). Default 2 s.
    pub slow_activation_threshold: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            max_concurrent_activities: 100,
            activity_pollers: 2,
            max_concurrent_workflow_tasks: 100,
            workflow_pollers: 2,
            max_cached_workflows: 1000,
            sticky_queue_schedule_to_start_timeout: Duration::from_secs(10),
            workflow_threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(4),
            identity: None,
            graceful_shutdown_timeout: Duration::from_secs(10),
            default_heartbeat_throttle: Duration::from_secs(30),
            max_heartbeat_throttle: Duration::from_secs(60),
            slow_activation_threshold: Duration::from_secs(2),
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

    /// Sets the number of workflow tasks processed at once.
    pub fn max_concurrent_workflow_tasks(mut self, max: usize) -> Self {
        self.max_concurrent_workflow_tasks = max;
        self
    }

    /// Sets the number of concurrent workflow task polls.
    pub fn workflow_pollers(mut self, pollers: usize) -> Self {
        self.workflow_pollers = pollers;
        self
    }

    /// Sets the number of workflow runs kept in memory (0: no sticky execution).
    pub fn max_cached_workflows(mut self, max: usize) -> Self {
        self.max_cached_workflows = max;
        self
    }

    /// Sets how long the server waits for this worker to pick up a cached run's task.
    pub fn sticky_queue_schedule_to_start_timeout(mut self, timeout: Duration) -> Self {
        self.sticky_queue_schedule_to_start_timeout = timeout;
        self
    }

    /// Sets the number of threads running workflow code.
    pub fn workflow_threads(mut self, threads: usize) -> Self {
        self.workflow_threads = threads;
        self
    }

    /// Sets the identity.
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = Some(identity.into());
        self
    }

    /// Sets how long workflow code may run without yielding before a warning is logged.
    pub fn slow_activation_threshold(mut self, threshold: Duration) -> Self {
        self.slow_activation_threshold = threshold;
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
