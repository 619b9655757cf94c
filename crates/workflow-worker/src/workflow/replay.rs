//! Replaying saved histories against workflow code, to catch nondeterministic changes before
//! they reach running workflows.

use temporalio_protos::temporal::api::history::v1::{History, history_event::Attributes};
use workflow_core::workflow::Workflow;
use workflow_core::workflow::runtime::WorkflowFactory;

use super::{RunIdentity, RunMachine, TaskError, WorkflowRegistry};

/// Why a history did not replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The code issues other commands than the history recorded.
    #[error("nondeterminism: {0}")]
    Nondeterminism(String),
    /// The history's workflow type is not registered with the replayer.
    #[error("workflow type {workflow_type:?} is not registered; registered: [{registered}]")]
    UnknownWorkflowType {
        /// The type in the history.
        workflow_type: String,
        /// The registered types, comma-separated.
        registered: String,
    },
    /// The workflow code failed a task (a panic, an undecodable input).
    #[error("workflow task failed: {0}")]
    TaskFailed(String),
    /// The history is not one this SDK can read.
    #[error("malformed history: {0}")]
    History(String),
}

impl From<TaskError> for ReplayError {
    fn from(error: TaskError) -> Self {
        match error {
            TaskError::Nondeterminism(m) => Self::Nondeterminism(m),
            TaskError::Activation(e) => Self::TaskFailed(e.to_string()),
            TaskError::History(m) => Self::History(m),
        }
    }
}

/// Replays histories against the registered workflow code.
///
/// ```no_run
/// use workflow_worker::Replayer;
/// # use workflow_core::prelude::*;
/// # struct Greeter;
/// # impl Workflow for Greeter {
/// #     const NAME: &'static str = "Greeter";
/// #     type Input = String;
/// #     type Output = String;
/// #     fn new(_: &WorkflowInfo, _: &String) -> Self { Greeter }
/// #     async fn run(_: WorkflowContext<Self>, name: String) -> WorkflowResult<String> { Ok(name) }
/// # }
/// # fn check(history: workflow_core::protos::temporal::api::history::v1::History) {
/// let replayer = Replayer::new().register_workflow::<Greeter>();
/// replayer.replay(&history).expect("the new code replays old histories");
/// # }
/// ```
#[derive(Default, Clone)]
pub struct Replayer {
    registry: WorkflowRegistry,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("workflows", &self.registry.names())
            .finish()
    }
}

impl Replayer {
    /// A replayer with no workflow registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a workflow type.
    pub fn register_workflow<W: Workflow>(mut self) -> Self {
        self.registry.register(WorkflowFactory::of::<W>());
        self
    }

    /// Replays a whole history: every recorded workflow task is run again and its commands
    /// compared with the recorded ones.
    pub fn replay(&self, history: &History) -> Result<(), ReplayError> {
        let Some(Attributes::WorkflowExecutionStartedEventAttributes(started)) =
            history.events.first().and_then(|e| e.attributes.as_ref())
        else {
            return Err(ReplayError::History(
                "the first event is not WorkflowExecutionStarted".into(),
            ));
        };
        let workflow_type = started
            .workflow_type
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let factory =
            self.registry
                .get(&workflow_type)
                .ok_or_else(|| ReplayError::UnknownWorkflowType {
                    workflow_type: workflow_type.clone(),
                    registered: self.registry.names().join(", "),
                })?;
        let identity = RunIdentity {
            namespace: "default".into(),
            workflow_id: "replay".into(),
            run_id: started.original_execution_run_id.clone(),
        };
        let mut machine = RunMachine::new(factory, identity);
        // A history that ends in a started task runs that task as new work.
        let last_started = history
            .events
            .last()
            .filter(|e| {
                matches!(
                    e.attributes,
                    Some(Attributes::WorkflowTaskStartedEventAttributes(_))
                )
            })
            .map_or(0, |e| e.event_id);
        machine.apply(&history.events, last_started)?;
        machine.check_all_matched()?;
        Ok(())
    }
}

#[cfg(feature = "history-json")]
impl Replayer {
    /// Replays a history saved as protobuf JSON, as `temporal workflow show --output json`
    /// writes it.
    pub fn replay_json(&self, json: &str) -> Result<(), ReplayError> {
        self.replay(&history_from_json(json)?)
    }
}

/// Reads a history saved as protobuf JSON (`temporal workflow show --output json`).
#[cfg(feature = "history-json")]
pub fn history_from_json(json: &str) -> Result<History, ReplayError> {
    use prost::Message;
    use prost_reflect::{DescriptorPool, DynamicMessage};
    use std::sync::OnceLock;

    static DESCRIPTORS: &[u8] = include_bytes!(env!("TEMPORAL_PROTO_DESCRIPTORS"));
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    let pool = POOL
        .get_or_init(|| DescriptorPool::decode(DESCRIPTORS).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ReplayError::History(format!("protobuf descriptors: {e}")))?;
    let descriptor = pool
        .get_message_by_name("temporal.api.history.v1.History")
        .ok_or_else(|| ReplayError::History("no History message in the descriptors".into()))?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize(descriptor, &mut deserializer)
        .map_err(|e| ReplayError::History(format!("history JSON: {e}")))?;
    History::decode(message.encode_to_vec().as_slice())
        .map_err(|e| ReplayError::History(format!("history protobuf: {e}")))
}
