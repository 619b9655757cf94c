//! Answers compressed only when asked compressed, as Temporal's server does (gRPC-Go
//! answers with the request's own encoding): a client that sends plain requests gets plain
//! answers, even when it would accept gzip. On loopback, compressing every answer costs
//! more CPU than it saves.

use std::task::{Context, Poll};

use tonic::codegen::Service;
use tonic::codegen::http::Request;
use tonic::server::NamedService;

/// Wraps a gRPC service; a request without a `grpc-encoding` (or with `identity`) loses
/// its `grpc-accept-encoding`, so the service answers it uncompressed.
#[derive(Debug, Clone)]
pub struct AnswerAsAsked<S>(pub S);

impl<S: NamedService> NamedService for AnswerAsAsked<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<Request<B>> for AnswerAsAsked<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let plain = request
            .headers()
            .get("grpc-encoding")
            .is_none_or(|encoding| encoding == "identity");
        if plain {
            request.headers_mut().remove("grpc-accept-encoding");
        }
        self.0.call(request)
    }
}
