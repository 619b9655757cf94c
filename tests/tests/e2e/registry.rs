//! Every `#[workflow]` and `#[activity]` is listed at link time; `register_all` takes them
//! and refuses two definitions of one type name.

use workflow_core::prelude::*;
use workflow_core::registry::{Kind, registered};
use workflow_tests::*;
use workflow_worker::{Worker, WorkerError};

mod billing {
    use workflow_core::prelude::*;

    #[workflow(name = "Twin")]
    #[derive(Default)]
    pub struct Invoice;

    #[workflow]
    impl Invoice {
        #[run]
        async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
            Ok("invoice".into())
        }
    }
}

mod shipping {
    use workflow_core::prelude::*;

    #[workflow(name = "Twin")]
    #[derive(Default)]
    pub struct Parcel;

    #[workflow]
    impl Parcel {
        #[run]
        async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<String> {
            Ok("parcel".into())
        }
    }
}

#[activity]
async fn listed_activity(_ctx: ActivityContext) -> Result<(), ActivityError> {
    Ok(())
}

#[test]
fn every_annotated_item_is_listed_with_its_location() {
    let all = registered();
    let find = |kind: Kind, name: &str| {
        all.iter()
            .find(|r| r.kind() == kind && r.name == name)
            .unwrap_or_else(|| panic!("{name} is not listed: {all:?}"))
    };
    let activity = find(Kind::Activity, "listed_activity");
    assert!(activity.file.ends_with("registry.rs"), "{}", activity.file);
    assert!(activity.module.ends_with("registry"), "{}", activity.module);
    find(Kind::Workflow, "YourWorkflow");
    find(Kind::Activity, "your_activity");
    find(Kind::Workflow, "Collector");
    let twins = all
        .iter()
        .filter(|r| r.kind() == Kind::Workflow && r.name == "Twin")
        .count();
    assert_eq!(twins, 2);
}

#[tokio::test]
async fn two_definitions_of_one_type_name_fail_with_both_locations() {
    let client = client().await;
    let error = Worker::new(client, "unused")
        .register_all()
        .err()
        .expect("Twin is defined twice");
    let WorkerError::DuplicateDefinition {
        kind,
        name,
        first,
        second,
    } = &error
    else {
        panic!("expected a duplicate definition, got {error}")
    };
    assert_eq!((*kind, name.as_str()), ("workflow", "Twin"));
    assert!(first.contains("registry.rs:") && second.contains("registry.rs:"));
    assert_ne!(first, second);
    let message = error.to_string();
    assert!(message.contains(first.as_str()) && message.contains(second.as_str()));
}

#[tokio::test]
async fn register_all_matching_runs_the_listed_hello_workflow() {
    let client = client().await;
    let queue = unique_id("listed");
    let worker = spawn_worker(
        Worker::new(client.clone(), &queue)
            // This binary also lists the other end-to-end modules' definitions, some sharing
            // a name (the versioning tests' `Versioned`): leave out all of this binary's.
            .register_all_matching(|item| !item.module.starts_with("e2e::"))
            .expect("no duplicates once this binary's definitions are left out"),
    );
    let out = client
        .execute_workflow(
            workflow_tests::workflows::YourWorkflow::run,
            "listed".to_string(),
            WorkflowOptions::new(unique_id("listed"), &queue),
        )
        .await
        .unwrap();
    assert_eq!(out, "Hello, listed!");
    stop_worker(worker).await;
}
