//! Activity mocks: a closure in place of an activity's code, under its typed stub.

use std::future::Future;

use workflow_core::activity::{Activity, ActivityContext, ActivityError};
use workflow_core::definition::ActivityDefinition;

/// An activity whose code is a closure, registered under another activity's name and types.
/// Made by [`mock_activity`].
pub struct MockActivity<D, F> {
    definition: D,
    code: F,
}

impl<D: ActivityDefinition, F> std::fmt::Debug for MockActivity<D, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockActivity")
            .field("name", &self.definition.name())
            .finish()
    }
}

/// Replaces an activity's code with `code` in a test: the result registers with
/// `Worker::register_activity` under the activity's type name, and `code` takes and returns
/// the activity's own types, so a mock that does not fit the activity does not compile.
///
/// ```
/// use workflow_core::prelude::*;
/// use workflow_testing::mock_activity;
///
/// #[activity]
/// async fn charge_card(_ctx: ActivityContext, cents: u64) -> Result<String, ActivityError> {
///     unimplemented!("talks to the bank")
/// }
///
/// // Declines everything above 100 dollars.
/// let mock = mock_activity(charge_card, |_ctx, cents| async move {
///     if cents > 10_000 {
///         Err(ActivityError::non_retryable("Declined", "over the limit"))
///     } else {
///         Ok(format!("charged {cents}"))
///     }
/// });
/// # let _ = mock;
/// ```
pub fn mock_activity<D, F, Fut>(definition: D, code: F) -> MockActivity<D, F>
where
    D: ActivityDefinition,
    F: Fn(ActivityContext, D::Input) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<D::Output, ActivityError>> + Send,
{
    MockActivity { definition, code }
}

impl<D, F> ActivityDefinition for MockActivity<D, F>
where
    D: ActivityDefinition,
    F: Send + Sync + 'static,
{
    type Input = D::Input;
    type Output = D::Output;
    fn name(&self) -> &str {
        self.definition.name()
    }
}

impl<D, F, Fut> Activity for MockActivity<D, F>
where
    D: ActivityDefinition,
    D::Input: Send,
    F: Fn(ActivityContext, D::Input) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<D::Output, ActivityError>> + Send,
{
    fn execute(
        &self,
        ctx: ActivityContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, ActivityError>> + Send {
        (self.code)(ctx, input)
    }
}
