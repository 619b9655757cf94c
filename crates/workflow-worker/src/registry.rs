//! Registered activities, with their input and output types erased.

use std::collections::BTreeMap;
use std::sync::Arc;

use workflow_core::activity::{Activity, DynActivity, erase};

use crate::WorkerError;

/// The activities of one worker, by type name.
#[derive(Default)]
pub(crate) struct ActivityRegistry {
    activities: BTreeMap<String, Arc<dyn DynActivity>>,
    duplicate: Option<String>,
}

impl ActivityRegistry {
    pub(crate) fn register<A: Activity>(&mut self, activity: A) {
        self.register_erased(erase(activity));
    }

    pub(crate) fn register_erased(&mut self, erased: Arc<dyn DynActivity>) {
        let name = erased.name().to_owned();
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

    pub(crate) fn get(&self, name: &str) -> Option<Arc<dyn DynActivity>> {
        self.activities.get(name).cloned()
    }

    pub(crate) fn names(&self) -> Vec<&str> {
        self.activities.keys().map(String::as_str).collect()
    }
}
