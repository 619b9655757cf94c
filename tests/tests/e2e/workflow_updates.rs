//! Updates of a Rust workflow on our worker, sent by our client: async handlers that run
//! activities, validators whose rejection leaves no event, update ids that deduplicate,
//! waiting for acceptance only, unknown names, handlers finishing before the run, and
//! replay of accepted updates with the cache off.

use temporalio_protos::temporal::api::enums::v1::EventType;
use workflow_client::{Error, UpdateOptions, WaitStage};
use workflow_core::prelude::*;
use workflow_tests::*;
use workflow_worker::{Worker, WorkerOptions};

#[activity]
async fn price_of(_ctx: ActivityContext, item: String) -> Result<u32, ActivityError> {
    Ok(item.len() as u32)
}

#[workflow]
#[derive(Default)]
struct Basket {
    items: Vec<String>,
    total: u32,
    checked_out: bool,
}

#[workflow]
impl Basket {
    #[run]
    async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<u32> {
        ctx.wait_condition(|cart: &Self| cart.checked_out).await;
        ctx.all_handlers_finished().await;
        Ok(ctx.state(|cart| cart.total))
    }

    #[update]
    async fn add_item(ctx: WorkflowContext<Self>, item: String) -> WorkflowResult<u32> {
        let price = ctx
            .execute_activity(
                price_of,
                item.clone(),
                ActivityOptions::start_to_close(Duration::from_secs(10)),
            )
            .await?;
        Ok(ctx.state_mut(|cart| {
            cart.items.push(item);
            cart.total += price;
            cart.total
        }))
    }

    #[validator(add_item)]
    fn check_item(&self, item: &str) -> Result<(), String> {
        if item.is_empty() {
            return Err("an item needs a name".into());
        }
        if self.checked_out {
            return Err("the cart is checked out".into());
        }
        Ok(())
    }

    #[update(name = "clear")]
    async fn remove_all(ctx: WorkflowContext<Self>) -> WorkflowResult<u32> {
        if ctx.state(|cart| cart.items.is_empty()) {
            return Err(WorkflowError::non_retryable(
                "EmptyCart",
                "the cart is empty",
            ));
        }
        ctx.state_mut(|cart| {
            cart.items.clear();
            cart.total = 0;
        });
        Ok(0)
    }

    #[signal]
    fn check_out(&mut self) {
        self.checked_out = true;
    }

    #[query]
    fn count(&self) -> usize {
        self.items.len()
    }
}

const NOT_AN_UPDATE: UpdateRef<WorkflowRun<Basket>, (), ()> = UpdateRef::new("no_such_update");

fn worker(client: &workflow_client::Client, queue: &str, options: WorkerOptions) -> RunningWorker {
    let worker = Worker::new(client.clone(), queue)
        .options(options)
        .register_workflow::<Basket>()
        .register_activity(price_of);
    spawn_worker(worker)
}

fn failure_message(error: Error) -> String {
    match error {
        Error::UpdateFailed { failure } => failure.message,
        other => panic!("expected UpdateFailed, got {other:?}"),
    }
}

