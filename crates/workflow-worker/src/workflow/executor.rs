//! Threads that own the cached workflow runs and run their code.
//!
//! Workflow code is single-threaded and not `Send`, so each run lives on one executor thread
//! (chosen by its run id) for as long as it is cached. The async pollers hand tasks over a
//! channel and await the outcome, which keeps [`Worker::run`](crate::Worker::run) `Send`.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use temporalio_protos::temporal::api::command::v1::Command;
use temporalio_protos::temporal::api::common::v1::Payloads;
use temporalio_protos::temporal::api::enums::v1::{QueryResultType, WorkflowTaskFailedCause};
use temporalio_protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_protos::temporal::api::protocol::v1::Message;
use temporalio_protos::temporal::api::query::v1::WorkflowQueryResult;
use temporalio_protos::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse;
use tokio::sync::oneshot;
use workflow_core::failure::Failure;
use workflow_core::payload::Payload;
use workflow_core::workflow::runtime::WorkflowFactory;

use super::machine::{RunIdentity, RunMachine, TaskError, is_rejection};
use super::watchdog::{ActivationWatch, Watchdog};
use crate::probe::WorkerProbe;

/// What an executor decided about a workflow task.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Complete the task with these commands and query answers.
    Complete {
        commands: Vec<Command>,
        /// Protocol messages: the answers to updates.
        messages: Vec<Message>,
        query_results: HashMap<String, WorkflowQueryResult>,
    },
    /// Fail the task; the workflow stays open.
    Fail {
        cause: WorkflowTaskFailedCause,
        message: String,
    },
    /// Answer a legacy query task.
    QueryAnswer(Result<Vec<Payload>, Failure>),
    /// The task carries part of the history and the run is not cached: fetch it all.
    NeedFullHistory(Box<PollWorkflowTaskQueueResponse>),
}

pub(crate) enum Request {
    Task {
        task: Box<PollWorkflowTaskQueueResponse>,
        reply: oneshot::Sender<Outcome>,
    },
    Evict {
        run_id: String,
    },
}

/// The registered workflow types.
#[derive(Default, Clone)]
pub(crate) struct WorkflowRegistry {
    factories: BTreeMap<&'static str, WorkflowFactory>,
    pub(crate) duplicate: Option<&'static str>,
}

impl WorkflowRegistry {
    pub(crate) fn register(&mut self, factory: WorkflowFactory) {
        if self.factories.insert(factory.name(), factory).is_some() && self.duplicate.is_none() {
            self.duplicate = Some(factory.name());
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.factories.is_empty()
    }

    pub(crate) fn get(&self, name: &str) -> Option<WorkflowFactory> {
        self.factories.get(name).copied()
    }

    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.factories.keys().copied().collect()
    }
}

/// The executor threads.
pub(crate) struct Executors {
    senders: Vec<mpsc::Sender<Request>>,
    threads: Vec<JoinHandle<()>>,
    watchdog: Watchdog,
}

impl Executors {
    pub(crate) fn start(
        threads: usize,
        cache_size: usize,
        namespace: &str,
        task_queue: &str,
        registry: Arc<WorkflowRegistry>,
        probe: WorkerProbe,
        slow_activation_threshold: std::time::Duration,
    ) -> Self {
        let threads = threads.max(1);
        let watches: Vec<_> = (0..threads)
            .map(|_| Arc::new(ActivationWatch::default()))
            .collect();
        let per_shard = cache_size.div_ceil(threads);
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for (index, watch) in watches.iter().enumerate() {
            let (sender, receiver) = mpsc::channel();
            let registry = registry.clone();
            let task_queue = task_queue.to_string();
            let namespace = namespace.to_string();
            let probe = probe.clone();
            let watch = watch.clone();
            let handle = std::thread::Builder::new()
                .name(format!("workflow-executor-{index}"))
                .spawn(move || {
                    // Built here: runs are not `Send` and never leave this thread.
                    let mut shard =
                        Shard::new(registry, task_queue, namespace, per_shard, probe, watch);
                    while let Ok(request) = receiver.recv() {
                        shard.handle(request);
                    }
                })
                .expect("spawning a workflow executor thread");
            senders.push(sender);
            handles.push(handle);
        }
        Self {
            senders,
            threads: handles,
            watchdog: Watchdog::start(watches, slow_activation_threshold),
        }
    }

