//! Temporal's limits, in one place, enforced with errors that name the field, its size and
//! the limit. Unless said otherwise each value is the default of the Temporal server's
//! dynamic config key named in its doc comment.

use std::time::Duration;

use temporalio_protos::temporal::api::common::v1::{Payload, Payloads};
use temporalio_protos::temporal::api::sdk::v1::UserMetadata;

/// Largest payload set one field may carry (`limit.blobSize.error`).
pub const MAX_PAYLOAD_SIZE: usize = 2 * 1024 * 1024;
/// Largest gRPC message the server accepts (this server's own limit).
pub const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// Most long polls (task and history) open at once; more are refused, not queued (this
/// server's own limit).
pub const MAX_OPEN_POLLS: usize = 4096;
/// Longest id or name, in bytes (`limit.maxIDLength`): namespace, workflow id and type, task
/// queue, activity id and type, timer id, signal name, marker name, request id, identity.
pub const MAX_ID_LENGTH: usize = 1000;
/// Most activities a run may have pending; one more fails the workflow task with
/// `PENDING_ACTIVITIES_LIMIT_EXCEEDED` (`limit.numPendingActivities.error`).
pub const MAX_PENDING_ACTIVITIES: usize = 2000;
/// Most child workflows a run may have pending; one more fails the workflow task with
/// `PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED` (`limit.numPendingChildExecutions.error`).
pub const MAX_PENDING_CHILD_WORKFLOWS: usize = 2000;
/// Most signals to other workflows a run may have pending; one more fails the workflow task
/// with `PENDING_SIGNALS_LIMIT_EXCEEDED` (`limit.numPendingSignals.error`).
pub const MAX_PENDING_SIGNALS: usize = 2000;
/// Most requests to cancel other workflows a run may have pending; one more fails the
/// workflow task with `PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED`
/// (`limit.numPendingCancelRequests.error`).
pub const MAX_PENDING_CANCEL_REQUESTS: usize = 2000;
/// Most events a run's history may hold (`limit.historyCount.error`). Temporal has no limit
/// on the commands of one workflow task; this is what bounds them: a completion whose
/// commands would take the history past it terminates the run, as Temporal does.
pub const MAX_HISTORY_EVENTS: usize = 50 * 1024;
/// Longest timer or timeout: longer ones are cut to this, as Temporal does (100 years, its
/// `maxAllowedDuration`), so deadline arithmetic never overflows.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The encoded size of the payloads' data and metadata.
pub fn payloads_size(payloads: &Option<Payloads>) -> usize {
    payloads.as_ref().map_or(0, payload_set_size)
}

/// The size of one payload set's data and metadata.
pub fn payload_set_size(payloads: &Payloads) -> usize {
    payloads.payloads.iter().map(payload_size).sum()
}

fn payload_size(payload: &Payload) -> usize {
    payload.data.len() + payload.metadata.values().map(Vec::len).sum::<usize>()
}

/// The size of a summary's and details' data and metadata.
pub fn user_metadata_size(metadata: &Option<UserMetadata>) -> usize {
    metadata.as_ref().map_or(0, |m| {
        [&m.summary, &m.details]
            .into_iter()
            .flatten()
            .map(payload_size)
            .sum()
    })
}

/// Refuses payloads over the limit, naming the field.
pub fn check_payloads(payloads: &Option<Payloads>, field: &str) -> Result<(), tonic::Status> {
    check_size(payloads_size(payloads), field)
}

/// Refuses a summary and details over the payload limit, naming the field.
pub fn check_user_metadata(
    metadata: &Option<UserMetadata>,
    field: &str,
) -> Result<(), tonic::Status> {
    check_size(user_metadata_size(metadata), field)
}

fn check_size(size: usize, field: &str) -> Result<(), tonic::Status> {
    if size > MAX_PAYLOAD_SIZE {
        return Err(tonic::Status::invalid_argument(format!(
            "{field} is {size} bytes; the limit is {MAX_PAYLOAD_SIZE}"
        )));
    }
    Ok(())
}

/// Refuses an id or name longer than [`MAX_ID_LENGTH`], naming the field.
pub fn check_length(value: &str, field: &str) -> Result<(), String> {
    if value.len() > MAX_ID_LENGTH {
        return Err(format!(
            "{field} is {} bytes; the limit is {MAX_ID_LENGTH}",
            value.len()
        ));
    }
    Ok(())
}

/// [`check_length`] for each `(value, field)` of a request, as a gRPC INVALID_ARGUMENT.
pub fn check_request_lengths(fields: &[(&str, &str)]) -> Result<(), tonic::Status> {
    fields.iter().try_for_each(|(value, field)| {
        check_length(value, field).map_err(tonic::Status::invalid_argument)
    })
}

/// Checks a timer or timeout as Temporal does: seconds and nanos of different signs and
/// negative durations are refused; longer than [`MAX_DURATION`] is cut to it, in place, so
/// what is recorded is what is used. Unset and zero stay as they are.
pub fn check_duration(
    value: &mut Option<prost_types::Duration>,
    field: &str,
) -> Result<(), String> {
    let Some(d) = value.as_mut() else {
        return Ok(());
    };
    if (d.seconds > 0 && d.nanos < 0) || (d.seconds < 0 && d.nanos > 0) {
        return Err(format!(
            "{field} is invalid: its seconds and nanos have different signs"
        ));
    }
    if d.seconds < 0 || d.nanos < 0 {
        return Err(format!("{field} is invalid: it is negative"));
    }
    // Non-negative: as a `Duration` (nanos carried into seconds, saturating) it is exact.
    let length = Duration::try_from(*d).unwrap_or(Duration::MAX);
    if length > MAX_DURATION {
        *d = prost_types::Duration {
            seconds: MAX_DURATION.as_secs() as i64,
            nanos: 0,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_refused_when_negative_or_mixed_and_cut_when_too_long() {
        let mut negative = Some(prost_types::Duration {
            seconds: -1,
            nanos: 0,
        });
        assert!(
            check_duration(&mut negative, "t")
                .unwrap_err()
                .contains("negative")
        );
        let mut mixed = Some(prost_types::Duration {
            seconds: 1,
            nanos: -1,
        });
        assert!(
            check_duration(&mut mixed, "t")
                .unwrap_err()
                .contains("signs")
        );
        let mut huge = Some(prost_types::Duration {
            seconds: i64::MAX,
            nanos: 999_999_999,
        });
        check_duration(&mut huge, "t").unwrap();
        assert_eq!(huge.unwrap().seconds, MAX_DURATION.as_secs() as i64);
        let mut unnormalised = Some(prost_types::Duration {
            seconds: 1,
            nanos: 1_500_000_000,
        });
        check_duration(&mut unnormalised, "t").unwrap();
        assert_eq!(unnormalised.unwrap().nanos, 1_500_000_000);
    }
}
