//! The raw gRPC client of Temporal's `WorkflowService`, for calls [`Client`](crate::Client)
//! does not wrap. Its messages are `temporalio_protos`'s, re-exported as
//! [`workflow_core::protos`].
//!
//! ```no_run
//! use workflow_client::grpc::WorkflowServiceClient;
//! use workflow_core::protos::temporal::api::workflowservice::v1::GetSystemInfoRequest;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut raw = WorkflowServiceClient::connect("http://localhost:7233").await?;
//! let info = raw.get_system_info(GetSystemInfoRequest {}).await?.into_inner();
//! println!("server {}", info.server_version);
//! # Ok(()) }
//! ```

#[allow(clippy::all, missing_docs, unreachable_pub)]
mod generated {
    tonic::include_proto!("temporal.api.workflowservice.v1");
}

pub use generated::workflow_service_client::WorkflowServiceClient;
