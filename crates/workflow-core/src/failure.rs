//! Temporal's `Failure` as a Rust error, with its cause chain.
//!
//! Every SDK reports errors across the wire as a `temporal.api.failure.v1.Failure`: a message,
//! a stack trace, a kind with its own fields (application, timeout, cancelled, …) and an
//! optional cause. [`Failure`] is that, typed; it converts to and from the proto losslessly
//! and implements [`std::error::Error`] with the cause as its `source()`.
//!
//! ```
//! use workflow_core::failure::{Failure, FailureInfo};
//!
//! let failure = Failure::application("PaymentDeclined", "card expired")
//!     .non_retryable()
//!     .with_cause(Failure::application("Upstream", "HTTP 402"));
//! let proto = failure.to_proto();
//! let back = Failure::from_proto(proto);
//! assert_eq!(back, failure);
//! assert_eq!(back.application_type(), Some("PaymentDeclined"));
//! assert_eq!(back.causes().count(), 2);
//! ```

use std::fmt;
use std::time::Duration;

use temporalio_protos::temporal::api::common::v1::{
    ActivityType, Payload, Payloads, WorkflowExecution, WorkflowType,
};
pub use temporalio_protos::temporal::api::enums::v1::{
    ApplicationErrorCategory, RetryState, TimeoutType,
};
use temporalio_protos::temporal::api::failure::v1 as proto;

use crate::payload::{PayloadError, PayloadValue};

/// A failure as Temporal records it, with its cause chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Human-readable message.
    pub message: String,
    /// The SDK or language that produced the failure (Python's SDK writes `"PythonSDK"`).
    pub source: String,
    /// Stack trace as text, if the producer attached one.
    pub stack_trace: String,
    /// What kind of failure this is, with the kind's own fields.
    pub info: FailureInfo,
    /// The failure that caused this one.
    pub cause: Option<Box<Failure>>,
}

/// The kind of a [`Failure`], with the fields Temporal records for that kind.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FailureInfo {
    /// An error raised by workflow or activity code.
    Application(ApplicationFailure),
    /// A timeout fired.
    Timeout {
        /// Which timeout.
        timeout_type: TimeoutType,
        /// Details of the last heartbeat before an activity timed out.
        last_heartbeat_details: Vec<Payload>,
    },
    /// The work was cancelled.
    Canceled {
        /// Details attached to the cancellation.
        details: Vec<Payload>,
        /// Who cancelled.
        identity: String,
    },
    /// The workflow was terminated.
    Terminated {
        /// Who terminated.
        identity: String,
    },
    /// The server failed the work.
    Server {
        /// Whether retrying can help.
        non_retryable: bool,
    },
    /// The workflow was reset.
    ResetWorkflow {
        /// Details of the last heartbeat.
        last_heartbeat_details: Vec<Payload>,
    },
    /// An activity failed; the cause says why.
    Activity(ActivityFailure),
    /// A child workflow failed; the cause says why.
    ChildWorkflow(ChildWorkflowFailure),
    /// A Nexus failure, kept as received.
    Nexus(proto::failure::FailureInfo),
    /// The producer set no kind.
    Unspecified,
}

/// The fields of an application failure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplicationFailure {
    /// The error type name (e.g. a Python exception class or a Rust error name).
    pub type_name: String,
    /// Whether the retry policy must not retry it.
    pub non_retryable: bool,
    /// Extra values attached to the error.
    pub details: Vec<Payload>,
    /// Overrides the retry policy's next delay.
    pub next_retry_delay: Option<Duration>,
    /// Benign errors are not logged as errors by the server and SDKs.
    pub category: ApplicationErrorCategory,
}

/// The fields of an activity failure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActivityFailure {
    /// Activity type name.
    pub activity_type: String,
    /// Activity id within its workflow.
    pub activity_id: String,
    /// Event id of `ActivityTaskScheduled`.
    pub scheduled_event_id: i64,
    /// Event id of `ActivityTaskStarted`.
    pub started_event_id: i64,
    /// Identity of the worker that ran the last attempt.
    pub identity: String,
    /// Why retries stopped.
    pub retry_state: RetryState,
}

/// The fields of a child workflow failure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChildWorkflowFailure {
    /// Namespace of the child.
    pub namespace: String,
    /// Workflow id of the child.
    pub workflow_id: String,
    /// Run id of the child.
    pub run_id: String,
    /// Workflow type of the child.
    pub workflow_type: String,
    /// Event id of `StartChildWorkflowExecutionInitiated`.
    pub initiated_event_id: i64,
    /// Event id of `ChildWorkflowExecutionStarted`.
    pub started_event_id: i64,
    /// Why retries stopped.
    pub retry_state: RetryState,
}

