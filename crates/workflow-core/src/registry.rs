//! Every `#[workflow]` and `#[activity]` of the program, listed at link time, so a worker can
//! take them all (`Worker::register_all`) instead of naming each one.
//!
//! Explicit registration stays the primary way: the list is additive. Activity groups
//! (`#[activities]`) are not listed, since their state has to be built first.
//!
//! ```
//! for item in workflow_core::registry::registered() {
//!     println!("{:?} {} ({}:{})", item.kind(), item.name, item.file, item.line);
//! }
//! ```

use std::sync::Arc;

use crate::activity::{Activity, DynActivity, erase};
use crate::workflow::Workflow;
use crate::workflow::runtime::WorkflowFactory;

/// What a listed item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A `#[workflow]`.
    Workflow,
    /// An `#[activity]` function.
    Activity,
}

enum Make {
    Workflow(fn() -> WorkflowFactory),
    Activity(fn() -> Arc<dyn DynActivity>),
}

/// One listed workflow or activity, with where it is defined.
pub struct Registration {
    /// Its type name on the wire.
    pub name: &'static str,
    /// The Rust path of the module defining it.
    pub module: &'static str,
    /// The source file defining it.
    pub file: &'static str,
    /// The line of the definition.
    pub line: u32,
    make: Make,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("kind", &self.kind())
            .field("name", &self.name)
            .field("file", &self.file)
            .field("line", &self.line)
            .finish()
    }
}

/// What a worker registers a listed item as.
pub enum Registrable {
    /// A workflow type.
    Workflow(WorkflowFactory),
    /// An activity.
    Activity(Arc<dyn DynActivity>),
}

impl Registration {
    /// Lists a workflow; used by `#[workflow]`.
    #[doc(hidden)]
    pub const fn workflow<W: Workflow>(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        Self {
            name,
            module,
            file,
            line,
            make: Make::Workflow(WorkflowFactory::of::<W>),
        }
    }

    /// Lists an activity; used by `#[activity]`.
    #[doc(hidden)]
    pub const fn activity<A: Activity + Default>(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        Self {
            name,
            module,
            file,
            line,
            make: Make::Activity(make_activity::<A>),
        }
    }

    /// Whether it is a workflow or an activity.
    pub fn kind(&self) -> Kind {
        match self.make {
            Make::Workflow(_) => Kind::Workflow,
            Make::Activity(_) => Kind::Activity,
        }
    }

    /// `file:line` of the definition.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The value a worker registers.
    pub fn make(&self) -> Registrable {
        match self.make {
            Make::Workflow(make) => Registrable::Workflow(make()),
            Make::Activity(make) => Registrable::Activity(make()),
        }
    }
}

fn make_activity<A: Activity + Default>() -> Arc<dyn DynActivity> {
    erase(A::default())
}

inventory::collect!(Registration);

/// Every listed workflow and activity, sorted by kind, name and location.
pub fn registered() -> Vec<&'static Registration> {
    let mut all: Vec<_> = inventory::iter::<Registration>.into_iter().collect();
    all.sort_by_key(|r| (r.kind() == Kind::Activity, r.name, r.file, r.line));
    all
}
