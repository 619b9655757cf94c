//! Temporal's size limits, enforced with errors that give the size and the limit.

use temporalio_protos::temporal::api::common::v1::Payloads;

/// Largest payload set one field may carry (Temporal's default blob size limit).
pub const MAX_PAYLOAD_SIZE: usize = 2 * 1024 * 1024;
/// Largest gRPC message the server accepts.
pub const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// Most long polls (task and history) open at once; more are refused, not queued.
pub const MAX_OPEN_POLLS: usize = 4096;

/// The encoded size of the payloads' data and metadata.
pub fn payloads_size(payloads: &Option<Payloads>) -> usize {
    payloads.as_ref().map_or(0, |p| {
        p.payloads
            .iter()
            .map(|p| p.data.len() + p.metadata.values().map(Vec::len).sum::<usize>())
            .sum()
    })
}

/// Refuses payloads over the limit, naming the field.
pub fn check_payloads(payloads: &Option<Payloads>, field: &str) -> Result<(), tonic::Status> {
    let size = payloads_size(payloads);
    if size > MAX_PAYLOAD_SIZE {
        return Err(tonic::Status::invalid_argument(format!(
            "{field} is {size} bytes; the limit is {MAX_PAYLOAD_SIZE}"
        )));
    }
    Ok(())
}
