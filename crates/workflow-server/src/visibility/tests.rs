//! The visibility index against a brute-force scan: the planner reads only the runs an
//! indexed term selects, and the engine keeps the index equal to its runs across start,
//! close, continue-as-new, retention and restart.

use std::time::{Duration, SystemTime};

use temporalio_protos::temporal::api::command::v1::{
    Command, CompleteWorkflowExecutionCommandAttributes,
    ContinueAsNewWorkflowExecutionCommandAttributes, command,
};
use temporalio_protos::temporal::api::common::v1::{
    Payload, SearchAttributes, WorkflowExecution, WorkflowType,
};
use temporalio_protos::temporal::api::enums::v1::CommandType;
use temporalio_protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_protos::temporal::api::workflowservice::v1 as ws;

use super::{Entry, Index, Query, STATUSES, list_order, parse, parse_with};
use crate::engine::Engine;
use crate::store::{Batch, MemoryStore, RunDelete, SqliteStore, Store};

fn brute_force(entries: &[Entry], query: &Query, skip: usize, limit: usize) -> Vec<String> {
    let mut matching: Vec<&Entry> = entries
        .iter()
        .filter(|e| query.filter.matches(&e.row()))
        .collect();
    matching.sort_by(|a, b| list_order(a, b, &query.order));
    matching
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(|e| e.run_id.to_string())
        .collect()
}

fn entry(i: usize) -> Entry {
    let start_time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i as u64 / 2);
    let status = STATUSES[i % STATUSES.len()];
    Entry {
        workflow_id: format!("w{}", i % 100),
        workflow_type: format!("T{}", i % 5),
        run_id: format!("run-{i:04}").into(),
        status,
        task_queue: "q".into(),
        start_time,
        close_time: (status != "Running").then_some(start_time + Duration::from_secs(1)),
        execution_time: start_time,
        custom: if i.is_multiple_of(3) {
            vec![("Tier".into(), format!("t{}", i % 4))]
        } else {
            Vec::new()
        },
    }
}

fn seeded(n: usize) -> (Index, Vec<Entry>) {
    let mut index = Index::default();
    let entries: Vec<Entry> = (0..n).map(entry).collect();
    for e in &entries {
        index.upsert("default", e.clone());
    }
    (index, entries)
}

fn tier(name: &str) -> bool {
    name == "Tier"
}

#[test]
fn the_planner_reads_only_the_runs_an_indexed_term_selects() {
    let (index, entries) = seeded(1000);
    let expect = |query: &str, examined: usize| {
        let parsed = parse_with(query, &tier).unwrap();
        let count = index.count("default", &parsed.filter);
        let matching = brute_force(&entries, &parsed, 0, usize::MAX).len();
        assert_eq!(count.count, matching, "{query}");
        assert_eq!(count.examined, examined, "{query}: entries read");
    };
    expect("WorkflowId = 'w7'", 10);
    expect("WorkflowType = 'T3'", 200);
    expect("ExecutionStatus = 'Failed'", 143);
    expect(
        "ExecutionStatus IN ('Failed', 'Running', 'Failed')",
        143 + 143,
    );
    expect("WorkflowId IN ('w1', 'w2', 'nobody')", 20);
    // The narrowest of several.
    expect(
        "WorkflowType = 'T2' AND WorkflowId = 'w7' AND TaskQueue = 'q'",
        10,
    );
    expect("ExecutionStatus = 'Running' AND WorkflowId = 'w7'", 10);
    // Start-time ranges, alone and cutting an index: two runs start each second.
    expect(
        "StartTime >= '2023-11-14T22:13:30Z' AND StartTime < '2023-11-14T22:13:40Z'",
        20,
    );
    expect(
        "StartTime BETWEEN '2023-11-14T22:13:30Z' AND '2023-11-14T22:13:39Z'",
        20,
    );
    expect(
        "StartTime > '2023-11-14T22:13:30Z' AND StartTime <= '2023-11-14T22:13:40Z'",
        20,
    );
    expect("StartTime = '2023-11-14T22:13:30Z'", 2);
    expect(
        "StartTime > '2030-01-01T00:00:00Z' AND StartTime < '2020-01-01T00:00:00Z'",
        0,
    );
    expect(
        "WorkflowType = 'T0' AND StartTime >= '2023-11-14T22:13:30Z' AND StartTime < '2023-11-14T22:13:40Z'",
        4,
    );
    // What no index serves reads every entry, compact ones only.
    expect("TaskQueue = 'q'", 1000);
    expect("WorkflowId = 'w7' OR WorkflowId = 'w8'", 1000);
    expect("Tier = 't1'", 1000);

    // A newest-first page reads the page and one more, not every match.
    let query = parse("WorkflowType = 'T3'").unwrap();
    let page = index.page("default", &query, 10, 5);
    assert_eq!(page.examined, 16);
    assert!(page.more);
    let ids: Vec<String> = page.run_ids.iter().map(|id| id.to_string()).collect();
    assert_eq!(ids, brute_force(&entries, &query, 10, 5));
}

