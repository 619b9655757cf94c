//! The engine's lifecycle steps, one request at a time, without a server: an engine over
//! the in-memory store whose clock stands still until a test moves it, driven as the
//! frontend drives it, with a worker played by the test.

mod activities;
mod children;
mod close;
mod read_back;
mod signals;
mod start;
mod successors;
mod timers;
mod updates;
mod workflow_tasks;

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::command::v1::command::Attributes as C;
use temporalio_protos::temporal::api::command::v1::{self as cmd, Command};
use temporalio_protos::temporal::api::common::v1::{
    ActivityType, Payload, Payloads, RetryPolicy, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::enums::v1::{CommandType, EventType};
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::execution::Execution;
use super::{Engine, EngineError, TimeSkipping};
use crate::store::MemoryStore;

pub(super) const NAMESPACE: &str = "default";
pub(super) const QUEUE: &str = "queue";

/// An engine whose clock only moves when the test says so.
pub(super) struct Harness {
    pub(super) engine: Engine,
}

impl Harness {
    /// An engine that keeps `cache` closed runs in memory.
    pub(super) fn with_cache(cache: usize) -> Self {
        let (engine, _) = Engine::open(Box::new(MemoryStore::default()), TimeSkipping::Off, cache)
            .expect("opens");
        engine.lock().context.clock.frozen =
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        Self { engine }
    }

    pub(super) fn new() -> Self {
        Self::with_cache(super::DEFAULT_RUN_CACHE)
    }

    /// Moves the clock on by `by` and carries out what came due, as the deadline loop does.
    pub(super) async fn advance(&self, by: Duration) {
        let ticket = {
            let mut state = self.engine.lock();
            state.context.clock.skipped += by;
            self.engine.carry_out_due(&mut state).0
        };
        ticket.wait().await.expect("stored");
    }

    /// Starts `workflow_id` on the test queue, after `edit` changed the request.
    pub(super) async fn start_with(
        &self,
        workflow_id: &str,
        edit: impl FnOnce(&mut ws::StartWorkflowExecutionRequest),
    ) -> Result<String, EngineError> {
        let mut request = start_request(workflow_id);
        edit(&mut request);
        Ok(self.engine.start(request).await?.run_id)
    }

    pub(super) async fn start(&self, workflow_id: &str) -> String {
        self.start_with(workflow_id, |_| {}).await.expect("starts")
    }

    /// The workflow task waiting on `queue`, if any, handed to the test's worker.
    pub(super) async fn poll_on(&self, queue: &str) -> Option<ws::PollWorkflowTaskQueueResponse> {
        let task = self
            .engine
            .poll_workflow_task(NAMESPACE, queue, "tester", Duration::ZERO)
            .await
            .expect("polls");
        (!task.task_token.is_empty()).then_some(task)
    }

    pub(super) async fn poll(&self) -> ws::PollWorkflowTaskQueueResponse {
        self.poll_on(QUEUE).await.expect("a workflow task waits")
    }

    /// Completes `task` with `commands`.
    pub(super) async fn complete(
        &self,
        task: &ws::PollWorkflowTaskQueueResponse,
        commands: Vec<Command>,
    ) -> Result<ws::RespondWorkflowTaskCompletedResponse, EngineError> {
        self.engine
            .complete_workflow_task(ws::RespondWorkflowTaskCompletedRequest {
                namespace: NAMESPACE.into(),
                task_token: task.task_token.clone(),
                commands,
                identity: "tester".into(),
                ..Default::default()
            })
            .await
    }

    /// Polls the next workflow task and completes it with `commands`.
    pub(super) async fn step(&self, commands: Vec<Command>) {
        let task = self.poll().await;
        self.complete(&task, commands).await.expect("completes");
    }

    /// Signals the latest run of `workflow_id`, which gives it a workflow task.
    pub(super) async fn poke(&self, workflow_id: &str) {
        self.engine
            .signal(&ws::SignalWorkflowExecutionRequest {
                namespace: NAMESPACE.into(),
                workflow_execution: Some(execution(workflow_id, "")),
                signal_name: "poke".into(),
                ..Default::default()
            })
            .await
            .expect("signalled");
    }

    /// The activity task waiting on the test queue, if any.
    pub(super) async fn poll_activity(&self) -> Option<ws::PollActivityTaskQueueResponse> {
        let task = self
            .engine
            .poll_activity_task(NAMESPACE, QUEUE, "tester", Duration::ZERO)
            .await;
        (!task.task_token.is_empty()).then_some(task)
    }

    /// Runs `read` on the latest run of `workflow_id`.
    pub(super) fn run<R>(&self, workflow_id: &str, read: impl FnOnce(&Execution) -> R) -> R {
        self.run_of(workflow_id, "", read)
    }

    pub(super) fn run_of<R>(
        &self,
        workflow_id: &str,
        run_id: &str,
        read: impl FnOnce(&Execution) -> R,
    ) -> R {
        self.engine
            .with_run(NAMESPACE, &execution(workflow_id, run_id), read)
            .expect("the run exists")
    }

    /// The event types of the latest run of `workflow_id`, short names, in order.
    pub(super) fn events(&self, workflow_id: &str) -> Vec<String> {
        self.run(workflow_id, |run| names(&run.history.decode_all()))
    }
}

/// `EVENT_TYPE_TIMER_FIRED` as `TimerFired`.
pub(super) fn names(
    history: &[temporalio_protos::temporal::api::history::v1::HistoryEvent],
) -> Vec<String> {
    history
        .iter()
        .map(|e| {
            let name = EventType::try_from(e.event_type)
                .map(|t| t.as_str_name())
                .unwrap_or("UNKNOWN");
            name.trim_start_matches("EVENT_TYPE_")
                .split('_')
                .map(|w| w[..1].to_string() + &w[1..].to_lowercase())
                .collect()
        })
        .collect()
}

pub(super) fn execution(workflow_id: &str, run_id: &str) -> WorkflowExecution {
    WorkflowExecution {
        workflow_id: workflow_id.into(),
        run_id: run_id.into(),
    }
}

pub(super) fn start_request(workflow_id: &str) -> ws::StartWorkflowExecutionRequest {
    ws::StartWorkflowExecutionRequest {
        namespace: NAMESPACE.into(),
        workflow_id: workflow_id.into(),
        workflow_type: Some(WorkflowType {
            name: "Greet".into(),
        }),
        task_queue: Some(queue(QUEUE)),
        request_id: format!("request-{workflow_id}"),
        identity: "tester".into(),
        ..Default::default()
    }
}

pub(super) fn queue(name: &str) -> TaskQueue {
    TaskQueue {
        name: name.into(),
        ..Default::default()
    }
}

pub(super) fn seconds(seconds: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds, nanos: 0 })
}

