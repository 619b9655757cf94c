//! Matching: the task queues between the engine and the workers that poll them.
//!
//! A queue, named by namespace and task queue (normal or sticky, matching does not care),
//! holds what the engine asked it to hand out: runs with a workflow task, activities, and
//! legacy query tasks, in the order they were offered. Matching knows nothing of
//! executions. It hands out ids, and the engine decides whether what an id names is still
//! due (an entry whose task moved on is skipped there). Each queue also remembers its
//! pollers, and wakes a waiting long poll when something is offered.
//!
//! Matching lives under the engine's lock: the engine offers tasks while it changes runs,
//! and takes them while it starts one.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::taskqueue::v1::PollerInfo;
use tokio::sync::Notify;

/// How long a poller stays listed after its last poll.
const POLLER_MEMORY: Duration = Duration::from_secs(300);

/// The rate every poller is listed with (this server imposes none).
const POLLER_RATE: f64 = 100_000.0;

/// Which kind of task a poller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollKind {
    /// Workflow tasks, and legacy query tasks with them.
    Workflow,
    /// Activity tasks.
    Activity,
}

/// An activity offered on a queue: its run and its scheduled event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActivityRef {
    /// The run the activity belongs to.
    pub run_id: String,
    /// Its scheduled event, which names it within the run.
    pub scheduled_event_id: i64,
}

/// One task queue: what waits on it, who polls it, and how waiting polls are woken.
#[derive(Debug, Default)]
struct Queue {
    /// Runs whose workflow task waits for a worker.
    workflow: VecDeque<String>,
    activity: VecDeque<ActivityRef>,
    /// Legacy query tasks, handed out before workflow tasks.
    queries: VecDeque<String>,
    workflow_ready: Arc<Notify>,
    activity_ready: Arc<Notify>,
    /// Last poll of each poller, by identity.
    workflow_pollers: HashMap<String, SystemTime>,
    activity_pollers: HashMap<String, SystemTime>,
}

/// The task queues, by (namespace, name).
#[derive(Debug, Default)]
pub(crate) struct Matching {
    queues: HashMap<(String, String), Queue>,
}

impl Matching {
    fn queue(&mut self, namespace: &str, name: &str) -> &mut Queue {
        self.queues
            .entry((namespace.to_string(), name.to_string()))
            .or_default()
    }

    /// Offers the workflow task of run `run_id` on a queue.
    pub fn offer_workflow_task(&mut self, namespace: &str, queue: &str, run_id: String) {
        let queue = self.queue(namespace, queue);
        queue.workflow.push_back(run_id);
        queue.workflow_ready.notify_one();
    }

    /// Offers an activity task on a queue.
    pub fn offer_activity_task(&mut self, namespace: &str, queue: &str, activity: ActivityRef) {
        let queue = self.queue(namespace, queue);
        queue.activity.push_back(activity);
        queue.activity_ready.notify_one();
    }

    /// Offers a legacy query task, to the workflow pollers of a queue.
    pub fn offer_query_task(&mut self, namespace: &str, queue: &str, query_id: String) {
        let queue = self.queue(namespace, queue);
        queue.queries.push_back(query_id);
        queue.workflow_ready.notify_one();
    }

    /// Notes that `identity` polls a queue for `kind` now.
    pub fn record_poller(
        &mut self,
        namespace: &str,
        queue: &str,
        kind: PollKind,
        identity: &str,
        now: SystemTime,
    ) {
        let queue = self.queue(namespace, queue);
        let pollers = match kind {
            PollKind::Workflow => &mut queue.workflow_pollers,
            PollKind::Activity => &mut queue.activity_pollers,
        };
        pollers.insert(identity.to_string(), now);
    }

    /// The next query task offered on a queue.
    pub fn next_query_task(&mut self, namespace: &str, queue: &str) -> Option<String> {
        self.queue(namespace, queue).queries.pop_front()
    }

    /// The run of the next workflow task offered on a queue.
    pub fn next_workflow_task(&mut self, namespace: &str, queue: &str) -> Option<String> {
        self.queue(namespace, queue).workflow.pop_front()
    }

    /// The next activity task offered on a queue.
    pub fn next_activity_task(&mut self, namespace: &str, queue: &str) -> Option<ActivityRef> {
        self.queue(namespace, queue).activity.pop_front()
    }