/// Writes `entries` to `store` as commits would.
async fn write(store: &dyn Store, entries: &[Entry]) {
    let batch = Batch {
        entries: entries
            .iter()
            .map(|e| ("default".to_string(), e.clone()))
            .collect(),
        ..Batch::default()
    };
    store.commit(batch).wait().await.unwrap();
}

async fn delete(store: &dyn Store, entries: &[Entry]) {
    let batch = Batch {
        deleted: entries
            .iter()
            .map(|e| RunDelete {
                namespace: "default".into(),
                run_id: e.run_id.to_string(),
                workflow_id: e.workflow_id.clone(),
            })
            .collect(),
        ..Batch::default()
    };
    store.commit(batch).wait().await.unwrap();
}

/// Both stores: in memory (the index) and a SQLite file (its table).
fn stores(dir: &tempfile::TempDir) -> Vec<(&'static str, Box<dyn Store>)> {
    vec![
        ("memory", Box::new(MemoryStore::default())),
        (
            "sqlite",
            Box::new(SqliteStore::open(&dir.path().join("entries.db")).unwrap()),
        ),
    ]
}

#[tokio::test]
async fn pages_and_counts_equal_a_brute_force_scan_as_entries_change() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in stores(&dir) {
        let store = &*store;
        let mut entries: Vec<Entry> = (0..300).map(entry).collect();
        write(store, &entries).await;
        let queries = [
            "",
            "WorkflowId = 'w7'",
            "WorkflowType IN ('T1', 'T4') AND ExecutionStatus != 'Running'",
            "ExecutionStatus = 'Completed'",
            "StartTime < '2023-11-14T22:14:00Z' AND WorkflowType = 'T2'",
            "StartTime > '2023-11-14T22:14:00Z' AND StartTime <= '2023-11-14T22:14:30Z'",
            "StartTime = '2023-11-14T22:14:00Z'",
            "Tier = 't0' OR Tier = 't3'",
            "CloseTime IS NULL ORDER BY WorkflowId ASC, StartTime DESC",
            "ORDER BY StartTime ASC",
            "ORDER BY StartTime DESC",
            "WorkflowType = 'T1' ORDER BY CloseTime DESC",
        ];
        let check = |entries: Vec<Entry>| async move {
            for text in queries {
                let query = parse_with(text, &tier).unwrap();
                let all = brute_force(&entries, &query, 0, usize::MAX);
                let count = store.count("default", &query.filter).unwrap();
                assert_eq!(count.count, all.len(), "{name}: {text}");
                for (skip, limit) in [(0, 1000), (0, 7), (7, 7), (all.len().saturating_sub(3), 7)] {
                    let page = store.page("default", &query, skip, limit).unwrap();
                    let ids: Vec<String> = page.run_ids.iter().map(|id| id.to_string()).collect();
                    assert_eq!(
                        ids,
                        brute_force(&entries, &query, skip, limit),
                        "{name}: {text}"
                    );
                    assert_eq!(page.more, all.len() > skip + limit, "{name}: {text}");
                }
            }
            entries
        };
        entries = check(entries).await;
        // Close some, change their attributes, delete others.
        let mut changed = Vec::new();
        for e in entries
            .iter_mut()
            .filter(|e| e.status == "Running")
            .take(20)
        {
            e.status = "Completed";
            e.close_time = Some(e.start_time + Duration::from_secs(9));
            e.custom = vec![("Tier".into(), "t3".into())];
            changed.push(e.clone());
        }
        write(store, &changed).await;
        let gone: Vec<Entry> = entries.drain(100..150).collect();
        delete(store, &gone).await;
        assert_eq!(store.entry("default", &gone[0].run_id).unwrap(), None);
        assert_eq!(
            store.entry("default", &changed[0].run_id).unwrap().as_ref(),
            Some(&changed[0]),
            "{name}"
        );
        entries = check(entries).await;
        let closed = store
            .closed_before(&|_| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_060)))
            .unwrap();
        let want = entries
            .iter()
            .filter(|e| {
                e.close_time.is_some_and(|t| {
                    t <= SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_060)
                })
            })
            .count();
        assert!(want > 0);
        assert_eq!(closed.len(), want, "{name}: closed before the cutoff");
        assert!(store.closed_before(&|_| None).unwrap().is_empty(), "{name}");
        let all = entries.clone();
        delete(store, &all).await;
        entries.clear();
        check(entries).await;
    }
}

