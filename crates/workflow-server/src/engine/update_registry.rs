//! Updates in flight on one run, in the order they were admitted, and how far each has
//! come. Memory only, as Temporal keeps them: an update is durable once accepted.

use temporalio_protos::temporal::api::enums::v1::UpdateWorkflowExecutionLifecycleStage as Stage;
use temporalio_protos::temporal::api::update::v1::{Outcome, Request};
use tokio::sync::watch;

use super::error::EngineError;

/// How far an update has come, as its callers see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Progress {
    Admitted,
    Accepted,
    /// Completed, failed or rejected: the outcome callers get.
    Completed(Box<Outcome>),
    /// The run closed before the workflow accepted the update.
    Aborted,
    /// The run continued as new before the workflow accepted the update: the caller
    /// retries, and the retry reaches the new run.
    Continuing,
}

impl Progress {
    /// The lifecycle stage this progress has reached.
    pub(crate) fn stage(&self) -> Stage {
        match self {
            Progress::Admitted => Stage::Admitted,
            Progress::Accepted => Stage::Accepted,
            Progress::Completed(_) => Stage::Completed,
            Progress::Aborted | Progress::Continuing => Stage::Unspecified,
        }
    }

    /// Whether a caller waiting for `stage` has its answer.
    pub(crate) fn reached(&self, stage: Stage) -> bool {
        match self {
            Progress::Aborted | Progress::Continuing | Progress::Completed(_) => true,
            Progress::Accepted => stage != Stage::Completed,
            Progress::Admitted => false,
        }
    }

    /// The answer for a caller: the stage and outcome, or the error the progress means.
    pub(crate) fn answer(self) -> Result<(Stage, Option<Outcome>), EngineError> {
        match self {
            Progress::Aborted => Err(EngineError::not_found(
                "workflow update was aborted by closing workflow",
            )),
            Progress::Continuing => Err(EngineError::Unavailable(
                "workflow is continuing as new: retry the update to reach the new run".into(),
            )),
            Progress::Completed(outcome) => Ok((Stage::Completed, Some(*outcome))),
            other => Ok((other.stage(), None)),
        }
    }
}

/// One update in flight.
#[derive(Debug)]
pub(crate) struct InFlight {
    pub(crate) request: Request,
    /// Whether a workflow task carried it to the worker.
    pub(crate) sent: bool,
    /// The accepted event, once accepted.
    pub(crate) accepted_event_id: i64,
    pub(crate) progress: watch::Sender<Progress>,
}

impl InFlight {
    pub(crate) fn id(&self) -> &str {
        update_id(&self.request)
    }
}

/// The updates in flight on one run, in the order they were admitted.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) in_flight: Vec<InFlight>,
}

impl Registry {
    pub(crate) fn get(&self, id: &str) -> Option<&InFlight> {
        self.in_flight.iter().find(|u| u.id() == id)
    }

    pub(crate) fn take(&mut self, id: &str) -> Option<InFlight> {
        let index = self.in_flight.iter().position(|u| u.id() == id)?;
        Some(self.in_flight.remove(index))
    }

    /// Whether an update waits to be sent to the worker.
    pub(crate) fn has_unsent(&self) -> bool {
        self.in_flight.iter().any(|u| !u.sent)
    }
}

pub(crate) fn update_id(request: &Request) -> &str {
    request
        .meta
        .as_ref()
        .map_or("", |meta| meta.update_id.as_str())
}
