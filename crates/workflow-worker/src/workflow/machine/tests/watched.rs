//! The machine shows each activation to the executor's watchdog while the code runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use workflow_core::prelude::*;

use super::*;
use crate::workflow::watchdog::ActivationWatch;

static RELEASE_SPINNER: AtomicBool = AtomicBool::new(false);

/// Runs without yielding until the test releases it.
#[workflow]
#[derive(Default)]
struct Spinner {}

#[workflow]
impl Spinner {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        while !RELEASE_SPINNER.load(Ordering::SeqCst) {
            std::hint::spin_loop();
        }
        Ok(())
    }
}

#[test]
fn a_running_activation_is_watched_until_the_code_yields() {
    let watch = Arc::new(ActivationWatch::default());
    let seen = watch.clone();
    let task = std::thread::spawn(move || {
        let mut run = machine::<Spinner>();
        run.watch_activations(seen);
        let mut history = HistoryBuilder::started(Spinner::NAME, Vec::new());
        history.workflow_task();
        describe(&run_task(&mut run, &history).unwrap())
    });
    // An hour from now any running activation is overdue: wait until this one shows.
    let later = || Instant::now() + Duration::from_secs(3600);
    let overdue = loop {
        if let Some(overdue) = watch.overdue(later(), Duration::from_secs(2)) {
            break overdue;
        }
        std::thread::yield_now();
    };
    assert_eq!(
        (
            overdue.workflow_type.as_str(),
            overdue.workflow_id.as_str(),
            overdue.run_id.as_str()
        ),
        ("Spinner", "wf", "run")
    );
    RELEASE_SPINNER.store(true, Ordering::SeqCst);
    assert_eq!(task.join().unwrap(), ["CompleteWorkflowExecution"]);
    assert_eq!(
        watch.overdue(later(), Duration::from_secs(2)),
        None,
        "a finished activation is no longer watched"
    );
}