#[tokio::test]
async fn a_sqlite_file_reads_only_the_rows_an_indexed_term_selects() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("entries.db")).unwrap();
    let entries: Vec<Entry> = (0..1000).map(entry).collect();
    write(&store, &entries).await;
    let expect = |query: &str, examined: usize| {
        let parsed = parse_with(query, &tier).unwrap();
        let count = store.count("default", &parsed.filter).unwrap();
        let matching = brute_force(&entries, &parsed, 0, usize::MAX).len();
        assert_eq!(count.count, matching, "{query}");
        assert_eq!(count.examined, examined, "{query}: rows read");
    };
    expect("WorkflowId = 'w7'", 10);
    expect("WorkflowType = 'T3'", 200);
    expect("ExecutionStatus = 'Failed'", 143);
    expect("ExecutionStatus IN ('Failed', 'Running')", 143 + 143);
    expect("WorkflowType = 'T2' AND WorkflowId = 'w7'", 10);
    // Bounds are read inclusive: the two runs of the upper second are read, then refused.
    expect(
        "StartTime >= '2023-11-14T22:13:30Z' AND StartTime < '2023-11-14T22:13:40Z'",
        22,
    );
    expect(
        "StartTime > '2030-01-01T00:00:00Z' AND StartTime < '2020-01-01T00:00:00Z'",
        0,
    );
    expect("TaskQueue = 'q'", 1000);
}

fn start_request(
    id: &str,
    workflow_type: &str,
    queue: &str,
    tier: Option<&str>,
) -> ws::StartWorkflowExecutionRequest {
    ws::StartWorkflowExecutionRequest {
        namespace: "default".into(),
        workflow_id: id.into(),
        workflow_type: Some(WorkflowType {
            name: workflow_type.into(),
        }),
        task_queue: Some(TaskQueue {
            name: queue.into(),
            ..Default::default()
        }),
        search_attributes: tier.map(|t| SearchAttributes {
            indexed_fields: [(
                "Tier".to_string(),
                Payload {
                    metadata: [("encoding".to_string(), b"json/plain".to_vec())].into(),
                    data: format!("\"{t}\"").into_bytes(),
                    ..Default::default()
                },
            )]
            .into(),
        }),
        ..Default::default()
    }
}

