//! Generates the `WorkflowService` server trait from the descriptors `temporalio-protos`
//! builds, with every message taken from that crate: no `.proto` file lives in this repo.

use prost::Message;
use prost_types_build::FileDescriptorSet;

const SERVICE_FILE: &str = "temporal/api/workflowservice/v1/service.proto";

/// The methods the server serves. The trait is generated with these only: every method
/// generated costs its request and response codecs in the build, and a call to any other
/// method is answered UNIMPLEMENTED by the generated router (with its name, by
/// `NameUnimplemented`).
const SERVED: &[&str] = &[
    "GetSystemInfo",
    "DescribeNamespace",
    "ListNamespaces",
    "RegisterNamespace",
    "StartWorkflowExecution",
    "SignalWithStartWorkflowExecution",
    "DescribeWorkflowExecution",
    "ListWorkflowExecutions",
    "CountWorkflowExecutions",
    "GetWorkflowExecutionHistory",
    "TerminateWorkflowExecution",
    "RequestCancelWorkflowExecution",
    "SignalWorkflowExecution",
    "UpdateWorkflowExecution",
    "ExecuteMultiOperation",
    "PollWorkflowExecutionUpdate",
    "QueryWorkflow",
    "RespondQueryTaskCompleted",
    "PollWorkflowTaskQueue",
    "RespondWorkflowTaskCompleted",
    "RespondWorkflowTaskFailed",
    "PollActivityTaskQueue",
    "RespondActivityTaskCompleted",
    "RespondActivityTaskCompletedById",
    "RespondActivityTaskFailed",
    "RespondActivityTaskFailedById",
    "RespondActivityTaskCanceled",
    "RespondActivityTaskCanceledById",
    "RecordActivityTaskHeartbeat",
    "RecordActivityTaskHeartbeatById",
    "ResetStickyTaskQueue",
    "ShutdownWorker",
    "DescribeTaskQueue",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::var("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH")?;
    println!("cargo:rerun-if-changed={path}");
    let mut descriptors = FileDescriptorSet::decode(std::fs::read(&path)?.as_slice())?;
    // Only the service is generated, with only the methods served; its messages are extern.
    descriptors
        .file
        .retain(|f| f.name.as_deref() == Some(SERVICE_FILE));
    for service in descriptors
        .file
        .iter_mut()
        .flat_map(|f| f.service.iter_mut())
    {
        service
            .method
            .retain(|m| SERVED.contains(&m.name.as_deref().unwrap_or_default()));
    }
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .extern_path(".temporal.api", "::temporalio_protos::temporal::api")
        .compile_fds(descriptors)?;
    Ok(())
}
