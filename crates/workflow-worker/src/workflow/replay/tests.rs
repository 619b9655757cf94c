//! Replaying a folder of saved histories, without a server: histories come from
//! [`HistoryBuilder`] and are written as the download helper writes them.

use std::time::Duration;

use prost::Message;
use temporalio_protos::temporal::api::history::v1::History;
use workflow_core::prelude::*;

use super::*;
use crate::workflow::history_builder::HistoryBuilder;

/// Sleeps a second, then says it rested.
#[workflow]
#[derive(Default)]
struct Nap {}

#[workflow]
impl Nap {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
        ctx.sleep(Duration::from_secs(1)).await?;
        Ok("rested".into())
    }
}

/// A finished run of `Nap` as the code above writes it.
fn nap_history() -> History {
    let mut history = HistoryBuilder::started(Nap::NAME, Vec::new());
    history.completed_workflow_task();
    let started = history.timer_started("1", Duration::from_secs(1));
    history.timer_fired("1", started);
    history.completed_workflow_task();
    history.workflow_completed("rested".to_string().to_payload().unwrap());
    History {
        events: history.events().to_vec(),
    }
}

/// A run of `Nap` recorded by older code that called an activity instead of sleeping.
fn changed_history() -> History {
    let mut history = HistoryBuilder::started(Nap::NAME, Vec::new());
    history.completed_workflow_task();
    let scheduled = history.activity_scheduled("1", "rest");
    let started = history.activity_started(scheduled);
    history.activity_completed(
        scheduled,
        started,
        "rested".to_string().to_payload().unwrap(),
    );
    history.completed_workflow_task();
    history.workflow_completed("rested".to_string().to_payload().unwrap());
    History {
        events: history.events().to_vec(),
    }
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.path().join(name), bytes).unwrap();
    write("a-current.binpb", nap_history().encode_to_vec());
    write("b-changed.binpb", changed_history().encode_to_vec());
    write("c-truncated.binpb", vec![0x0a, 0xff, 0x01]);
    write("notes.txt", b"not a history".to_vec());
    dir
}

#[test]
fn a_folder_replays_file_by_file_and_names_each_failure() {
    let dir = folder();
    let report = Replayer::new()
        .register_workflow::<Nap>()
        .replay_dir(dir.path())
        .unwrap();
    let names: Vec<_> = report
        .files
        .iter()
        .map(|(path, _)| path.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a-current.binpb", "b-changed.binpb", "c-truncated.binpb"],
        "history files in name order, other files skipped"
    );
    assert!(report.files[0].1.is_ok(), "{:?}", report.files[0].1);
    assert!(
        matches!(&report.files[1].1, Err(ReplayError::Nondeterminism(m)) if m.contains("ActivityTaskScheduled") && m.contains("StartTimer")),
        "{:?}",
        report.files[1].1
    );
    assert!(
        matches!(&report.files[2].1, Err(ReplayError::History(m)) if m.contains("protobuf")),
        "{:?}",
        report.files[2].1
    );
    assert!(!report.all_replayed());
    assert_eq!(report.failures().count(), 2);
}

#[test]
fn asserting_a_report_lists_every_failing_file() {
    let dir = folder();
    let report = Replayer::new()
        .register_workflow::<Nap>()
        .replay_dir(dir.path())
        .unwrap();
    let panic = std::panic::catch_unwind(|| report.assert_all_replayed()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("2 of 3 saved histories did not replay"),
        "{message}"
    );
    assert!(
        message.contains("b-changed.binpb: nondeterminism"),
        "{message}"
    );
    assert!(
        message.contains("c-truncated.binpb: malformed history"),
        "{message}"
    );
}

#[test]
fn a_folder_of_current_histories_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.binpb"), nap_history().encode_to_vec()).unwrap();
    let report = Replayer::new()
        .register_workflow::<Nap>()
        .replay_dir(dir.path())
        .unwrap();
    report.assert_all_replayed();
    assert_eq!(report.files.len(), 1);
}

#[test]
fn a_missing_folder_is_an_error_naming_it() {
    let error = Replayer::new()
        .replay_dir("no/such/folder")
        .expect_err("the folder does not exist");
    assert!(
        matches!(&error, ReplayError::Io { path, .. } if path.ends_with("no/such/folder")),
        "{error:?}"
    );
}
