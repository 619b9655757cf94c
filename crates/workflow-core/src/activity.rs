//! What activity code sees: its context (info, heartbeats, cancellation), its error type, and
//! the trait a worker runs.
//!
//! ```
//! use workflow_core::activity::{Activity, ActivityContext, ActivityError};
//! use workflow_core::definition::ActivityDefinition;
//!
//! /// Charges a card; the struct could hold a connection pool shared by all calls.
//! struct Charge;
//!
//! impl ActivityDefinition for Charge {
//!     type Input = u64;
//!     type Output = String;
//!     fn name(&self) -> &str { "charge" }
//! }
//!
//! impl Activity for Charge {
//!     async fn execute(&self, ctx: ActivityContext, cents: u64) -> Result<String, ActivityError> {
//!         if cents == 0 {
//!             return Err(ActivityError::non_retryable("InvalidAmount", "nothing to charge"));
//!         }
//!         ctx.heartbeat(&"contacting the bank".to_string())?;
//!         Ok(format!("charged {cents} cents (attempt {})", ctx.info().attempt))
//!     }
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::definition::ActivityDefinition;
use crate::failure::Failure;
use crate::payload::{Payload, PayloadError, PayloadValue};

/// An activity a worker can run: its definition plus the code.
///
/// Activities may be unit structs or structs holding shared state (a database pool, an HTTP
/// client): the worker keeps one value and calls `execute` for every task, concurrently.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an activity implementation",
    note = "implement `Activity` (with `ActivityDefinition`) for it"
)]
pub trait Activity: ActivityDefinition {
    /// Runs one attempt.
    fn execute(
        &self,
        ctx: ActivityContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, ActivityError>> + Send;
}

/// An activity with its input and output types erased, as a worker stores it: payloads in,
/// a payload out.
pub trait DynActivity: Send + Sync {
    /// The activity type name.
    fn name(&self) -> &str;

    /// Decodes the input, runs one attempt and encodes the result. Input or a result that
    /// does not convert fails the attempt as non-retryable (retrying cannot fix it).
    fn execute(
        &self,
        ctx: ActivityContext,
        input: Vec<Payload>,
        converter: crate::payload::PayloadConverter,
    ) -> futures_util::future::BoxFuture<'static, Result<Payload, ActivityError>>;
}

struct Erased<A>(Arc<A>);

impl<A: Activity> DynActivity for Erased<A> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn execute(
        &self,
        ctx: ActivityContext,
        input: Vec<Payload>,
        converter: crate::payload::PayloadConverter,
    ) -> futures_util::future::BoxFuture<'static, Result<Payload, ActivityError>> {
        let activity = self.0.clone();
        Box::pin(async move {
            let input = converter.from_payloads::<A::Input>(&input).map_err(|e| {
                ActivityError::failure(
                    Failure::application(
                        "PayloadError",
                        format!("input of activity `{}`: {e}", activity.name()),
                    )
                    .non_retryable(),
                )
            })?;
            let output = activity.execute(ctx, input).await?;
            converter.to_payload(&output).map_err(|e| {
                ActivityError::failure(
                    Failure::application(
                        "PayloadError",
                        format!("result of activity `{}`: {e}", activity.name()),
                    )
                    .non_retryable(),
                )
            })
        })
    }
}

/// Erases an activity's types.
pub fn erase<A: Activity>(activity: A) -> Arc<dyn DynActivity> {
    Arc::new(Erased(Arc::new(activity)))
}

/// Activities that share one state value: the methods of a struct marked `#[activities]`
/// (e.g. a struct holding a database pool), registered together with
/// `Worker::register_activities`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a group of activities",
    note = "mark its impl block `#[activities]` and its activity methods `#[activity]`"
)]
pub trait Activities: Send + Sync + Sized + 'static {
    /// Adds each activity, bound to the shared state, to `sink`.
    fn register<S: ActivitySink>(self: Arc<Self>, sink: S) -> S;
}

/// Something activities are registered with (a worker).
pub trait ActivitySink: Sized {
    /// Adds one activity.
    fn add_activity<A: Activity>(self, activity: A) -> Self;
}

/// Facts about the running activity attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityInfo {
    /// Activity id, unique within the workflow.
    pub activity_id: String,
    /// Activity type name.
    pub activity_type: String,
    /// Task queue the activity was dispatched on.
    pub task_queue: String,
    /// Namespace of the calling workflow.
    pub workflow_namespace: String,
    /// Calling workflow's id.
    pub workflow_id: String,
    /// Calling workflow's run id.
    pub workflow_run_id: String,
    /// Calling workflow's type.
    pub workflow_type: String,
    /// Attempt number, starting at 1.
    pub attempt: u32,
    /// Token identifying this attempt (for completing it from elsewhere).
    pub task_token: Vec<u8>,
    /// When the activity was first scheduled.
    pub scheduled_time: Option<SystemTime>,
    /// When this attempt started.
    pub started_time: Option<SystemTime>,
    /// Limit from scheduling to completion, retries included.
    pub schedule_to_close_timeout: Option<Duration>,
    /// Limit for one attempt.
    pub start_to_close_timeout: Option<Duration>,
    /// Longest allowed gap between heartbeats.
    pub heartbeat_timeout: Option<Duration>,
}

/// Why an activity was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelReason {
    /// The workflow requested cancellation.
    Requested,
    /// The server no longer knows this attempt (it timed out or completed elsewhere).
    GoneFromServer,
    /// The worker is shutting down and its grace period is over.
    WorkerShutdown,
}

