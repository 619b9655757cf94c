//! Options shared by the client and workflow code: how a workflow is started and retried.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::common::v1 as common;
use temporalio_protos::temporal::api::enums::v1 as enums;
use temporalio_protos::temporal::api::sdk::v1 as sdk;

use crate::payload::{Payload, PayloadError, PayloadValue};

/// How failed workflows or activities are retried, as in Temporal.
///
/// ```
/// use std::time::Duration;
/// use workflow_core::options::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .initial_interval(Duration::from_millis(500))
///     .maximum_attempts(5)
///     .non_retryable_error_types(["InvalidInput"]);
/// assert_eq!(policy.maximum_attempts, 5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delay before the first retry. Default 1 s.
    pub initial_interval: Duration,
    /// Factor applied to the delay after each retry. Default 2.0.
    pub backoff_coefficient: f64,
    /// Upper bound of the delay; `None` means the server's default (100 × initial).
    pub maximum_interval: Option<Duration>,
    /// Attempts in all, the first included; 0 means unlimited.
    pub maximum_attempts: u32,
    /// Application error types that are never retried.
    pub non_retryable_error_types: Vec<String>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(1),
            backoff_coefficient: 2.0,
            maximum_interval: None,
            maximum_attempts: 0,
            non_retryable_error_types: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// Sets the delay before the first retry.
    pub fn initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// Sets the backoff coefficient.
    pub fn backoff_coefficient(mut self, coefficient: f64) -> Self {
        self.backoff_coefficient = coefficient;
        self
    }

    /// Sets the largest delay between attempts.
    pub fn maximum_interval(mut self, interval: Duration) -> Self {
        self.maximum_interval = Some(interval);
        self
    }

    /// Sets the number of attempts, the first included (0: unlimited).
    pub fn maximum_attempts(mut self, attempts: u32) -> Self {
        self.maximum_attempts = attempts;
        self
    }

    /// Sets the application error types that are not retried.
    pub fn non_retryable_error_types<S: Into<String>>(
        mut self,
        types: impl IntoIterator<Item = S>,
    ) -> Self {
        self.non_retryable_error_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// The policy in its proto form.
    pub fn to_proto(&self) -> common::RetryPolicy {
        common::RetryPolicy {
            initial_interval: duration_to_proto(self.initial_interval),
            backoff_coefficient: self.backoff_coefficient,
            maximum_interval: self.maximum_interval.and_then(duration_to_proto),
            maximum_attempts: i32::try_from(self.maximum_attempts).unwrap_or(i32::MAX),
            non_retryable_error_types: self.non_retryable_error_types.clone(),
        }
    }
}

/// What happens when a workflow is started with the id of a *closed* workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkflowIdReusePolicy {
    /// Start a new run whatever the old one's outcome (Temporal's default).
    #[default]
    AllowDuplicate,
    /// Start a new run only if the last one failed, was cancelled, terminated or timed out.
    AllowDuplicateFailedOnly,
    /// Never reuse the id.
    RejectDuplicate,
}

impl WorkflowIdReusePolicy {
    pub(crate) fn to_proto(self) -> enums::WorkflowIdReusePolicy {
        match self {
            Self::AllowDuplicate => enums::WorkflowIdReusePolicy::AllowDuplicate,
            Self::AllowDuplicateFailedOnly => {
                enums::WorkflowIdReusePolicy::AllowDuplicateFailedOnly
            }
            Self::RejectDuplicate => enums::WorkflowIdReusePolicy::RejectDuplicate,
        }
    }
}

/// What happens when a workflow is started with the id of a *running* workflow.
///
/// When unset, the server decides: a start fails with "already started", a signal-with-start
/// signals the running workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowIdConflictPolicy {
    /// Fail with "already started" (not accepted by signal-with-start).
    Fail,
    /// Return a handle to the running workflow instead.
    UseExisting,
    /// Terminate the running workflow and start a new one.
    TerminateExisting,
}