async fn cart_updates(queue: &str, options: WorkerOptions) {
    let client = client().await;
    let running = worker(&client, queue, options);
    let cart = client
        .start_workflow(
            Basket::run,
            (),
            WorkflowOptions::new(unique_id("cart"), queue),
        )
        .await
        .unwrap();

    let total = cart
        .execute_update(Basket::add_item, "apple".to_string())
        .await
        .unwrap();
    assert_eq!(total, 5);

    let before = cart.fetch_history().await.unwrap().len();
    let rejected = cart
        .execute_update(Basket::add_item, String::new())
        .await
        .unwrap_err();
    assert!(failure_message(rejected).contains("needs a name"));
    assert_eq!(
        cart.fetch_history().await.unwrap().len(),
        before,
        "a rejection writes no event"
    );

    let once = UpdateOptions::new().id("pear-once");
    let first = cart
        .start_update_with(Basket::add_item, "pear".to_string(), once.clone())
        .await
        .unwrap()
        .result()
        .await
        .unwrap();
    let again = cart
        .start_update_with(Basket::add_item, "pear".to_string(), once)
        .await
        .unwrap()
        .result()
        .await
        .unwrap();
    assert_eq!((first, again), (9, 9), "an update id runs once");
    assert_eq!(cart.query(Basket::count, ()).await.unwrap(), 2);

    let accepted = cart
        .start_update(Basket::add_item, "fig".to_string(), WaitStage::Accepted)
        .await
        .unwrap();
    assert_eq!(accepted.result().await.unwrap(), 12);
    let polled = cart
        .get_update_handle(Basket::add_item, accepted.id())
        .result()
        .await
        .unwrap();
    assert_eq!(polled, 12);

    let unknown = cart.execute_update(NOT_AN_UPDATE, ()).await.unwrap_err();
    let message = failure_message(unknown);
    assert!(
        message.contains("no_such_update") && message.contains("add_item, clear"),
        "{message}"
    );

    assert_eq!(
        cart.execute_update(Basket::remove_all, ()).await.unwrap(),
        0
    );
    let empty = cart
        .execute_update(Basket::remove_all, ())
        .await
        .unwrap_err();
    assert!(failure_message(empty).contains("the cart is empty"));

    cart.signal(Basket::check_out, ()).await.unwrap();
    assert_eq!(cart.result().await.unwrap(), 0);
    let history = cart.fetch_history().await.unwrap();
    let count = |kind: EventType| history.iter().filter(|e| e.event_type() == kind).count();
    assert_eq!(count(EventType::WorkflowExecutionUpdateAccepted), 5);
    assert_eq!(count(EventType::WorkflowExecutionUpdateCompleted), 5);
    let late = cart
        .execute_update(Basket::add_item, "late".to_string())
        .await
        .unwrap_err();
    assert!(matches!(late, Error::NotFound { .. }), "{late:?}");
    stop_worker(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_run_async_handlers_validate_and_deduplicate() {
    cart_updates(&unique_id("updates"), WorkerOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_updates_a_rust_workflow() {
    let queue = unique_id("updates-python");
    let client = client().await;
    let running = worker(&client, &queue, WorkerOptions::default());
    let cart = client
        .start_workflow(
            Basket::run,
            (),
            WorkflowOptions::new(unique_id("cart"), &queue),
        )
        .await
        .unwrap();
    let mut command = std::process::Command::new(python());
    command
        .arg(python_dir().join("update_rust_workflow.py"))
        .arg(address())
        .arg(cart.workflow_id());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run update_rust_workflow.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_else(|| {
        panic!(
            "the script printed nothing: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let answer: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(answer["total"], 4, "{answer}");
    assert!(
        answer["rejection"]
            .as_str()
            .is_some_and(|r| r.contains("needs a name")),
        "{answer}"
    );
    cart.signal(Basket::check_out, ()).await.unwrap();
    assert_eq!(cart.result().await.unwrap(), 4);
    stop_worker(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_replay_from_history_with_the_cache_off() {
    cart_updates(
        &unique_id("updates-nocache"),
        WorkerOptions::default().max_cached_workflows(0),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_with_start_starts_the_workflow_or_updates_the_running_one() {
    let queue = unique_id("update-with-start");
    let client = client().await;
    let running = worker(&client, &queue, WorkerOptions::default());
    let id = unique_id("basket-uws");
    let options = |policy| WorkflowOptions::new(&id, &queue).id_conflict_policy(policy);
    let (cart, total) = client
        .execute_update_with_start(
            Basket::run,
            (),
            options(WorkflowIdConflictPolicy::UseExisting),
            Basket::add_item,
            "melon".to_string(),
        )
        .await
        .unwrap();
    assert_eq!(total, 5);
    let (again, total) = client
        .execute_update_with_start(
            Basket::run,
            (),
            options(WorkflowIdConflictPolicy::UseExisting),
            Basket::add_item,
            "lime".to_string(),
        )
        .await
        .unwrap();
    assert_eq!(total, 9);
    assert_eq!(
        again.describe().await.unwrap().info.run_id,
        cart.describe().await.unwrap().info.run_id,
        "the running run was updated"
    );
    let refused = client
        .execute_update_with_start(
            Basket::run,
            (),
            options(WorkflowIdConflictPolicy::Fail),
            Basket::add_item,
            "fig".to_string(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::AlreadyStarted { .. }),
        "{refused:?}"
    );
    cart.signal(Basket::check_out, ()).await.unwrap();
    assert_eq!(cart.result().await.unwrap(), 9);
    stop_worker(running).await;
}
