//! What workflow code sees: the [`Workflow`] trait, its [`WorkflowContext`], step options and
//! errors.
//!
//! Workflow code must be deterministic: run it twice on the same history and it issues the
//! same commands. The context is its only source of time ([`WorkflowContext::now`]),
//! randomness ([`WorkflowContext::random_u64`], [`WorkflowContext::uuid4`]) and waiting
//! ([`WorkflowContext::sleep`], [`WorkflowContext::wait_condition`], activities, child
//! workflows). A run executes on a single thread, one workflow task at a time.
//!
//! The workflow's state is the value of the type implementing [`Workflow`]. Signal handlers
//! mutate it (`&mut self`), query handlers read it (`&self`), and the run method reaches it
//! through [`WorkflowContext::state`] and [`WorkflowContext::state_mut`], whose closures
//! cannot hold a borrow across an `await`.
//!
//! ```
//! use workflow_core::prelude::*;
//! use workflow_core::workflow::{HandlerError, Invocation};
//!
//! const COMPOSE: ActivityRef<String, String> = ActivityRef::new("compose_greeting");
//!
//! #[derive(Default)]
//! struct Greeter { names: Vec<String> }
//!
//! impl Workflow for Greeter {
//!     const NAME: &'static str = "Greeter";
//!     const SIGNALS: &'static [&'static str] = &["add_name"];
//!     type Input = u32;
//!     type Output = Vec<String>;
//!
//!     fn new(_info: &WorkflowInfo, _expected: &u32) -> Self { Self::default() }
//!
//!     async fn run(ctx: WorkflowContext<Self>, expected: u32) -> WorkflowResult<Vec<String>> {
//!         ctx.wait_condition(move |s: &Self| s.names.len() >= expected as usize).await;
//!         let mut greetings = Vec::new();
//!         for name in ctx.state(|s| s.names.clone()) {
//!             let options = ActivityOptions::start_to_close(Duration::from_secs(10));
//!             greetings.push(ctx.execute_activity(COMPOSE, name, options).await?);
//!         }
//!         Ok(greetings)
//!     }
//!
//!     fn handle_signal(&mut self, signal: &Invocation) -> Result<(), HandlerError> {
//!         match signal.name.as_str() {
//!             "add_name" => Ok(self.names.push(signal.input()?)),
//!             _ => Err(HandlerError::Unknown),
//!         }
//!     }
//! }
//! ```

// Steps fail with a `Failure` by value: failures are the rare path, and users match on them
// directly rather than through a box.
#![allow(clippy::result_large_err)]

mod context;
mod error;
mod info;
mod options;
pub mod runtime;

use std::future::Future;
use std::marker::PhantomData;

pub use context::{
    ActivityHandle, ChildWorkflowHandle, ChildWorkflowStart, Condition, ExternalWorkflowHandle,
    HandlersFinished, Timer, WorkflowCancelled, WorkflowContext, WorkflowLogger,
};
pub use error::{WorkflowError, WorkflowResult};
pub use info::{ParentInfo, WorkflowInfo};
pub use options::{
    ActivityCancellationType, ActivityOptions, ChildCancellationType, ChildWorkflowOptions,
    ParentClosePolicy,
};

use crate::definition::WorkflowDefinition;
use crate::failure::Failure;
use crate::payload::{Payload, PayloadArgs, PayloadError, PayloadValue};

/// A workflow: its state type, type name, input, output, run method and handlers.
///
/// The `#[workflow]` macro implements this; it can also be written by hand (see the module
/// example).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a workflow",
    note = "implement `Workflow` for it (the `#[workflow]` attribute does)"
)]
pub trait Workflow: Sized + 'static {
    /// The workflow type name on the wire.
    const NAME: &'static str;
    /// Signal names the workflow handles, for error messages.
    const SIGNALS: &'static [&'static str] = &[];
    /// Query names the workflow answers, for error messages.
    const QUERIES: &'static [&'static str] = &[];
    /// The names of the workflow's updates.
    const UPDATES: &'static [&'static str] = &[];
    /// The run method's arguments.
    type Input: PayloadArgs;
    /// The run method's result.
    type Output: PayloadValue;

    /// Builds the state when the run starts, before any signal is delivered.
    fn new(info: &WorkflowInfo, input: &Self::Input) -> Self;

    /// The workflow's code.
    fn run(
        ctx: WorkflowContext<Self>,
        input: Self::Input,
    ) -> impl Future<Output = WorkflowResult<Self::Output>> + 'static;

    /// Handles a signal; [`HandlerError::Unknown`] for a name the workflow does not handle.
    fn handle_signal(&mut self, signal: &Invocation) -> Result<(), HandlerError> {
        let _ = signal;
        Err(HandlerError::Unknown)
    }

    /// Answers a query from the state; [`HandlerError::Unknown`] for an unknown name.
    fn handle_query(&self, query: &Invocation) -> Result<Vec<Payload>, HandlerError> {
        let _ = query;
        Err(HandlerError::Unknown)
    }

    /// Runs the validator of the named update (or only decodes its input, when it has
    /// none): an error rejects the update before it is accepted.
    fn validate_update(&self, update: &Invocation) -> Result<(), HandlerError> {
        let _ = update;
        Err(HandlerError::Unknown)
    }

    /// Starts an `async` signal handler (`handle_signal` runs the synchronous ones).
    fn handle_async_signal(
        ctx: WorkflowContext<Self>,
        signal: &Invocation,
    ) -> Result<HandlerFuture, HandlerError> {
        let _ = (ctx, signal);
        Err(HandlerError::Unknown)
    }

    /// Starts the handler of an accepted update.
    fn handle_update(
        ctx: WorkflowContext<Self>,
        update: &Invocation,
    ) -> Result<HandlerFuture, HandlerError> {
        let _ = (ctx, update);
        Err(HandlerError::Unknown)
    }
}

