//! Retry policy math, shared by activities and workflow runs: Temporal's defaults and the
//! backoff before the next attempt.

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::common::v1::RetryPolicy;
use temporalio_protos::temporal::api::enums::v1::{RetryState, TimeoutType};
use temporalio_protos::temporal::api::failure::v1::{Failure, failure};

use super::record::{duration, proto_duration};

/// Temporal's default activity retry policy: 1 s, doubling, at most 100 s apart, forever.
pub(crate) fn default_retry_policy(given: Option<RetryPolicy>) -> RetryPolicy {
    let mut policy = given.unwrap_or_default();
    if duration(&policy.initial_interval).is_none() {
        policy.initial_interval = proto_duration(Duration::from_secs(1));
    }
    if policy.backoff_coefficient < 1.0 {
        policy.backoff_coefficient = 2.0;
    }
    if duration(&policy.maximum_interval).is_none() {
        let initial = duration(&policy.initial_interval).unwrap_or(Duration::from_secs(1));
        policy.maximum_interval = proto_duration(initial * 100);
    }
    policy
}

/// What a retry policy says about attempt `attempt + 1` after `failure`: the backoff to
/// wait, or why there is no retry. `deadline` is when retrying must end.
pub(crate) fn retry_backoff(
    policy: &RetryPolicy,
    attempt: i32,
    failure: &Failure,
    now: SystemTime,
    deadline: Option<SystemTime>,
) -> Result<Duration, RetryState> {
    let failure_type = match &failure.failure_info {
        Some(failure::FailureInfo::ApplicationFailureInfo(info)) => {
            if info.non_retryable {
                return Err(RetryState::NonRetryableFailure);
            }
            info.r#type.clone()
        }
        Some(failure::FailureInfo::TimeoutFailureInfo(info)) => {
            let kind = TimeoutType::try_from(info.timeout_type).unwrap_or(TimeoutType::Unspecified);
            format!(
                "TemporalTimeout:{}",
                kind.as_str_name().trim_start_matches("TIMEOUT_TYPE_")
            )
        }
        _ => String::new(),
    };
    if policy.non_retryable_error_types.contains(&failure_type) {
        return Err(RetryState::NonRetryableFailure);
    }
    if policy.maximum_attempts > 0 && attempt >= policy.maximum_attempts {
        return Err(RetryState::MaximumAttemptsReached);
    }
    let initial = duration(&policy.initial_interval).unwrap_or(Duration::from_secs(1));
    let maximum = duration(&policy.maximum_interval).unwrap_or(initial * 100);
    let factor = policy
        .backoff_coefficient
        .max(1.0)
        .powi(attempt.saturating_sub(1));
    let backoff = initial.mul_f64(factor.min(1e9)).min(maximum);
    if deadline.is_some_and(|d| now + backoff >= d) {
        return Err(RetryState::Timeout);
    }
    Ok(backoff)
}
