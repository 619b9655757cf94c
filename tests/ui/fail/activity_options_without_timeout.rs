use workflow_core::prelude::*;

fn main() {
    let _options = ActivityOptions::default();
    let _literal = ActivityOptions {
        heartbeat_timeout: None,
        retry_policy: None,
        task_queue: None,
        activity_id: None,
        schedule_to_start_timeout: None,
        cancellation_type: Default::default(),
        summary: None,
    };
}
