//! Registered activities, with their input and output types erased.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use workflow_core::activity::{Activity, ActivityContext, ActivityError};
use workflow_core::failure::Failure;
use workflow_core::payload::{Payload, PayloadConverter};

use crate::WorkerError;

/// An activity that takes and returns payloads.
pub(crate) trait ErasedActivity: Send + Sync {
    fn execute(
        &self,
        ctx: ActivityContext,
        input: Vec<Payload>,
        converter: PayloadConverter,
    ) -> BoxFuture<'static, Result<Payload, ActivityError>>;
}

struct Registered<A>(Arc<A>);

impl<A: Activity> ErasedActivity for Registered<A> {
    fn execute(
        &self,
        ctx: ActivityContext,
        input: Vec<Payload>,
        converter: PayloadConverter,
    ) -> BoxFuture<'static, Result<Payload, ActivityError>> {
        let activity = self.0.clone();
        Box::pin(async move {
            // Input that does not decode will not decode on a retry either.
            let input = converter.from_payloads::<A::Input>(&input).map_err(|e| {
                ActivityError::failure(
                    Failure::application(
                        "PayloadError",
                        format!("input of activity `{}`: {e}", activity.name()),
                    )
                    .non_retryable(),
                )
            })?;
            let output = activity.execute(ctx, input).await?;
            converter.to_payload(&output).map_err(|e| {
                ActivityError::failure(
                    Failure::application(
                        "PayloadError",
                        format!("result of activity `{}`: {e}", activity.name()),
                    )
                    .non_retryable(),
                )
            })
        })
    }
}

/// The activities of one worker, by type name.
#[derive(Default)]
pub(crate) struct ActivityRegistry {
    activities: BTreeMap<String, Arc<dyn ErasedActivity>>,
    duplicate: Option<String>,
}

impl ActivityRegistry {
    pub(crate) fn register<A: Activity>(&mut self, activity: A) {
        let name = activity.name().to_owned();
        let erased: Arc<dyn ErasedActivity> = Arc::new(Registered(Arc::new(activity)));
        if self.activities.insert(name.clone(), erased).is_some() && self.duplicate.is_none() {
            self.duplicate = Some(name);
        }
    }

    /// Fails on a duplicate registration.
    pub(crate) fn validate(&self) -> Result<(), WorkerError> {
        match &self.duplicate {
            Some(name) => Err(WorkerError::DuplicateActivity { name: name.clone() }),
            None => Ok(()),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.activities.is_empty()
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<dyn ErasedActivity>> {
        self.activities.get(name).cloned()
    }

    pub(crate) fn names(&self) -> Vec<&str> {
        self.activities.keys().map(String::as_str).collect()
    }
}