/// Sends heartbeats on behalf of an activity attempt (implemented by the worker).
pub trait HeartbeatSink: Send + Sync + 'static {
    /// Records the latest details; the sink decides when to send them.
    fn record(&self, details: Vec<Payload>);
}

/// The context of one activity attempt: its info, heartbeats and cancellation.
#[derive(Clone)]
pub struct ActivityContext {
    info: Arc<ActivityInfo>,
    heartbeat_details: Arc<Vec<Payload>>,
    sink: Arc<dyn HeartbeatSink>,
    cancel: watch::Receiver<Option<CancelReason>>,
}

impl fmt::Debug for ActivityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityContext")
            .field("info", &self.info)
            .field("cancelled", &*self.cancel.borrow())
            .finish()
    }
}

/// The worker's side of an [`ActivityContext`]: cancels it.
#[derive(Debug)]
pub struct ActivityCanceller(watch::Sender<Option<CancelReason>>);

impl ActivityCanceller {
    /// Asks the activity to stop. The first reason wins.
    pub fn cancel(&self, reason: CancelReason) {
        self.0.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }
}

impl ActivityContext {
    /// A context and the handle that cancels it. Used by workers and by tests of activities.
    pub fn new(
        info: ActivityInfo,
        heartbeat_details: Vec<Payload>,
        sink: Arc<dyn HeartbeatSink>,
    ) -> (Self, ActivityCanceller) {
        let (sender, receiver) = watch::channel(None);
        let context = Self {
            info: Arc::new(info),
            heartbeat_details: Arc::new(heartbeat_details),
            sink,
            cancel: receiver,
        };
        (context, ActivityCanceller(sender))
    }

    /// Facts about this attempt.
    pub fn info(&self) -> &ActivityInfo {
        &self.info
    }

    /// Records progress. Heartbeats are sent to the server in the background, throttled; a
    /// heartbeat is also how the worker learns that the activity was cancelled.
    pub fn heartbeat<T: PayloadValue>(&self, details: &T) -> Result<(), PayloadError> {
        let payload = details.to_payload()?;
        self.sink.record(vec![payload]);
        Ok(())
    }

    /// The details of the last heartbeat of the previous attempt, to resume from.
    pub fn last_heartbeat_details<T: PayloadValue>(&self) -> Option<Result<T, PayloadError>> {
        self.heartbeat_details.first().map(T::from_payload)
    }

    /// Why the activity was cancelled, if it was.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        *self.cancel.borrow()
    }

    /// Whether the activity was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel_reason().is_some()
    }

    /// Completes when the activity is asked to stop.
    pub async fn cancelled(&self) -> CancelReason {
        let mut receiver = self.cancel.clone();
        loop {
            if let Some(reason) = *receiver.borrow_and_update() {
                return reason;
            }
            if receiver.changed().await.is_err() {
                // The worker dropped the attempt: nothing will ever cancel it, so never return.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// How an activity attempt can end other than with a result.
///
/// Any error type converts with `?` into a retryable application failure named after the error
/// type, keeping its `source()` chain as causes.
pub enum ActivityError {
    /// An application failure; retried according to the retry policy unless non-retryable.
    Failed(Box<Failure>),
    /// The activity stopped because it was cancelled.
    Cancelled {
        /// Details to report with the cancellation.
        details: Vec<Payload>,
    },
    /// The activity will be completed later, from elsewhere, by its task token.
    WillCompleteAsync,
}

impl ActivityError {
    /// A failure the retry policy retries.
    pub fn retryable(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::failure(Failure::application(type_name, message))
    }

    /// A failure that is never retried.
    pub fn non_retryable(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::failure(Failure::application(type_name, message).non_retryable())
    }

    /// Fails with this failure as it is (details, cause chain, retryability).
    pub fn failure(failure: Failure) -> Self {
        Self::Failed(Box::new(failure))
    }

    /// Cancellation, without details.
    pub fn cancelled() -> Self {
        Self::Cancelled {
            details: Vec::new(),
        }
    }
}

impl fmt::Debug for ActivityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(failure) => f.debug_tuple("Failed").field(failure).finish(),
            Self::Cancelled { details } => f
                .debug_struct("Cancelled")
                .field("details", &details.len())
                .finish(),
            Self::WillCompleteAsync => f.write_str("WillCompleteAsync"),
        }
    }
}

impl fmt::Display for ActivityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(failure) => write!(f, "activity failed: {failure}"),
            Self::Cancelled { .. } => f.write_str("activity cancelled"),
            Self::WillCompleteAsync => f.write_str("activity will complete asynchronously"),
        }
    }
}

impl<E: std::error::Error> From<E> for ActivityError {
    fn from(error: E) -> Self {
        let full = std::any::type_name::<E>();
        // `std::io::error::Error` -> `Error`; generic arguments are dropped with the path.
        let base = full.split('<').next().unwrap_or(full);
        let short = base.rsplit("::").next().unwrap_or(base);
        Self::failure(failure_from_error(short, &error))
    }
}

pub(crate) fn failure_from_error(type_name: &str, error: &dyn std::error::Error) -> Failure {
    let mut failure = Failure::application(type_name, error.to_string());
    if let Some(source) = error.source() {
        // Causes are `dyn Error`: their type names are not known here.
        failure = failure.with_cause(failure_from_error("Error", source));
    }
    failure
}