    fn shard_of(&self, run_id: &str) -> &mpsc::Sender<Request> {
        let mut hasher = std::hash::DefaultHasher::new();
        run_id.hash(&mut hasher);
        let index = (hasher.finish() % self.senders.len() as u64) as usize;
        &self.senders[index]
    }

    /// Runs a task on the run's thread.
    pub(crate) async fn submit(&self, task: Box<PollWorkflowTaskQueueResponse>) -> Outcome {
        let run_id = task
            .workflow_execution
            .as_ref()
            .map(|x| x.run_id.clone())
            .unwrap_or_default();
        let (reply, answer) = oneshot::channel();
        if self
            .shard_of(&run_id)
            .send(Request::Task { task, reply })
            .is_err()
        {
            return Outcome::Fail {
                cause: WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                message: "the workflow executor stopped".into(),
            };
        }
        answer.await.unwrap_or_else(|_| Outcome::Fail {
            cause: WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
            message: "the workflow executor dropped the task".into(),
        })
    }

    /// Drops a run from the cache.
    pub(crate) fn evict(&self, run_id: &str) {
        let _ = self.shard_of(run_id).send(Request::Evict {
            run_id: run_id.to_string(),
        });
    }

    /// Stops the threads once their queued work is done.
    pub(crate) fn stop(self) {
        drop(self.senders);
        for thread in self.threads {
            let _ = thread.join();
        }
        self.watchdog.stop();
    }
}

struct CachedRun {
    machine: RunMachine,
    last_used: u64,
}

struct Shard {
    registry: Arc<WorkflowRegistry>,
    task_queue: String,
    namespace: String,
    runs: HashMap<String, CachedRun>,
    capacity: usize,
    clock: u64,
    probe: WorkerProbe,
    /// `runs.len()` as last told to `probe`.
    reported: usize,
    watch: Arc<ActivationWatch>,
}

fn failed(cause: WorkflowTaskFailedCause, message: impl Into<String>) -> Outcome {
    Outcome::Fail {
        cause,
        message: message.into(),
    }
}

