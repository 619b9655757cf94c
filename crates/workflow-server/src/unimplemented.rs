//! Names the method in `UNIMPLEMENTED` answers: the generated defaults only say "Not yet
//! implemented", which leaves a user guessing which call it was.

use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::codegen::http::{HeaderValue, Request, Response};
use tonic::codegen::{Future, Service};
use tonic::server::NamedService;

/// Wraps a gRPC service; answers with status 12 get the method path in their message.
#[derive(Debug, Clone)]
pub struct NameUnimplemented<S>(pub S);

impl<S: NamedService> NamedService for NameUnimplemented<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<Request<B>> for NameUnimplemented<S>
where
    S: Service<Request<B>, Response = Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let answer = self.0.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            let unimplemented = response
                .headers()
                .get("grpc-status")
                .is_some_and(|status| status == "12");
            if unimplemented
                && let Ok(message) = HeaderValue::from_str(&format!(
                    "{method} is not implemented by this server yet"
                ))
            {
                response.headers_mut().insert("grpc-message", message);
            }
            Ok(response)
        })
    }
}
