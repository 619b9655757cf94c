//! Errors of the JSON API, in the shape Temporal's HTTP API answers them: the HTTP status of
//! the gRPC code, and a body `{"code": <gRPC code>, "message": "...", "details": [...]}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};
use tonic::Code;

use crate::json::encoded_to_json;

/// A failed API call.
#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    /// The gRPC status code.
    pub code: Code,
    /// What went wrong, as the server said it.
    pub message: String,
    /// The typed details (`NotFoundFailure`, ...), as proto3 JSON `Any`s.
    pub details: Vec<Value>,
}

impl ApiError {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }

    /// The HTTP status grpc-gateway gives this code.
    pub fn http_status(&self) -> StatusCode {
        match self.code {
            Code::Ok => StatusCode::OK,
            Code::Cancelled => StatusCode::from_u16(499).expect("499 is a valid status"),
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                StatusCode::BAD_REQUEST
            }
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        // The details are an encoded google.rpc.Status whose `details` are the typed failures.
        let details = if status.details().is_empty() {
            Vec::new()
        } else {
            encoded_to_json("google.rpc.Status", status.details())
                .ok()
                .and_then(|mut decoded| decoded.get_mut("details").map(Value::take))
                .and_then(|details| match details {
                    Value::Array(items) => Some(items),
                    _ => None,
                })
                .unwrap_or_default()
        };
        Self {
            code: status.code(),
            message: status.message().to_owned(),
            details,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.http_status();
        let mut body = json!({
            "code": self.code as i32,
            "message": self.message,
        });
        // As the HTTP API answers: no `details` key when there are none.
        if !self.details.is_empty() {
            body["details"] = Value::Array(self.details);
        }
        (status, Json(body)).into_response()
    }
}