    /// What a long poll for `kind` on a queue waits on: notified when a task is offered.
    pub fn ready(&mut self, namespace: &str, queue: &str, kind: PollKind) -> Arc<Notify> {
        let queue = self.queue(namespace, queue);
        match kind {
            PollKind::Workflow => Arc::clone(&queue.workflow_ready),
            PollKind::Activity => Arc::clone(&queue.activity_ready),
        }
    }

    /// The pollers of `kind` seen on a queue in the last few minutes before `now`, by
    /// identity.
    pub fn pollers(
        &self,
        namespace: &str,
        queue: &str,
        kind: PollKind,
        now: SystemTime,
    ) -> Vec<PollerInfo> {
        let Some(q) = self.queues.get(&(namespace.to_string(), queue.to_string())) else {
            return Vec::new();
        };
        let pollers = match kind {
            PollKind::Workflow => &q.workflow_pollers,
            PollKind::Activity => &q.activity_pollers,
        };
        let recent = now - POLLER_MEMORY;
        let mut list: Vec<PollerInfo> = pollers
            .iter()
            .filter(|(_, at)| **at >= recent)
            .map(|(identity, at)| PollerInfo {
                last_access_time: Some((*at).into()),
                identity: identity.clone(),
                rate_per_second: POLLER_RATE,
                ..Default::default()
            })
            .collect();
        list.sort_by(|a, b| a.identity.cmp(&b.identity));
        list
    }
}

/// Waits for `ready` until `deadline`; answers false when the deadline came first.
pub(crate) async fn wait(ready: &Notify, deadline: tokio::time::Instant) -> bool {
    tokio::time::timeout_at(deadline, ready.notified())
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_handed_out_in_the_order_offered_per_queue() {
        let mut matching = Matching::default();
        matching.offer_workflow_task("ns", "q", "run-1".into());
        matching.offer_workflow_task("ns", "q", "run-2".into());
        matching.offer_workflow_task("other", "q", "run-3".into());
        assert_eq!(
            matching.next_workflow_task("ns", "q").as_deref(),
            Some("run-1")
        );
        assert_eq!(
            matching.next_workflow_task("ns", "q").as_deref(),
            Some("run-2")
        );
        assert_eq!(matching.next_workflow_task("ns", "q"), None);
        assert_eq!(matching.next_workflow_task("ns", "sticky"), None);
        assert_eq!(
            matching.next_workflow_task("other", "q").as_deref(),
            Some("run-3")
        );
    }

    #[tokio::test]
    async fn an_offer_wakes_a_poll_of_its_kind_only() {
        let mut matching = Matching::default();
        let workflow = matching.ready("ns", "q", PollKind::Workflow);
        let activity = matching.ready("ns", "q", PollKind::Activity);
        matching.offer_activity_task(
            "ns",
            "q",
            ActivityRef {
                run_id: "run-1".into(),
                scheduled_event_id: 5,
            },
        );
        let now = tokio::time::Instant::now();
        assert!(wait(&activity, now).await, "the activity poll is woken");
        assert!(!wait(&workflow, now).await, "the workflow poll is not");
        matching.offer_query_task("ns", "q", "query-1".into());
        assert!(wait(&workflow, now).await, "a query wakes workflow polls");
    }

    #[test]
    fn pollers_are_listed_by_identity_while_recent() {
        let mut matching = Matching::default();
        let now = SystemTime::now();
        let old = now - POLLER_MEMORY - Duration::from_secs(1);
        matching.record_poller("ns", "q", PollKind::Workflow, "b", now);
        matching.record_poller("ns", "q", PollKind::Workflow, "a", now);
        matching.record_poller("ns", "q", PollKind::Workflow, "gone", old);
        matching.record_poller("ns", "q", PollKind::Activity, "c", now);
        let names = |kind| -> Vec<String> {
            matching
                .pollers("ns", "q", kind, now)
                .into_iter()
                .map(|p| p.identity)
                .collect()
        };
        assert_eq!(names(PollKind::Workflow), ["a", "b"]);
        assert_eq!(names(PollKind::Activity), ["c"]);
        assert!(
            matching
                .pollers("ns", "none", PollKind::Workflow, now)
                .is_empty()
        );
    }
}
