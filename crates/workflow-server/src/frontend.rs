//! The gRPC front door: validates requests and answers them.

use std::sync::Arc;
use std::time::Duration;

use temporalio_protos::temporal::api::workflowservice::v1::{self as ws, get_system_info_response};
use tonic::{Request, Response, Status};

use crate::generated::workflow_service_server::WorkflowService;
use crate::namespaces::{Namespaces, RegisterError};
use crate::status;

/// The version this server reports: the Temporal server release whose API it speaks.
pub const SERVER_VERSION: &str = "1.32.0";
const MAX_NAMESPACE_PAGE: usize = 1000;

/// The state every request handler shares.
#[derive(Debug)]
pub struct Frontend {
    pub(crate) namespaces: Arc<Namespaces>,
}

#[tonic::async_trait]
impl WorkflowService for Frontend {
    async fn get_system_info(
        &self,
        _request: Request<ws::GetSystemInfoRequest>,
    ) -> Result<Response<ws::GetSystemInfoResponse>, Status> {
        Ok(Response::new(ws::GetSystemInfoResponse {
            server_version: SERVER_VERSION.to_string(),
            capabilities: Some(get_system_info_response::Capabilities {
                signal_and_query_header: true,
                internal_error_differentiation: true,
                activity_failure_include_heartbeat: true,
                encoded_failure_attributes: true,
                upsert_memo: true,
                sdk_metadata: true,
                ..Default::default()
            }),
        }))
    }

    async fn describe_namespace(
        &self,
        request: Request<ws::DescribeNamespaceRequest>,
    ) -> Result<Response<ws::DescribeNamespaceResponse>, Status> {
        let request = request.into_inner();
        let found = if !request.namespace.is_empty() {
            self.namespaces.get(&request.namespace)
        } else if !request.id.is_empty() {
            self.namespaces.get_by_id(&request.id)
        } else {
            return Err(status::invalid_argument(
                "DescribeNamespaceRequest needs `namespace` or `id`",
            ));
        };
        let wanted = if request.namespace.is_empty() {
            &request.id
        } else {
            &request.namespace
        };
        found
            .map(|n| Response::new(n.describe()))
            .ok_or_else(|| status::namespace_not_found(wanted))
    }

    async fn list_namespaces(
        &self,
        request: Request<ws::ListNamespacesRequest>,
    ) -> Result<Response<ws::ListNamespacesResponse>, Status> {
        let request = request.into_inner();
        let limit = match usize::try_from(request.page_size) {
            Ok(0) | Err(_) => MAX_NAMESPACE_PAGE,
            Ok(n) => n.min(MAX_NAMESPACE_PAGE),
        };
        let after = if request.next_page_token.is_empty() {
            None
        } else {
            Some(String::from_utf8(request.next_page_token).map_err(|_| {
                status::invalid_argument("ListNamespacesRequest.next_page_token is malformed")
            })?)
        };
        let page = self.namespaces.page(after.as_deref(), limit + 1);
        let more = page.len() > limit;
        let page: Vec<_> = page.into_iter().take(limit).collect();
        let next_page_token = if more {
            page.last()
                .map(|n| n.name.clone().into_bytes())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Response::new(ws::ListNamespacesResponse {
            namespaces: page.iter().map(|n| n.describe()).collect(),
            next_page_token,
        }))
    }

    async fn register_namespace(
        &self,
        request: Request<ws::RegisterNamespaceRequest>,
    ) -> Result<Response<ws::RegisterNamespaceResponse>, Status> {
        let request = request.into_inner();
        if request.namespace.is_empty() {
            return Err(status::invalid_argument(
                "RegisterNamespaceRequest.namespace is required",
            ));
        }
        let mut namespace = Namespaces::template(&request.namespace);
        namespace.description = request.description;
        namespace.owner_email = request.owner_email;
        if let Some(ttl) = request.workflow_execution_retention_period {
            namespace.retention = Duration::try_from(ttl).map_err(|_| {
                status::invalid_argument(
                    "RegisterNamespaceRequest.workflow_execution_retention_period is negative",
                )
            })?;
        }
        match self.namespaces.register(namespace) {
            Ok(()) => Ok(Response::new(ws::RegisterNamespaceResponse {})),
            Err(RegisterError::AlreadyExists) => {
                Err(status::namespace_already_exists(&request.namespace))
            }
        }
    }
}
