//! Reports workflow code that runs long without yielding to the runtime: a busy loop or a
//! blocking call in a workflow stalls every run on its executor thread, and the task would
//! time out on the server with no word of why. A watchdog thread looks at each executor's
//! current activation and logs the workflow and run once it has run past the threshold.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::machine::RunIdentity;

/// The activation an executor thread is running, if any.
#[derive(Default)]
pub(crate) struct ActivationWatch {
    busy: Mutex<Option<Busy>>,
}

struct Busy {
    since: Instant,
    workflow_type: String,
    workflow_id: String,
    run_id: String,
    reported: bool,
}

/// An activation past the threshold, as the watchdog reports it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Overdue {
    pub workflow_type: String,
    pub workflow_id: String,
    pub run_id: String,
    pub running_for: Duration,
}

impl ActivationWatch {
    /// Marks an activation as running from `now`; it ends when the guard drops.
    pub(crate) fn begin(
        &self,
        identity: &RunIdentity,
        workflow_type: &str,
        now: Instant,
    ) -> ActivationGuard<'_> {
        *self.lock() = Some(Busy {
            since: now,
            workflow_type: workflow_type.to_string(),
            workflow_id: identity.workflow_id.clone(),
            run_id: identity.run_id.clone(),
            reported: false,
        });
        ActivationGuard(self)
    }

    /// The running activation if it has run longer than `threshold` at `now` and was not
    /// reported yet; it is reported once.
    pub(crate) fn overdue(&self, now: Instant, threshold: Duration) -> Option<Overdue> {
        let mut busy = self.lock();
        let busy = busy.as_mut()?;
        let running_for = now.saturating_duration_since(busy.since);
        if busy.reported || running_for <= threshold {
            return None;
        }
        busy.reported = true;
        Some(Overdue {
            workflow_type: busy.workflow_type.clone(),
            workflow_id: busy.workflow_id.clone(),
            run_id: busy.run_id.clone(),
            running_for,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Busy>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Ends the activation [`ActivationWatch::begin`] marked.
pub(crate) struct ActivationGuard<'a>(&'a ActivationWatch);

impl Drop for ActivationGuard<'_> {
    fn drop(&mut self) {
        if let Some(busy) = self.0.lock().take()
            && busy.reported
        {
            tracing::warn!(
                workflow_type = %busy.workflow_type,
                workflow_id = %busy.workflow_id,
                run_id = %busy.run_id,
                took_ms = busy.since.elapsed().as_millis() as u64,
                "the slow workflow activation finished"
            );
        }
    }
}

/// The thread that looks at the executors' activations.
pub(crate) struct Watchdog {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Watchdog {
    pub(crate) fn start(watches: Vec<Arc<ActivationWatch>>, threshold: Duration) -> Self {
        Self::start_reporting(watches, threshold, move |overdue| {
            report(&overdue, threshold)
        })
    }

    /// The watchdog, handing what it finds to `on_overdue` (the log, or a test).
    fn start_reporting(
        watches: Vec<Arc<ActivationWatch>>,
        threshold: Duration,
        on_overdue: impl Fn(Overdue) + Send + 'static,
    ) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        // A quarter of the threshold between looks: a report comes at most 25% late.
        let every = (threshold / 4).max(Duration::from_millis(10));
        let thread = std::thread::Builder::new()
            .name("workflow-watchdog".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    for watch in &watches {
                        if let Some(overdue) = watch.overdue(Instant::now(), threshold) {
                            on_overdue(overdue);
                        }
                    }
                }
            })
            .expect("spawning the workflow watchdog thread");
        Self { stop, thread }
    }

    pub(crate) fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

fn report(overdue: &Overdue, threshold: Duration) {
    tracing::warn!(
        workflow_type = %overdue.workflow_type,
        workflow_id = %overdue.workflow_id,
        run_id = %overdue.run_id,
        running_for_ms = overdue.running_for.as_millis() as u64,
        threshold_ms = threshold.as_millis() as u64,
        "workflow code has run past the threshold without yielding: a busy loop or a blocking call (I/O, a lock, std::thread::sleep) stalls every run on this executor thread; move the work into an activity"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> RunIdentity {
        RunIdentity {
            namespace: "default".into(),
            workflow_id: "order-1".into(),
            run_id: "run-1".into(),
        }
    }

    const THRESHOLD: Duration = Duration::from_secs(2);

    #[test]
    fn an_activation_past_the_threshold_is_reported_once_with_its_run() {
        let watch = ActivationWatch::default();
        let began = Instant::now();
        let _guard = watch.begin(&identity(), "Order", began);
        assert_eq!(
            watch.overdue(began + Duration::from_secs(1), THRESHOLD),
            None
        );
        assert_eq!(
            watch.overdue(began + Duration::from_secs(3), THRESHOLD),
            Some(Overdue {
                workflow_type: "Order".into(),
                workflow_id: "order-1".into(),
                run_id: "run-1".into(),
                running_for: Duration::from_secs(3),
            })
        );
        assert_eq!(
            watch.overdue(began + Duration::from_secs(9), THRESHOLD),
            None
        );
    }

    #[test]
    fn the_watchdog_thread_reports_a_long_activation_while_it_runs() {
        let watch = Arc::new(ActivationWatch::default());
        let (found, reports) = mpsc::channel();
        let watchdog =
            Watchdog::start_reporting(vec![watch.clone()], Duration::from_millis(1), move |o| {
                let _ = found.send(o);
            });
        let guard = watch.begin(&identity(), "Order", Instant::now());
        // A guard against a hang if reporting breaks, not a measurement.
        let overdue = reports
            .recv_timeout(Duration::from_secs(30))
            .expect("the watchdog reports the running activation");
        assert_eq!(
            (
                overdue.workflow_type.as_str(),
                overdue.workflow_id.as_str(),
                overdue.run_id.as_str()
            ),
            ("Order", "order-1", "run-1")
        );
        drop(guard);
        watchdog.stop();
        assert!(reports.try_recv().is_err(), "reported once");
    }

    #[test]
    fn a_finished_activation_is_not_reported() {
        let watch = ActivationWatch::default();
        let began = Instant::now();
        drop(watch.begin(&identity(), "Order", began));
        assert_eq!(
            watch.overdue(began + Duration::from_secs(3), THRESHOLD),
            None
        );
    }

    #[test]
    fn each_activation_is_timed_from_its_own_start() {
        let watch = ActivationWatch::default();
        let began = Instant::now();
        drop(watch.begin(&identity(), "Order", began));
        let later = began + Duration::from_secs(10);
        let _guard = watch.begin(&identity(), "Order", later);
        assert_eq!(
            watch.overdue(later + Duration::from_secs(1), THRESHOLD),
            None
        );
        assert!(
            watch
                .overdue(later + Duration::from_secs(3), THRESHOLD)
                .is_some()
        );
    }
}