impl WorkflowIdConflictPolicy {
    fn to_proto(self) -> enums::WorkflowIdConflictPolicy {
        match self {
            Self::Fail => enums::WorkflowIdConflictPolicy::Fail,
            Self::UseExisting => enums::WorkflowIdConflictPolicy::UseExisting,
            Self::TerminateExisting => enums::WorkflowIdConflictPolicy::TerminateExisting,
        }
    }
}

/// A search attribute value, typed as the server indexes it.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchAttributeValue {
    /// Exact-match string.
    Keyword(String),
    /// Full-text string.
    Text(String),
    /// 64-bit integer.
    Int(i64),
    /// Floating point.
    Double(f64),
    /// Boolean.
    Bool(bool),
    /// Point in time, as RFC 3339 text (e.g. `2026-11-24T10:00:00Z`).
    Datetime(String),
    /// List of exact-match strings.
    KeywordList(Vec<String>),
}

impl SearchAttributeValue {
    fn type_name(&self) -> &'static str {
        match self {
            Self::Keyword(_) => "Keyword",
            Self::Text(_) => "Text",
            Self::Int(_) => "Int",
            Self::Double(_) => "Double",
            Self::Bool(_) => "Bool",
            Self::Datetime(_) => "Datetime",
            Self::KeywordList(_) => "KeywordList",
        }
    }

    /// The value as a payload, with the `type` metadata the server reads.
    pub fn to_payload(&self) -> Result<Payload, PayloadError> {
        let mut payload = match self {
            Self::Keyword(s) | Self::Text(s) | Self::Datetime(s) => s.to_payload(),
            Self::Int(i) => i.to_payload(),
            Self::Double(d) => d.to_payload(),
            Self::Bool(b) => b.to_payload(),
            Self::KeywordList(l) => l.to_payload(),
        }?;
        payload
            .metadata
            .insert("type".to_owned(), self.type_name().as_bytes().to_vec());
        Ok(payload)
    }

    /// Reads a value from a payload, using its `type` metadata when present and the JSON
    /// shape otherwise.
    pub fn from_payload(payload: &Payload) -> Result<Self, PayloadError> {
        let declared = payload.metadata.get("type").map(Vec::as_slice);
        let value: serde_json::Value = serde_json::Value::from_payload(payload)?;
        let mismatch = |expected: &str| PayloadError::Decode {
            type_name: "SearchAttributeValue",
            encoding: "json/plain".to_owned(),
            message: format!("expected {expected}, found {value}"),
        };
        Ok(match (declared, &value) {
            (Some(b"Text"), serde_json::Value::String(s)) => Self::Text(s.clone()),
            (Some(b"Datetime"), serde_json::Value::String(s)) => Self::Datetime(s.clone()),
            (_, serde_json::Value::String(s)) => Self::Keyword(s.clone()),
            (Some(b"Double"), serde_json::Value::Number(n)) => {
                Self::Double(n.as_f64().ok_or_else(|| mismatch("a double"))?)
            }
            (_, serde_json::Value::Number(n)) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Double(n.as_f64().ok_or_else(|| mismatch("a number"))?),
            },
            (_, serde_json::Value::Bool(b)) => Self::Bool(*b),
            (_, serde_json::Value::Array(items)) => Self::KeywordList(
                items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| mismatch("strings"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(mismatch("a search attribute value")),
        })
    }
}

/// Typed search attributes, indexed by the server for visibility queries.
///
/// ```
/// use workflow_core::options::{SearchAttributes, SearchAttributeValue};
/// let attrs = SearchAttributes::new().keyword("CustomerId", "c-42").int("Priority", 3);
/// assert_eq!(attrs.get("Priority"), Some(&SearchAttributeValue::Int(3)));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchAttributes(pub HashMap<String, SearchAttributeValue>);

impl SearchAttributes {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an attribute.
    pub fn insert(mut self, name: impl Into<String>, value: SearchAttributeValue) -> Self {
        self.0.insert(name.into(), value);
        self
    }

