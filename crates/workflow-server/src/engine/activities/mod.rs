//! Activity tasks: scheduled, queued and handed out (`dispatch`), their timeouts and
//! retries with backoff per retry policy (`timeouts`), and workers' answers: completion,
//! failure, cancellation, heartbeats (`answers`).

mod answers;
mod dispatch;
mod timeouts;

pub(crate) use answers::ActivityAnswer;
pub(crate) use dispatch::{request_cancel, requeue_after_restart, schedule};
pub(crate) use timeouts::on_deadline;
