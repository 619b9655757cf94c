#![warn(missing_docs)]
//! What workflow and activity code sees: the workflow context, payload conversion, failures,
//! definition traits and options.
//!
//! This crate is the shared vocabulary of the SDK: the client, the worker and the macros all
//! speak in its types. Wire types come from [`protos`] (Temporal's own protobuf API).
//!
//! ```
//! use workflow_core::prelude::*;
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Order { id: u32, item: String }
//!
//! let converter = PayloadConverter::default();
//! let payload = converter.to_payload(&Order { id: 7, item: "tea".into() })?;
//! assert_eq!(payload.data, br#"{"id":7,"item":"tea"}"#);
//! # Ok::<(), PayloadError>(())
//! ```

pub mod activity;
pub mod definition;
pub mod failure;
pub mod options;
pub mod payload;
pub mod registry;
pub mod workflow;

pub use workflow_macros::{activities, activity, workflow};

/// Temporal's protobuf API (`temporalio-protos`), for values this crate does not wrap.
pub use temporalio_protos as protos;

/// The names most code needs.
pub mod prelude {
    pub use crate::activity::{Activity, ActivityContext, ActivityError, ActivityInfo};
    pub use crate::definition::{
        ActivityDefinition, ActivityRef, QueryDefinition, QueryRef, SignalDefinition, SignalRef,
        UpdateDefinition, UpdateRef, WorkflowDefinition, WorkflowRef,
    };
    pub use crate::failure::{Failure, FailureInfo};
    pub use crate::options::{
        RetryPolicy, SearchAttributeValue, SearchAttributes, WorkflowIdConflictPolicy,
        WorkflowIdReusePolicy, WorkflowOptions,
    };
    pub use crate::payload::{
        Args, Bytes, PayloadArgs, PayloadConverter, PayloadError, PayloadValue, ProtoJson,
    };
    pub use crate::workflow::{
        ActivityOptions, ChildWorkflowOptions, Workflow, WorkflowContext, WorkflowError,
        WorkflowInfo, WorkflowResult, WorkflowRun,
    };
    pub use crate::{activities, activity, workflow};
    pub use serde::{Deserialize, Serialize};
    pub use std::time::Duration;
}

/// Paths used by generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::{activity, definition, payload, registry, workflow};
    pub use inventory;
    pub use serde;
    pub use serde_json;
}