impl Shard {
    fn new(
        registry: Arc<WorkflowRegistry>,
        task_queue: String,
        namespace: String,
        capacity: usize,
        probe: WorkerProbe,
        watch: Arc<ActivationWatch>,
    ) -> Self {
        Self {
            registry,
            task_queue,
            namespace,
            runs: HashMap::new(),
            capacity,
            clock: 0,
            probe,
            reported: 0,
            watch,
        }
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Evict { run_id } => {
                self.runs.remove(&run_id);
                self.report();
            }
            Request::Task { task, reply } => {
                let outcome = if task.query.is_some() {
                    self.legacy_query(task)
                } else {
                    self.workflow_task(task)
                };
                // Before the answer, so whoever sees the task's effect sees the cache too.
                self.report();
                let _ = reply.send(outcome);
            }
        }
    }

    /// A new run's machine, its activations watched by this thread's watchdog.
    fn machine(&self, factory: WorkflowFactory, identity: RunIdentity) -> RunMachine {
        let mut machine = RunMachine::new(factory, identity);
        machine.watch_activations(self.watch.clone());
        machine
    }

    /// Tells the probe how many runs this shard caches now.
    fn report(&mut self) {
        self.probe.0.cache_resized(self.reported, self.runs.len());
        self.reported = self.runs.len();
    }

    fn identity(&self, task: &PollWorkflowTaskQueueResponse) -> RunIdentity {
        let execution = task.workflow_execution.clone().unwrap_or_default();
        RunIdentity {
            namespace: self.namespace.clone(),
            workflow_id: execution.workflow_id,
            run_id: execution.run_id,
        }
    }

    fn factory(&self, task: &PollWorkflowTaskQueueResponse) -> Result<WorkflowFactory, String> {
        let name = task
            .workflow_type
            .as_ref()
            .map(|t| t.name.as_str())
            .unwrap_or_default();
        self.registry.get(name).ok_or_else(|| {
                format!(
                    "workflow type {name:?} is not registered on this worker (task queue {:?}); registered workflow types: [{}]",
                    self.task_queue,
                    self.registry.names().join(", ")
                )
        })
    }

    fn legacy_query(&mut self, task: Box<PollWorkflowTaskQueueResponse>) -> Outcome {
        let query = task.query.clone().unwrap_or_default();
        let args = query.query_args.map(|p| p.payloads).unwrap_or_default();
        let identity = self.identity(&task);
        if let Some(run) = self.runs.get(&identity.run_id)
            && let Some(instance) = run.machine.instance()
        {
            return Outcome::QueryAnswer(instance.query(&query.query_type, args));
        }
        let events = task
            .history
            .as_ref()
            .map(|h| h.events.as_slice())
            .unwrap_or_default();
        if events.first().map(|e| e.event_id) != Some(1) {
            return Outcome::NeedFullHistory(task);
        }
        let factory = match self.factory(&task) {
            Ok(f) => f,
            Err(message) => {
                return Outcome::QueryAnswer(Err(Failure::application(
                    "WorkflowNotRegistered",
                    message,
                )));
            }
        };
        let mut machine = self.machine(factory, identity);
        if let Err(e) = machine.apply(events, 0) {
            return Outcome::QueryAnswer(Err(Failure::application("QueryFailed", e.to_string())));
        }
        match machine.instance() {
            Some(instance) => Outcome::QueryAnswer(instance.query(&query.query_type, args)),
            None => Outcome::QueryAnswer(Err(Failure::application(
                "QueryFailed",
                "history does not start the workflow",
            ))),
        }
    }

    fn workflow_task(&mut self, task: Box<PollWorkflowTaskQueueResponse>) -> Outcome {
        let identity = self.identity(&task);
        let events = task
            .history
            .as_ref()
            .map(|h| h.events.as_slice())
            .unwrap_or_default();
        let first = events.first().map(|e| e.event_id);
        let cached = self.runs.remove(&identity.run_id).filter(|run| {
            let last = run.machine.last_event_id;
            // A gap, or a task of ours that failed or timed out, leaves the cached state
            // ahead of or apart from history: replay from the start instead.
            first.is_none_or(|id| id <= last + 1)
                && !events.iter().any(|e| {
                    e.event_id > last
                        && matches!(
                            e.attributes,
                            Some(Attributes::WorkflowTaskFailedEventAttributes(_))
                                | Some(Attributes::WorkflowTaskTimedOutEventAttributes(_))
                        )
                })
        });
        let mut machine = match cached {
            Some(run) => run.machine,
            None => {
                if first != Some(1) {
                    return Outcome::NeedFullHistory(task);
                }
                match self.factory(&task) {
                    Ok(factory) => self.machine(factory, identity.clone()),
                    Err(message) => {
                        return failed(
                            WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                            message,
                        );
                    }
                }
            }
        };
        let commands = match machine.apply_with_messages(
            events,
            task.started_event_id,
            &task.messages,
        ) {
            Ok(Some(commands)) => commands,
            Ok(None) => {
                return failed(
                    WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                    format!(
                        "the task's WorkflowTaskStarted event {} is not the last event of its history",
                        task.started_event_id
                    ),
                );
            }
            Err(TaskError::Nondeterminism(message)) => {
                tracing::warn!(workflow_id = %identity.workflow_id, run_id = %identity.run_id, %message, "nondeterministic workflow task");
                return failed(
                    WorkflowTaskFailedCause::NonDeterministicError,
                    format!("Nondeterminism error: {message}"),
                );
            }
            Err(e) => {
                tracing::warn!(workflow_id = %identity.workflow_id, run_id = %identity.run_id, error = %e, "workflow task failed");
                return failed(
                    WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                    e.to_string(),
                );
            }
        };
        let mut wire_commands = Vec::new();
        let mut messages = Vec::new();
        for command in commands {
            match machine.wire(command) {
                Ok(wire) => {
                    wire_commands.extend(wire.command);
                    messages.extend(wire.message);
                }
                Err(e) => {
                    return failed(
                        WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                        e.to_string(),
                    );
                }
            }
        }
        let commands = wire_commands;
        let mut query_results = HashMap::new();
        if let Some(instance) = machine.instance() {
            for (id, query) in &task.queries {
                let args = query
                    .query_args
                    .clone()
                    .map(|p| p.payloads)
                    .unwrap_or_default();
                query_results.insert(
                    id.clone(),
                    query_result(instance.query(&query.query_type, args)),
                );
            }
        }
        // A completion that only rejects updates makes the server discard the task, and
        // history goes back to before it: the run is replayed next time, not cached ahead.
        let discarded =
            commands.is_empty() && !messages.is_empty() && messages.iter().all(is_rejection);
        if !machine.closed && !discarded && self.capacity > 0 {
            self.cache(identity.run_id, machine);
        }
        Outcome::Complete {
            commands,
            messages,
            query_results,
        }
    }

    fn cache(&mut self, run_id: String, machine: RunMachine) {
        if self.runs.len() >= self.capacity
            && let Some(oldest) = self
                .runs
                .iter()
                .min_by_key(|(_, run)| run.last_used)
                .map(|(id, _)| id.clone())
        {
            tracing::debug!(run_id = %oldest, "evicting the least recently used workflow run");
            self.runs.remove(&oldest);
        }
        self.clock += 1;
        self.runs.insert(
            run_id,
            CachedRun {
                machine,
                last_used: self.clock,
            },
        );
    }
}

