//! The shopping cart example in one process: a worker hosting `Cart`, and a client that adds
//! two items by update (and one the validator refuses), checks out by signal, and prints the
//! total. Uses `TEMPORAL_ADDRESS` when set, else our embedded server in memory.

use examples::shopping_cart::{Cart, TASK_QUEUE, price_of};
use workflow_client::{Client, Error};
use workflow_core::prelude::*;
use workflow_worker::Worker;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (address, embedded) = examples::server().await?;
    let client = Client::connect(address).await?;
    let worker = Worker::new(client.clone(), TASK_QUEUE)
        .register_workflow::<Cart>()
        .register_activity(price_of);
    let shutdown = worker.shutdown_handle();
    let running = tokio::spawn(worker.run());

    let cart_id = format!("cart-{}", std::process::id());
    let cart = client
        .start_workflow(Cart::run, (), WorkflowOptions::new(&cart_id, TASK_QUEUE))
        .await?;
    for item in ["tea", "biscuits"] {
        let total = cart
            .execute_update(Cart::add_item, item.to_string())
            .await?;
        println!("added {item}: total {total} cents");
    }
    match cart.execute_update(Cart::add_item, " ".to_string()).await {
        Err(Error::UpdateFailed { failure }) => println!("refused: {}", failure.message),
        other => println!("unexpected: {other:?}"),
    }
    println!("{} items", cart.query(Cart::item_count, ()).await?);
    cart.signal(Cart::check_out, ()).await?;
    println!("paid {} cents", cart.result().await?);

    shutdown.shutdown();
    running.await??;
    if let Some(server) = embedded {
        server.shutdown().await?;
    }
    Ok(())
}