/// Takes the workflow task waiting on `queue` and answers it with `attributes`.
async fn answer(engine: &Engine, queue: &str, attributes: command::Attributes) {
    let task = engine
        .poll_workflow_task("default", queue, "test", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!task.task_token.is_empty(), "a task waits on {queue}");
    let command_type = match &attributes {
        command::Attributes::CompleteWorkflowExecutionCommandAttributes(_) => {
            CommandType::CompleteWorkflowExecution
        }
        _ => CommandType::ContinueAsNewWorkflowExecution,
    };
    engine
        .complete_workflow_task(ws::RespondWorkflowTaskCompletedRequest {
            task_token: task.task_token,
            namespace: "default".into(),
            commands: vec![Command {
                command_type: command_type as i32,
                attributes: Some(attributes),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
}

fn complete() -> command::Attributes {
    command::Attributes::CompleteWorkflowExecutionCommandAttributes(
        CompleteWorkflowExecutionCommandAttributes::default(),
    )
}

fn continue_on(queue: &str) -> command::Attributes {
    command::Attributes::ContinueAsNewWorkflowExecutionCommandAttributes(
        ContinueAsNewWorkflowExecutionCommandAttributes {
            workflow_type: Some(WorkflowType { name: "Pay".into() }),
            task_queue: Some(TaskQueue {
                name: queue.into(),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
}

/// What the engine answers for a battery of queries equals a brute-force scan of its runs.
fn assert_index_matches_runs(engine: &Engine, midway: SystemTime) -> usize {
    let entries = engine.scan("default", |run| Some(crate::describe::entry(run)));
    let names = engine.search_attribute_names("default");
    let midway = prost_types::Timestamp::from(midway);
    let queries = [
        String::new(),
        "WorkflowId = 'order-3'".into(),
        "WorkflowType = 'Ship'".into(),
        "ExecutionStatus = 'Running'".into(),
        "ExecutionStatus IN ('Completed', 'ContinuedAsNew', 'Terminated')".into(),
        "ExecutionStatus = 'Terminated' AND WorkflowType = 'Pay'".into(),
        format!("StartTime >= '{midway}'"),
        format!("StartTime < '{midway}' AND WorkflowId = 'order-1'"),
        "Tier = 'gold'".into(),
        "TaskQueue = 'idle' ORDER BY WorkflowId ASC".into(),
        "WorkflowId = 'order-1' OR WorkflowType = 'Ship' ORDER BY StartTime DESC".into(),
    ];
    for text in &queries {
        let query = parse_with(text, &|n| names.contains(n)).unwrap();
        let all = brute_force(&entries, &query, 0, usize::MAX);
        assert_eq!(
            engine.count("default", &query.filter).unwrap(),
            all.len(),
            "{text}"
        );
        for (skip, limit) in [(0, 1000), (0, 3), (3, 3)] {
            let (infos, more) = engine.list("default", &query, skip, limit).unwrap();
            let ids: Vec<String> = infos
                .iter()
                .map(|i| i.execution.as_ref().unwrap().run_id.clone())
                .collect();
            assert_eq!(ids, brute_force(&entries, &query, skip, limit), "{text}");
            assert_eq!(more, all.len() > skip + limit, "{text}");
        }
    }
    entries.len()
}

#[tokio::test]
async fn the_engine_keeps_the_index_equal_to_its_runs_across_changes_retention_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("visibility.db");
    let open = || {
        Engine::open(
            crate::store::open(Some(&path)).unwrap(),
            crate::engine::TimeSkipping::Off,
            crate::engine::DEFAULT_RUN_CACHE,
        )
        .unwrap()
        .0
    };
    let engine = open();
    let mut midway = SystemTime::now();
    for i in 0..12_usize {
        // Ids repeat, so runs of one id pile up (the `order-2-…` ones stay open).
        let id = if i % 4 == 2 {
            format!("order-2-{i}")
        } else {
            format!("order-{}", i % 4)
        };
        let workflow_type = if i % 3 == 0 { "Ship" } else { "Pay" };
        let tier = i
            .is_multiple_of(2)
            .then_some(if i.is_multiple_of(4) { "gold" } else { "lead" });
        // The last four stay open on a queue nobody polls.
        let queue = if i >= 8 { "idle" } else { "q" };
        if i == 6 {
            midway = SystemTime::now();
        }
        engine
            .start(start_request(&id, workflow_type, queue, tier))
            .await
            .unwrap();
        match (i % 4, queue) {
            (_, "idle") => {}
            (0, _) => answer(&engine, "q", complete()).await,
            (1, _) => {
                // Continued as new, then the new run completes.
                answer(&engine, "q", continue_on("q")).await;
                answer(&engine, "q", complete()).await;
            }
            // Continued as new onto the queue nobody polls: the new run stays open.
            (2, _) => answer(&engine, "q", continue_on("idle")).await,
            _ => {
                let execution = WorkflowExecution {
                    workflow_id: id.clone(),
                    run_id: String::new(),
                };
                engine
                    .terminate("default", &execution, "test", None, "test")
                    .await
                    .unwrap();
            }
        }
    }
    let runs = assert_index_matches_runs(&engine, midway);
    assert_eq!(runs, 16, "12 starts and 4 continued runs");
    drop(engine);

    let engine = open();
    assert_eq!(assert_index_matches_runs(&engine, midway), runs, "reloaded");
    drop(engine);

    // A file from before the entries were stored: start-up writes them.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM visibility", [])
        .unwrap();
    let engine = open();
    assert_eq!(
        assert_index_matches_runs(&engine, midway),
        runs,
        "reindexed"
    );
    // More changes after the restart: the open runs close.
    for id in ["order-0", "order-2-2"] {
        let execution = WorkflowExecution {
            workflow_id: id.into(),
            run_id: String::new(),
        };
        engine
            .terminate("default", &execution, "test", None, "test")
            .await
            .unwrap();
    }
    assert_index_matches_runs(&engine, midway);
    let deleted = engine
        .expire_closed_runs(|_| Some(Duration::ZERO))
        .await
        .unwrap();
    assert!(deleted > 0);
    let left = assert_index_matches_runs(&engine, midway);
    assert_eq!((left, deleted), (4, 12), "the open runs are left");
    drop(engine);
    let engine = open();
    assert_eq!(assert_index_matches_runs(&engine, midway), left, "reloaded");
}
