//! The shopping cart example's tests: updates priced by the activity, the validator's
//! refusals, checkout, and the same on a worker that replays every task.

use examples::shopping_cart::{Cart, MAX_ITEMS, TASK_QUEUE, price_of};
use workflow_client::Error;
use workflow_core::prelude::*;
use workflow_testing::{Faults, TestEnv, mock_activity};

fn refusal(result: Result<u64, Error>) -> String {
    match result {
        Err(Error::UpdateFailed { failure }) => failure.message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn items_added_by_update_are_priced_and_the_checkout_returns_the_total() {
    let env = TestEnv::start().await.unwrap();
    let worker = env
        .worker(TASK_QUEUE)
        .register_workflow::<Cart>()
        .register_activity(price_of);
    let running = env.run_worker(worker);
    let cart = env
        .client()
        .start_workflow(Cart::run, (), WorkflowOptions::new("cart-1", TASK_QUEUE))
        .await
        .unwrap();
    let tea = cart.execute_update(Cart::add_item, "tea".into()).await;
    assert_eq!(tea.unwrap(), 300);
    let refused = cart.execute_update(Cart::add_item, "  ".into()).await;
    assert_eq!(refusal(refused), "an item needs a name");
    assert_eq!(cart.query(Cart::item_count, ()).await.unwrap(), 1);
    cart.signal(Cart::check_out, ()).await.unwrap();
    assert_eq!(cart.result().await.unwrap(), 300);
    let late = cart.execute_update(Cart::add_item, "jam".into()).await;
    assert!(matches!(late, Err(Error::NotFound { .. })), "{late:?}");
    running.stop().await.unwrap();
    env.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_full_cart_refuses_more_items_even_on_a_worker_that_replays_every_task() {
    let env = TestEnv::start().await.unwrap();
    let worker = env
        .faulty_worker(TASK_QUEUE, Faults::default().replay_every_task())
        .register_workflow::<Cart>()
        .register_activity(mock_activity(price_of, |_ctx, _item| async move { Ok(1) }))
        .build();
    let running = env.run_worker(worker);
    let cart = env
        .client()
        .start_workflow(Cart::run, (), WorkflowOptions::new("cart-full", TASK_QUEUE))
        .await
        .unwrap();
    for n in 1..=MAX_ITEMS {
        let total = cart
            .execute_update(Cart::add_item, format!("item {n}"))
            .await;
        assert_eq!(total.unwrap(), n as u64);
    }
    let refused = cart.execute_update(Cart::add_item, "one more".into()).await;
    assert!(refusal(refused).contains("at most"));
    cart.signal(Cart::check_out, ()).await.unwrap();
    assert_eq!(cart.result().await.unwrap(), MAX_ITEMS as u64);
    running.stop().await.unwrap();
    env.shutdown().await.unwrap();
}
