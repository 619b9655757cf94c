//! Signals: the signaled event, and a signal request to a running run.

use temporalio_protos::temporal::api::common::v1::{Header, Payloads, WorkflowExecution};
use temporalio_protos::temporal::api::history::v1::{self as h, history_event::Attributes};
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::Engine;
use super::error::EngineError;

pub(crate) fn signaled(
    signal_name: String,
    input: Option<Payloads>,
    identity: &str,
    header: Option<Header>,
    external: Option<WorkflowExecution>,
) -> Attributes {
    Attributes::WorkflowExecutionSignaledEventAttributes(
        h::WorkflowExecutionSignaledEventAttributes {
            signal_name,
            input,
            identity: identity.to_string(),
            header,
            external_workflow_execution: external,
            ..Default::default()
        },
    )
}

impl Engine {
    /// Delivers a signal: written at once, or after the running workflow task.
    pub async fn signal(
        &self,
        request: &ws::SignalWorkflowExecutionRequest,
    ) -> Result<(), EngineError> {
        if request.signal_name.is_empty() {
            return Err(EngineError::invalid(
                "SignalWorkflowExecutionRequest.signal_name is required",
            ));
        }
        let execution = request.workflow_execution.clone().unwrap_or_default();
        self.transact(|state| {
            let (run, context) = state.running_mut(&request.namespace, &execution)?;
            let repeated = !request.request_id.is_empty()
                && run.signal_request_ids.contains(&request.request_id);
            if !repeated {
                if !request.request_id.is_empty() {
                    run.signal_request_ids.push(request.request_id.clone());
                }
                run.deliver(
                    context,
                    vec![signaled(
                        request.signal_name.clone(),
                        request.input.clone(),
                        &request.identity,
                        request.header.clone(),
                        None,
                    )],
                );
            }
            Ok(())
        })
        .await
    }
}