    /// Sets a `Keyword` attribute.
    pub fn keyword(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, SearchAttributeValue::Keyword(value.into()))
    }

    /// Sets a `Text` attribute.
    pub fn text(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, SearchAttributeValue::Text(value.into()))
    }

    /// Sets an `Int` attribute.
    pub fn int(self, name: impl Into<String>, value: i64) -> Self {
        self.insert(name, SearchAttributeValue::Int(value))
    }

    /// Sets a `Double` attribute.
    pub fn double(self, name: impl Into<String>, value: f64) -> Self {
        self.insert(name, SearchAttributeValue::Double(value))
    }

    /// Sets a `Bool` attribute.
    pub fn bool(self, name: impl Into<String>, value: bool) -> Self {
        self.insert(name, SearchAttributeValue::Bool(value))
    }

    /// The value of an attribute.
    pub fn get(&self, name: &str) -> Option<&SearchAttributeValue> {
        self.0.get(name)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attributes in their proto form.
    pub fn to_proto(&self) -> Result<common::SearchAttributes, PayloadError> {
        Ok(common::SearchAttributes {
            indexed_fields: self
                .0
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.to_payload()?)))
                .collect::<Result<_, PayloadError>>()?,
        })
    }

    /// Reads attributes from their proto form.
    pub fn from_proto(attrs: &common::SearchAttributes) -> Result<Self, PayloadError> {
        Ok(Self(
            attrs
                .indexed_fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), SearchAttributeValue::from_payload(v)?)))
                .collect::<Result<_, PayloadError>>()?,
        ))
    }
}

/// How to start a workflow: its id and task queue are required, the rest is optional.
///
/// ```
/// use std::time::Duration;
/// use workflow_core::options::{WorkflowOptions, WorkflowIdReusePolicy};
///
/// let options = WorkflowOptions::new("order-42", "orders")
///     .execution_timeout(Duration::from_secs(3600))
///     .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
///     .memo("customer", &"c-7".to_string());
/// assert_eq!(options.id, "order-42");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowOptions {
    /// Workflow id, unique among the namespace's running workflows.
    pub id: String,
    /// Task queue the workflow's tasks go to.
    pub task_queue: String,
    /// Limit for the whole execution, retries and continue-as-new included.
    pub execution_timeout: Option<Duration>,
    /// Limit for a single run.
    pub run_timeout: Option<Duration>,
    /// Limit for one workflow task (server default 10 s).
    pub task_timeout: Option<Duration>,
    /// Policy for ids of closed workflows.
    pub id_reuse_policy: WorkflowIdReusePolicy,
    /// Policy for ids of running workflows; `None` leaves the choice to the server.
    pub id_conflict_policy: Option<WorkflowIdConflictPolicy>,
    /// Retry policy of the whole workflow (none by default, as in Temporal).
    pub retry_policy: Option<RetryPolicy>,
    /// Cron schedule, e.g. `"*/5 * * * *"`.
    pub cron_schedule: Option<String>,
    /// Unindexed values shown with the workflow. An entry that failed to encode keeps its
    /// error, which the start call reports.
    pub memo: Vec<(String, Result<Payload, PayloadError>)>,
    /// Indexed values for visibility queries.
    pub search_attributes: SearchAttributes,
    /// Delay before the first workflow task is dispatched.
    pub start_delay: Option<Duration>,
    /// Idempotency key of the start request; a random one is made when absent.
    pub request_id: Option<String>,
    /// A one-line summary the Web UI and describe show for the workflow.
    pub summary: Option<String>,
    /// Longer details shown with it (Markdown in Temporal's UI).
    pub details: Option<String>,
}

