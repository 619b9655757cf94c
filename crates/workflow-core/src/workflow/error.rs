//! How workflow code ends other than with a result.

use std::fmt;

use temporalio_protos::temporal::api::command::v1::ContinueAsNewWorkflowExecutionCommandAttributes;

use crate::failure::{Failure, FailureInfo};

/// What a workflow's run method returns.
pub type WorkflowResult<T> = Result<T, WorkflowError>;

/// Ends a workflow run without a result.
///
/// Any error type converts with `?`: a [`Failure`] (what a failed activity, timer or child
/// returns) is kept as it is, and any other error becomes an application failure named after
/// its type. Returning `Err` fails the workflow, or cancels it when cancellation was requested
/// and the failure is a cancellation. A panic in workflow code fails the workflow *task*
/// instead, so a fixed worker can continue the workflow.
///
/// ```
/// use workflow_core::workflow::{WorkflowError, WorkflowResult};
///
/// fn parse(input: &str) -> WorkflowResult<u32> {
///     let n: u32 = input.parse()?; // `ParseIntError` becomes an application failure
///     if n == 0 {
///         return Err(WorkflowError::non_retryable("ZeroAmount", "amount must be positive"));
///     }
///     Ok(n)
/// }
/// assert_eq!(parse("3").unwrap(), 3);
/// let err = parse("x").unwrap_err();
/// assert_eq!(err.failure().unwrap().application_type(), Some("ParseIntError"));
/// ```
pub enum WorkflowError {
    /// The workflow fails (or is cancelled, when the failure is a cancellation).
    Failed(Box<Failure>),
    /// The workflow continues as a new run; made by `WorkflowContext::continue_as_new`.
    ContinueAsNew(Box<ContinueAsNewWorkflowExecutionCommandAttributes>),
}

impl WorkflowError {
    /// An application failure with an error type and a message.
    pub fn application(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Failed(Box::new(Failure::application(type_name, message)))
    }

    /// An application failure that a workflow retry policy does not retry.
    pub fn non_retryable(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Failed(Box::new(
            Failure::application(type_name, message).non_retryable(),
        ))
    }

    /// The failure, unless this is a continue-as-new.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Failed(failure) => Some(failure),
            Self::ContinueAsNew(_) => None,
        }
    }

    /// Whether this is a cancellation (a cancelled failure anywhere in the cause chain).
    pub fn is_cancellation(&self) -> bool {
        self.failure().is_some_and(is_cancellation)
    }
}

pub(crate) fn is_cancellation(failure: &Failure) -> bool {
    failure
        .causes()
        .any(|f| matches!(f.info, FailureInfo::Canceled { .. }))
}

impl fmt::Debug for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(failure) => f.debug_tuple("Failed").field(failure).finish(),
            Self::ContinueAsNew(attrs) => f
                .debug_struct("ContinueAsNew")
                .field("workflow_type", &attrs.workflow_type)
                .finish(),
        }
    }
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(failure) => write!(f, "workflow failed: {failure}"),
            Self::ContinueAsNew(_) => f.write_str("workflow continues as new"),
        }
    }
}

impl<E: std::error::Error + 'static> From<E> for WorkflowError {
    fn from(error: E) -> Self {
        if let Some(failure) = (&error as &dyn std::any::Any).downcast_ref::<Failure>() {
            return Self::Failed(Box::new(failure.clone()));
        }
        let full = std::any::type_name::<E>();
        let base = full.split('<').next().unwrap_or(full);
        let short = base.rsplit("::").next().unwrap_or(base);
        Self::Failed(Box::new(crate::activity::failure_from_error(short, &error)))
    }
}