/// A running async handler (an update's, or a signal's): its result, or its failure.
pub type HandlerFuture = std::pin::Pin<Box<dyn Future<Output = Result<Payload, Failure>>>>;

/// An async handler's outcome from what it returned (generated code calls this).
#[doc(hidden)]
pub fn handler_outcome<T: PayloadValue>(result: WorkflowResult<T>) -> Result<Payload, Failure> {
    match result {
        Ok(value) => value
            .to_payload()
            .map_err(|e| Failure::application("PayloadError", e.to_string())),
        Err(WorkflowError::Failed(failure)) => Err(*failure),
        Err(WorkflowError::ContinueAsNew(_)) => Err(Failure::application(
            "ContinueAsNewInHandler",
            "a signal or update handler cannot continue the workflow as new; return from it and continue as new from the run method",
        )),
    }
}

/// A validator's refusal, as the rejection the caller gets (generated code calls this).
#[doc(hidden)]
pub fn update_rejected<E: std::fmt::Display>(error: E) -> HandlerError {
    HandlerError::Failed(Box::new(Failure::application(
        "UpdateRejected",
        error.to_string(),
    )))
}

/// A signal or query as received: its name and argument payloads.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// Signal or query name.
    pub name: String,
    /// Argument payloads.
    pub input: Vec<Payload>,
}

impl Invocation {
    /// Decodes the arguments.
    pub fn input<A: PayloadArgs>(&self) -> Result<A, HandlerError> {
        A::from_payloads(&self.input).map_err(HandlerError::Payload)
    }

    /// Encodes a query's answer.
    pub fn reply<T: PayloadValue>(value: &T) -> Result<Vec<Payload>, HandlerError> {
        Ok(vec![value.to_payload().map_err(HandlerError::Payload)?])
    }
}

/// Why a signal or query handler did not handle its invocation.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The workflow has no handler of that name.
    #[error("no handler of that name")]
    Unknown,
    /// The arguments or the answer could not be converted.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The handler failed.
    #[error("{0}")]
    Failed(Box<Failure>),
}

/// The typed stub of a [`Workflow`]'s run method, for clients and parent workflows.
///
/// ```
/// # use workflow_core::prelude::*;
/// # struct Greeter;
/// # impl Workflow for Greeter {
/// #     const NAME: &'static str = "Greeter";
/// #     type Input = String;
/// #     type Output = String;
/// #     fn new(_: &WorkflowInfo, _: &String) -> Self { Greeter }
/// #     async fn run(_: WorkflowContext<Self>, name: String) -> WorkflowResult<String> { Ok(name) }
/// # }
/// const GREETER: WorkflowRun<Greeter> = WorkflowRun::new();
/// assert_eq!(GREETER.name(), "Greeter");
/// ```
pub struct WorkflowRun<W>(PhantomData<fn() -> W>);

impl<W> WorkflowRun<W> {
    /// The stub.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<W> Default for WorkflowRun<W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<W> Clone for WorkflowRun<W> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W> Copy for WorkflowRun<W> {}

impl<W> std::fmt::Debug for WorkflowRun<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkflowRun")
    }
}

impl<W: Workflow> WorkflowDefinition for WorkflowRun<W> {
    type Input = W::Input;
    type Output = W::Output;
    fn name(&self) -> &str {
        W::NAME
    }
}

/// Deterministic ways to wait for several futures. `select` polls its arguments in order,
/// so the same history always picks the same winner; avoid `futures::select!`, which picks
/// at random.
pub mod future {
    pub use futures_util::future::{
        Either, join, join_all, join3, join4, select, select_all, try_join, try_join_all, try_join3,
    };
}
