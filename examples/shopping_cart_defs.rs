//! The shopping cart: items are added by update (checked by a validator, priced by an
//! activity, answered with the new total), the cart is checked out by signal, and its item
//! count is a query. The run returns the total once checked out and every update finished.

use workflow_core::prelude::*;

/// The task queue the example's worker polls.
pub const TASK_QUEUE: &str = "shopping-cart";

/// Most items one cart holds.
pub const MAX_ITEMS: usize = 20;

/// What an item costs, in cents (an activity: a real shop asks its catalogue).
#[activity]
pub async fn price_of(_ctx: ActivityContext, item: String) -> Result<u64, ActivityError> {
    Ok(100 * item.len() as u64)
}

/// One customer's cart.
#[workflow]
#[derive(Default)]
pub struct Cart {
    items: Vec<String>,
    total_cents: u64,
    checked_out: bool,
}

#[workflow]
impl Cart {
    /// Waits for the checkout, then answers the total in cents.
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>) -> WorkflowResult<u64> {
        ctx.wait_condition(|cart: &Self| cart.checked_out).await;
        // Items accepted before the checkout finish being priced first.
        ctx.all_handlers_finished().await;
        Ok(ctx.state(|cart| cart.total_cents))
    }

    /// Adds an item and answers the new total in cents.
    #[update]
    pub async fn add_item(ctx: WorkflowContext<Self>, item: String) -> WorkflowResult<u64> {
        let price = ctx
            .execute_activity(
                price_of,
                item.clone(),
                ActivityOptions::start_to_close(Duration::from_secs(10)),
            )
            .await?;
        Ok(ctx.state_mut(|cart| {
            cart.items.push(item);
            cart.total_cents += price;
            cart.total_cents
        }))
    }

    /// Refuses an item before it is accepted: the refusal leaves no trace in history.
    #[validator(add_item)]
    pub fn check_item(&self, item: &str) -> Result<(), String> {
        if self.checked_out {
            return Err("the cart is checked out".into());
        }
        if item.trim().is_empty() {
            return Err("an item needs a name".into());
        }
        if self.items.len() >= MAX_ITEMS {
            return Err(format!("a cart holds at most {MAX_ITEMS} items"));
        }
        Ok(())
    }

    /// Ends shopping.
    #[signal]
    pub fn check_out(&mut self) {
        self.checked_out = true;
    }

    /// How many items are in the cart.
    #[query]
    pub fn item_count(&self) -> usize {
        self.items.len()
    }
}
