//! Runnable examples; see the `[[example]]` targets of this package.
//!
//! [`hello`] holds the definitions of the guide's hello example, shared by its worker, its
//! starter and the benchmark; [`shopping_cart`], those of the updates example.

#[path = "hello_defs.rs"]
pub mod hello;

#[path = "shopping_cart_defs.rs"]
pub mod shopping_cart;

use workflow_server::{RunningServer, ServerError, ServerOptions};

/// The server a one-process example uses: `TEMPORAL_ADDRESS` when set (a Temporal dev
/// server, a cluster, or `workflow-server start-dev`), otherwise our embedded server,
/// started in-process on a free port and in memory, and returned so the example shuts it
/// down when done.
pub async fn server() -> Result<(String, Option<RunningServer>), ServerError> {
    match std::env::var("TEMPORAL_ADDRESS") {
        Ok(address) => Ok((address, None)),
        Err(_) => {
            let server = RunningServer::start(ServerOptions::new()).await?;
            Ok((server.target(), Some(server)))
        }
    }
}

/// The guide's Rust snippets compile (and run, where they need no server) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct Guide;