pub(crate) fn query_result(answer: Result<Vec<Payload>, Failure>) -> WorkflowQueryResult {
    match answer {
        Ok(payloads) => WorkflowQueryResult {
            result_type: QueryResultType::Answered as i32,
            answer: Some(Payloads { payloads }),
            ..Default::default()
        },
        Err(failure) => WorkflowQueryResult {
            result_type: QueryResultType::Failed as i32,
            error_message: failure.message.clone(),
            failure: Some(failure.to_proto()),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use temporalio_protos::temporal::api::common::v1::{Payloads, WorkflowExecution, WorkflowType};
    use temporalio_protos::temporal::api::enums::v1::{EventType, QueryResultType};
    use temporalio_protos::temporal::api::history::v1::{
        History, HistoryEvent, WorkflowExecutionSignaledEventAttributes,
        WorkflowExecutionStartedEventAttributes, WorkflowTaskScheduledEventAttributes,
        WorkflowTaskStartedEventAttributes, history_event::Attributes,
    };
    use temporalio_protos::temporal::api::query::v1::WorkflowQuery;
    use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
    use workflow_core::payload::{Payload, PayloadValue};
    use workflow_core::prelude::*;
    use workflow_core::workflow::{HandlerError, Invocation};

    use super::*;

    #[derive(Default)]
    struct Notes {
        notes: Vec<String>,
    }

    impl Workflow for Notes {
        const NAME: &'static str = "Notes";
        type Input = ();
        type Output = ();
        fn new(_: &WorkflowInfo, _: &()) -> Self {
            Self::default()
        }
        async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> {
            ctx.wait_condition(|s: &Self| s.notes.len() > 5).await;
            Ok(())
        }
        fn handle_signal(&mut self, signal: &Invocation) -> Result<(), HandlerError> {
            self.notes.push(signal.input()?);
            Ok(())
        }
        fn handle_query(&self, _: &Invocation) -> Result<Vec<Payload>, HandlerError> {
            Invocation::reply(&self.notes)
        }
    }

    fn event(id: i64, kind: EventType, attributes: Attributes) -> HistoryEvent {
        HistoryEvent {
            event_id: id,
            event_type: kind as i32,
            attributes: Some(attributes),
            ..Default::default()
        }
    }

    fn first_task(queries: HashMap<String, WorkflowQuery>) -> Box<PollWorkflowTaskQueueResponse> {
        let events = vec![
            event(
                1,
                EventType::WorkflowExecutionStarted,
                Attributes::WorkflowExecutionStartedEventAttributes(
                    WorkflowExecutionStartedEventAttributes {
                        workflow_type: Some(WorkflowType {
                            name: "Notes".into(),
                        }),
                        task_queue: Some(TaskQueue {
                            name: "q".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                ),
            ),
            event(
                2,
                EventType::WorkflowExecutionSignaled,
                Attributes::WorkflowExecutionSignaledEventAttributes(
                    WorkflowExecutionSignaledEventAttributes {
                        signal_name: "note".into(),
                        input: Some(Payloads {
                            payloads: vec!["first".to_string().to_payload().unwrap()],
                        }),
                        ..Default::default()
                    },
                ),
            ),
            event(
                3,
                EventType::WorkflowTaskScheduled,
                Attributes::WorkflowTaskScheduledEventAttributes(
                    WorkflowTaskScheduledEventAttributes::default(),
                ),
            ),
            event(
                4,
                EventType::WorkflowTaskStarted,
                Attributes::WorkflowTaskStartedEventAttributes(
                    WorkflowTaskStartedEventAttributes::default(),
                ),
            ),
        ];
        Box::new(PollWorkflowTaskQueueResponse {
            task_token: b"token".to_vec(),
            workflow_execution: Some(WorkflowExecution {
                workflow_id: "wf".into(),
                run_id: "run".into(),
            }),
            workflow_type: Some(WorkflowType {
                name: "Notes".into(),
            }),
            started_event_id: 4,
            history: Some(History { events }),
            queries,
            ..Default::default()
        })
    }

    fn shard(capacity: usize) -> Shard {
        let mut registry = WorkflowRegistry::default();
        registry.register(WorkflowFactory::of::<Notes>());
        Shard::new(
            Arc::new(registry),
            "q".into(),
            "default".into(),
            capacity,
            WorkerProbe::default(),
            Arc::default(),
        )
    }

    #[test]
    fn queries_that_come_with_a_workflow_task_are_answered_after_it() {
        let mut shard = shard(10);
        let query = WorkflowQuery {
            query_type: "notes".into(),
            ..Default::default()
        };
        let outcome = shard.workflow_task(first_task(HashMap::from([("q1".to_string(), query)])));
        let Outcome::Complete { query_results, .. } = outcome else {
            panic!("expected completion, got {outcome:?}")
        };
        let answer = &query_results["q1"];
        assert_eq!(answer.result_type, QueryResultType::Answered as i32);
        let notes =
            Vec::<String>::from_payload(&answer.answer.as_ref().unwrap().payloads[0]).unwrap();
        assert_eq!(notes, vec!["first"]);
        assert!(shard.runs.contains_key("run"), "the open run stays cached");
    }

    #[test]
    fn a_partial_history_for_an_uncached_run_asks_for_the_whole_history() {
        let mut shard = shard(10);
        let mut task = first_task(HashMap::new());
        task.history.as_mut().unwrap().events.remove(0);
        assert!(matches!(
            shard.workflow_task(task),
            Outcome::NeedFullHistory(_)
        ));
    }

    #[test]
    fn an_unknown_workflow_type_fails_the_task_listing_the_registered_ones() {
        let mut shard = shard(10);
        let mut task = first_task(HashMap::new());
        task.workflow_type = Some(WorkflowType {
            name: "Other".into(),
        });
        let Outcome::Fail { cause, message } = shard.workflow_task(task) else {
            panic!("expected a failed task")
        };
        assert_eq!(
            cause,
            WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure
        );
        assert!(
            message.contains("\"Other\"") && message.contains("Notes"),
            "{message}"
        );
    }

    #[test]
    fn without_a_cache_nothing_is_kept() {
        let mut shard = shard(0);
        let outcome = shard.workflow_task(first_task(HashMap::new()));
        assert!(matches!(outcome, Outcome::Complete { .. }));
        assert!(shard.runs.is_empty());
    }
}