impl Failure {
    /// An application failure with an error type name and a message; retryable by default.
    pub fn application(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: String::new(),
            stack_trace: String::new(),
            info: FailureInfo::Application(ApplicationFailure {
                type_name: type_name.into(),
                ..Default::default()
            }),
            cause: None,
        }
    }

    /// Marks an application failure as not retryable.
    pub fn non_retryable(mut self) -> Self {
        if let FailureInfo::Application(app) = &mut self.info {
            app.non_retryable = true;
        }
        self
    }

    /// Attaches a detail value to an application failure.
    pub fn with_detail<T: PayloadValue>(mut self, detail: &T) -> Result<Self, PayloadError> {
        if let FailureInfo::Application(app) = &mut self.info {
            app.details.push(detail.to_payload()?);
        }
        Ok(self)
    }

    /// Sets the cause.
    pub fn with_cause(mut self, cause: Failure) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// The application error type, if this is an application failure.
    pub fn application_type(&self) -> Option<&str> {
        match &self.info {
            FailureInfo::Application(app) => Some(&app.type_name),
            _ => None,
        }
    }

    /// This failure followed by its causes, outermost first.
    pub fn causes(&self) -> impl Iterator<Item = &Failure> {
        std::iter::successors(Some(self), |f| f.cause.as_deref())
    }

    /// The innermost cause (this failure if it has none).
    pub fn root_cause(&self) -> &Failure {
        self.causes().last().unwrap_or(self)
    }

    /// Decodes the first detail of an application failure.
    pub fn detail<T: PayloadValue>(&self) -> Option<Result<T, PayloadError>> {
        match &self.info {
            FailureInfo::Application(app) => app.details.first().map(T::from_payload),
            FailureInfo::Canceled { details, .. } => details.first().map(T::from_payload),
            _ => None,
        }
    }

    /// Reads a failure from its proto form. Attributes that the producer encoded
    /// (`encoded_attributes`, as SDKs do when failure encryption is on) are decoded when they
    /// are plain JSON.
    pub fn from_proto(failure: proto::Failure) -> Self {
        let mut message = failure.message;
        let mut stack_trace = failure.stack_trace;
        if let Some(encoded) = failure.encoded_attributes.as_ref()
            && let Ok(attrs) = serde_json::from_slice::<serde_json::Value>(&encoded.data)
        {
            if let Some(m) = attrs.get("message").and_then(|v| v.as_str()) {
                message = m.to_owned();
            }
            if let Some(s) = attrs.get("stack_trace").and_then(|v| v.as_str()) {
                stack_trace = s.to_owned();
            }
        }
        let info = match failure.failure_info {
            None => FailureInfo::Unspecified,
            Some(proto::failure::FailureInfo::ApplicationFailureInfo(i)) => {
                FailureInfo::Application(ApplicationFailure {
                    category: i.category(),
                    type_name: i.r#type,
                    non_retryable: i.non_retryable,
                    details: payloads(i.details),
                    next_retry_delay: i.next_retry_delay.and_then(|d| d.try_into().ok()),
                })
            }
            Some(proto::failure::FailureInfo::TimeoutFailureInfo(i)) => FailureInfo::Timeout {
                timeout_type: i.timeout_type(),
                last_heartbeat_details: payloads(i.last_heartbeat_details),
            },
            Some(proto::failure::FailureInfo::CanceledFailureInfo(i)) => FailureInfo::Canceled {
                details: payloads(i.details),
                identity: i.identity,
            },
            Some(proto::failure::FailureInfo::TerminatedFailureInfo(i)) => {
                FailureInfo::Terminated {
                    identity: i.identity,
                }
            }
            Some(proto::failure::FailureInfo::ServerFailureInfo(i)) => FailureInfo::Server {
                non_retryable: i.non_retryable,
            },
            Some(proto::failure::FailureInfo::ResetWorkflowFailureInfo(i)) => {
                FailureInfo::ResetWorkflow {
                    last_heartbeat_details: payloads(i.last_heartbeat_details),
                }
            }
            Some(proto::failure::FailureInfo::ActivityFailureInfo(i)) => {
                FailureInfo::Activity(ActivityFailure {
                    retry_state: i.retry_state(),
                    activity_type: i.activity_type.map(|t| t.name).unwrap_or_default(),
                    activity_id: i.activity_id,
                    scheduled_event_id: i.scheduled_event_id,
                    started_event_id: i.started_event_id,
                    identity: i.identity,
                })
            }
            Some(proto::failure::FailureInfo::ChildWorkflowExecutionFailureInfo(i)) => {
                let retry_state = i.retry_state();
                let execution = i.workflow_execution.unwrap_or_default();
                FailureInfo::ChildWorkflow(ChildWorkflowFailure {
                    namespace: i.namespace,
                    workflow_id: execution.workflow_id,
                    run_id: execution.run_id,
                    workflow_type: i.workflow_type.map(|t| t.name).unwrap_or_default(),
                    initiated_event_id: i.initiated_event_id,
                    started_event_id: i.started_event_id,
                    retry_state,
                })
            }
            Some(nexus) => FailureInfo::Nexus(nexus),
        };
        Self {
            message,
            source: failure.source,
            stack_trace,
            info,
            cause: failure.cause.map(|c| Box::new(Self::from_proto(*c))),
        }
    }

    /// Writes the failure in its proto form.
    pub fn to_proto(&self) -> proto::Failure {
        use proto::failure::FailureInfo as P;
        let failure_info = match &self.info {
            FailureInfo::Unspecified => None,
            FailureInfo::Application(app) => {
                Some(P::ApplicationFailureInfo(proto::ApplicationFailureInfo {
                    r#type: app.type_name.clone(),
                    non_retryable: app.non_retryable,
                    details: to_payloads(&app.details),
                    next_retry_delay: app.next_retry_delay.and_then(|d| d.try_into().ok()),
                    category: app.category as i32,
                }))
            }
            FailureInfo::Timeout {
                timeout_type,
                last_heartbeat_details,
            } => Some(P::TimeoutFailureInfo(proto::TimeoutFailureInfo {
                timeout_type: *timeout_type as i32,
                last_heartbeat_details: to_payloads(last_heartbeat_details),
            })),
            FailureInfo::Canceled { details, identity } => {
                Some(P::CanceledFailureInfo(proto::CanceledFailureInfo {
                    details: to_payloads(details),
                    identity: identity.clone(),
                }))
            }
            FailureInfo::Terminated { identity } => {
                Some(P::TerminatedFailureInfo(proto::TerminatedFailureInfo {
                    identity: identity.clone(),
                }))
            }
            FailureInfo::Server { non_retryable } => {
                Some(P::ServerFailureInfo(proto::ServerFailureInfo {
                    non_retryable: *non_retryable,
                }))
            }
            FailureInfo::ResetWorkflow {
                last_heartbeat_details,
            } => Some(P::ResetWorkflowFailureInfo(
                proto::ResetWorkflowFailureInfo {
                    last_heartbeat_details: to_payloads(last_heartbeat_details),
                },
            )),
            FailureInfo::Activity(a) => Some(P::ActivityFailureInfo(proto::ActivityFailureInfo {
                scheduled_event_id: a.scheduled_event_id,
                started_event_id: a.started_event_id,
                identity: a.identity.clone(),
                activity_type: Some(ActivityType {
                    name: a.activity_type.clone(),
                }),
                activity_id: a.activity_id.clone(),
                retry_state: a.retry_state as i32,
            })),
            FailureInfo::ChildWorkflow(c) => Some(P::ChildWorkflowExecutionFailureInfo(
                proto::ChildWorkflowExecutionFailureInfo {
                    namespace: c.namespace.clone(),
                    workflow_execution: Some(WorkflowExecution {
                        workflow_id: c.workflow_id.clone(),
                        run_id: c.run_id.clone(),
                    }),
                    workflow_type: Some(WorkflowType {
                        name: c.workflow_type.clone(),
                    }),
                    initiated_event_id: c.initiated_event_id,
                    started_event_id: c.started_event_id,
                    retry_state: c.retry_state as i32,
                },
            )),
            FailureInfo::Nexus(raw) => Some(raw.clone()),
        };
        proto::Failure {
            message: self.message.clone(),
            source: self.source.clone(),
            stack_trace: self.stack_trace.clone(),
            encoded_attributes: None,
            cause: self.cause.as_ref().map(|c| Box::new(c.to_proto())),
            failure_info,
        }
    }

    fn kind_name(&self) -> &str {
        match &self.info {
            FailureInfo::Application(app) if !app.type_name.is_empty() => &app.type_name,
            FailureInfo::Application(_) => "ApplicationFailure",
            FailureInfo::Timeout { .. } => "TimeoutFailure",
            FailureInfo::Canceled { .. } => "CanceledFailure",
            FailureInfo::Terminated { .. } => "TerminatedFailure",
            FailureInfo::Server { .. } => "ServerFailure",
            FailureInfo::ResetWorkflow { .. } => "ResetWorkflowFailure",
            FailureInfo::Activity(_) => "ActivityFailure",
            FailureInfo::ChildWorkflow(_) => "ChildWorkflowFailure",
            FailureInfo::Nexus(_) => "NexusFailure",
            FailureInfo::Unspecified => "Failure",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind_name(), self.message)?;
        match &self.info {
            FailureInfo::Activity(a) => write!(
                f,
                " (activity `{}` id {}, {:?})",
                a.activity_type, a.activity_id, a.retry_state
            ),
            FailureInfo::ChildWorkflow(c) => write!(
                f,
                " (child workflow `{}` id {}, {:?})",
                c.workflow_type, c.workflow_id, c.retry_state
            ),
            FailureInfo::Timeout { timeout_type, .. } => write!(f, " ({timeout_type:?})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl From<proto::Failure> for Failure {
    fn from(failure: proto::Failure) -> Self {
        Self::from_proto(failure)
    }
}

impl From<&Failure> for proto::Failure {
    fn from(failure: &Failure) -> Self {
        failure.to_proto()
    }
}

fn payloads(p: Option<Payloads>) -> Vec<Payload> {
    p.map(|p| p.payloads).unwrap_or_default()
}

fn to_payloads(p: &[Payload]) -> Option<Payloads> {
    (!p.is_empty()).then(|| Payloads {
        payloads: p.to_vec(),
    })
}