pub(super) fn payloads(text: &str) -> Option<Payloads> {
    Some(Payloads {
        payloads: vec![Payload {
            data: text.as_bytes().to_vec(),
            ..Default::default()
        }],
    })
}

pub(super) fn command(kind: CommandType, attributes: C) -> Command {
    Command {
        command_type: kind as i32,
        attributes: Some(attributes),
        ..Default::default()
    }
}

pub(super) fn timer(id: &str, after: i64) -> Command {
    command(
        CommandType::StartTimer,
        C::StartTimerCommandAttributes(cmd::StartTimerCommandAttributes {
            timer_id: id.into(),
            start_to_fire_timeout: seconds(after),
        }),
    )
}

/// An activity of the test queue with a start-to-close timeout and at most `attempts`
/// attempts, one second apart.
pub(super) fn activity(id: &str, start_to_close: i64, attempts: i32) -> Command {
    command(
        CommandType::ScheduleActivityTask,
        C::ScheduleActivityTaskCommandAttributes(cmd::ScheduleActivityTaskCommandAttributes {
            activity_id: id.into(),
            activity_type: Some(ActivityType {
                name: "charge".into(),
            }),
            task_queue: Some(queue(QUEUE)),
            start_to_close_timeout: seconds(start_to_close),
            retry_policy: Some(RetryPolicy {
                initial_interval: seconds(1),
                backoff_coefficient: 1.0,
                maximum_attempts: attempts,
                ..Default::default()
            }),
            ..Default::default()
        }),
    )
}

pub(super) fn complete_workflow(result: &str) -> Command {
    command(
        CommandType::CompleteWorkflowExecution,
        C::CompleteWorkflowExecutionCommandAttributes(
            cmd::CompleteWorkflowExecutionCommandAttributes {
                result: payloads(result),
            },
        ),
    )
}

pub(super) fn fail_workflow(message: &str) -> Command {
    command(
        CommandType::FailWorkflowExecution,
        C::FailWorkflowExecutionCommandAttributes(cmd::FailWorkflowExecutionCommandAttributes {
            failure: Some(temporalio_protos::temporal::api::failure::v1::Failure {
                message: message.into(),
                ..Default::default()
            }),
        }),
    )
}