impl WorkflowOptions {
    /// Options with the two required values.
    pub fn new(id: impl Into<String>, task_queue: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            task_queue: task_queue.into(),
            execution_timeout: None,
            run_timeout: None,
            task_timeout: None,
            id_reuse_policy: WorkflowIdReusePolicy::default(),
            id_conflict_policy: None,
            retry_policy: None,
            cron_schedule: None,
            memo: Vec::new(),
            search_attributes: SearchAttributes::default(),
            start_delay: None,
            request_id: None,
            summary: None,
            details: None,
        }
    }

    /// Sets the execution timeout.
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.execution_timeout = Some(timeout);
        self
    }

    /// Sets the run timeout.
    pub fn run_timeout(mut self, timeout: Duration) -> Self {
        self.run_timeout = Some(timeout);
        self
    }

    /// Sets the workflow task timeout.
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Sets the id reuse policy.
    pub fn id_reuse_policy(mut self, policy: WorkflowIdReusePolicy) -> Self {
        self.id_reuse_policy = policy;
        self
    }

    /// Sets the id conflict policy.
    pub fn id_conflict_policy(mut self, policy: WorkflowIdConflictPolicy) -> Self {
        self.id_conflict_policy = Some(policy);
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Sets a cron schedule.
    pub fn cron_schedule(mut self, schedule: impl Into<String>) -> Self {
        self.cron_schedule = Some(schedule.into());
        self
    }

    /// Adds a memo entry.
    pub fn memo<T: PayloadValue>(mut self, key: impl Into<String>, value: &T) -> Self {
        self.memo.push((key.into(), value.to_payload()));
        self
    }

    /// Sets the search attributes.
    pub fn search_attributes(mut self, attributes: SearchAttributes) -> Self {
        self.search_attributes = attributes;
        self
    }

    /// Delays the first workflow task.
    pub fn start_delay(mut self, delay: Duration) -> Self {
        self.start_delay = Some(delay);
        self
    }

    /// Sets the idempotency key of the start request.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the summary describe and the Web UI show for the workflow (Temporal's static
    /// summary).
    ///
    /// ```
    /// use workflow_core::options::WorkflowOptions;
    /// let options = WorkflowOptions::new("order-7", "orders")
    ///     .summary("Order 7 for Ada")
    ///     .details("Two items, express shipping");
    /// let metadata = options.user_metadata_proto()?.unwrap();
    /// assert_eq!(metadata.summary.unwrap().data, br#""Order 7 for Ada""#);
    /// # Ok::<(), workflow_core::payload::PayloadError>(())
    /// ```
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    /// Sets the details shown with the summary (Temporal's static details).
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// The summary and details in their proto form (JSON strings, as the other SDKs send
    /// them), or `None` when neither is set.
    pub fn user_metadata_proto(&self) -> Result<Option<sdk::UserMetadata>, PayloadError> {
        user_metadata(self.summary.as_deref(), self.details.as_deref())
    }

    /// The id reuse policy as the proto enum value.
    pub fn id_reuse_policy_proto(&self) -> i32 {
        self.id_reuse_policy.to_proto() as i32
    }

    /// The id conflict policy as the proto enum value (0, unspecified, when unset).
    pub fn id_conflict_policy_proto(&self) -> i32 {
        self.id_conflict_policy.map_or(0, |p| p.to_proto() as i32)
    }

    /// The memo in its proto form, or the first entry's encoding error.
    pub fn memo_proto(&self) -> Result<Option<common::Memo>, PayloadError> {
        if self.memo.is_empty() {
            return Ok(None);
        }
        let fields = self
            .memo
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.clone()?)))
            .collect::<Result<_, PayloadError>>()?;
        Ok(Some(common::Memo { fields }))
    }
}

/// A summary and details as Temporal's `UserMetadata`: each a JSON string payload.
pub(crate) fn user_metadata(
    summary: Option<&str>,
    details: Option<&str>,
) -> Result<Option<sdk::UserMetadata>, PayloadError> {
    if summary.is_none() && details.is_none() {
        return Ok(None);
    }
    let encode = |text: Option<&str>| text.map(|t| t.to_owned().to_payload()).transpose();
    Ok(Some(sdk::UserMetadata {
        summary: encode(summary)?,
        details: encode(details)?,
    }))
}

/// A `std` duration as a proto duration (`None` for a zero or out-of-range duration, which
/// Temporal reads as "not set").
pub fn duration_to_proto(duration: Duration) -> Option<prost_types::Duration> {
    if duration.is_zero() {
        return None;
    }
    duration.try_into().ok()
}

/// A proto duration as a `std` duration (`None` when negative).
pub fn duration_from_proto(duration: &prost_types::Duration) -> Option<Duration> {
    Duration::try_from(*duration).ok()
}

/// A proto timestamp as a `SystemTime`.
pub fn time_from_proto(timestamp: &prost_types::Timestamp) -> Option<SystemTime> {
    SystemTime::try_from(*timestamp).ok()
}
