//! Counts of what a worker holds per run and per task, so tests can check that its memory
//! is bounded by its limits rather than by the number of workflows it has run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The counts behind a [`WorkerProbe`], updated by the executor threads and the activity
/// pollers.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    cached_runs: AtomicUsize,
    running_activities: AtomicUsize,
}

impl Counts {
    /// An executor shard's cache went from `before` to `after` runs.
    pub(crate) fn cache_resized(&self, before: usize, after: usize) {
        if after > before {
            self.cached_runs.fetch_add(after - before, Ordering::SeqCst);
        } else {
            self.cached_runs.fetch_sub(before - after, Ordering::SeqCst);
        }
    }

    /// The map of running activities now holds `len` entries (called with its lock held).
    pub(crate) fn running_activities(&self, len: usize) {
        self.running_activities.store(len, Ordering::SeqCst);
    }
}

/// Reads how many runs a worker caches and how many activity tasks it tracks; obtained from
/// [`Worker::probe`](crate::Worker::probe) before the worker runs, readable during and after.
///
/// For tests of the worker's memory bounds, not a stable interface.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct WorkerProbe(pub(crate) Arc<Counts>);

impl WorkerProbe {
    /// Runs held in the executors' caches (sticky runs), over all executor threads. Each
    /// thread reports after finishing a request, before the task's answer goes out.
    pub fn cached_runs(&self) -> usize {
        self.0.cached_runs.load(Ordering::SeqCst)
    }

    /// Activity tasks the worker tracks for cancellation at shutdown.
    pub fn running_activities(&self) -> usize {
        self.0.running_activities.load(Ordering::SeqCst)
    }
}
